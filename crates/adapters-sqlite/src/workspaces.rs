projects_adapters_sql::workspace_store!(crate::SqliteStore, crate::errors::SqliteDialect);
