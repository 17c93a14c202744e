use projects_domain::{PageRequest, Permission, Team, Timestamp, UsageRecord, Usd, ValidationErrors};
use projects_ports::{AuditPage, StoredProject, UsageRecorded};
use sha2::{Digest, Sha256};

use crate::{short_name, App, AppError, Principal, Resource};

/// The raw fields of a usage report.
#[derive(Debug, Clone)]
pub struct UsageInput {
    /// An exact decimal string, e.g. `"0.0125"`.
    pub cost_usd: String,
    pub model: String,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub occurred_at: Option<Timestamp>,
}

/// A project with what only a detailed read shows.
#[derive(Debug, Clone)]
pub struct ProjectDetails {
    pub stored: StoredProject,
    pub spend: Usd,
    /// The teams it is shared into beyond its own.
    pub shared_teams: Vec<Team>,
}

impl App {
    /// Charges usage to a project the caller can see. With an idempotency key, the same report
    /// again returns the first record (`true` = replayed); another report under the key is a conflict.
    pub async fn record_usage(
        &self,
        principal: &Principal,
        id_or_slug: &str,
        input: UsageInput,
        idempotency_key: Option<String>,
    ) -> Result<(UsageRecord, bool), AppError> {
        principal.require(Permission::UsageWrite)?;
        let mut errors = ValidationErrors::new();
        let cost = errors.check(input.cost_usd.parse::<Usd>());
        let model = errors.check(short_name("model", &input.model));
        for (field, tokens) in [("input_tokens", input.input_tokens), ("output_tokens", input.output_tokens)] {
            if tokens < 0 {
                errors.add(projects_domain::FieldError::new(field, "must not be negative"));
            }
        }
        errors.into_result()?;
        let (cost, model) = (cost.expect("checked"), model.expect("checked"));
        let project = self.get_project(principal, id_or_slug).await?.project;
        let now = self.clock.now();
        let usage = UsageRecord {
            id: self.ids.new_id(),
            org_id: principal.org_id(),
            project_id: project.id,
            cost,
            model,
            input_tokens: input.input_tokens,
            output_tokens: input.output_tokens,
            occurred_at: input.occurred_at.unwrap_or(now),
            created_at: now,
        };
        let fingerprint: Option<[u8; 32]> = idempotency_key.as_ref().map(|_| {
            let canonical = format!(
                "{}|{}|{}|{}|{}",
                usage.cost,
                usage.model,
                usage.input_tokens,
                usage.output_tokens,
                input.occurred_at.map(|t| t.unix_timestamp_nanos().to_string()).unwrap_or_default()
            );
            Sha256::digest(canonical.as_bytes()).into()
        });
        let idempotency = idempotency_key.as_deref().zip(fingerprint);
        match self.usage.record_usage(&usage, idempotency).await {
            Ok(UsageRecorded::Created(record)) => Ok((record, false)),
            Ok(UsageRecorded::Replayed(record)) => Ok((record, true)),
            // The project went away meanwhile: not a bad field of the request.
            Err(projects_ports::StoreError::MissingReference { .. }) => Err(AppError::NotFound(Resource::Project)),
            Err(other) => Err(other.into()),
        }
    }

    /// A project with its spend and the teams it is shared into.
    pub async fn get_project_details(
        &self,
        principal: &Principal,
        id_or_slug: &str,
    ) -> Result<ProjectDetails, AppError> {
        let stored = self.get_project(principal, id_or_slug).await?;
        let spend = self.usage.project_spend(principal.org_id(), stored.project.id).await?;
        let shared_teams = if stored.shared_team_ids.is_empty() {
            Vec::new()
        } else {
            self.identity.find_teams(principal.org_id(), &stored.shared_team_ids).await?
        };
        Ok(ProjectDetails { stored, spend, shared_teams })
    }

    /// The org's audit trail (admins: `org.members.manage`), optionally one project's.
    pub async fn list_audit_events(
        &self,
        principal: &Principal,
        project: Option<&str>,
        page: PageRequest,
    ) -> Result<AuditPage, AppError> {
        principal.require(Permission::MembersManage)?;
        let project_id = match project {
            // Events outlive projects, so this is an id, not a lookup.
            Some(raw) => Some(
                raw.parse::<projects_domain::ProjectId>()
                    .map_err(|_| ValidationErrors::single("project_id", "must be a project id"))?,
            ),
            None => None,
        };
        Ok(self.usage.list_audit_events(principal.org_id(), project_id, page).await?)
    }
}
