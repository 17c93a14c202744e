//! SQLite's dialect of constraint errors.

use diesel::result::{DatabaseErrorKind, Error as DbError};

/// SQLite names the columns of a broken unique constraint (`UNIQUE constraint failed: orgs.name`)
/// but not which foreign key failed.
pub(crate) struct SqliteDialect;

impl projects_adapters_sql::errors::Dialect for SqliteDialect {
    fn violation(err: &DbError) -> Option<projects_adapters_sql::errors::Violation> {
        use projects_adapters_sql::errors::{Constraint::*, Violation};
        match err {
            DbError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                let columns = info.message().trim_start_matches("UNIQUE constraint failed: ");
                Some(Violation::Unique(match columns {
                    "orgs.name" => Some(OrgName),
                    "users.org_id, users.email" => Some(UserEmail),
                    "api_keys.key_sha256" => Some(ApiKeyHash),
                    "teams.org_id, teams.name" => Some(TeamName),
                    "projects.org_id, projects.slug" => Some(ProjectSlug),
                    "idempotency_keys.org_id, idempotency_keys.scope, idempotency_keys.key" => Some(IdempotencyKey),
                    "usage_records.org_id, usage_records.project_id, usage_records.idempotency_key" => {
                        Some(UsageIdempotencyKey)
                    }
                    _ => None,
                }))
            }
            DbError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => Some(Violation::ForeignKey(None)),
            _ => None,
        }
    }
}
