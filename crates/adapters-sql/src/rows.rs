//! One row type per table, for both backends, converted straight to and from the domain's types.
//! Decoding back into validated domain types can fail only on corrupt data.

use anyhow::{anyhow, Context};
use diesel::prelude::*;
use projects_domain::{
    ApiKey, AuditEvent, Description, Email, Emoji, Metadata, Org, OrgName, PermissionSet, Project, ProjectName, Prompt,
    Role, Slug, Tags, Team, UsageRecord, Usd, User, UserKind,
};
use serde_json::Value;

use projects_domain::{EntryVersion, ManifestStats, TreeEntry, WorkspacePath};
use projects_ports::{Revision, Session, Workspace};

use crate::types::{DbId, DbInstant, DbJson, ToDb};

fn corrupt(what: &str, err: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("stored {what} is invalid: {err}")
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::schema::orgs, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct OrgRow {
    pub id: DbId,
    pub name: String,
    pub created_at: DbInstant,
}

impl OrgRow {
    pub fn of(org: &Org) -> Self {
        Self { id: org.id.db(), name: org.name.as_str().to_owned(), created_at: org.created_at.db() }
    }

    pub fn decode(self) -> anyhow::Result<Org> {
        Ok(Org {
            id: self.id.into(),
            name: OrgName::new(&self.name).map_err(|e| corrupt("org name", e))?,
            created_at: self.created_at.0,
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::schema::users, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct UserRow {
    pub id: DbId,
    pub org_id: DbId,
    pub email: String,
    pub role: String,
    pub default_project_visibility: Option<String>,
    pub active_team_id: Option<DbId>,
    pub created_at: DbInstant,
    pub kind: String,
    pub name: Option<String>,
}

impl UserRow {
    pub fn of(user: &User) -> Self {
        Self {
            id: user.id.db(),
            org_id: user.org_id.db(),
            email: user.email.as_str().to_owned(),
            role: user.role.as_str().to_owned(),
            default_project_visibility: user.default_project_visibility.map(|v| v.as_str().to_owned()),
            active_team_id: user.active_team_id.db(),
            created_at: user.created_at.db(),
            kind: user.kind.as_str().to_owned(),
            name: user.name.clone(),
        }
    }

    pub fn decode(self) -> anyhow::Result<User> {
        Ok(User {
            id: self.id.into(),
            org_id: self.org_id.into(),
            email: Email::new(&self.email).map_err(|e| corrupt("email", e))?,
            role: self.role.parse::<Role>().map_err(|e| corrupt("role", e))?,
            default_project_visibility: self
                .default_project_visibility
                .map(|v| v.parse())
                .transpose()
                .map_err(|e| corrupt("default visibility", e))?,
            active_team_id: self.active_team_id.map(Into::into),
            created_at: self.created_at.0,
            kind: self.kind.parse::<UserKind>().map_err(|e| corrupt("user kind", e))?,
            name: self.name,
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::schema::teams, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct TeamRow {
    pub id: DbId,
    pub org_id: DbId,
    pub name: String,
    pub created_at: DbInstant,
}

impl TeamRow {
    pub fn of(team: &Team) -> Self {
        Self { id: team.id.db(), org_id: team.org_id.db(), name: team.name.clone(), created_at: team.created_at.db() }
    }

    pub fn decode(self) -> Team {
        Team { id: self.id.into(), org_id: self.org_id.into(), name: self.name, created_at: self.created_at.0 }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::schema::api_keys, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct ApiKeyRow {
    pub id: DbId,
    pub org_id: DbId,
    pub user_id: DbId,
    pub name: String,
    pub key_prefix: String,
    pub key_sha256: Vec<u8>,
    /// Space-separated permission names.
    pub scopes: String,
    pub created_at: DbInstant,
    pub last_used_at: Option<DbInstant>,
    pub revoked_at: Option<DbInstant>,
}

impl ApiKeyRow {
    pub fn of(key: &ApiKey) -> Self {
        Self {
            id: key.id.db(),
            org_id: key.org_id.db(),
            user_id: key.user_id.db(),
            name: key.name.clone(),
            key_prefix: key.key_prefix.clone(),
            key_sha256: key.key_sha256.to_vec(),
            scopes: key.scopes.names().join(" "),
            created_at: key.created_at.db(),
            last_used_at: key.last_used_at.db(),
            revoked_at: key.revoked_at.db(),
        }
    }

    pub fn decode(self) -> anyhow::Result<ApiKey> {
        Ok(ApiKey {
            id: self.id.into(),
            org_id: self.org_id.into(),
            user_id: self.user_id.into(),
            name: self.name,
            key_prefix: self.key_prefix,
            key_sha256: self
                .key_sha256
                .as_slice()
                .try_into()
                .map_err(|_| anyhow!("stored key hash is not 32 bytes"))?,
            scopes: PermissionSet::parse(self.scopes.split_whitespace()).map_err(|e| corrupt("scopes", e))?,
            created_at: self.created_at.0,
            last_used_at: self.last_used_at.map(|t| t.0),
            revoked_at: self.revoked_at.map(|t| t.0),
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::schema::projects, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct ProjectRow {
    pub id: DbId,
    pub org_id: DbId,
    pub team_id: Option<DbId>,
    pub owner_user_id: DbId,
    pub name: String,
    pub slug: String,
    pub description: Option<String>,
    pub prompt: Option<String>,
    pub emoji: Option<String>,
    pub visibility: String,
    pub status: String,
    pub tags: DbJson,
    pub metadata: DbJson,
    pub created_at: DbInstant,
    pub updated_at: DbInstant,
    pub deleted_at: Option<DbInstant>,
    pub version: i64,
    pub budget_nanos: Option<i64>,
}

impl ProjectRow {
    pub fn of(project: &Project) -> Self {
        Self {
            id: project.id.db(),
            org_id: project.org_id.db(),
            team_id: project.team_id.db(),
            owner_user_id: project.owner_user_id.db(),
            name: project.name.as_str().to_owned(),
            slug: project.slug.as_str().to_owned(),
            description: project.description.as_ref().map(|d| d.as_str().to_owned()),
            prompt: project.prompt.as_ref().map(|p| p.as_str().to_owned()),
            emoji: project.emoji.as_ref().map(|e| e.as_str().to_owned()),
            visibility: project.visibility.as_str().to_owned(),
            status: project.status.as_str().to_owned(),
            tags: Value::from(project.tags.as_slice().to_vec()).db(),
            metadata: project.metadata.to_value().db(),
            created_at: project.created_at.db(),
            updated_at: project.updated_at.db(),
            deleted_at: project.deleted_at.db(),
            version: project.version,
            budget_nanos: project.budget.and_then(Usd::cost_nanos),
        }
    }

    pub fn decode(self) -> anyhow::Result<Project> {
        // `null`: the adapter could not read the stored value back (and logged it).
        let tags: Vec<String> = match self.tags.0 {
            Value::Null => vec![],
            tags => serde_json::from_value(tags).context("stored tags are not a list of strings")?,
        };
        Ok(Project {
            id: self.id.into(),
            org_id: self.org_id.into(),
            team_id: self.team_id.map(Into::into),
            owner_user_id: self.owner_user_id.into(),
            name: ProjectName::new(&self.name).map_err(|e| corrupt("project name", e))?,
            slug: Slug::new(&self.slug).map_err(|e| corrupt("slug", e))?,
            description: self
                .description
                .as_deref()
                .map(Description::new)
                .transpose()
                .map_err(|e| corrupt("description", e))?,
            prompt: self.prompt.as_deref().map(Prompt::new).transpose().map_err(|e| corrupt("prompt", e))?,
            emoji: self.emoji.as_deref().map(Emoji::new).transpose().map_err(|e| corrupt("emoji", e))?,
            visibility: self.visibility.parse().map_err(|e| corrupt("visibility", e))?,
            status: self.status.parse().map_err(|e| corrupt("status", e))?,
            tags: Tags::new(&tags).map_err(|e| corrupt("tags", e))?,
            metadata: Metadata::stored(self.metadata.0),
            created_at: self.created_at.0,
            updated_at: self.updated_at.0,
            deleted_at: self.deleted_at.map(|t| t.0),
            version: self.version,
            budget: self.budget_nanos.map(|nanos| Usd::from_nanos(i128::from(nanos))),
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::schema::audit_events, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct AuditEventRow {
    pub id: DbId,
    pub org_id: DbId,
    pub actor_user_id: DbId,
    pub action: String,
    pub project_id: Option<DbId>,
    /// Space-separated field names.
    pub fields: String,
    pub created_at: DbInstant,
    pub target_type: Option<String>,
    pub target_id: Option<DbId>,
}

impl AuditEventRow {
    pub fn of(event: &AuditEvent) -> Self {
        Self {
            id: event.id.db(),
            org_id: event.org_id.db(),
            actor_user_id: event.actor_user_id.db(),
            action: event.action.clone(),
            project_id: event.project_id.db(),
            fields: event.fields.join(" "),
            created_at: event.at.db(),
            target_type: Some(event.target_type.to_owned()),
            target_id: Some(event.target_id.db()),
        }
    }

    pub fn decode(self) -> anyhow::Result<AuditEvent> {
        const TARGET_TYPES: [&str; 5] = ["project", "member", "service_account", "api_key", "team"];
        // Events written before targets were recorded are all about a project.
        let target_type = self.target_type.as_deref().unwrap_or("project");
        let target_type = TARGET_TYPES
            .into_iter()
            .find(|known| *known == target_type)
            .ok_or_else(|| anyhow!("stored audit target type {target_type:?} is unknown"))?;
        let target_id = self
            .target_id
            .or(self.project_id)
            .ok_or_else(|| anyhow!("stored audit event {} names no target", self.id.0))?;
        Ok(AuditEvent {
            id: self.id.0,
            org_id: self.org_id.into(),
            actor_user_id: self.actor_user_id.into(),
            action: self.action,
            project_id: self.project_id.map(Into::into),
            fields: self.fields.split_whitespace().map(str::to_owned).collect(),
            at: self.created_at.0,
            target_type,
            target_id: target_id.0,
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::schema::usage_records, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct UsageRow {
    pub id: DbId,
    pub org_id: DbId,
    pub project_id: DbId,
    pub cost_nanos: i64,
    pub model: String,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub occurred_at: DbInstant,
    pub created_at: DbInstant,
}

impl UsageRow {
    pub fn of(usage: &UsageRecord) -> Self {
        Self {
            id: usage.id.db(),
            org_id: usage.org_id.db(),
            project_id: usage.project_id.db(),
            // Parsing bounds a single cost far below i64::MAX nanos.
            cost_nanos: usage.cost.cost_nanos().unwrap_or(i64::MAX),
            model: usage.model.clone(),
            input_tokens: usage.input_tokens,
            output_tokens: usage.output_tokens,
            occurred_at: usage.occurred_at.db(),
            created_at: usage.created_at.db(),
        }
    }

    pub fn decode(self) -> UsageRecord {
        UsageRecord {
            id: self.id.0,
            org_id: self.org_id.into(),
            project_id: self.project_id.into(),
            cost: Usd::from_nanos(self.cost_nanos.into()),
            model: self.model,
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
            occurred_at: self.occurred_at.0,
            created_at: self.created_at.0,
        }
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::schema::workspaces, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct WorkspaceRow {
    pub workspace_ref: String,
    pub org_id: DbId,
    pub project_id: DbId,
    pub user_id: DbId,
    pub head_revision: Option<String>,
    pub created_at: DbInstant,
    pub last_used_at: DbInstant,
    pub head_seq: Option<i64>,
}

impl From<&Workspace> for WorkspaceRow {
    fn from(w: &Workspace) -> Self {
        Self {
            workspace_ref: w.workspace_ref.clone(),
            org_id: w.org_id.db(),
            project_id: w.project_id.db(),
            user_id: w.user_id.db(),
            head_revision: w.head_revision.clone(),
            created_at: w.created_at.db(),
            last_used_at: w.last_used_at.db(),
            head_seq: w.head_seq,
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
            created_at: r.created_at.0,
            last_used_at: r.last_used_at.0,
            head_seq: r.head_seq,
        }
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::schema::workspace_revisions, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct RevisionRow {
    pub workspace_ref: String,
    pub seq: i64,
    pub revision: String,
    pub base_revision: Option<String>,
    pub author_user_id: Option<DbId>,
    pub message: Option<String>,
    pub files_changed: i64,
    pub file_count: i64,
    pub dir_count: i64,
    pub total_bytes: i64,
    pub created_at: DbInstant,
}

/// Counts and sizes are below 2^63 (a request cannot name more); saturate rather than wrap.
fn signed(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn unsigned(n: i64) -> u64 {
    u64::try_from(n).unwrap_or_default()
}

impl From<&Revision> for RevisionRow {
    fn from(r: &Revision) -> Self {
        Self {
            workspace_ref: r.workspace_ref.clone(),
            seq: r.seq,
            revision: r.revision.clone(),
            base_revision: r.base_revision.clone(),
            author_user_id: r.author_user_id.map(ToDb::db),
            message: r.message.clone(),
            files_changed: signed(r.files_changed),
            file_count: signed(r.stats.file_count),
            dir_count: signed(r.stats.dir_count),
            total_bytes: signed(r.stats.total_bytes),
            created_at: r.created_at.db(),
        }
    }
}

impl From<RevisionRow> for Revision {
    fn from(r: RevisionRow) -> Self {
        Self {
            workspace_ref: r.workspace_ref,
            seq: r.seq,
            revision: r.revision,
            base_revision: r.base_revision,
            author_user_id: r.author_user_id.map(Into::into),
            message: r.message,
            files_changed: unsigned(r.files_changed),
            stats: ManifestStats {
                file_count: unsigned(r.file_count),
                dir_count: unsigned(r.dir_count),
                total_bytes: unsigned(r.total_bytes),
            },
            created_at: r.created_at.0,
        }
    }
}

/// One version of a tree entry. (A missing value is inserted as NULL, not DEFAULT, so that rows
/// go in batches on SQLite too.)
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::schema::workspace_entries, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
#[diesel(treat_none_as_default_value = false)]
pub struct EntryRow {
    pub workspace_ref: String,
    pub path: String,
    pub parent: String,
    pub name: String,
    pub kind: String,
    pub is_dir: bool,
    pub implied: bool,
    pub size: i64,
    pub mtime_unix_ms: i64,
    pub sha256: Option<String>,
    pub mode: Option<i64>,
    pub link_target: Option<String>,
    pub valid_from: i64,
    pub valid_to: Option<i64>,
}

impl EntryRow {
    /// A new live version of `entry`, from revision `seq` on.
    pub fn new(workspace_ref: &str, entry: &TreeEntry, seq: i64) -> Self {
        Self {
            workspace_ref: workspace_ref.to_owned(),
            path: entry.path.as_str().to_owned(),
            parent: entry.path.parent().unwrap_or_else(WorkspacePath::root).as_str().to_owned(),
            name: entry.path.name().to_owned(),
            kind: entry.kind.as_str().to_owned(),
            is_dir: entry.is_dir(),
            implied: entry.implied,
            size: signed(entry.size),
            mtime_unix_ms: entry.mtime_unix_ms,
            sha256: entry.sha256.clone(),
            mode: entry.mode.map(i64::from),
            link_target: entry.link_target.clone(),
            valid_from: seq,
            valid_to: None,
        }
    }

    pub fn decode(self) -> anyhow::Result<EntryVersion> {
        let path = WorkspacePath::parse(&self.path).map_err(|e| corrupt("entry path", e))?;
        Ok(EntryVersion {
            entry: TreeEntry {
                path,
                kind: self.kind.parse().map_err(|e| corrupt("entry type", e))?,
                implied: self.implied,
                size: unsigned(self.size),
                mtime_unix_ms: self.mtime_unix_ms,
                sha256: self.sha256,
                mode: self.mode.and_then(|m| u32::try_from(m).ok()),
                link_target: self.link_target,
            },
            valid_from: self.valid_from,
            valid_to: self.valid_to,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::schema::workspace_sessions, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct SessionRow {
    pub session_ref: String,
    pub workspace_ref: String,
    pub org_id: DbId,
    pub session_type: String,
    pub state: String,
    pub created_at: DbInstant,
    pub last_used_at: DbInstant,
    pub closed_at: Option<DbInstant>,
}

impl From<&Session> for SessionRow {
    fn from(s: &Session) -> Self {
        Self {
            session_ref: s.session_ref.clone(),
            workspace_ref: s.workspace_ref.clone(),
            org_id: s.org_id.db(),
            session_type: s.session_type.as_str().to_owned(),
            state: s.state.as_str().to_owned(),
            created_at: s.created_at.db(),
            last_used_at: s.last_used_at.db(),
            closed_at: s.closed_at.db(),
        }
    }
}

impl SessionRow {
    pub fn decode(self) -> anyhow::Result<Session> {
        Ok(Session {
            session_ref: self.session_ref,
            workspace_ref: self.workspace_ref,
            org_id: self.org_id.into(),
            session_type: self.session_type.parse().map_err(|e| corrupt("session type", e))?,
            state: self.state.parse().map_err(|e| corrupt("session state", e))?,
            created_at: self.created_at.0,
            last_used_at: self.last_used_at.0,
            closed_at: self.closed_at.map(|t| t.0),
        })
    }
}
