use async_trait::async_trait;
use futures::future::BoxFuture;
use projects_domain::{
    EntryVersion, ManifestStats, OrgId, PageRequest, ProjectId, SessionState, SessionType, Timestamp, TreeEdit,
    TreeEntry, UserId, WorkspacePath,
};

use crate::StoreError;

/// A user's default workspace in a project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    /// `wsref_` + 32 hex, derived from org, user and project.
    pub workspace_ref: String,
    pub org_id: OrgId,
    pub project_id: ProjectId,
    pub user_id: UserId,
    /// The head revision; `None` before the first write.
    pub head_revision: Option<String>,
    /// The head's position in the workspace's history (1, 2, …). `None` before the first write,
    /// and for a workspace whose head is still a manifest object written before the tree store.
    pub head_seq: Option<i64>,
    pub created_at: Timestamp,
    pub last_used_at: Timestamp,
}

/// A live process working in a workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub session_ref: String,
    pub workspace_ref: String,
    pub org_id: OrgId,
    pub session_type: SessionType,
    pub state: SessionState,
    pub created_at: Timestamp,
    pub last_used_at: Timestamp,
    pub closed_at: Option<Timestamp>,
}

/// One revision of a workspace's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    pub workspace_ref: String,
    /// Its position in the history: the base's plus one.
    pub seq: i64,
    pub revision: String,
    pub base_revision: Option<String>,
    pub author_user_id: Option<UserId>,
    pub message: Option<String>,
    pub files_changed: u64,
    /// The tree's totals at this revision.
    pub stats: ManifestStats,
    pub created_at: Timestamp,
}

/// How a revision is named: by its id (callers) or its position (the service itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevisionKey<'a> {
    Id(&'a str),
    Seq(i64),
}

/// How a commit went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitOutcome {
    Committed,
    /// The head is not the expected one any more; nothing was written.
    HeadMoved,
    /// These blobs the edit references are not (or no longer) registered; nothing was written.
    MissingBlobs(Vec<String>),
}

/// Where a directory listing resumes: after this child (directories sort before the rest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildPosition {
    pub is_dir: bool,
    pub name: String,
}

/// Removes a batch of blobs, `(workspace_ref, sha256)`, from the blob store.
pub type DeleteBlobs = dyn Fn(Vec<(String, String)>) -> BoxFuture<'static, anyhow::Result<()>> + Send + Sync;

/// Workspaces, their trees and sessions. Calls that take an org are scoped by it; tree calls take
/// a `workspace_ref`, which is derived from the org and only ever handed out by an org-scoped
/// call.
#[async_trait]
pub trait WorkspaceStore: Send + Sync {
    /// The workspace, made now if missing, with `last_used_at` bumped to `workspace.last_used_at`.
    /// `MissingReference` when the project is not live or the user not a member.
    async fn touch_workspace(&self, workspace: &Workspace) -> Result<Workspace, StoreError>;

    /// Moves each workspace's `last_used_at` forward to its instant (never back), in one batch.
    async fn touch_workspaces(&self, used: &[(String, Timestamp)]) -> Result<(), StoreError>;

    async fn find_workspace(&self, org_id: OrgId, workspace_ref: &str) -> Result<Option<Workspace>, StoreError>;

    /// The head position of each of these workspaces that has one (one statement per few hundred
    /// refs): how a node learns of heads moved through another.
    async fn head_seqs(&self, workspace_refs: &[String]) -> Result<Vec<(String, i64)>, StoreError>;

