projects_adapters_sql::identity_store!(
    crate::SqliteStore,
    crate::errors::SqliteDialect,
    diesel::sqlite::Sqlite,
    crate::Connection,
    immediate_transaction
);
