use thiserror::Error;

/// What a store can report besides "not found" (which is an `Option`).
#[derive(Debug, Error)]
pub enum StoreError {
    /// A uniqueness rule was broken; `field` names the caller-facing field (e.g. `slug`).
    #[error("{field} is already taken")]
    Conflict { field: &'static str },
    /// A row refers to something that does not exist (e.g. an unknown team).
    #[error("{field} refers to something that does not exist")]
    MissingReference { field: &'static str },
    /// The write would take one of the org's quotas past its limit; nothing was written.
    #[error("{0}")]
    QuotaExceeded(projects_domain::QuotaExceeded),
    /// The backing service is down, or no connection could be had in time.
    #[error("store unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// Anything else: a bug or corrupt data. Logged, never shown to callers.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}
