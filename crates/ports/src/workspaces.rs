use async_trait::async_trait;
use projects_domain::{OrgId, ProjectId, SessionState, SessionType, Timestamp, UserId};

use crate::StoreError;

/// A user's default workspace in a project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    /// `wsref_` + 32 hex, derived from org, user and project.
    pub workspace_ref: String,
    pub org_id: OrgId,
    pub project_id: ProjectId,
    pub user_id: UserId,
    /// The current manifest's revision; `None` before the first write.
    pub head_revision: Option<String>,
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

/// Workspaces and their sessions; every call is scoped by org.
#[async_trait]
pub trait WorkspaceStore: Send + Sync {
    /// The workspace, made now if missing, with `last_used_at` bumped to `workspace.last_used_at`.
    /// `MissingReference` when the project is not live or the user not a member.
    async fn touch_workspace(&self, workspace: &Workspace) -> Result<Workspace, StoreError>;

    async fn find_workspace(&self, org_id: OrgId, workspace_ref: &str) -> Result<Option<Workspace>, StoreError>;

    /// Moves the head from `expected` to `new` if it is still at `expected` (compare-and-swap).
    async fn swap_head(
        &self,
        org_id: OrgId,
        workspace_ref: &str,
        expected: Option<&str>,
        new: &str,
    ) -> Result<bool, StoreError>;

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

    /// The most recently used open session used since `since`.
    async fn live_session(
        &self,
        org_id: OrgId,
        workspace_ref: &str,
        since: Timestamp,
    ) -> Result<Option<Session>, StoreError>;
}
