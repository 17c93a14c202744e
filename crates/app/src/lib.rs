//! Use cases of the Projects service, written against the ports only. Both HTTP surfaces call
//! these; they differ in wire shape, never in behaviour.

mod archives;
mod auth;
mod bootstrap;
mod duplicate;
mod error;
mod file_links;
mod gc;
mod heads;
mod history;
mod last_used;
mod members;
mod principal;
mod principal_cache;
mod projects;
mod teams;
mod usage;
mod workspaces;
mod writers;

use std::sync::Arc;

use projects_ports::{
    BlobStore, Clock, DerivedNames, IdentityStore, Ids, NameGenerator, ProjectStore, UsageStore, WorkspaceStore,
};

pub use archives::{ArchiveDownload, ArchiveFormat, ArchiveLanded, ArchiveMode, MAX_ARCHIVE_MEMBERS};
pub use auth::{hash_api_key, JwtKeys};
pub use bootstrap::Bootstrapped;
pub use error::{AppError, AuthFailure, Refusal, Resource};
pub use file_links::{FileLink, LinkSecret, MAX_LINK_SECS};
pub use gc::{GcReport, Retention};
pub use heads::HeadEvent;
pub use history::{ChangeInput, Diff, ListQuery, Listing, ManifestExport, DEFAULT_PAGE, MAX_BLOB_QUESTION, MAX_PAGE};
pub use members::Invited;
pub use principal::Principal;
pub use principal_cache::{PrincipalCache, PrincipalCacheStats};
pub use projects::{ExpectedVersion, IdempotencyKey};
pub use usage::{ProjectDetails, UsageInput};
pub use workspaces::{FileRead, FileWritten, WorkspaceView};

/// Everything the use cases need, injected once at start.
#[derive(Clone)]
pub struct App {
    projects: Arc<dyn ProjectStore>,
    identity: Arc<dyn IdentityStore>,
    usage: Arc<dyn UsageStore>,
    workspaces: Arc<dyn WorkspaceStore>,
    blobs: Arc<dyn BlobStore>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn Ids>,
    jwt: Option<Arc<JwtKeys>>,
    key_usage: Arc<last_used::LastUsed<projects_domain::ApiKeyId>>,
    workspace_usage: Arc<last_used::LastUsed<String>>,
    retention: time::Duration,
    names: Arc<dyn NameGenerator>,
    session_ttl: time::Duration,
    retention_of_trees: Retention,
    integrity_failures: Arc<std::sync::atomic::AtomicU64>,
    quotas: projects_domain::Quotas,
    writers: Arc<writers::WriterQueues>,
    principals: Arc<PrincipalCache>,
    link_secret: file_links::LinkSecret,
    heads: Arc<heads::HeadWatch>,
    /// A change feed's heartbeat, and how long it lasts at most.
    feed_heartbeat: (std::time::Duration, std::time::Duration),
}

/// The ports the use cases run on.
pub struct Ports {
    pub projects: Arc<dyn ProjectStore>,
    pub identity: Arc<dyn IdentityStore>,
    pub usage: Arc<dyn UsageStore>,
    pub workspaces: Arc<dyn WorkspaceStore>,
    pub blobs: Arc<dyn BlobStore>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn Ids>,
}

impl App {
    pub fn new(ports: Ports) -> Self {
        let Ports { projects, identity, usage, workspaces, blobs, clock, ids } = ports;
        Self {
            projects,
            identity,
            usage,
            workspaces,
            blobs,
            clock,
            ids,
            jwt: None,
            key_usage: Arc::default(),
            workspace_usage: Arc::default(),
            retention: Self::DEFAULT_RETENTION,
            names: Arc::new(DerivedNames),
            session_ttl: Self::DEFAULT_SESSION_TTL,
            retention_of_trees: Retention::default(),
            integrity_failures: Arc::default(),
            quotas: projects_domain::Quotas::default(),
            writers: Arc::default(),
            principals: Arc::new(PrincipalCache::new(Self::DEFAULT_PRINCIPAL_TTL)),
            link_secret: file_links::LinkSecret::random(),
            heads: Arc::default(),
            feed_heartbeat: (std::time::Duration::from_secs(15), std::time::Duration::from_secs(3_600)),
        }
    }

    /// How long an authenticated caller is kept in memory at most, unless configured otherwise.
    pub const DEFAULT_PRINCIPAL_TTL: std::time::Duration = std::time::Duration::from_secs(60);

