use async_trait::async_trait;
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::RunQueryDsl;
use projects_domain::{OrgId, Timestamp};
use projects_ports::{Session, StoreError, Workspace, WorkspaceStore};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::{constraint_error, db_error};
use crate::schema::{workspace_sessions, workspaces};
use crate::PostgresStore;

const WORKSPACE_CONSTRAINTS: &[(&str, &str)] =
    &[("workspaces_project_fkey", "project_id"), ("workspaces_user_fkey", "user_id")];

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = workspaces, check_for_backend(diesel::pg::Pg))]
struct WorkspaceRow {
    workspace_ref: String,
    org_id: Uuid,
    project_id: Uuid,
    user_id: Uuid,
    head_revision: Option<String>,
    created_at: OffsetDateTime,
    last_used_at: OffsetDateTime,
}

impl From<&Workspace> for WorkspaceRow {
    fn from(w: &Workspace) -> Self {
        Self {
            workspace_ref: w.workspace_ref.clone(),
            org_id: w.org_id.as_uuid(),
            project_id: w.project_id.as_uuid(),
            user_id: w.user_id.as_uuid(),
            head_revision: w.head_revision.clone(),
            created_at: w.created_at,
            last_used_at: w.last_used_at,
        }
    }
}

impl From<WorkspaceRow> for Workspace {
    fn from(r: WorkspaceRow) -> Self {
        Self {
            workspace_ref: r.workspace_ref,
            org_id: r.org_id.into(),
            project_id: r.project_id.into(),
            user_id: r.user_id.into(),
            head_revision: r.head_revision,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
        }
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = workspace_sessions, check_for_backend(diesel::pg::Pg))]
struct SessionRow {
    session_ref: String,
    workspace_ref: String,
    org_id: Uuid,
    session_type: String,
    state: String,
    created_at: OffsetDateTime,
    last_used_at: OffsetDateTime,
    closed_at: Option<OffsetDateTime>,
}

impl From<&Session> for SessionRow {
    fn from(s: &Session) -> Self {
        Self {
            session_ref: s.session_ref.clone(),
            workspace_ref: s.workspace_ref.clone(),
            org_id: s.org_id.as_uuid(),
            session_type: s.session_type.clone(),
            state: s.state.clone(),
            created_at: s.created_at,
            last_used_at: s.last_used_at,
            closed_at: s.closed_at,
        }
    }
}

impl From<SessionRow> for Session {
    fn from(r: SessionRow) -> Self {
        Self {
            session_ref: r.session_ref,
            workspace_ref: r.workspace_ref,
            org_id: r.org_id.into(),
            session_type: r.session_type,
            state: r.state,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            closed_at: r.closed_at,
        }
    }
}

#[async_trait]
impl WorkspaceStore for PostgresStore {
    async fn touch_workspace(&self, workspace: &Workspace) -> Result<Workspace, StoreError> {
        let row = WorkspaceRow::from(workspace);
        let mut conn = self.conn().await?;
        diesel::insert_into(workspaces::table)
            .values(&row)
            .on_conflict(workspaces::workspace_ref)
            .do_update()
            .set(workspaces::last_used_at.eq(excluded(workspaces::last_used_at)))
            .returning(WorkspaceRow::as_returning())
            .get_result(&mut conn)
            .await
            .map(Workspace::from)
            .map_err(|e| constraint_error(e, WORKSPACE_CONSTRAINTS))
    }

    async fn find_workspace(&self, org_id: OrgId, workspace_ref: &str) -> Result<Option<Workspace>, StoreError> {
        let mut conn = self.conn().await?;
        workspaces::table
            .filter(workspaces::org_id.eq(org_id.as_uuid()))
            .filter(workspaces::workspace_ref.eq(workspace_ref))
            .select(WorkspaceRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map(|row| row.map(Workspace::from))
            .map_err(db_error)
    }

    async fn swap_head(
        &self,
        org_id: OrgId,
        workspace_ref: &str,
        expected: Option<&str>,
        new: &str,
    ) -> Result<bool, StoreError> {
        let mut query = diesel::update(workspaces::table)
            .filter(workspaces::org_id.eq(org_id.as_uuid()))
            .filter(workspaces::workspace_ref.eq(workspace_ref))
            .into_boxed();
        query = match expected {
            Some(revision) => query.filter(workspaces::head_revision.eq(revision)),
            None => query.filter(workspaces::head_revision.is_null()),
        };
        let mut conn = self.conn().await?;
        let swapped = query.set(workspaces::head_revision.eq(new)).execute(&mut conn).await.map_err(db_error)?;
        Ok(swapped > 0)
    }

    async fn open_session(&self, session: &Session) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        diesel::insert_into(workspace_sessions::table)
            .values(SessionRow::from(session))
            .execute(&mut conn)
            .await
            .map(drop)
            .map_err(db_error)
    }

    async fn touch_session(
        &self,
        org_id: OrgId,
        workspace_ref: &str,
        session_ref: &str,
        state: Option<&str>,
        at: Timestamp,
    ) -> Result<Option<Session>, StoreError> {
        let mut conn = self.conn().await?;
        let target = workspace_sessions::table
            .filter(workspace_sessions::org_id.eq(org_id.as_uuid()))
            .filter(workspace_sessions::workspace_ref.eq(workspace_ref))
            .filter(workspace_sessions::session_ref.eq(session_ref))
            .filter(workspace_sessions::closed_at.is_null());
        let updated = match state {
            Some(state) => {
                diesel::update(target)
                    .set((workspace_sessions::state.eq(state), workspace_sessions::last_used_at.eq(at)))
                    .returning(SessionRow::as_returning())
                    .get_result(&mut conn)
                    .await
            }
            None => {
                diesel::update(target)
                    .set(workspace_sessions::last_used_at.eq(at))
                    .returning(SessionRow::as_returning())
                    .get_result(&mut conn)
                    .await
            }
        };
        updated.optional().map(|row| row.map(Session::from)).map_err(db_error)
    }

    async fn close_session(
        &self,
        org_id: OrgId,
        workspace_ref: &str,
        session_ref: &str,
        at: Timestamp,
    ) -> Result<Option<Session>, StoreError> {
        let mut conn = self.conn().await?;
        diesel::update(
            workspace_sessions::table
                .filter(workspace_sessions::org_id.eq(org_id.as_uuid()))
                .filter(workspace_sessions::workspace_ref.eq(workspace_ref))
                .filter(workspace_sessions::session_ref.eq(session_ref))
                .filter(workspace_sessions::closed_at.is_null()),
        )
        .set((
            workspace_sessions::state.eq("closed"),
            workspace_sessions::closed_at.eq(at),
            workspace_sessions::last_used_at.eq(at),
        ))
        .returning(SessionRow::as_returning())
        .get_result(&mut conn)
        .await
        .optional()
        .map(|row| row.map(Session::from))
        .map_err(db_error)
    }

    async fn live_session(
        &self,
        org_id: OrgId,
        workspace_ref: &str,
        since: Timestamp,
    ) -> Result<Option<Session>, StoreError> {
        let mut conn = self.conn().await?;
        workspace_sessions::table
            .filter(workspace_sessions::org_id.eq(org_id.as_uuid()))
            .filter(workspace_sessions::workspace_ref.eq(workspace_ref))
            .filter(workspace_sessions::closed_at.is_null())
            .filter(workspace_sessions::last_used_at.ge(since))
            .order((workspace_sessions::last_used_at.desc(), workspace_sessions::session_ref.desc()))
            .select(SessionRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map(|row| row.map(Session::from))
            .map_err(db_error)
    }
}
