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