    /// Keeps authenticated callers at most `ttl` (zero: reads the store on every request). The
    /// cache is used only while [`App::identity_changes`] is told the feed is up.
    pub fn with_principal_ttl(mut self, ttl: std::time::Duration) -> Self {
        self.principals = Arc::new(PrincipalCache::new(ttl));
        self
    }

    /// Where the store's feed of identity changes is to be relayed (see [`PrincipalCache`]).
    pub fn identity_changes(&self) -> Arc<dyn projects_ports::IdentityChanges> {
        self.principals.clone()
    }

    pub fn principal_cache_stats(&self) -> PrincipalCacheStats {
        self.principals.stats()
    }

    /// Forgets the org's cached callers after a change to who may do what in it, whatever the
    /// change's outcome: forgetting is always safe, and a failed answer may follow a commit.
    fn after_identity_change<T>(
        &self,
        org_id: projects_domain::OrgId,
        outcome: Result<T, projects_ports::StoreError>,
    ) -> Result<T, projects_ports::StoreError> {
        projects_ports::IdentityChanges::org_changed(self.principals.as_ref(), org_id);
        outcome
    }

    /// A change feed with nothing new sends a heartbeat after `heartbeat` (15 s by default), and
    /// ends after `lifetime` (an hour), for its client to reconnect.
    pub fn with_feed_timing(mut self, heartbeat: std::time::Duration, lifetime: std::time::Duration) -> Self {
        self.feed_heartbeat = (heartbeat, lifetime);
        self
    }

    /// Signs file links with `secret` (by default a random one: links die with the process).
    pub fn with_link_secret(mut self, secret: file_links::LinkSecret) -> Self {
        self.link_secret = secret;
        self
    }

    /// Limits what each org may hold (by default, [`projects_domain::Quotas::default`]).
    pub fn with_quotas(mut self, quotas: projects_domain::Quotas) -> Self {
        self.quotas = quotas;
        self
    }

    /// The limit of one of the org quotas; `None`: unlimited.
    pub fn quota(&self, quota: projects_domain::Quota) -> Option<u64> {
        self.quotas.limit(quota)
    }

    /// A session counts as live while used within this long, unless configured otherwise.
    pub const DEFAULT_SESSION_TTL: time::Duration = time::Duration::minutes(10);

    /// How long a soft-deleted project can be restored, unless configured otherwise.
    pub const DEFAULT_RETENTION: time::Duration = time::Duration::days(30);

    /// Soft-deleted projects can be restored for `retention`, then are purged.
    pub fn with_retention(mut self, retention: time::Duration) -> Self {
        self.retention = retention;
        self
    }

    /// How long old revisions and unreferenced blobs are kept (see [`App::collect_garbage`]).
    pub fn with_tree_retention(mut self, retention: Retention) -> Self {
        self.retention_of_trees = retention;
        self
    }

    /// Names projects created with a description only (by default, derived from it).
    pub fn with_name_generator(mut self, names: Arc<dyn NameGenerator>) -> Self {
        self.names = names;
        self
    }

    /// Accepts (and can mint) HS256 JWT bearer tokens signed with `keys`.
    pub fn with_jwt(mut self, keys: JwtKeys) -> Self {
        self.jwt = Some(Arc::new(keys));
        self
    }
}

/// A free text (a revision's message): 1–`max` characters, trimmed; line breaks and tabs are
/// fine, other control characters are not.
pub(crate) fn short_text(field: &'static str, raw: &str, max: usize) -> Result<String, projects_domain::FieldError> {
    let text = raw.trim();
    if text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(projects_domain::FieldError::new(field, "must not contain control characters"));
    }
    match text.chars().count() {
        0 => Err(projects_domain::FieldError::new(field, "must not be empty")),
        n if n <= max => Ok(text.to_owned()),
        _ => Err(projects_domain::FieldError::new(field, format!("must be at most {max} characters"))),
    }
}

/// A display name (of a key, a team): 1–100 characters, trimmed.
pub(crate) fn short_name(field: &'static str, raw: &str) -> Result<String, projects_domain::FieldError> {
    let name = raw.trim();
    if name.chars().any(char::is_control) {
        return Err(projects_domain::FieldError::new(field, "must not contain control characters"));
    }
    match name.chars().count() {
        0 => Err(projects_domain::FieldError::new(field, "must not be empty")),
        1..=100 => Ok(name.to_owned()),
        _ => Err(projects_domain::FieldError::new(field, "must be at most 100 characters")),
    }
}
