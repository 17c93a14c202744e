//! The stores of the Projects service written once over diesel, for PostgreSQL and SQLite: one
//! schema ([`schema`]), column types that hide how each backend stores ids, instants and JSON
//! ([`types`]), and one set of rows converted straight to and from the domain's types
//! ([`rows`]). The backend crates keep only what truly differs: pools, migrations, pragmas,
//! dialect hooks and constraint names.

pub mod errors;
mod identity;
pub mod pool;
mod projects;
pub mod rows;
pub mod schema;
pub mod types;
mod usage;
mod workspaces;

// What the store macros expand to refers to these through `$crate`, so that a backend crate needs
// no dependency of its own on them.
pub use {async_trait, diesel, diesel_async};
