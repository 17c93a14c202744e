use async_trait::async_trait;
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::RunQueryDsl;
use projects_domain::{OrgId, Timestamp};
use projects_ports::{Session, StoreError, Workspace, WorkspaceStore};

use crate::errors::{constraint_error, db_error};
use crate::rows::{id, id_text, instant, micros};
use crate::schema::{workspace_sessions, workspaces};
use crate::SqliteStore;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = workspaces, check_for_backend(diesel::sqlite::Sqlite))]
struct WorkspaceRow {
    workspace_ref: String,
    org_id: String,
    project_id: String,
    user_id: String,
    head_revision: Option<String>,
    created_at: i64,
    last_used_at: i64,
}

impl From<&Workspace> for WorkspaceRow {
    fn from(w: &Workspace) -> Self {
        Self {
            workspace_ref: w.workspace_ref.clone(),
            org_id: id_text(w.org_id.as_uuid()),
            project_id: id_text(w.project_id.as_uuid()),
            user_id: id_text(w.user_id.as_uuid()),
            head_revision: w.head_revision.clone(),
            created_at: micros(w.created_at),
            last_used_at: micros(w.last_used_at),
        }
    }
}

impl WorkspaceRow {
    fn decode(self) -> Result<Workspace, StoreError> {
        Ok(Workspace {
            workspace_ref: self.workspace_ref,
            org_id: id(&self.org_id)?.into(),
            project_id: id(&self.project_id)?.into(),
            user_id: id(&self.user_id)?.into(),
            head_revision: self.head_revision,
            created_at: instant(self.created_at)?,
            last_used_at: instant(self.last_used_at)?,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = workspace_sessions, check_for_backend(diesel::sqlite::Sqlite))]
struct SessionRow {
    session_ref: String,
    workspace_ref: String,
    org_id: String,
    session_type: String,
    state: String,
    created_at: i64,
    last_used_at: i64,
    closed_at: Option<i64>,
}

impl From<&Session> for SessionRow {
    fn from(s: &Session) -> Self {
        Self {
            session_ref: s.session_ref.clone(),
            workspace_ref: s.workspace_ref.clone(),
            org_id: id_text(s.org_id.as_uuid()),
            session_type: s.session_type.clone(),
            state: s.state.clone(),
            created_at: micros(s.created_at),
            last_used_at: micros(s.last_used_at),
            closed_at: s.closed_at.map(micros),
        }
    }
}

impl SessionRow {
    fn decode(self) -> Result<Session, StoreError> {
        Ok(Session {
            session_ref: self.session_ref,
            workspace_ref: self.workspace_ref,
            org_id: id(&self.org_id)?.into(),
            session_type: self.session_type,
            state: self.state,
            created_at: instant(self.created_at)?,
            last_used_at: instant(self.last_used_at)?,
            closed_at: self.closed_at.map(instant).transpose()?,
        })
    }
}

#[async_trait]
impl WorkspaceStore for SqliteStore {
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
            .map_err(|e| constraint_error(e, &[], "project_id"))?
            .decode()
    }

    async fn find_workspace(&self, org_id: OrgId, workspace_ref: &str) -> Result<Option<Workspace>, StoreError> {
        let mut conn = self.conn().await?;
        workspaces::table
            .filter(workspaces::org_id.eq(id_text(org_id.as_uuid())))
            .filter(workspaces::workspace_ref.eq(workspace_ref))
            .select(WorkspaceRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(db_error)?
            .map(WorkspaceRow::decode)
            .transpose()
    }

    async fn swap_head(
        &self,
        org_id: OrgId,
        workspace_ref: &str,
        expected: Option<&str>,
        new: &str,
    ) -> Result<bool, StoreError> {
        let mut query = diesel::update(workspaces::table)
            .filter(workspaces::org_id.eq(id_text(org_id.as_uuid())))
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
            .filter(workspace_sessions::org_id.eq(id_text(org_id.as_uuid())))
            .filter(workspace_sessions::workspace_ref.eq(workspace_ref))
            .filter(workspace_sessions::session_ref.eq(session_ref))
            .filter(workspace_sessions::closed_at.is_null());
        let updated = match state {
            Some(state) => {
                diesel::update(target)
                    .set((workspace_sessions::state.eq(state), workspace_sessions::last_used_at.eq(micros(at))))
                    .returning(SessionRow::as_returning())
                    .get_result(&mut conn)
                    .await
            }
            None => {
                diesel::update(target)
                    .set(workspace_sessions::last_used_at.eq(micros(at)))
                    .returning(SessionRow::as_returning())
                    .get_result(&mut conn)
                    .await
            }
        };
        updated.optional().map_err(db_error)?.map(SessionRow::decode).transpose()
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
                .filter(workspace_sessions::org_id.eq(id_text(org_id.as_uuid())))
                .filter(workspace_sessions::workspace_ref.eq(workspace_ref))
                .filter(workspace_sessions::session_ref.eq(session_ref))
                .filter(workspace_sessions::closed_at.is_null()),
        )
        .set((
            workspace_sessions::state.eq("closed"),
            workspace_sessions::closed_at.eq(micros(at)),
            workspace_sessions::last_used_at.eq(micros(at)),
        ))
        .returning(SessionRow::as_returning())
        .get_result(&mut conn)
        .await
        .optional()
        .map_err(db_error)?
        .map(SessionRow::decode)
        .transpose()
    }

    async fn live_session(
        &self,
        org_id: OrgId,
        workspace_ref: &str,
        since: Timestamp,
    ) -> Result<Option<Session>, StoreError> {
        let mut conn = self.conn().await?;
        workspace_sessions::table
            .filter(workspace_sessions::org_id.eq(id_text(org_id.as_uuid())))
            .filter(workspace_sessions::workspace_ref.eq(workspace_ref))
            .filter(workspace_sessions::closed_at.is_null())
            .filter(workspace_sessions::last_used_at.ge(micros(since)))
            .order((workspace_sessions::last_used_at.desc(), workspace_sessions::session_ref.desc()))
            .select(SessionRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(db_error)?
            .map(SessionRow::decode)
            .transpose()
    }
}
