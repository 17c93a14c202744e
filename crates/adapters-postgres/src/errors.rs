//! PostgreSQL's dialect of constraint errors: it names the constraint a statement broke.

use diesel::result::{DatabaseErrorKind, Error as DbError};

/// The name of the constraint a unique or foreign-key violation broke, if that is what `err` is.
fn violated_constraint(err: &DbError) -> Option<(DatabaseErrorKind, &str)> {
    match err {
        DbError::DatabaseError(
            kind @ (DatabaseErrorKind::UniqueViolation | DatabaseErrorKind::ForeignKeyViolation),
            info,
        ) => Some((*kind, info.constraint_name().unwrap_or_default())),
        _ => None,
    }
}

/// PostgreSQL names the constraint a statement broke.
pub(crate) struct PgDialect;

/// The channel identity changes are told on, with the org's id as the payload.
pub(crate) const IDENTITY_CHANNEL: &str = "projects_identity";

impl projects_adapters_sql::errors::Dialect for PgDialect {
    const IDENTITY_CHANGED: Option<&'static str> = Some("SELECT pg_notify('projects_identity', $1)");

    fn violation(err: &DbError) -> Option<projects_adapters_sql::errors::Violation> {
        use projects_adapters_sql::errors::{Constraint::*, Violation};
        let (kind, name) = violated_constraint(err)?;
        let constraint = match name {
            "orgs_name_key" => OrgName,
            "users_org_email_live_key" => UserEmail,
            "users_org_id_fkey" => UserOrg,
            "api_keys_key_sha256_key" => ApiKeyHash,
            "api_keys_user_fkey" => ApiKeyUser,
            "teams_org_name_key" => TeamName,
            "teams_org_id_fkey" => TeamOrg,
            "team_members_team_fkey" => TeamMemberTeam,
            "team_members_user_fkey" => TeamMemberUser,
            "projects_org_slug_live_key" => ProjectSlug,
            "projects_team_fkey" => ProjectTeam,
            "projects_owner_fkey" => ProjectOwner,
            "idempotency_keys_pkey" => IdempotencyKey,
            "project_shares_project_fkey" => ShareProject,
            "project_shares_team_fkey" => ShareTeam,
            "usage_records_idempotency_key" => UsageIdempotencyKey,
            "usage_records_project_fkey" => UsageProject,
            "workspaces_project_fkey" => WorkspaceProject,
            "workspaces_user_fkey" => WorkspaceUser,
            _ => return None,
        };
        Some(match kind {
            DatabaseErrorKind::UniqueViolation => Violation::Unique(Some(constraint)),
            _ => Violation::ForeignKey(Some(constraint)),
        })
    }
}
