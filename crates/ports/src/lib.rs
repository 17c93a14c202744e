//! Ports of the Projects service: what the core needs from the outside world, as async traits.
//!
//! Every store trait comes with one contract test suite (feature `contract-tests`, module
//! [`contract`]) that each adapter runs unchanged, so that SQLite and PostgreSQL behave alike.

mod blob;
mod clock;
mod error;
mod identity;
mod names;
mod projects;
mod usage;
mod workspaces;

#[cfg(feature = "contract-tests")]
pub mod contract;

pub use blob::{Blob, BlobStore, BodyStalled, ByteStream, StoredObject};
pub use clock::{Clock, Ids, RandomIds, SystemClock};
pub use error::StoreError;
pub use identity::{ApiKeyOwner, IdentityChanges, IdentityStore};
pub use names::{DerivedNames, NameGenerator};
pub use projects::{
    free_slug, IdempotencyClaim, IdempotentCreate, ProjectFilter, ProjectKey, ProjectPage, ProjectStore, PurgedProject,
    StoredProject,
};
pub use usage::{AuditPage, UsageRecorded, UsageStore};
pub use workspaces::{
    ChildPosition, CommitOutcome, DeleteBlobs, Revision, RevisionKey, Session, Workspace, WorkspaceStore,
};

/// One page of a list, and where the next one starts (`None` on the last page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<projects_domain::Cursor>,
}

/// Connections of a pool, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolState {
    pub idle: u32,
    pub in_use: u32,
    pub max: u32,
    /// Callers queued for a connection right now.
    pub waiting: u32,
}

/// Counts callers waiting for something (a pool's connection), cancellation included: a wait
/// that is dropped half-way stops counting too.
#[derive(Debug, Default)]
pub struct WaitCounter(std::sync::atomic::AtomicU32);

impl WaitCounter {
    pub async fn wait<F: std::future::Future>(&self, future: F) -> F::Output {
        struct Waiting<'a>(&'a std::sync::atomic::AtomicU32);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let _waiting = Waiting(&self.0);
        future.await
    }

    pub fn current(&self) -> u32 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Something the service depends on that may be unreachable: readiness asks each one.
#[async_trait::async_trait]
pub trait Reachable: Send + Sync {
    /// Ok when the backing service answers a trivial request.
    async fn check_reachable(&self) -> Result<(), StoreError>;

    /// Its connection pool, if it has one.
    fn pool_state(&self) -> Option<PoolState> {
        None
    }

    /// Failed requests to it since start ("not found" answers are not failures), if it counts them.
    fn errors_total(&self) -> Option<u64> {
        None
    }
}
