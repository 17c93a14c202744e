use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use projects_adapters_sql::types::ToDb;
use projects_domain::{Cursor, OrgId, PageRequest, ProjectId, UsageRecord, Usd};
use projects_ports::{AuditPage, StoreError, UsageRecorded, UsageStore};

use crate::errors::{constraint_error, db_error};
use crate::rows::{AuditEventRow, UsageRow};
use crate::schema::{audit_events, projects, usage_records};
use crate::PostgresStore;

const USAGE_CONSTRAINTS: &[(&str, &str)] =
    &[("usage_records_idempotency_key", "idempotency_key"), ("usage_records_project_fkey", "project_id")];

impl PostgresStore {
    /// The usage recorded under an idempotency key, and the hash of the request that made it.
    async fn usage_by_key(&self, usage: &UsageRecord, key: &str) -> Result<Option<(UsageRow, Vec<u8>)>, StoreError> {
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

#[async_trait]
impl UsageStore for PostgresStore {
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
            .map_err(|e| constraint_error(e, USAGE_CONSTRAINTS));
        match (inserted, idempotency) {
            (Ok(_), _) => Ok(UsageRecorded::Created(usage.clone())),
            // A concurrent request with the same key won the race.
            (Err(StoreError::Conflict { field: "idempotency_key" }), Some((key, hash))) => {
                let found =
                    self.usage_by_key(usage, key).await?.ok_or_else(|| anyhow::anyhow!("idempotent usage vanished"))?;
                replay(found, &hash)
            }
            (Err(err), _) => Err(err),
        }
    }

    async fn project_spend(&self, org_id: OrgId, project_id: ProjectId) -> Result<Usd, StoreError> {
        let mut conn = self.conn().await?;
        // SUM of bigint is numeric in PostgreSQL: exact and unbounded, read as text.
        let nanos: String = usage_records::table
            .filter(usage_records::org_id.eq(org_id.db()))
            .filter(usage_records::project_id.eq(project_id.db()))
            .select(diesel::dsl::sql::<diesel::sql_types::Text>("COALESCE(SUM(cost_nanos), 0)::text"))
            .get_result(&mut conn)
            .await
            .map_err(db_error)?;
        let nanos: i128 =
            nanos.parse().map_err(|e| anyhow::anyhow!("the spend sum {nanos:?} is not an integer: {e}"))?;
        Ok(Usd::from_nanos(nanos))
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
        if let Some(after) = page.after {
            // The first bound alone lets the index range-scan from the cursor: the page deep in the
            // list costs what the first one does.
            query = query.filter(audit_events::created_at.le(after.created_at.db()));
            query = query.filter(
                audit_events::created_at
                    .lt(after.created_at.db())
                    .or(audit_events::created_at.eq(after.created_at.db()).and(audit_events::id.lt(after.id.db()))),
            );
        }
        let mut conn = self.conn().await?;
        let rows: Vec<AuditEventRow> = query.load(&mut conn).await.map_err(db_error)?;
        let decoded: Vec<_> = rows.into_iter().map(|r| r.decode()).collect::<anyhow::Result<_>>()?;
        let (items, next) = page.split(decoded, |last| Cursor { created_at: last.at, id: last.id });
        Ok(AuditPage { items, next })
    }
}
