//! Row types of the tables, converted to and from the shared records of `projects_ports::records`.

use diesel::prelude::*;
use projects_ports::records::{
    ApiKeyRecord, AuditEventRecord, OrgRecord, ProjectRecord, TeamRecord, UsageFields, UserRecord,
};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::schema::{api_keys, audit_events, orgs, projects, teams, usage_records, users};

/// The row and the record have the same fields; only their derives differ.
macro_rules! mirror {
    ($row:ident <=> $record:ident { $($field:ident),* $(,)? }) => {
        impl From<$record> for $row {
            fn from(r: $record) -> Self {
                Self { $($field: r.$field),* }
            }
        }

        impl From<$row> for $record {
            fn from(r: $row) -> Self {
                Self { $($field: r.$field),* }
            }
        }
    };
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = orgs, check_for_backend(diesel::pg::Pg))]
pub(crate) struct OrgRow {
    pub id: Uuid,
    pub name: String,
    pub created_at: OffsetDateTime,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub(crate) struct UserRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub email: String,
    pub role: String,
    pub default_project_visibility: Option<String>,
    pub active_team_id: Option<Uuid>,
    pub created_at: OffsetDateTime,
    pub kind: String,
    pub name: Option<String>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = teams, check_for_backend(diesel::pg::Pg))]
pub(crate) struct TeamRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub created_at: OffsetDateTime,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = api_keys, check_for_backend(diesel::pg::Pg))]
pub(crate) struct ApiKeyRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub key_prefix: String,
    pub key_sha256: Vec<u8>,
    pub scopes: String,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = projects, check_for_backend(diesel::pg::Pg))]
pub(crate) struct ProjectRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub team_id: Option<Uuid>,
    pub owner_user_id: Uuid,
    pub name: String,
    pub slug: String,
    pub description: Option<String>,
    pub prompt: Option<String>,
    pub emoji: Option<String>,
    pub visibility: String,
    pub status: String,
    pub tags: StoredJson,
    pub metadata: StoredJson,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub deleted_at: Option<OffsetDateTime>,
    pub version: i64,
}

mirror!(OrgRow <=> OrgRecord { id, name, created_at });
mirror!(UserRow <=> UserRecord {
    id, org_id, email, role, default_project_visibility, active_team_id, created_at, kind, name,
});
mirror!(TeamRow <=> TeamRecord { id, org_id, name, created_at });
mirror!(ApiKeyRow <=> ApiKeyRecord {
    id, org_id, user_id, name, key_prefix, key_sha256, scopes, created_at, last_used_at, revoked_at,
});
impl From<ProjectRecord> for ProjectRow {
    fn from(r: ProjectRecord) -> Self {
        Self {
            id: r.id,
            org_id: r.org_id,
            team_id: r.team_id,
            owner_user_id: r.owner_user_id,
            name: r.name,
            slug: r.slug,
            description: r.description,
            prompt: r.prompt,
            emoji: r.emoji,
            visibility: r.visibility,
            status: r.status,
            tags: StoredJson(r.tags),
            metadata: StoredJson(r.metadata),
            created_at: r.created_at,
            updated_at: r.updated_at,
            deleted_at: r.deleted_at,
            version: r.version,
        }
    }
}

impl From<ProjectRow> for ProjectRecord {
    fn from(r: ProjectRow) -> Self {
        Self {
            id: r.id,
            org_id: r.org_id,
            team_id: r.team_id,
            owner_user_id: r.owner_user_id,
            name: r.name,
            slug: r.slug,
            description: r.description,
            prompt: r.prompt,
            emoji: r.emoji,
            visibility: r.visibility,
            status: r.status,
            tags: r.tags.0,
            metadata: r.metadata.0,
            created_at: r.created_at,
            updated_at: r.updated_at,
            deleted_at: r.deleted_at,
            version: r.version,
        }
    }
}

/// A jsonb column as read back. jsonb keeps numbers as exact decimals and prints them in full; a
/// value serde_json cannot read back is logged and read as `null` (which the project's decoding
/// turns into empty tags or metadata), so that one bad row can never fail a whole listing.
#[derive(Debug, Clone, diesel::expression::AsExpression, diesel::deserialize::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Jsonb)]
pub(crate) struct StoredJson(pub Value);

impl diesel::deserialize::FromSql<diesel::sql_types::Jsonb, diesel::pg::Pg> for StoredJson {
    fn from_sql(value: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
        match <Value as diesel::deserialize::FromSql<diesel::sql_types::Jsonb, diesel::pg::Pg>>::from_sql(value) {
            Ok(json) => Ok(StoredJson(json)),
            Err(err) => {
                tracing::error!(error = %err, "a stored jsonb value cannot be read back; reading it as null");
                Ok(StoredJson(Value::Null))
            }
        }
    }
}

impl diesel::serialize::ToSql<diesel::sql_types::Jsonb, diesel::pg::Pg> for StoredJson {
    fn to_sql<'b>(&'b self, out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>) -> diesel::serialize::Result {
        <Value as diesel::serialize::ToSql<diesel::sql_types::Jsonb, diesel::pg::Pg>>::to_sql(&self.0, out)
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events, check_for_backend(diesel::pg::Pg))]
pub(crate) struct AuditEventRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub actor_user_id: Uuid,
    pub action: String,
    pub project_id: Option<Uuid>,
    pub fields: String,
    pub created_at: OffsetDateTime,
    pub target_type: Option<String>,
    pub target_id: Option<Uuid>,
}

mirror!(AuditEventRow <=> AuditEventRecord {
    id, org_id, actor_user_id, action, project_id, fields, created_at, target_type, target_id,
});

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = usage_records, check_for_backend(diesel::pg::Pg))]
pub(crate) struct UsageRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub project_id: Uuid,
    pub cost_nanos: i64,
    pub model: String,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub occurred_at: OffsetDateTime,
    pub created_at: OffsetDateTime,
}

mirror!(UsageRow <=> UsageFields {
    id, org_id, project_id, cost_nanos, model, input_tokens, output_tokens, occurred_at, created_at,
});
