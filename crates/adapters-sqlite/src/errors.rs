use diesel::result::{DatabaseErrorKind, Error as DbError};
use diesel_async::pooled_connection::bb8::RunError;
use projects_ports::StoreError;

pub(crate) fn pool_error(err: RunError) -> StoreError {
    StoreError::Unavailable(anyhow::anyhow!("no database connection available: {err}"))
}

pub(crate) fn db_error(err: DbError) -> StoreError {
    match err {
        DbError::DatabaseError(DatabaseErrorKind::UnableToSendCommand | DatabaseErrorKind::ClosedConnection, _)
        | DbError::BrokenTransactionManager => StoreError::Unavailable(err.into()),
        other => StoreError::Unexpected(other.into()),
    }
}

/// SQLite names the columns of a broken unique constraint in its message (`UNIQUE constraint
/// failed: orgs.name`) but not which foreign key failed; `unique` maps column lists to fields and
/// `foreign_key` names the field any foreign-key failure of this statement is about.
pub(crate) fn constraint_error(err: DbError, unique: &[(&str, &'static str)], foreign_key: &'static str) -> StoreError {
    match &err {
        DbError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            let columns = info.message().trim_start_matches("UNIQUE constraint failed: ");
            match unique.iter().find(|(c, _)| *c == columns) {
                Some((_, field)) => StoreError::Conflict { field },
                None => db_error(err),
            }
        }
        DbError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
            StoreError::MissingReference { field: foreign_key }
        }
        _ => db_error(err),
    }
}

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
