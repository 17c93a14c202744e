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
    pub tags: Value,
    pub metadata: Value,
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
mirror!(ProjectRow <=> ProjectRecord {
    id, org_id, team_id, owner_user_id, name, slug, description, prompt, emoji, visibility, status,
    tags, metadata, created_at, updated_at, deleted_at, version,
});

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
