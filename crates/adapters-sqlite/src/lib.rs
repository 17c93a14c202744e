//! SQLite stores of the Projects service, the embedded default: diesel-async's
//! `SyncConnectionWrapper` over a bundled SQLite in WAL mode, pooled with bb8. Every query runs on
//! tokio's blocking pool, never on an HTTP worker.

mod errors;
#[cfg(feature = "test-support")]
pub mod test_support;

use std::path::Path;
use std::time::Duration;

use diesel::SqliteConnection;
use diesel_async::pooled_connection::bb8::Pool;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, SimpleAsyncConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub(crate) type Connection = SyncConnectionWrapper<SqliteConnection>;

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// Applied to every connection: wait for a busy writer instead of failing at once, WAL so that
/// readers never block the writer, and foreign keys (off by default in SQLite) to keep tenancy.
const PRAGMAS: [&str; 4] = [
    "PRAGMA busy_timeout = 5000;",
    "PRAGMA journal_mode = WAL;",
    "PRAGMA synchronous = NORMAL;",
    "PRAGMA foreign_keys = ON;",
];

type SetupFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = diesel::ConnectionResult<Connection>> + Send + 'a>>;

fn setup_connection(url: &str) -> SetupFuture<'_> {
    Box::pin(async move {
        let mut conn = Connection::establish(url).await?;
        for pragma in PRAGMAS {
            conn.batch_execute(pragma).await.map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
        }
        Ok(conn)
    })
}

/// The project and identity stores over one SQLite database file.
#[derive(Clone)]
pub struct SqliteStore {
    pool: projects_adapters_sql::pool::SqlPool<AsyncDieselConnectionManager<Connection>>,
}

impl SqliteStore {
    /// Opens (creating if need be) the database file at `path` and runs pending migrations.
    pub async fn open(path: &Path) -> anyhow::Result<Self> {
        Self::open_with_pool(path, projects_adapters_sql::pool::default_pool_size()).await
    }

    /// As [`SqliteStore::open`], with at most `max_size` connections (one writes at a time
    /// whatever the size; the others read).
    pub async fn open_with_pool(path: &Path, max_size: u32) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let url = path.to_str().ok_or_else(|| anyhow::anyhow!("database path is not UTF-8"))?.to_owned();
        let mut config = ManagerConfig::<Connection>::default();
        config.custom_setup = Box::new(setup_connection);
        let manager = AsyncDieselConnectionManager::<Connection>::new_with_config(url, config);
        let max_size = max_size.max(2);
        let pool = Pool::builder()
            .max_size(max_size)
            .test_on_check_out(false)
            .connection_timeout(Duration::from_secs(5))
            .build(manager)
            .await?;
        let store = Self { pool: projects_adapters_sql::pool::SqlPool::new(pool, max_size) };
        store.migrate().await?;
        Ok(store)
    }

    /// Runs pending migrations; returns how many were applied. SQLite's own write lock keeps
    /// several processes from applying the same migration twice.
    pub async fn migrate(&self) -> anyhow::Result<usize> {
        let mut conn = self.pool.get().await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let applied = conn
            .spawn_blocking(|conn| {
                conn.run_pending_migrations(MIGRATIONS)
                    .map(|versions| versions.len())
                    .map_err(diesel::result::Error::QueryBuilderError)
            })
            .await?;
        Ok(applied)
    }
}

// SQLite: immediate transactions (the one write lock from the start), LIKE (it ignores ASCII case
// already), json_each for tags; no row locks, the write transaction serializes.
projects_adapters_sql::sql_stores!(
    SqliteStore,
    errors::SqliteDialect,
    diesel::sqlite::Sqlite,
    crate::Connection,
    immediate_transaction,
    like = like,
    tag = ("EXISTS (SELECT 1 FROM json_each(projects.tags) WHERE json_each.value = ", ")"),
    lock = {},
    claim = {},
    insert_entries = insert_entries
);

/// Tree rows go in multi-row statements on the connection itself: diesel batches SQLite inserts
/// only on a synchronous connection.
async fn insert_entries(
    conn: &mut Connection,
    rows: Vec<projects_adapters_sql::rows::EntryRow>,
) -> diesel::QueryResult<()> {
    use diesel::RunQueryDsl;
    conn.spawn_blocking(move |conn| {
        for chunk in rows.chunks(projects_adapters_sql::workspaces::ROWS_PER_STATEMENT) {
            diesel::insert_into(projects_adapters_sql::schema::workspace_entries::table).values(chunk).execute(conn)?;
        }
        Ok(())
    })
    .await
}
