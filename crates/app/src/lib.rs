//! Use cases of the Projects service, written against the ports only. Both HTTP surfaces call
//! these; they differ in wire shape, never in behaviour.

mod auth;
mod bootstrap;
mod error;
mod members;
mod principal;
mod projects;
mod teams;

use std::sync::Arc;

use projects_ports::{Clock, IdentityStore, Ids, ProjectStore};

use auth::KeyUsage;
pub use auth::{hash_api_key, JwtKeys};
pub use bootstrap::Bootstrapped;
pub use error::{AppError, AuthFailure, Resource};
pub use principal::Principal;

/// Everything the use cases need, injected once at start.
#[derive(Clone)]
pub struct App {
    projects: Arc<dyn ProjectStore>,
    identity: Arc<dyn IdentityStore>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn Ids>,
    jwt: Option<Arc<JwtKeys>>,
    key_usage: Arc<KeyUsage>,
}

impl App {
    pub fn new(
        projects: Arc<dyn ProjectStore>,
        identity: Arc<dyn IdentityStore>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn Ids>,
    ) -> Self {
        Self {
            projects,
            identity,
            clock,
            ids,
            jwt: None,
            key_usage: Arc::default(),
        }
    }

    /// Accepts (and can mint) HS256 JWT bearer tokens signed with `keys`.
    pub fn with_jwt(mut self, keys: JwtKeys) -> Self {
        self.jwt = Some(Arc::new(keys));
        self
    }
}

/// A display name (of a key, a team): 1–100 characters, trimmed.
pub(crate) fn short_name(
    field: &'static str,
    raw: &str,
) -> Result<String, projects_domain::FieldError> {
    let name = raw.trim();
    match name.chars().count() {
        0 => Err(projects_domain::FieldError::new(field, "must not be empty")),
        1..=100 => Ok(name.to_owned()),
        _ => Err(projects_domain::FieldError::new(
            field,
            "must be at most 100 characters",
        )),
    }
}
