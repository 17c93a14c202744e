projects_adapters_sql::project_store!(
    crate::SqliteStore,
    crate::errors::SqliteDialect,
    diesel::sqlite::Sqlite,
    crate::Connection,
    immediate_transaction,
    // SQLite's LIKE ignores ASCII case already.
    like = like,
    tag = ("EXISTS (SELECT 1 FROM json_each(projects.tags) WHERE json_each.value = ", ")"),
    // The immediate transaction holds SQLite's one write lock from its start.
    lock = {},
);
