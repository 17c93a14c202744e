//! Row types of the tables, converted to and from the shared records of `projects_ports::records`.

use diesel::prelude::*;
use projects_ports::records::{ApiKeyRecord, OrgRecord, ProjectRecord, TeamRecord, UserRecord};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::schema::{api_keys, orgs, projects, teams, users};

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
mirror!(UserRow <=> UserRecord { id, org_id, email, role, default_project_visibility, active_team_id, created_at });
mirror!(TeamRow <=> TeamRecord { id, org_id, name, created_at });
mirror!(ApiKeyRow <=> ApiKeyRecord {
    id, org_id, user_id, name, key_prefix, key_sha256, scopes, created_at, last_used_at, revoked_at,
});
mirror!(ProjectRow <=> ProjectRecord {
    id, org_id, team_id, owner_user_id, name, slug, description, prompt, emoji, visibility, status,
    tags, metadata, created_at, updated_at, deleted_at, version,
});
