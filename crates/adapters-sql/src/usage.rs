//! The usage store, written once: [`usage_store!`](crate::usage_store) expands it for a backend.

/// Implements `UsageStore` for `$store` (which has `async fn conn(&self)`), naming constraints
/// through `$dialect`.
///
/// A macro rather than functions generic over the connection: diesel's bounds for one query
/// generic over two backends run to dozens of lines; expanded once per backend, every query is
/// type-checked against each backend in full, and reads as plain diesel.
#[macro_export]
macro_rules! usage_store {
    ($store:ty, $dialect:ty) => {
        const _: () = {
            use projects_domain::{Cursor, OrgId, PageRequest, ProjectId, UsageRecord, Usd};
            use projects_ports::{AuditPage, StoreError, UsageRecorded, UsageStore};
            use $crate::diesel::prelude::*;
            use $crate::diesel_async::RunQueryDsl;
            use $crate::errors::{constraint_error, db_error, Constraint};
            use $crate::rows::{AuditEventRow, UsageRow};
            use $crate::schema::{audit_events, projects, usage_records};
            use $crate::types::ToDb;

            const USAGE_CONSTRAINTS: &[(Constraint, &str)] =
                &[(Constraint::UsageIdempotencyKey, "idempotency_key"), (Constraint::UsageProject, "project_id")];

            impl $store {
                /// The usage recorded under an idempotency key, and the hash of the request that made it.
                async fn usage_by_key(
                    &self,
                    usage: &UsageRecord,
                    key: &str,
                ) -> Result<Option<(UsageRow, Vec<u8>)>, StoreError> {
                    let mut conn = self.conn().await?;
                    usage_records::table
                        .filter(usage_records::org_id.eq(usage.org_id.db()))
                        .filter(usage_records::project_id.eq(usage.project_id.db()))
                        .filter(usage_records::idempotency_key.eq(key))
                        .select((UsageRow::as_select(), usage_records::request_sha256.assume_not_null()))
                        .first(&mut conn)
                        .await
                        .optional()
                        .map_err(db_error)
                }
            }

            fn replay(found: (UsageRow, Vec<u8>), request_sha256: &[u8; 32]) -> Result<UsageRecorded, StoreError> {
                let (row, hash) = found;
                if hash.as_slice() == request_sha256 {
                    Ok(UsageRecorded::Replayed(row.decode()))
                } else {
                    Err(StoreError::Conflict { field: "idempotency_key" })
                }
            }

            #[$crate::async_trait::async_trait]
            impl UsageStore for $store {
                async fn record_usage(
                    &self,
                    usage: &UsageRecord,
                    idempotency: Option<(&str, [u8; 32])>,
                ) -> Result<UsageRecorded, StoreError> {
                    if let Some((key, hash)) = idempotency {
                        if let Some(found) = self.usage_by_key(usage, key).await? {
                            return replay(found, &hash);
                        }
                    }
                    let row = UsageRow::of(usage);
                    let mut conn = self.conn().await?;
                    let live = diesel::select(diesel::dsl::exists(
                        projects::table
                            .filter(projects::org_id.eq(row.org_id))
                            .filter(projects::id.eq(row.project_id))
                            .filter(projects::deleted_at.is_null()),
                    ))
                    .get_result::<bool>(&mut conn)
                    .await
                    .map_err(db_error)?;
                    if !live {
                        return Err(StoreError::MissingReference { field: "project_id" });
                    }
                    let inserted = diesel::insert_into(usage_records::table)
                        .values((
                            &row,
                            usage_records::idempotency_key.eq(idempotency.map(|(key, _)| key)),
                            usage_records::request_sha256.eq(idempotency.map(|(_, hash)| hash.to_vec())),
                        ))
                        .execute(&mut conn)
                        .await
                        .map_err(|e| constraint_error::<$dialect>(e, USAGE_CONSTRAINTS, "project_id"));
                    match (inserted, idempotency) {
                        (Ok(_), _) => Ok(UsageRecorded::Created(usage.clone())),
                        // A concurrent request with the same key won the race.
                        (Err(StoreError::Conflict { field: "idempotency_key" }), Some((key, hash))) => {
                            let found = self
                                .usage_by_key(usage, key)
                                .await?
                                .ok_or_else(|| anyhow::anyhow!("idempotent usage vanished"))?;
                            replay(found, &hash)
                        }
                        (Err(err), _) => Err(err),
                    }
                }

                async fn project_spend(&self, org_id: OrgId, project_id: ProjectId) -> Result<Usd, StoreError> {
                    let mut conn = self.conn().await?;
                    // Whole dollars and the nanos under a dollar summed apart: each sum stays below i64::MAX
                    // for billions of the largest costs (SQLite's SUM of integers fails on overflow).
                    let (dollars, nanos): (i64, i64) = usage_records::table
                        .filter(usage_records::org_id.eq(org_id.db()))
                        .filter(usage_records::project_id.eq(project_id.db()))
                        .select((
                            diesel::dsl::sql::<diesel::sql_types::BigInt>(
                                "COALESCE(CAST(SUM(cost_nanos / 1000000000) AS BIGINT), 0)",
                            ),
                            diesel::dsl::sql::<diesel::sql_types::BigInt>(
                                "COALESCE(CAST(SUM(cost_nanos % 1000000000) AS BIGINT), 0)",
                            ),
                        ))
                        .get_result(&mut conn)
                        .await
                        .map_err(db_error)?;
                    Ok(Usd::from_nanos(i128::from(dollars) * 1_000_000_000 + i128::from(nanos)))
                }

                async fn list_audit_events(
                    &self,
                    org_id: OrgId,
                    project_id: Option<ProjectId>,
                    page: PageRequest,
                ) -> Result<AuditPage, StoreError> {
                    let mut query = audit_events::table
                        .filter(audit_events::org_id.eq(org_id.db()))
                        .select(AuditEventRow::as_select())
                        .order((audit_events::created_at.desc(), audit_events::id.desc()))
                        .limit(page.fetch_limit())
                        .into_boxed();
                    if let Some(project_id) = project_id {
                        query = query.filter(audit_events::project_id.eq(project_id.db()));
                    }
                    $crate::after_cursor!(query, page, audit_events::created_at, audit_events::id, newest_first);
                    let mut conn = self.conn().await?;
                    let rows: Vec<AuditEventRow> = query.load(&mut conn).await.map_err(db_error)?;
                    let decoded: Vec<_> = rows.into_iter().map(|r| r.decode()).collect::<anyhow::Result<_>>()?;
                    let (items, next) = page.split(decoded, |last| Cursor { created_at: last.at, id: last.id });
                    Ok(AuditPage { items, next })
                }
            }
        };
    };
}
