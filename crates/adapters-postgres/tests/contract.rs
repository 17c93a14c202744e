//! The store contract of `projects-ports`, run against PostgreSQL.

use projects_adapters_postgres::test_support::TestDatabase;
use projects_ports::contract::Stores;

async fn stores() -> Stores {
    let database = TestDatabase::create().await;
    Stores::of(database.store().await, database)
}

projects_ports::store_contract_tests!(stores);
