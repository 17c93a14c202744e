//! PostgreSQL stores of the Projects service: diesel + diesel-async over tokio-postgres, pooled
//! with bb8. Migrations are embedded and run under an advisory lock.

mod errors;
mod identity_feed;
mod migrate;
#[cfg(feature = "test-support")]
pub mod test_support;

use std::time::Duration;

use diesel_async::pooled_connection::bb8::Pool;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};

pub use identity_feed::{follow_identity_changes, FeedSettings};
pub use migrate::run_migrations;

/// How the connection pool behaves. Exhaustion is a 503, on purpose: a request waits at most
/// `connection_timeout` for a connection.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Connections at most (`DB_POOL_SIZE`; by default from the CPU count, see
    /// [`projects_adapters_sql::pool::default_pool_size`]).
    pub max_size: u32,
    pub connection_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_lifetime: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_size: projects_adapters_sql::pool::default_pool_size(),
            connection_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(600),
            max_lifetime: Duration::from_secs(1800),
        }
    }
}

/// The project and identity stores over one PostgreSQL pool.
#[derive(Clone)]
pub struct PostgresStore {
    pool: projects_adapters_sql::pool::SqlPool<AsyncDieselConnectionManager<AsyncPgConnection>>,
}

type SetupFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = diesel::ConnectionResult<AsyncPgConnection>> + Send + 'a>>;

fn setup_connection(url: &str) -> SetupFuture<'_> {
    Box::pin(async move {
        let mut conn = AsyncPgConnection::establish(url).await?;
        // A runaway query must not hold a pooled connection forever.
        conn.batch_execute("SET application_name = 'projects-server'; SET statement_timeout = '30s'")
            .await
            .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
        Ok(conn)
    })
}

impl PostgresStore {
    /// Builds the pool. No connection is made until the first query.
    pub async fn connect(url: &str, settings: &PoolSettings) -> anyhow::Result<Self> {
        let mut config = ManagerConfig::<AsyncPgConnection>::default();
        config.custom_setup = Box::new(setup_connection);
        let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
        let max_size = settings.max_size.max(2);
        let pool = Pool::builder()
            .max_size(max_size)
            // No `SELECT 1` before each use (a round trip per checkout): a connection that broke
            // fails its query, is marked broken and is dropped, and `max_lifetime` renews the rest.
            .test_on_check_out(false)
            .connection_timeout(settings.connection_timeout)
            .idle_timeout(Some(settings.idle_timeout))
            .max_lifetime(Some(settings.max_lifetime))
            .build(manager)
            .await?;
        Ok(Self { pool: projects_adapters_sql::pool::SqlPool::new(pool, max_size) })
    }
}

// PostgreSQL: plain transactions, ILIKE, jsonb containment; a purge locks the rows it removes, so a
// racing restore waits for it rather than reviving a project half removed; the blob collector
// claims rows with SKIP LOCKED, so it never waits on (or deadlocks with) a commit touching them.
projects_adapters_sql::sql_stores!(PostgresStore, errors::PgDialect, diesel::pg::Pg, diesel_async::AsyncPgConnection, transaction,
    like = ilike, tag = ("projects.tags @> jsonb_build_array(", "::text)"), lock = { .for_update() },
    claim = { .for_update().skip_locked() }, insert_entries = insert_entries);

/// Tree rows go in multi-row statements.
async fn insert_entries(
    conn: &mut diesel_async::AsyncPgConnection,
    rows: Vec<projects_adapters_sql::rows::EntryRow>,
) -> diesel::QueryResult<()> {
    use diesel_async::RunQueryDsl;
    for chunk in rows.chunks(projects_adapters_sql::workspaces::ROWS_PER_STATEMENT) {
        diesel::insert_into(projects_adapters_sql::schema::workspace_entries::table)
            .values(chunk)
            .execute(conn)
            .await?;
    }
    Ok(())
}
