//! The store contract of `projects-ports`, run against PostgreSQL.

use std::sync::Arc;

use projects_adapters_postgres::test_support::TestDatabase;
use projects_ports::contract::Stores;

async fn stores() -> Stores {
    let database = TestDatabase::create().await;
    let store = Arc::new(database.store().await);
    Stores {
        projects: store.clone(),
        identity: store.clone(),
        usage: store.clone(),
        workspaces: store,
        guard: Box::new(database),
    }
}

projects_ports::store_contract_tests!(stores);
