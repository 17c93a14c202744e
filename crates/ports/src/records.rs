//! Flat, primitive-typed mirrors of the domain entities, shared by the store adapters: each adapter
//! converts its own row type to and from these, and decoding back into validated domain types
//! (which can fail only on corrupt data) happens once, here.

use anyhow::{anyhow, Context};
use projects_domain::{
    ApiKey, AuditEvent, Description, Email, Emoji, Metadata, Org, OrgName, PermissionSet, Project, ProjectName, Prompt,
    Role, Slug, Tags, Team, Timestamp, UsageRecord, Usd, User, UserKind,
};
use serde_json::Value;
use uuid::Uuid;

fn corrupt(what: &str, err: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("stored {what} is invalid: {err}")
}

pub struct OrgRecord {
    pub id: Uuid,
    pub name: String,
    pub created_at: Timestamp,
}

impl OrgRecord {
    pub fn from_domain(org: &Org) -> Self {
        Self { id: org.id.as_uuid(), name: org.name.as_str().to_owned(), created_at: org.created_at }
    }

    pub fn decode(self) -> anyhow::Result<Org> {
        Ok(Org {
            id: self.id.into(),
            name: OrgName::new(&self.name).map_err(|e| corrupt("org name", e))?,
            created_at: self.created_at,
        })
    }
}

pub struct UserRecord {
    pub id: Uuid,
    pub org_id: Uuid,
    pub email: String,
    pub role: String,
    pub default_project_visibility: Option<String>,
    pub active_team_id: Option<Uuid>,
    pub created_at: Timestamp,
    pub kind: String,
    pub name: Option<String>,
}

impl UserRecord {
    pub fn from_domain(user: &User) -> Self {
        Self {
            id: user.id.as_uuid(),
            org_id: user.org_id.as_uuid(),
            email: user.email.as_str().to_owned(),
            role: user.role.as_str().to_owned(),
            default_project_visibility: user.default_project_visibility.map(|v| v.as_str().to_owned()),
            active_team_id: user.active_team_id.map(Into::into),
            created_at: user.created_at,
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
            created_at: self.created_at,
            kind: self.kind.parse::<UserKind>().map_err(|e| corrupt("user kind", e))?,
            name: self.name,
        })
    }
}

pub struct TeamRecord {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub created_at: Timestamp,
}

impl TeamRecord {
    pub fn from_domain(team: &Team) -> Self {
        Self {
            id: team.id.as_uuid(),
            org_id: team.org_id.as_uuid(),
            name: team.name.clone(),
            created_at: team.created_at,
        }
    }

    pub fn decode(self) -> Team {
        Team { id: self.id.into(), org_id: self.org_id.into(), name: self.name, created_at: self.created_at }
    }
}

pub struct ApiKeyRecord {
    pub id: Uuid,
    pub org_id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub key_prefix: String,
    pub key_sha256: Vec<u8>,
    /// Space-separated permission names.
    pub scopes: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

impl ApiKeyRecord {
    pub fn from_domain(key: &ApiKey) -> Self {
        Self {
            id: key.id.as_uuid(),
            org_id: key.org_id.as_uuid(),
            user_id: key.user_id.as_uuid(),
            name: key.name.clone(),
            key_prefix: key.key_prefix.clone(),
            key_sha256: key.key_sha256.to_vec(),
            scopes: key.scopes.names().join(" "),
            created_at: key.created_at,
            last_used_at: key.last_used_at,
            revoked_at: key.revoked_at,
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
            created_at: self.created_at,
            last_used_at: self.last_used_at,
            revoked_at: self.revoked_at,
        })
    }
}

pub struct ProjectRecord {
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
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub deleted_at: Option<Timestamp>,
    pub version: i64,
}

impl ProjectRecord {
    pub fn from_domain(project: &Project) -> Self {
        Self {
            id: project.id.as_uuid(),
            org_id: project.org_id.as_uuid(),
            team_id: project.team_id.map(Into::into),
            owner_user_id: project.owner_user_id.as_uuid(),
            name: project.name.as_str().to_owned(),
            slug: project.slug.as_str().to_owned(),
            description: project.description.as_ref().map(|d| d.as_str().to_owned()),
            prompt: project.prompt.as_ref().map(|p| p.as_str().to_owned()),
            emoji: project.emoji.as_ref().map(|e| e.as_str().to_owned()),
            visibility: project.visibility.as_str().to_owned(),
            status: project.status.as_str().to_owned(),
            tags: Value::from(project.tags.as_slice().to_vec()),
            metadata: project.metadata.to_value(),
            created_at: project.created_at,
            updated_at: project.updated_at,
            deleted_at: project.deleted_at,
            version: project.version,
        }
    }

    pub fn decode(self) -> anyhow::Result<Project> {
        // `null`: the adapter could not read the stored value back (and logged it).
        let tags: Vec<String> = match self.tags {
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
            metadata: Metadata::stored(self.metadata),
            created_at: self.created_at,
            updated_at: self.updated_at,
            deleted_at: self.deleted_at,
            version: self.version,
        })
    }
}

pub struct AuditEventRecord {
    pub id: Uuid,
    pub org_id: Uuid,
    pub actor_user_id: Uuid,
    pub action: String,
    pub project_id: Option<Uuid>,
    /// Space-separated field names.
    pub fields: String,
    pub created_at: Timestamp,
    pub target_type: Option<String>,
    pub target_id: Option<Uuid>,
}

impl AuditEventRecord {
    pub fn from_domain(event: &AuditEvent) -> Self {
        Self {
            id: event.id,
            org_id: event.org_id.as_uuid(),
            actor_user_id: event.actor_user_id.as_uuid(),
            action: event.action.clone(),
            project_id: event.project_id.map(Into::into),
            fields: event.fields.join(" "),
            created_at: event.at,
            target_type: Some(event.target_type.to_owned()),
            target_id: Some(event.target_id),
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
            .ok_or_else(|| anyhow!("stored audit event {} names no target", self.id))?;
        Ok(AuditEvent {
            id: self.id,
            org_id: self.org_id.into(),
            actor_user_id: self.actor_user_id.into(),
            action: self.action,
            project_id: self.project_id.map(Into::into),
            fields: self.fields.split_whitespace().map(str::to_owned).collect(),
            at: self.created_at,
            target_type,
            target_id,
        })
    }
}

pub struct UsageFields {
    pub id: Uuid,
    pub org_id: Uuid,
    pub project_id: Uuid,
    pub cost_nanos: i64,
    pub model: String,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub occurred_at: Timestamp,
    pub created_at: Timestamp,
}

impl UsageFields {
    pub fn from_domain(usage: &UsageRecord) -> Self {
        Self {
            id: usage.id,
            org_id: usage.org_id.as_uuid(),
            project_id: usage.project_id.as_uuid(),
            // Parsing bounds a single cost far below i64::MAX nanos.
            cost_nanos: usage.cost.cost_nanos().unwrap_or(i64::MAX),
            model: usage.model.clone(),
            input_tokens: usage.input_tokens,
            output_tokens: usage.output_tokens,
            occurred_at: usage.occurred_at,
            created_at: usage.created_at,
        }
    }

    pub fn decode(self) -> UsageRecord {
        UsageRecord {
            id: self.id,
            org_id: self.org_id.into(),
            project_id: self.project_id.into(),
            cost: Usd::from_nanos(self.cost_nanos.into()),
            model: self.model,
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
            occurred_at: self.occurred_at,
            created_at: self.created_at,
        }
    }
}
