//! Row types of the tables, converted to and from the shared records of `projects_ports::records`.
//! SQLite has no uuid, timestamp or json types, so the conversions also encode and decode those.

use anyhow::Context;
use diesel::prelude::*;
use projects_domain::Timestamp;
use projects_ports::records::{
    ApiKeyRecord, AuditEventRecord, OrgRecord, ProjectRecord, TeamRecord, UsageFields, UserRecord,
};
use uuid::Uuid;

use crate::schema::{api_keys, audit_events, orgs, projects, teams, usage_records, users};

pub(crate) fn micros(at: Timestamp) -> i64 {
    // Every stored instant is within ±292,000 years of the epoch.
    (at.unix_timestamp_nanos() / 1_000) as i64
}

pub(crate) fn instant(micros: i64) -> anyhow::Result<Timestamp> {
    Timestamp::from_unix_timestamp_nanos(i128::from(micros) * 1_000).context("stored instant out of range")
}

pub(crate) fn id_text(id: Uuid) -> String {
    id.hyphenated().to_string()
}

pub(crate) fn id(text: &str) -> anyhow::Result<Uuid> {
    Uuid::parse_str(text).with_context(|| format!("stored id {text:?} is not a UUID"))
}

fn opt_id(text: Option<String>) -> anyhow::Result<Option<Uuid>> {
    text.as_deref().map(id).transpose()
}

fn opt_instant(micros: Option<i64>) -> anyhow::Result<Option<Timestamp>> {
    micros.map(instant).transpose()
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = orgs, check_for_backend(diesel::sqlite::Sqlite))]
pub(crate) struct OrgRow {
    pub id: String,
    pub name: String,
    pub created_at: i64,
}

impl From<OrgRecord> for OrgRow {
    fn from(r: OrgRecord) -> Self {
        Self { id: id_text(r.id), name: r.name, created_at: micros(r.created_at) }
    }
}

impl OrgRow {
    pub fn into_record(self) -> anyhow::Result<OrgRecord> {
        Ok(OrgRecord { id: id(&self.id)?, name: self.name, created_at: instant(self.created_at)? })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = users, check_for_backend(diesel::sqlite::Sqlite))]
pub(crate) struct UserRow {
    pub id: String,
    pub org_id: String,
    pub email: String,
    pub role: String,
    pub default_project_visibility: Option<String>,
    pub active_team_id: Option<String>,
    pub created_at: i64,
    pub kind: String,
    pub name: Option<String>,
}

impl From<UserRecord> for UserRow {
    fn from(r: UserRecord) -> Self {
        Self {
            id: id_text(r.id),
            org_id: id_text(r.org_id),
            email: r.email,
            role: r.role,
            default_project_visibility: r.default_project_visibility,
            active_team_id: r.active_team_id.map(id_text),
            created_at: micros(r.created_at),
            kind: r.kind,
            name: r.name,
        }
    }
}

