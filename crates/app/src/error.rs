use projects_domain::{FieldError, Permission, ValidationErrors};
use projects_ports::StoreError;
use thiserror::Error;

/// Why a caller could not be identified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// No `Authorization` header at all.
    MissingToken,
    /// An `Authorization` header that is not `Bearer <token>`.
    InvalidAuthorization,
    /// An API key that is malformed, unknown, revoked, or whose user left the org.
    InvalidApiKey,
    /// A bearer token that is not an API key and not a valid JWT.
    InvalidToken,
    /// A JWT past its `exp`.
    TokenExpired,
}

/// What can be looked up and not found. Missing, soft-deleted, other-org and invisible all read
/// the same, so that existence never leaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Project,
    Member,
    Team,
    ApiKey,
    WorkspaceFile,
    /// A file the tree lists whose content the blob store lacks (an integrity failure).
    WorkspaceFileContent,
    Session,
    /// A revision of a workspace (never made, or removed by retention).
    Revision,
}

/// Why a caller who holds the permission still may not do this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Granting, changing or removing the owner role.
    OwnerRoleNeedsOwner,
    /// A key for another person: keys act as their own user.
    KeyForAnotherPerson,
    /// A role above the caller's own.
    RoleAboveYours,
    /// A project in a team the caller is not in.
    NotInTeam,
    /// Setting a project's budget without being an org owner or admin.
    BudgetNeedsAdmin,
}

/// The one error type of the use cases.
#[derive(Debug, Error)]
pub enum AppError {
    #[error("not authenticated")]
    Unauthenticated(AuthFailure),
    #[error("missing permission {missing}")]
    Forbidden { missing: Permission },
    #[error("not allowed: {0:?}")]
    NotAllowed(Refusal),
    #[error("invalid request: {0}")]
    Invalid(ValidationErrors),
    #[error("{0:?} not found")]
    NotFound(Resource),
    #[error("{field} is already taken")]
    Conflict { resource: Resource, field: &'static str },
    /// `If-Match` named a version that is no longer current.
    #[error("the resource changed since it was read")]
    PreconditionFailed(Resource),
    /// A workspace path that is malformed or leaves the root.
    #[error("invalid path: {0}")]
    InvalidPath(String),
    /// A `Range` that lies outside the object.
    #[error("range not satisfiable")]
    RangeNotSatisfiable { size: u64 },
    #[error("body larger than {limit} bytes")]
    PayloadTooLarge { limit: u64 },
    /// The project's spend has reached its budget: no new sessions or workspace writes.
    #[error("the project's spend budget is used up")]
    BudgetExceeded,
    /// The write would take one of the org's quotas past its limit; nothing was written.
    #[error("{0}")]
    QuotaExceeded(projects_domain::QuotaExceeded),
    /// The client stopped sending the request body for longer than the server waits (408).
    #[error("the request body stalled")]
    BodyStalled,
    /// The client hung up before the request was read (499 in logs and metrics).
    #[error("the client closed the request")]
    ClientClosed,
    #[error("a backing service is unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<ValidationErrors> for AppError {
    fn from(errors: ValidationErrors) -> Self {
        AppError::Invalid(errors)
    }
}

impl From<FieldError> for AppError {
    fn from(error: FieldError) -> Self {
        AppError::Invalid(error.into())
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            // Projects are where uniqueness usually bites; use cases about other resources say so.
            StoreError::Conflict { field } => AppError::Conflict { resource: Resource::Project, field },
            StoreError::MissingReference { field } => {
                AppError::Invalid(ValidationErrors::single(field, "does not exist in this org"))
            }
            StoreError::QuotaExceeded(exceeded) => AppError::QuotaExceeded(exceeded),
            StoreError::Unavailable(cause) => AppError::Unavailable(cause),
            StoreError::Unexpected(cause) => AppError::Unexpected(cause),
        }
    }
}
