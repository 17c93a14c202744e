//! Use cases of the Projects service, written against the ports only. Both HTTP surfaces call
//! these; they differ in wire shape, never in behaviour.

mod auth;
mod bootstrap;
mod error;
mod members;
mod principal;
mod projects;

use std::sync::Arc;

use projects_ports::{Clock, IdentityStore, Ids, ProjectStore};

pub use auth::hash_api_key;
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
        }
    }
}
