//! The stores of the Projects service written once over diesel, for PostgreSQL and SQLite: one
//! schema ([`schema`]), column types that hide how each backend stores ids, instants and JSON
//! ([`types`]), and one set of rows converted straight to and from the domain's types
//! ([`rows`]). The backend crates keep only what truly differs: pools, migrations, pragmas,
//! dialect hooks and constraint names.

pub mod errors;
mod identity;
pub mod pool;
mod projects;
pub mod quota;
pub mod rows;
pub mod schema;
pub mod types;
mod usage;
pub mod workspaces;

// What the store macros expand to refers to these through `$crate`, so that a backend crate needs
// no dependency of its own on them.
pub use {async_trait, diesel, diesel_async, uuid};

/// Everything a backend crate's store is, from what differs: the four stores (see each macro),
/// `conn()` from its `pool` field (a [`pool::SqlPool`]), and readiness from that pool.
#[macro_export]
macro_rules! sql_stores {
    (
        $store:ty, $dialect:ty, $backend:ty, $conn:ty, $tx:ident,
        like = $like:ident, tag = ($tag_open:literal, $tag_close:literal), lock = { $($lock:tt)* },
        claim = { $($claim:tt)* }, insert_entries = $insert_entries:path $(,)?
    ) => {
        impl $store {
            async fn conn(
                &self,
            ) -> Result<$crate::diesel_async::pooled_connection::bb8::PooledConnection<'_, $conn>, projects_ports::StoreError>
            {
                self.pool.get().await
            }
        }

        #[$crate::async_trait::async_trait]
        impl projects_ports::Reachable for $store {
            async fn check_reachable(&self) -> Result<(), projects_ports::StoreError> {
                self.pool.ping().await
            }

            fn pool_state(&self) -> Option<projects_ports::PoolState> {
                Some(self.pool.state())
            }
        }

        $crate::identity_store!($store, $dialect, $backend, $conn, $tx);
        $crate::usage_store!($store, $dialect);
        $crate::workspace_store!($store, $dialect, $tx, claim = { $($claim)* }, insert_entries = $insert_entries);
        $crate::project_store!(
            $store, $dialect, $backend, $conn, $tx,
            like = $like, tag = ($tag_open, $tag_close), lock = { $($lock)* }
        );
    };
}

/// Narrows a boxed `$query` ordered by `($created, $id)` to the rows after `$page`'s cursor,
/// `newest_first` or `oldest_first`. The first bound alone lets an index range-scan from the
/// cursor, so a page deep in a list costs what the first one does.
#[doc(hidden)]
#[macro_export]
macro_rules! after_cursor {
    ($query:ident, $page:expr, $created:path, $id:path, newest_first) => {
        if let Some(after) = $page.after {
            let (at, id) = ($crate::types::ToDb::db(after.created_at), $crate::types::ToDb::db(after.id));
            $query = $query.filter($created.le(at)).filter($created.lt(at).or($created.eq(at).and($id.lt(id))));
        }
    };
    ($query:ident, $page:expr, $created:path, $id:path, oldest_first) => {
        if let Some(after) = $page.after {
            let (at, id) = ($crate::types::ToDb::db(after.created_at), $crate::types::ToDb::db(after.id));
            $query = $query.filter($created.ge(at)).filter($created.gt(at).or($created.eq(at).and($id.gt(id))));
        }
    };
}
