projects_adapters_sql::identity_store!(
    crate::PostgresStore,
    crate::errors::PgDialect,
    diesel::pg::Pg,
    diesel_async::AsyncPgConnection,
    transaction
);
