//! What happened to projects: audit events and usage.

use crate::ids::{OrgId, ProjectId, UserId};
use crate::lifecycle::Usd;
use crate::Timestamp;
use uuid::Uuid;

/// One change to the org's data, kept for the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub id: Uuid,
    pub org_id: OrgId,
    pub actor_user_id: UserId,
    /// e.g. `project.created`, `project.updated`, `project.deleted`, `project.restored`,
    /// `project.shared`, `project.unshared`, `member.added`, `api_key.revoked`, `team.created`.
    pub action: String,
    pub project_id: Option<ProjectId>,
    /// What the change was made to: `project`, `member`, `service_account`, `api_key`, `team`.
    pub target_type: &'static str,
    /// The id of that thing (for `team.member_*`, the team; the user is in `fields`).
    pub target_id: Uuid,
    /// The fields the change set, where that applies.
    pub fields: Vec<String>,
    pub at: Timestamp,
}

/// One model call's cost, charged to a project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRecord {
    pub id: Uuid,
    pub org_id: OrgId,
    pub project_id: ProjectId,
    pub cost: Usd,
    pub model: String,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub occurred_at: Timestamp,
    pub created_at: Timestamp,
}