impl UserRow {
    pub fn into_record(self) -> anyhow::Result<UserRecord> {
        Ok(UserRecord {
            id: id(&self.id)?,
            org_id: id(&self.org_id)?,
            email: self.email,
            role: self.role,
            default_project_visibility: self.default_project_visibility,
            active_team_id: opt_id(self.active_team_id)?,
            created_at: instant(self.created_at)?,
            kind: self.kind,
            name: self.name,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = teams, check_for_backend(diesel::sqlite::Sqlite))]
pub(crate) struct TeamRow {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub created_at: i64,
}

impl From<TeamRecord> for TeamRow {
    fn from(r: TeamRecord) -> Self {
        Self { id: id_text(r.id), org_id: id_text(r.org_id), name: r.name, created_at: micros(r.created_at) }
    }
}

impl TeamRow {
    pub fn into_record(self) -> anyhow::Result<TeamRecord> {
        Ok(TeamRecord {
            id: id(&self.id)?,
            org_id: id(&self.org_id)?,
            name: self.name,
            created_at: instant(self.created_at)?,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = api_keys, check_for_backend(diesel::sqlite::Sqlite))]
pub(crate) struct ApiKeyRow {
    pub id: String,
    pub org_id: String,
    pub user_id: String,
    pub name: String,
    pub key_prefix: String,
    pub key_sha256: Vec<u8>,
    pub scopes: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl From<ApiKeyRecord> for ApiKeyRow {
    fn from(r: ApiKeyRecord) -> Self {
        Self {
            id: id_text(r.id),
            org_id: id_text(r.org_id),
            user_id: id_text(r.user_id),
            name: r.name,
            key_prefix: r.key_prefix,
            key_sha256: r.key_sha256,
            scopes: r.scopes,
            created_at: micros(r.created_at),
            last_used_at: r.last_used_at.map(micros),
            revoked_at: r.revoked_at.map(micros),
        }
    }
}

impl ApiKeyRow {
    pub fn into_record(self) -> anyhow::Result<ApiKeyRecord> {
        Ok(ApiKeyRecord {
            id: id(&self.id)?,
            org_id: id(&self.org_id)?,
            user_id: id(&self.user_id)?,
            name: self.name,
            key_prefix: self.key_prefix,
            key_sha256: self.key_sha256,
            scopes: self.scopes,
            created_at: instant(self.created_at)?,
            last_used_at: opt_instant(self.last_used_at)?,
            revoked_at: opt_instant(self.revoked_at)?,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = projects, check_for_backend(diesel::sqlite::Sqlite))]
pub(crate) struct ProjectRow {
    pub id: String,
    pub org_id: String,
    pub team_id: Option<String>,
    pub owner_user_id: String,
    pub name: String,
    pub slug: String,
    pub description: Option<String>,
    pub prompt: Option<String>,
    pub emoji: Option<String>,
    pub visibility: String,
    pub status: String,
    pub tags: String,
    pub metadata: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
    pub version: i64,
}

impl From<ProjectRecord> for ProjectRow {
    fn from(r: ProjectRecord) -> Self {
        Self {
            id: id_text(r.id),
            org_id: id_text(r.org_id),
            team_id: r.team_id.map(id_text),
            owner_user_id: id_text(r.owner_user_id),
            name: r.name,
            slug: r.slug,
            description: r.description,
            prompt: r.prompt,
            emoji: r.emoji,
            visibility: r.visibility,
            status: r.status,
            tags: r.tags.to_string(),
            metadata: r.metadata.to_string(),
            created_at: micros(r.created_at),
            updated_at: micros(r.updated_at),
            deleted_at: r.deleted_at.map(micros),
            version: r.version,
        }
    }
}

impl ProjectRow {
    pub fn into_record(self) -> anyhow::Result<ProjectRecord> {
        Ok(ProjectRecord {
            id: id(&self.id)?,
            org_id: id(&self.org_id)?,
            team_id: opt_id(self.team_id)?,
            owner_user_id: id(&self.owner_user_id)?,
            name: self.name,
            slug: self.slug,
            description: self.description,
            prompt: self.prompt,
            emoji: self.emoji,
            visibility: self.visibility,
            status: self.status,
            tags: serde_json::from_str(&self.tags).context("stored tags are not JSON")?,
            metadata: serde_json::from_str(&self.metadata).context("stored metadata is not JSON")?,
            created_at: instant(self.created_at)?,
            updated_at: instant(self.updated_at)?,
            deleted_at: opt_instant(self.deleted_at)?,
            version: self.version,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events, check_for_backend(diesel::sqlite::Sqlite))]
pub(crate) struct AuditEventRow {
    pub id: String,
    pub org_id: String,
    pub actor_user_id: String,
    pub action: String,
    pub project_id: Option<String>,
    pub fields: String,
    pub created_at: i64,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
}

impl From<AuditEventRecord> for AuditEventRow {
    fn from(r: AuditEventRecord) -> Self {
        Self {
            id: id_text(r.id),
            org_id: id_text(r.org_id),
            actor_user_id: id_text(r.actor_user_id),
            action: r.action,
            project_id: r.project_id.map(id_text),
            fields: r.fields,
            created_at: micros(r.created_at),
            target_type: r.target_type,
            target_id: r.target_id.map(id_text),
        }
    }
}

impl AuditEventRow {
    pub fn into_record(self) -> anyhow::Result<AuditEventRecord> {
        Ok(AuditEventRecord {
            id: id(&self.id)?,
            org_id: id(&self.org_id)?,
            actor_user_id: id(&self.actor_user_id)?,
            action: self.action,
            project_id: opt_id(self.project_id)?,
            fields: self.fields,
            created_at: instant(self.created_at)?,
            target_type: self.target_type,
            target_id: opt_id(self.target_id)?,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = usage_records, check_for_backend(diesel::sqlite::Sqlite))]
pub(crate) struct UsageRow {
    pub id: String,
    pub org_id: String,
    pub project_id: String,
    pub cost_nanos: i64,
    pub model: String,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub occurred_at: i64,
    pub created_at: i64,
}

impl From<UsageFields> for UsageRow {
    fn from(r: UsageFields) -> Self {
        Self {
            id: id_text(r.id),
            org_id: id_text(r.org_id),
            project_id: id_text(r.project_id),
            cost_nanos: r.cost_nanos,
            model: r.model,
            input_tokens: r.input_tokens,
            output_tokens: r.output_tokens,
            occurred_at: micros(r.occurred_at),
            created_at: micros(r.created_at),
        }
    }
}

impl UsageRow {
    pub fn into_record(self) -> anyhow::Result<UsageFields> {
        Ok(UsageFields {
            id: id(&self.id)?,
            org_id: id(&self.org_id)?,
            project_id: id(&self.project_id)?,
            cost_nanos: self.cost_nanos,
            model: self.model,
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
            occurred_at: instant(self.occurred_at)?,
            created_at: instant(self.created_at)?,
        })
    }
}
