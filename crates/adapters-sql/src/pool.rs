//! The connection pool both backends hand out connections from.

use std::sync::Arc;

use bb8::{ManageConnection, Pool, PooledConnection};
use diesel_async::pooled_connection::PoolError;
use diesel_async::SimpleAsyncConnection;
use projects_ports::{PoolState, StoreError, WaitCounter};

use crate::errors::{db_error, pool_error};

/// Connections per pool unless configured: four per CPU (a request holds one while it waits on
/// the database, which is most of its life), at least 8 and at most 64.
pub fn default_pool_size() -> u32 {
    let cpus = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    u32::try_from(cpus * 4).unwrap_or(u32::MAX).clamp(8, 64)
}

/// A bb8 pool of diesel-async connections whose waiting callers are counted (for `/metrics`).
/// Generic over the manager rather than the connection: bb8 needs nothing more of it, where
/// diesel's bounds for "a pooled connection of some backend" would run to a page.
pub struct SqlPool<M: ManageConnection> {
    pool: Pool<M>,
    max_size: u32,
    waiting: Arc<WaitCounter>,
}

impl<M: ManageConnection> Clone for SqlPool<M> {
    fn clone(&self) -> Self {
        Self { pool: self.pool.clone(), max_size: self.max_size, waiting: self.waiting.clone() }
    }
}

impl<M> SqlPool<M>
where
    M: ManageConnection<Error = PoolError>,
    M::Connection: SimpleAsyncConnection + Send,
{
    pub fn new(pool: Pool<M>, max_size: u32) -> Self {
        Self { pool, max_size, waiting: Arc::default() }
    }

    /// A connection; a pool exhausted for its timeout is `Unavailable` (a 503, on purpose).
    pub async fn get(&self) -> Result<PooledConnection<'_, M>, StoreError> {
        self.waiting.wait(self.pool.get()).await.map_err(pool_error)
    }

    /// Whether the database answers a trivial statement.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.get().await?.batch_execute("SELECT 1").await.map_err(db_error)
    }

    pub fn state(&self) -> PoolState {
        let state = self.pool.state();
        PoolState {
            idle: state.idle_connections,
            in_use: state.connections - state.idle_connections,
            max: self.max_size,
            waiting: self.waiting.current(),
        }
    }
}
