projects_adapters_sql::usage_store!(crate::SqliteStore, crate::errors::SqliteDialect);
