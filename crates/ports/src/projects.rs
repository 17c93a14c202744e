use std::collections::HashSet;

use async_trait::async_trait;
use projects_domain::{
    AuditEvent, OrgId, PageRequest, Project, ProjectId, ProjectStatus, Slug, TeamId, Timestamp, UserId, Viewer,
};

use crate::{Reachable, StoreError};

/// How a caller names a project: by id or by slug.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectKey {
    Id(ProjectId),
    Slug(Slug),
}

/// A live project with the teams it is shared into (what the visibility rule needs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredProject {
    pub project: Project,
    pub shared_team_ids: Vec<TeamId>,
}

/// Narrows a project list; every part is optional and they combine with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectFilter {
    /// The project's team (Alumia's `workspaceId`), or a team it is shared into.
    pub team_id: Option<TeamId>,
    pub status: Option<ProjectStatus>,
    /// Projects carrying this tag exactly.
    pub tag: Option<String>,
    /// Case-insensitive substring of the name or the description.
    pub text: Option<String>,
}

/// An `Idempotency-Key` claimed by a create, stored with the project in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyClaim {
    /// Which operation the key is for, e.g. `v1.projects.create`.
    pub scope: &'static str,
    pub key: String,
    /// SHA-256 of the request, so that a reuse with another body can be told apart.
    pub request_sha256: [u8; 32],
    /// When the claim is made; a claim of the same key made before `expired_before` is
    /// forgotten (keys are remembered for 24 hours).
    pub at: projects_domain::Timestamp,
    pub expired_before: projects_domain::Timestamp,
}

/// What an earlier create with the same key did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotentCreate {
    pub request_sha256: [u8; 32],
    pub project_id: ProjectId,
}

/// A project removed for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgedProject {
    pub org_id: OrgId,
    pub project_id: ProjectId,
    pub workspace_refs: Vec<String>,
}

/// One page of projects, newest first, and where the next one starts.
pub type ProjectPage = crate::Page<Project>;

/// Projects, always scoped by org; soft-deleted projects are invisible to every read.
#[async_trait]
pub trait ProjectStore: Reachable {
    /// Inserts a project with its audit event (and idempotency claim) in one transaction and
    /// returns it as stored. When `slug_is_explicit` is false and the slug is taken among the
    /// org's live projects, the first free `slug-2`, `slug-3`, … is used instead; an explicit slug
    /// that is taken is `Conflict { field: "slug" }`. An unknown team is
    /// `MissingReference { field: "team_id" }`. A claim whose key was used before is
    /// `Conflict { field: "idempotency_key" }` and nothing is written. `quota` is the most live
    /// projects the org may hold (`None`: unlimited); past it, `QuotaExceeded` and nothing is
    /// written, however many create at once.
    async fn create(
        &self,
        project: &Project,
        slug_is_explicit: bool,
        audit: &AuditEvent,
        idempotency: Option<&IdempotencyClaim>,
        quota: Option<u64>,
    ) -> Result<Project, StoreError>;

    /// What the create that claimed `key` in `scope` since `since` did, if any.
    async fn find_idempotent_create(
        &self,
        org_id: OrgId,
        scope: &str,
        key: &str,
        since: Timestamp,
    ) -> Result<Option<IdempotentCreate>, StoreError>;

    /// The live project with this id or slug in this org.
    async fn find(&self, org_id: OrgId, key: &ProjectKey) -> Result<Option<StoredProject>, StoreError>;

    /// [`ProjectStore::find`], and `user_id`'s workspace of the project if they have one, in one
    /// round trip (every workspace request starts with both).
    async fn find_with_workspace(
        &self,
        org_id: OrgId,
        key: &ProjectKey,
        user_id: UserId,
    ) -> Result<Option<(StoredProject, Option<crate::Workspace>)>, StoreError>;

    /// A soft-deleted project of this org (for restore).
    async fn find_deleted(&self, org_id: OrgId, project_id: ProjectId) -> Result<Option<Project>, StoreError>;

    /// Saves `project` (one version after the stored one) with its audit event, if the stored
    /// project is still live and at `project.version - 1`. False otherwise: someone else changed
    /// or deleted it first. An explicit slug that is taken is `Conflict { field: "slug" }`.
    async fn update(&self, project: &Project, audit: &AuditEvent) -> Result<bool, StoreError>;

    /// Marks a live project and everything it owns deleted, with its audit event, in one
    /// transaction. False when there was no such live project.
    async fn soft_delete(
        &self,
        org_id: OrgId,
        project_id: ProjectId,
        at: Timestamp,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;

    /// Brings a soft-deleted project back as `project` (live, one version on). When its slug was
    /// taken meanwhile, the first free suffixed slug is used. Returns it as stored, or `None` when
    /// it is not (or no longer) deleted. It counts against `quota` as a create does.
    async fn restore(
        &self,
        project: &Project,
        audit: &AuditEvent,
        quota: Option<u64>,
    ) -> Result<Option<Project>, StoreError>;

    /// Removes projects deleted before `before` for good, with everything they own; returns what
    /// went, with their workspaces (so that their blobs can go too).
    async fn purge_deleted(&self, before: Timestamp) -> Result<Vec<PurgedProject>, StoreError>;

    /// Shares a live project into one more team (a no-op when already shared), with its audit
    /// event. `MissingReference` when the project or the team is not in the org.
    async fn add_share(
        &self,
        org_id: OrgId,
        project_id: ProjectId,
        team_id: TeamId,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;

    /// Stops sharing a project into a team. False when it was not shared there.
    async fn remove_share(
        &self,
        org_id: OrgId,
        project_id: ProjectId,
        team_id: TeamId,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;

    /// The live projects of the viewer's org that the viewer may see (the rule of
    /// `projects_domain::can_view_project`, applied inside the query) and that match `filter`,
    /// newest first.
    async fn list_visible(
        &self,
        viewer: &Viewer,
        filter: &ProjectFilter,
        page: PageRequest,
    ) -> Result<ProjectPage, StoreError>;
}

/// After this many lost races for the next free suffix, contention is heavy: go random.
const ORDERLY_ATTEMPTS: usize = 12;

/// The slug an adapter tries on its `attempt`-th insert of a derived slug: the first free of
/// `base`, `base-2`, `base-3`, … while that works, then a random suffix, so that a burst of
/// creates of one name never fails.
pub fn free_slug(base: &Slug, taken: &HashSet<String>, attempt: usize) -> Slug {
    if attempt < ORDERLY_ATTEMPTS {
        return base.first_free(|slug| taken.contains(slug));
    }
    let random = 1_000 + (uuid::Uuid::new_v4().as_u128() % 9_000) as u32;
    base.with_suffix(random)
}
