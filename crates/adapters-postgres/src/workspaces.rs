projects_adapters_sql::workspace_store!(crate::PostgresStore, crate::errors::PgDialect);
