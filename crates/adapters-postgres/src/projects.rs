projects_adapters_sql::project_store!(
    crate::PostgresStore,
    crate::errors::PgDialect,
    diesel::pg::Pg,
    diesel_async::AsyncPgConnection,
    transaction,
    like = ilike,
    tag = ("projects.tags @> jsonb_build_array(", "::text)"),
    // A restore racing the purge waits for it rather than reviving a project half removed.
    lock = { .for_update() },
);
