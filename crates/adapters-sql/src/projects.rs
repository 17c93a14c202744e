//! The project store, written once: [`project_store!`](crate::project_store) expands it for a
//! backend (see [`usage_store!`](crate::usage_store) for why a macro).

/// Implements `ProjectStore` for `$store` (see [`identity_store!`](crate::identity_store) for the
/// first five parameters), with the dialect's case-insensitive `LIKE` (`$like`), the SQL around a
/// bound tag that says "the tags contain it" (`tag = (before, after)`), and the row lock a purge
/// takes before deleting (`lock = { … }`, empty where the write transaction already serializes).
#[macro_export]
macro_rules! project_store {
    (
        $store:ty, $dialect:ty, $backend:ty, $conn:ty, $tx:ident,
        like = $like:ident,
        tag = ($tag_open:literal, $tag_close:literal),
        lock = { $($lock:tt)* } $(,)?
    ) => {
        const _: () = {
            use std::collections::HashSet;

            use $crate::diesel::prelude::*;
            use $crate::diesel::sql_types::{Bool, Text};
            #[allow(unused_imports)] // `transaction` is a trait method; SQLite's `immediate_transaction` is not
            use $crate::diesel_async::AsyncConnection as _;
            use $crate::diesel_async::RunQueryDsl;
            use $crate::errors::{constraint_error, db_error, Constraint};
            use $crate::quota::TxError;
            use $crate::rows::{AuditEventRow, ProjectRow};
            use $crate::schema::{
                audit_events, idempotency_keys, project_shares, projects, usage_records, workspace_blobs,
                workspace_entries, workspace_revisions, workspace_sessions, workspaces,
            };
            use $crate::types::{DbId, DbInstant, ToDb};
            use projects_domain::{
                AuditEvent, Cursor, OrgId, PageRequest, Project, ProjectId, Quota, Slug, TeamId, Timestamp, Viewer,
            };
            use projects_ports::{
                IdempotencyClaim, IdempotentCreate, ProjectFilter, ProjectKey, ProjectPage, ProjectStore,
                PurgedProject, StoreError, StoredProject,
            };

            /// Writes the audit event of a change that changed `rows`: a change that did nothing
            /// records nothing.
            async fn record_if(
                conn: &mut $conn,
                rows: usize,
                audit: &AuditEventRow,
            ) -> Result<bool, $crate::diesel::result::Error> {
                if rows > 0 {
                    $crate::diesel::insert_into(audit_events::table).values(audit).execute(conn).await?;
                }
                Ok(rows > 0)
            }

            const PROJECT_CONSTRAINTS: &[(Constraint, &str)] = &[
                (Constraint::ProjectSlug, "slug"),
                (Constraint::ProjectTeam, "team_id"),
                (Constraint::ProjectOwner, "owner_user_id"),
                (Constraint::IdempotencyKey, "idempotency_key"),
            ];
            const SHARE_CONSTRAINTS: &[(Constraint, &str)] =
                &[(Constraint::ShareProject, "project_id"), (Constraint::ShareTeam, "team_id")];

        /// Concurrent creates can take the slug we picked; after this many tries something is wrong.
        const SLUG_ATTEMPTS: usize = 24;

        type DbResult<T> = Result<T, diesel::result::Error>;

        fn decode(row: ProjectRow) -> Result<Project, StoreError> {
            Ok(row.decode()?)
        }

        fn audit_row(event: &AuditEvent) -> AuditEventRow {
            AuditEventRow::of(event)
        }

        /// `%` and `_` in a user's search text are literal.
        fn like_pattern(text: &str) -> String {
            let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            format!("%{escaped}%")
        }

        /// The live slugs of the org that are `base` or `base-…`: a range of the (org, slug)
        /// index (slugs compare byte by byte, and `.` follows `-`), so its cost is the number of
        /// projects sharing the base, whatever the size of the org.
        async fn taken_slugs(conn: &mut $conn, org_id: DbId, base: &Slug) -> DbResult<HashSet<String>> {
            let (suffixed_from, suffixed_to) = (format!("{base}-"), format!("{base}."));
            let taken: Vec<String> = projects::table
                .filter(projects::org_id.eq(org_id))
                .filter(projects::deleted_at.is_null())
                .filter(
                    projects::slug
                        .eq(base.as_str())
                        .or(projects::slug.ge(suffixed_from).and(projects::slug.lt(suffixed_to))),
                )
                .select(projects::slug)
                .load(conn)
                .await?;
            Ok(taken.into_iter().collect())
        }

        impl $store {
            async fn insert_project(
                &self,
                row: &ProjectRow,
                audit: &AuditEventRow,
                idempotency: Option<&IdempotencyClaim>,
                quota: Option<u64>,
            ) -> Result<ProjectRow, StoreError> {
                let mut conn = self.conn().await?;
                conn.$tx::<_, TxError, _>(async |conn| {
                    if let Some(claim) = idempotency {
                        diesel::delete(idempotency_keys::table)
                            .filter(idempotency_keys::org_id.eq(row.org_id))
                            .filter(idempotency_keys::scope.eq(claim.scope))
                            .filter(idempotency_keys::key.eq(&claim.key))
                            .filter(idempotency_keys::created_at.lt(claim.expired_before.db()))
                            .execute(conn)
                            .await?;
                        diesel::insert_into(idempotency_keys::table)
                            .values((
                                idempotency_keys::org_id.eq(row.org_id),
                                idempotency_keys::scope.eq(claim.scope),
                                idempotency_keys::key.eq(&claim.key),
                                idempotency_keys::request_sha256.eq(claim.request_sha256.as_slice()),
                                idempotency_keys::project_id.eq(row.id),
                                idempotency_keys::created_at.eq(claim.at.db()),
                            ))
                            .execute(conn)
                            .await?;
                    }
                    let stored = diesel::insert_into(projects::table)
                        .values(row)
                        .returning(ProjectRow::as_returning())
                        .get_result(conn)
                        .await?;
                    diesel::insert_into(audit_events::table).values(audit).execute(conn).await?;
                    // Last, so that the org's row is locked only from here to COMMIT: an org's
                    // creates queue on it for one round trip, not for the whole transaction.
                    $crate::take_quota!(conn, row.org_id, projects_used, Quota::Projects, 1, quota)?;
                    Ok(stored)
                })
                .await
                .map_err(|e: TxError| e.into_store(|e| constraint_error::<$dialect>(e, PROJECT_CONSTRAINTS, "team_id")))
            }
        }

        #[$crate::async_trait::async_trait]
        impl ProjectStore for $store {
            async fn create(
                &self,
                project: &Project,
                slug_is_explicit: bool,
                audit: &AuditEvent,
                idempotency: Option<&IdempotencyClaim>,
                quota: Option<u64>,
            ) -> Result<Project, StoreError> {
                let mut row = ProjectRow::of(project);
                let audit = audit_row(audit);
                if slug_is_explicit {
                    return decode(self.insert_project(&row, &audit, idempotency, quota).await?);
                }
                for attempt in 0..SLUG_ATTEMPTS {
                    let mut conn = self.conn().await?;
                    let taken = taken_slugs(&mut conn, row.org_id, &project.slug).await.map_err(db_error)?;
                    drop(conn);
                    row.slug = projects_ports::free_slug(&project.slug, &taken, attempt).as_str().to_owned();
                    match self.insert_project(&row, &audit, idempotency, quota).await {
                        Err(StoreError::Conflict { field: "slug" }) => continue,
                        other => return decode(other?),
                    }
                }
                Err(StoreError::Conflict { field: "slug" })
            }

            async fn find_idempotent_create(
                &self,
                org_id: OrgId,
                scope: &str,
                key: &str,
                since: Timestamp,
            ) -> Result<Option<IdempotentCreate>, StoreError> {
                let mut conn = self.conn().await?;
                let found: Option<(Vec<u8>, DbId)> = idempotency_keys::table
                    .filter(idempotency_keys::org_id.eq(org_id.db()))
                    .filter(idempotency_keys::scope.eq(scope))
                    .filter(idempotency_keys::key.eq(key))
                    .filter(idempotency_keys::created_at.ge(since.db()))
                    .select((idempotency_keys::request_sha256, idempotency_keys::project_id))
                    .first(&mut conn)
                    .await
                    .optional()
                    .map_err(db_error)?;
                found
                    .map(|(hash, project_id)| {
                        let request_sha256 =
                            hash.as_slice().try_into().map_err(|_| anyhow::anyhow!("stored request hash is not 32 bytes"))?;
                        Ok(IdempotentCreate { request_sha256, project_id: ProjectId::from(project_id) })
                    })
                    .transpose()
            }

            async fn find(&self, org_id: OrgId, key: &ProjectKey) -> Result<Option<StoredProject>, StoreError> {
                // No user has the nil id: the workspace join finds nothing, at the cost of one
                // index probe, and the statement is the one `find_with_workspace` sends.
                let found = self.find_with_workspace(org_id, key, projects_domain::UserId::from_uuid($crate::uuid::Uuid::nil())).await?;
                Ok(found.map(|(stored, _)| stored))
            }

            async fn find_with_workspace(
                &self,
                org_id: OrgId,
                key: &ProjectKey,
                user_id: projects_domain::UserId,
            ) -> Result<Option<(StoredProject, Option<projects_ports::Workspace>)>, StoreError> {
                let mut conn = self.conn().await?;
                // One statement: the project, a row per team it is shared into (one with NULL
                // when none) and the user's workspace of it, if any.
                let query = projects::table
                    .left_join(
                        project_shares::table.on(project_shares::org_id
                            .eq(projects::org_id)
                            .and(project_shares::project_id.eq(projects::id))),
                    )
                    .left_join(
                        workspaces::table.on(workspaces::org_id
                            .eq(projects::org_id)
                            .and(workspaces::project_id.eq(projects::id))
                            .and(workspaces::user_id.eq(user_id.db()))),
                    )
                    .filter(projects::org_id.eq(org_id.db()))
                    .filter(projects::deleted_at.is_null())
                    .select((
                        ProjectRow::as_select(),
                        project_shares::team_id.nullable(),
                        Option::<$crate::rows::WorkspaceRow>::as_select(),
                    ))
                    .into_boxed();
                let query = match key {
                    ProjectKey::Id(id) => query.filter(projects::id.eq(id.db())),
                    ProjectKey::Slug(slug) => query.filter(projects::slug.eq(slug.as_str())),
                };
                let rows: Vec<(ProjectRow, Option<DbId>, Option<$crate::rows::WorkspaceRow>)> =
                    query.load(&mut conn).await.map_err(db_error)?;
                let mut shared_team_ids: Vec<TeamId> =
                    rows.iter().filter_map(|(_, team_id, _)| team_id.map(TeamId::from)).collect();
                shared_team_ids.sort();
                let Some((row, _, workspace)) = rows.into_iter().next() else {
                    return Ok(None);
                };
                Ok(Some((
                    StoredProject { project: decode(row)?, shared_team_ids },
                    workspace.map(projects_ports::Workspace::from),
                )))
            }

            async fn find_deleted(&self, org_id: OrgId, project_id: ProjectId) -> Result<Option<Project>, StoreError> {
                let mut conn = self.conn().await?;
                let row: Option<ProjectRow> = projects::table
                    .filter(projects::org_id.eq(org_id.db()))
                    .filter(projects::id.eq(project_id.db()))
                    .filter(projects::deleted_at.is_not_null())
                    .select(ProjectRow::as_select())
                    .first(&mut conn)
                    .await
                    .optional()
                    .map_err(db_error)?;
                row.map(decode).transpose()
            }

            async fn update(&self, project: &Project, audit: &AuditEvent) -> Result<bool, StoreError> {
                let row = ProjectRow::of(project);
                let audit = audit_row(audit);
                let mut conn = self.conn().await?;
                conn.$tx::<_, diesel::result::Error, _>(async |conn| {
                    let updated = diesel::update(projects::table)
                        .filter(projects::org_id.eq(row.org_id))
                        .filter(projects::id.eq(row.id))
                        .filter(projects::version.eq(row.version - 1))
                        .filter(projects::deleted_at.is_null())
                        .set((
                            projects::name.eq(&row.name),
                            projects::slug.eq(&row.slug),
                            projects::description.eq(&row.description),
                            projects::prompt.eq(&row.prompt),
                            projects::emoji.eq(&row.emoji),
                            projects::visibility.eq(&row.visibility),
                            projects::status.eq(&row.status),
                            projects::tags.eq(&row.tags),
                            projects::metadata.eq(&row.metadata),
                            projects::updated_at.eq(row.updated_at),
                            projects::version.eq(row.version),
                            projects::budget_nanos.eq(row.budget_nanos),
                        ))
                        .execute(conn)
                        .await?;
                    if updated == 0 {
                        return Ok(false);
                    }
                    diesel::insert_into(audit_events::table).values(&audit).execute(conn).await?;
                    Ok(true)
                })
                .await
                .map_err(|e| constraint_error::<$dialect>(e, PROJECT_CONSTRAINTS, "team_id"))
            }

            async fn soft_delete(
                &self,
                org_id: OrgId,
                project_id: ProjectId,
                at: Timestamp,
                audit: &AuditEvent,
            ) -> Result<bool, StoreError> {
                let audit = audit_row(audit);
                let mut conn = self.conn().await?;
                conn.$tx::<_, diesel::result::Error, _>(async |conn| {
                    let deleted = diesel::update(projects::table)
                        .filter(projects::org_id.eq(org_id.db()))
                        .filter(projects::id.eq(project_id.db()))
                        .filter(projects::deleted_at.is_null())
                        .set((projects::deleted_at.eq(at.db()), projects::version.eq(projects::version + 1)))
                        .execute(conn)
                        .await?;
                    if deleted == 0 {
                        return Ok(false);
                    }
                    $crate::release_quota!(conn, org_id.db(), projects_used, 1);
                    // Its workspaces go with it: their sessions end now (the trees stay until purge).
                    let workspace_refs = workspaces::table
                        .filter(workspaces::org_id.eq(org_id.db()))
                        .filter(workspaces::project_id.eq(project_id.db()))
                        .select(workspaces::workspace_ref);
                    diesel::update(workspace_sessions::table)
                        .filter(workspace_sessions::workspace_ref.eq_any(workspace_refs))
                        .filter(workspace_sessions::closed_at.is_null())
                        .set((workspace_sessions::state.eq("closed"), workspace_sessions::closed_at.eq(at.db())))
                        .execute(conn)
                        .await?;
                    diesel::insert_into(audit_events::table).values(&audit).execute(conn).await?;
                    Ok(true)
                })
                .await
                .map_err(db_error)
            }

            async fn restore(
                &self,
                project: &Project,
                audit: &AuditEvent,
                quota: Option<u64>,
            ) -> Result<Option<Project>, StoreError> {
                let row = ProjectRow::of(project);
                let audit = audit_row(audit);
                for attempt in 0..SLUG_ATTEMPTS {
                    let mut conn = self.conn().await?;
                    let restored = conn
                        .$tx::<_, TxError, _>(async |conn| {
                            let taken = taken_slugs(conn, row.org_id, &project.slug).await?;
                            let slug = projects_ports::free_slug(&project.slug, &taken, attempt);
                            let restored: Option<ProjectRow> = diesel::update(projects::table)
                                .filter(projects::org_id.eq(row.org_id))
                                .filter(projects::id.eq(row.id))
                                .filter(projects::deleted_at.is_not_null())
                                .set((
                                    projects::deleted_at.eq(None::<DbInstant>),
                                    projects::slug.eq(slug.as_str()),
                                    projects::updated_at.eq(row.updated_at),
                                    projects::version.eq(row.version),
                                ))
                                .returning(ProjectRow::as_returning())
                                .get_result(conn)
                                .await
                                .optional()?;
                            if restored.is_some() {
                                diesel::insert_into(audit_events::table).values(&audit).execute(conn).await?;
                                $crate::take_quota!(conn, row.org_id, projects_used, Quota::Projects, 1, quota)?;
                            }
                            Ok(restored)
                        })
                        .await
                        .map_err(|e: TxError| {
                            e.into_store(|e| constraint_error::<$dialect>(e, PROJECT_CONSTRAINTS, "team_id"))
                        });
                    match restored {
                        Err(StoreError::Conflict { field: "slug" }) => continue,
                        other => return other?.map(decode).transpose(),
                    }
                }
                Err(StoreError::Conflict { field: "slug" })
            }

            async fn purge_deleted(&self, before: Timestamp) -> Result<Vec<PurgedProject>, StoreError> {
                let mut conn = self.conn().await?;
                conn.$tx::<_, diesel::result::Error, _>(async |conn| {
                    let expired: Vec<(DbId, DbId)> = projects::table
                        .filter(projects::deleted_at.lt(before.db()))
                        .select((projects::org_id, projects::id))
                        $($lock)*
                        .load(conn)
                        .await?;
                    let ids: Vec<DbId> = expired.iter().map(|(_, id)| *id).collect();
                    let owned: Vec<(DbId, String)> = workspaces::table
                        .filter(workspaces::project_id.eq_any(&ids))
                        .select((workspaces::project_id, workspaces::workspace_ref))
                        .load(conn)
                        .await?;
                    let workspace_refs =
                        workspaces::table.filter(workspaces::project_id.eq_any(&ids)).select(workspaces::workspace_ref);
                    // Their blobs go: each org's stored bytes drop by what it held in them.
                    let held: Vec<(DbId, i64)> = workspace_blobs::table
                        .inner_join(workspaces::table.on(workspaces::workspace_ref.eq(workspace_blobs::workspace_ref)))
                        .filter(workspaces::project_id.eq_any(&ids))
                        .select((workspaces::org_id, workspace_blobs::size))
                        .load(conn)
                        .await?;
                    let mut freed: std::collections::BTreeMap<DbId, i64> = std::collections::BTreeMap::new();
                    for (org, size) in held {
                        *freed.entry(org).or_default() += size;
                    }
                    for (org, bytes) in freed {
                        $crate::release_quota!(conn, org, stored_bytes, bytes);
                    }
                    diesel::delete(workspace_sessions::table.filter(workspace_sessions::workspace_ref.eq_any(workspace_refs.clone())))
                        .execute(conn)
                        .await?;
                    diesel::delete(workspace_entries::table.filter(workspace_entries::workspace_ref.eq_any(workspace_refs.clone())))
                        .execute(conn)
                        .await?;
                    diesel::delete(workspace_blobs::table.filter(workspace_blobs::workspace_ref.eq_any(workspace_refs.clone())))
                        .execute(conn)
                        .await?;
                    diesel::delete(
                        workspace_revisions::table.filter(workspace_revisions::workspace_ref.eq_any(workspace_refs)),
                    )
                    .execute(conn)
                    .await?;
                    diesel::delete(workspaces::table.filter(workspaces::project_id.eq_any(&ids))).execute(conn).await?;
                    diesel::delete(usage_records::table.filter(usage_records::project_id.eq_any(&ids))).execute(conn).await?;
                    diesel::delete(project_shares::table.filter(project_shares::project_id.eq_any(&ids))).execute(conn).await?;
                    diesel::delete(idempotency_keys::table.filter(idempotency_keys::project_id.eq_any(&ids)))
                        .execute(conn)
                        .await?;
                    diesel::delete(projects::table.filter(projects::id.eq_any(&ids))).execute(conn).await?;
                    Ok(expired
                        .into_iter()
                        .map(|(org, id)| PurgedProject {
                            org_id: OrgId::from(org),
                            project_id: ProjectId::from(id),
                            workspace_refs: owned.iter().filter(|(p, _)| *p == id).map(|(_, r)| r.clone()).collect(),
                        })
                        .collect())
                })
                .await
                .map_err(db_error)
            }

            async fn add_share(
                &self,
                org_id: OrgId,
                project_id: ProjectId,
                team_id: TeamId,
                audit: &AuditEvent,
            ) -> Result<(), StoreError> {
                let audit = audit_row(audit);
                let mut conn = self.conn().await?;
                let shared = conn
                    .$tx::<_, diesel::result::Error, _>(async |conn| {
                        // Only live projects can be shared: a soft-deleted one reads as missing.
                        let live = diesel::select(diesel::dsl::exists(
                            projects::table
                                .filter(projects::org_id.eq(org_id.db()))
                                .filter(projects::id.eq(project_id.db()))
                                .filter(projects::deleted_at.is_null()),
                        ))
                        .get_result::<bool>(conn)
                        .await?;
                        if !live {
                            return Ok(false);
                        }
                        let added = diesel::insert_into(project_shares::table)
                            .values((
                                project_shares::org_id.eq(org_id.db()),
                                project_shares::project_id.eq(project_id.db()),
                                project_shares::team_id.eq(team_id.db()),
                                project_shares::created_at.eq(audit.created_at),
                            ))
                            .on_conflict_do_nothing()
                            .execute(conn)
                            .await?;
                        record_if(conn, added, &audit).await?;
                        Ok(true)
                    })
                    .await
                    .map_err(|e| constraint_error::<$dialect>(e, SHARE_CONSTRAINTS, "team_id"))?;
                if shared {
                    Ok(())
                } else {
                    Err(StoreError::MissingReference { field: "project_id" })
                }
            }

            async fn remove_share(
                &self,
                org_id: OrgId,
                project_id: ProjectId,
                team_id: TeamId,
                audit: &AuditEvent,
            ) -> Result<bool, StoreError> {
                let audit = audit_row(audit);
                let mut conn = self.conn().await?;
                conn.$tx::<_, diesel::result::Error, _>(async |conn| {
                    let removed = diesel::delete(project_shares::table)
                        .filter(project_shares::org_id.eq(org_id.db()))
                        .filter(project_shares::project_id.eq(project_id.db()))
                        .filter(project_shares::team_id.eq(team_id.db()))
                        .execute(conn)
                        .await?;
                    record_if(conn, removed, &audit).await
                })
                .await
                .map_err(db_error)
            }

            async fn list_visible(
                &self,
                viewer: &Viewer,
                filter: &ProjectFilter,
                page: PageRequest,
            ) -> Result<ProjectPage, StoreError> {
                let team_ids: Vec<DbId> = viewer.team_ids.iter().map(|t| t.db()).collect();
                let shared_into_my_teams = diesel::dsl::exists(
                    project_shares::table
                        .filter(project_shares::project_id.eq(projects::id))
                        .filter(project_shares::team_id.eq_any(team_ids.clone())),
                );
                let mut query = projects::table
                    .filter(projects::org_id.eq(viewer.org_id.db()))
                    .filter(projects::deleted_at.is_null())
                    .filter(
                        projects::owner_user_id.eq(viewer.user_id.db()).nullable().or(projects::visibility
                            .eq("shared")
                            .nullable()
                            .and(
                                projects::team_id
                                    .is_null()
                                    .nullable()
                                    .or(projects::team_id.eq_any(team_ids))
                                    .or(shared_into_my_teams.nullable()),
                            )),
                    )
                    .select(ProjectRow::as_select())
                    .order((projects::created_at.desc(), projects::id.desc()))
                    .limit(page.fetch_limit())
                    .into_boxed();
                if let Some(team_id) = filter.team_id {
                    let shared_into_team = diesel::dsl::exists(
                        project_shares::table
                            .filter(project_shares::project_id.eq(projects::id))
                            .filter(project_shares::team_id.eq(team_id.db())),
                    );
                    query = query.filter(projects::team_id.eq(team_id.db()).nullable().or(shared_into_team.nullable()));
                }
                if let Some(status) = filter.status {
                    query = query.filter(projects::status.eq(status.as_str()));
                }
                if let Some(tag) = &filter.tag {
                    query = query.filter(
                        diesel::dsl::sql::<Bool>($tag_open)
                            .bind::<Text, _>(tag.clone())
                            .sql($tag_close),
                    );
                }
                if let Some(text) = &filter.text {
                    let pattern = like_pattern(text);
                    query = query.filter(
                        projects::name
                            .$like(pattern.clone())
                            .escape('\\')
                            .nullable()
                            .or(projects::description.$like(pattern).escape('\\')),
                    );
                }
                $crate::after_cursor!(query, page, projects::created_at, projects::id, newest_first);
                let mut conn = self.conn().await?;
                let rows: Vec<ProjectRow> = query.load(&mut conn).await.map_err(db_error)?;
                let decoded: Vec<_> = rows.into_iter().map(decode).collect::<Result<Vec<_>, _>>()?;
                let (items, next) = page.split(decoded, |last| Cursor { created_at: last.created_at, id: last.id.as_uuid() });
                Ok(ProjectPage { items, next })
            }
        }
        };
    };
}
