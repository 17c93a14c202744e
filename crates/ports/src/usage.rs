use async_trait::async_trait;
use projects_domain::{AuditEvent, OrgId, PageRequest, ProjectId, UsageRecord, Usd};

use crate::StoreError;

/// The outcome of recording usage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsageRecorded {
    /// Stored now.
    Created(UsageRecord),
    /// The same idempotency key and request were recorded before: this is that record.
    Replayed(UsageRecord),
}

/// One page of audit events, newest first.
pub type AuditPage = crate::Page<AuditEvent>;

/// Usage and spend of projects, and the audit trail.
#[async_trait]
pub trait UsageStore: Send + Sync {
    /// Records usage of a live project. With an idempotency key: a second call with the same key
    /// and request hash replays the first record; with another hash it is
    /// `Conflict { field: "idempotency_key" }`. `MissingReference { field: "project_id" }` when
    /// the project is not live in the org.
    async fn record_usage(
        &self,
        usage: &UsageRecord,
        idempotency: Option<(&str, [u8; 32])>,
    ) -> Result<UsageRecorded, StoreError>;

    /// The exact sum of a project's usage.
    async fn project_spend(&self, org_id: OrgId, project_id: ProjectId) -> Result<Usd, StoreError>;

    /// The org's audit events, newest first, optionally only one project's.
    async fn list_audit_events(
        &self,
        org_id: OrgId,
        project_id: Option<ProjectId>,
        page: PageRequest,
    ) -> Result<AuditPage, StoreError>;
}
