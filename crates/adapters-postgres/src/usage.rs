projects_adapters_sql::usage_store!(crate::PostgresStore, crate::errors::PgDialect);
