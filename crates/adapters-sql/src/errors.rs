//! Store errors from diesel's, once for both backends: each backend says which of the
//! [`Constraint`]s a failed statement broke (PostgreSQL by constraint name, SQLite by the columns
//! in its message), and the query that ran it says what that means to the caller.

use diesel::result::{DatabaseErrorKind, Error as DbError};
use projects_ports::StoreError;

/// The constraints whose violation a caller can act on, named once for both schemas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Constraint {
    OrgName,
    UserEmail,
    UserOrg,
    ApiKeyHash,
    ApiKeyUser,
    TeamName,
    TeamOrg,
    TeamMemberTeam,
    TeamMemberUser,
    ProjectSlug,
    ProjectTeam,
    ProjectOwner,
    IdempotencyKey,
    ShareProject,
    ShareTeam,
    UsageIdempotencyKey,
    UsageProject,
    WorkspaceProject,
    WorkspaceUser,
}

/// What a backend can tell of a broken constraint. SQLite does not say which foreign key failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Violation {
    Unique(Option<Constraint>),
    ForeignKey(Option<Constraint>),
}

/// A backend's way of naming what a failed statement broke.
pub trait Dialect {
    fn violation(err: &DbError) -> Option<Violation>;

    /// A statement that tells other nodes, when the transaction it runs in commits, that the
    /// identities of the org bound as its one text parameter changed; `None` when the backend
    /// serves one process only.
    const IDENTITY_CHANGED: Option<&'static str> = None;
}

pub fn pool_error(err: diesel_async::pooled_connection::bb8::RunError) -> StoreError {
    StoreError::Unavailable(anyhow::anyhow!("no database connection available: {err}"))
}

pub fn db_error(err: DbError) -> StoreError {
    match err {
        DbError::DatabaseError(DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand, _)
        | DbError::BrokenTransactionManager => StoreError::Unavailable(err.into()),
        other => StoreError::Unexpected(other.into()),
    }
}

/// The violation of a known constraint as the store error a caller can act on (`known` maps
/// constraints to the field they are about; a foreign key the backend cannot name is about
/// `foreign_key`); anything else goes through [`db_error`].
pub fn constraint_error<D: Dialect>(
    err: DbError,
    known: &[(Constraint, &'static str)],
    foreign_key: &'static str,
) -> StoreError {
    let field = |constraint: Constraint| known.iter().find(|(c, _)| *c == constraint).map(|(_, field)| *field);
    match D::violation(&err) {
        Some(Violation::Unique(Some(constraint))) => match field(constraint) {
            Some(field) => StoreError::Conflict { field },
            None => db_error(err),
        },
        Some(Violation::ForeignKey(constraint)) => {
            StoreError::MissingReference { field: constraint.and_then(field).unwrap_or(foreign_key) }
        }
        _ => db_error(err),
    }
}
