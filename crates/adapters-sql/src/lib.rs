//! The stores of the Projects service written once over diesel, for PostgreSQL and SQLite: one
//! schema ([`schema`]), column types that hide how each backend stores ids, instants and JSON
//! ([`types`]), and one set of rows converted straight to and from the domain's types
//! ([`rows`]). The backend crates keep only what truly differs: pools, migrations, pragmas,
//! dialect hooks and constraint names.

pub mod rows;
pub mod schema;
pub mod types;