    /// A revision by its id or its position.
    async fn find_revision(&self, workspace_ref: &str, key: RevisionKey<'_>) -> Result<Option<Revision>, StoreError>;

    /// The oldest revision made at or after `since`, by position.
    async fn oldest_revision_since(&self, workspace_ref: &str, since: Timestamp) -> Result<Option<i64>, StoreError>;

    /// Up to `limit` revisions older than `before` (all when `None`), newest first.
    async fn list_revisions(
        &self,
        workspace_ref: &str,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<Revision>, StoreError>;

    /// The entries at exactly these paths in revision `seq`.
    async fn entries_at(
        &self,
        workspace_ref: &str,
        seq: i64,
        paths: &[WorkspacePath],
    ) -> Result<Vec<TreeEntry>, StoreError>;

    /// The entries strictly below `dir` in revision `seq`, in path byte order, after `after`,
    /// up to `limit` (all when `None`).
    async fn entries_under(
        &self,
        workspace_ref: &str,
        seq: i64,
        dir: &WorkspacePath,
        after: Option<&WorkspacePath>,
        limit: Option<usize>,
    ) -> Result<Vec<TreeEntry>, StoreError>;

    /// Up to `limit` direct children of `dir` in revision `seq` after `after`: directories first,
    /// then by name in byte order.
    async fn children(
        &self,
        workspace_ref: &str,
        seq: i64,
        dir: &WorkspacePath,
        after: Option<&ChildPosition>,
        limit: usize,
    ) -> Result<Vec<TreeEntry>, StoreError>;

    /// How many direct children each of `dirs` has in revision `seq`, counting no further than
    /// `cap` (those with none left out): a directory's size never makes this slower.
    async fn child_counts(
        &self,
        workspace_ref: &str,
        seq: i64,
        dirs: &[WorkspacePath],
        cap: u64,
    ) -> Result<Vec<(WorkspacePath, u64)>, StoreError>;

    /// The versions of entries at or below `under` born or ended in revisions `lo+1 ..= hi`,
    /// except those both born and ended there, in path order then age, after path `after`, up
    /// to `limit` rows; directories only with `with_dirs`.
    #[allow(clippy::too_many_arguments)]
    async fn versions_between(
        &self,
        workspace_ref: &str,
        lo: i64,
        hi: i64,
        under: &WorkspacePath,
        after: Option<&WorkspacePath>,
        with_dirs: bool,
        limit: Option<usize>,
    ) -> Result<Vec<EntryVersion>, StoreError>;

    /// Makes `revision` the head by applying `edit`, in one transaction, if the head is still
    /// `workspace.head_seq` (and every blob the edit adds is registered; each is touched at
    /// `revision.created_at`).
    async fn commit_revision(
        &self,
        workspace: &Workspace,
        revision: &Revision,
        edit: &TreeEdit,
    ) -> Result<CommitOutcome, StoreError>;

    /// Records that these blobs `(sha256, size)` are in the store (or about to be), touched at
    /// `at`: the collector leaves each alone for its grace period from then. Blobs new to the
    /// workspace count against the org's stored bytes, at most `quota` (`None`: unlimited):
    /// past it, `QuotaExceeded` and nothing is registered.
    async fn register_blobs(
        &self,
        workspace: &Workspace,
        blobs: &[(String, u64)],
        at: Timestamp,
        quota: Option<u64>,
    ) -> Result<(), StoreError>;

    /// The registered blobs among `sha256s`, with their sizes; each found is touched at `at`.
    async fn touch_blobs(
        &self,
        workspace_ref: &str,
        sha256s: &[String],
        at: Timestamp,
    ) -> Result<Vec<(String, u64)>, StoreError>;

    /// Up to `limit` workspaces after `after` in ref order (for the collector).
    async fn workspaces_after(&self, after: Option<&str>, limit: usize) -> Result<Vec<Workspace>, StoreError>;

    /// Removes the revisions before `keep_from` and the entry versions only they could see;
    /// returns how many revisions went.
    async fn expire_revisions(&self, workspace_ref: &str, keep_from: i64) -> Result<u64, StoreError>;

    /// Collects up to `limit` registered blobs touched before `cutoff` that no entry version
    /// references: each is locked, `delete` removes its object, then its row goes, so no commit
    /// can reference a blob while it is being deleted. Returns how many were collected.
    async fn collect_blobs(&self, cutoff: Timestamp, limit: usize, delete: &DeleteBlobs) -> Result<u64, StoreError>;

    async fn open_session(&self, session: &Session) -> Result<(), StoreError>;

    /// Sets the state (when given) and bumps `last_used_at` of an open session.
    async fn touch_session(
        &self,
        org_id: OrgId,
        workspace_ref: &str,
        session_ref: &str,
        state: Option<SessionState>,
        at: Timestamp,
    ) -> Result<Option<Session>, StoreError>;

    /// Closes a session; `None` when there is no such open session.
    async fn close_session(
        &self,
        org_id: OrgId,
        workspace_ref: &str,
        session_ref: &str,
        at: Timestamp,
    ) -> Result<Option<Session>, StoreError>;

    /// One page of the workspace's sessions, newest first; only those in `state` when given.
    async fn list_sessions(
        &self,
        org_id: OrgId,
        workspace_ref: &str,
        state: Option<SessionState>,
        page: PageRequest,
    ) -> Result<crate::Page<Session>, StoreError>;

    /// The most recently used open session used since `since`.
    async fn live_session(
        &self,
        org_id: OrgId,
        workspace_ref: &str,
        since: Timestamp,
    ) -> Result<Option<Session>, StoreError>;
}
