//! The workspace store, written once: [`workspace_store!`](crate::workspace_store) expands it for
//! a backend (see [`usage_store!`](crate::usage_store) for why a macro).

/// Implements `WorkspaceStore` for `$store` (which has `async fn conn(&self)`), naming
/// constraints through `$dialect`.
#[macro_export]
macro_rules! workspace_store {
    ($store:ty, $dialect:ty) => {
        const _: () = {
            use projects_domain::{OrgId, SessionState, Timestamp};
            use projects_ports::{Session, StoreError, Workspace, WorkspaceStore};
            use $crate::diesel::prelude::*;
            use $crate::diesel::upsert::excluded;
            use $crate::diesel_async::RunQueryDsl;
            use $crate::errors::{constraint_error, db_error, Constraint};
            use $crate::rows::{SessionRow, WorkspaceRow};
            use $crate::schema::{workspace_sessions, workspaces};
            use $crate::types::ToDb;

            const WORKSPACE_CONSTRAINTS: &[(Constraint, &str)] =
                &[(Constraint::WorkspaceProject, "project_id"), (Constraint::WorkspaceUser, "user_id")];

            #[$crate::async_trait::async_trait]
            impl WorkspaceStore for $store {
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
                        .map_err(|e| constraint_error::<$dialect>(e, WORKSPACE_CONSTRAINTS, "project_id"))
                }

                async fn find_workspace(
                    &self,
                    org_id: OrgId,
                    workspace_ref: &str,
                ) -> Result<Option<Workspace>, StoreError> {
                    let mut conn = self.conn().await?;
                    workspaces::table
                        .filter(workspaces::org_id.eq(org_id.db()))
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
                        .filter(workspaces::org_id.eq(org_id.db()))
                        .filter(workspaces::workspace_ref.eq(workspace_ref))
                        .into_boxed();
                    query = match expected {
                        Some(revision) => query.filter(workspaces::head_revision.eq(revision)),
                        None => query.filter(workspaces::head_revision.is_null()),
                    };
                    let mut conn = self.conn().await?;
                    let swapped =
                        query.set(workspaces::head_revision.eq(new)).execute(&mut conn).await.map_err(db_error)?;
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
                    state: Option<SessionState>,
                    at: Timestamp,
                ) -> Result<Option<Session>, StoreError> {
                    let mut conn = self.conn().await?;
                    let target = workspace_sessions::table
                        .filter(workspace_sessions::org_id.eq(org_id.db()))
                        .filter(workspace_sessions::workspace_ref.eq(workspace_ref))
                        .filter(workspace_sessions::session_ref.eq(session_ref))
                        .filter(workspace_sessions::closed_at.is_null());
                    let updated = match state {
                        Some(state) => {
                            diesel::update(target)
                                .set((
                                    workspace_sessions::state.eq(state.as_str()),
                                    workspace_sessions::last_used_at.eq(at.db()),
                                ))
                                .returning(SessionRow::as_returning())
                                .get_result(&mut conn)
                                .await
                        }
                        None => {
                            diesel::update(target)
                                .set(workspace_sessions::last_used_at.eq(at.db()))
                                .returning(SessionRow::as_returning())
                                .get_result(&mut conn)
                                .await
                        }
                    };
                    updated.optional().map_err(db_error)?.map(|row| row.decode().map_err(StoreError::from)).transpose()
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
                            .filter(workspace_sessions::org_id.eq(org_id.db()))
                            .filter(workspace_sessions::workspace_ref.eq(workspace_ref))
                            .filter(workspace_sessions::session_ref.eq(session_ref))
                            .filter(workspace_sessions::closed_at.is_null()),
                    )
                    .set((
                        workspace_sessions::state.eq(SessionState::Closed.as_str()),
                        workspace_sessions::closed_at.eq(at.db()),
                        workspace_sessions::last_used_at.eq(at.db()),
                    ))
                    .returning(SessionRow::as_returning())
                    .get_result(&mut conn)
                    .await
                    .optional()
                    .map_err(db_error)?
                    .map(|row| row.decode().map_err(StoreError::from))
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
                        .filter(workspace_sessions::org_id.eq(org_id.db()))
                        .filter(workspace_sessions::workspace_ref.eq(workspace_ref))
                        .filter(workspace_sessions::closed_at.is_null())
                        .filter(workspace_sessions::last_used_at.ge(since.db()))
                        .order((workspace_sessions::last_used_at.desc(), workspace_sessions::session_ref.desc()))
                        .select(SessionRow::as_select())
                        .first(&mut conn)
                        .await
                        .optional()
                        .map_err(db_error)?
                        .map(|row| row.decode().map_err(StoreError::from))
                        .transpose()
                }
            }
        };
    };
}
