use diesel::result::{DatabaseErrorKind, Error as DbError};
use diesel_async::pooled_connection::bb8::RunError;
use projects_ports::StoreError;

pub(crate) fn pool_error(err: RunError) -> StoreError {
    StoreError::Unavailable(anyhow::anyhow!("no database connection available: {err}"))
}

pub(crate) fn db_error(err: DbError) -> StoreError {
    match err {
        DbError::DatabaseError(DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand, _)
        | DbError::BrokenTransactionManager => StoreError::Unavailable(err.into()),
        other => StoreError::Unexpected(other.into()),
    }
}

/// The name of the constraint a unique or foreign-key violation broke, if that is what `err` is.
pub(crate) fn violated_constraint(err: &DbError) -> Option<(DatabaseErrorKind, &str)> {
    match err {
        DbError::DatabaseError(
            kind @ (DatabaseErrorKind::UniqueViolation | DatabaseErrorKind::ForeignKeyViolation),
            info,
        ) => Some((*kind, info.constraint_name().unwrap_or_default())),
        _ => None,
    }
}

/// Turns the violation of a known constraint into the store error a caller can act on; anything
/// else goes through [`db_error`].
pub(crate) fn constraint_error(err: DbError, known: &[(&str, &'static str)]) -> StoreError {
    if let Some((kind, constraint)) = violated_constraint(&err) {
        if let Some((_, field)) = known.iter().find(|(name, _)| *name == constraint) {
            return match kind {
                DatabaseErrorKind::UniqueViolation => StoreError::Conflict { field },
                _ => StoreError::MissingReference { field },
            };
        }
    }
    db_error(err)
}
