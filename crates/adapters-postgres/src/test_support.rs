//! A fresh PostgreSQL database per test, cloned from a migrated template, dropped afterwards
//! (the crates.io way), so tests run in parallel without sharing state.
//!
//! The server comes from `DATABASE_URL` (`cargo xtask test` sets it, starting a throwaway cluster
//! when none is given). The template is made once per migration set, under an advisory lock, and
//! each clone is brought up to date by running pending migrations again, which is cheap.

use diesel::sql_types::{BigInt, Text};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use url::Url;

use crate::{run_migrations, PoolSettings, PostgresStore};

const TEMPLATE_LOCK_KEY: i64 = 0x7465_6d70_6c61_7465; // "template"
const TEMPLATE: &str = "projects_test_template";

/// A database that exists for as long as this value does.
pub struct TestDatabase {
    pub url: String,
    admin_url: String,
    name: String,
}

#[derive(QueryableByName)]
struct Exists {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    exists: bool,
}

fn admin_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| {
        panic!(
            "PostgreSQL tests need DATABASE_URL (a server where databases may be created); \
             `cargo xtask test` provides one"
        )
    })
}

fn with_database(admin_url: &str, name: &str) -> String {
    let mut url = Url::parse(admin_url).expect("DATABASE_URL is a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

impl TestDatabase {
    pub async fn create() -> Self {
        let admin_url = admin_url();
        let mut admin = AsyncPgConnection::establish(&admin_url).await.expect("connect to DATABASE_URL");
        ensure_template(&mut admin, &admin_url).await;
        let name = format!("projects_test_{}", uuid::Uuid::new_v4().simple());
        clone_template(&mut admin, &name).await;
        let url = with_database(&admin_url, &name);
        run_migrations(&url).await.expect("migrate the test database");
        Self { url, admin_url, name }
    }

    pub async fn store(&self) -> PostgresStore {
        PostgresStore::connect(&self.url, &PoolSettings::default()).await.expect("pool")
    }
}

/// Cloning fails while anything is still connected to the template (such as the connection that
/// just migrated it, closing in the background), so it is retried briefly.
async fn clone_template(admin: &mut AsyncPgConnection, name: &str) {
    let statement = format!("CREATE DATABASE {name} TEMPLATE {TEMPLATE}");
    for attempt in 1.. {
        match admin.batch_execute(&statement).await {
            Ok(()) => return,
            Err(_) if attempt < 50 => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(err) => panic!("clone the template database: {err}"),
        }
    }
}

async fn ensure_template(admin: &mut AsyncPgConnection, admin_url: &str) {
    diesel::sql_query("SELECT pg_advisory_lock($1)")
        .bind::<BigInt, _>(TEMPLATE_LOCK_KEY)
        .execute(admin)
        .await
        .expect("template lock");
    let found: Exists = diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists")
        .bind::<Text, _>(TEMPLATE)
        .get_result(admin)
        .await
        .expect("look for the template");
    if !found.exists {
        admin.batch_execute(&format!("CREATE DATABASE {TEMPLATE}")).await.expect("create template");
    }
    // Pending migrations only: a template kept from an earlier run gets the ones added since.
    run_migrations(&with_database(admin_url, TEMPLATE)).await.expect("migrate template");
    diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<BigInt, _>(TEMPLATE_LOCK_KEY)
        .execute(admin)
        .await
        .expect("template unlock");
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs outside any async context we could borrow; a short-lived runtime of its own
        // on a plain thread does the cleanup.
        let dropped = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?.block_on(async {
                let mut admin = AsyncPgConnection::establish(&admin_url).await.ok()?;
                admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("warning: could not drop test database {}", self.name);
        }
    }
}

/// Inserts `count` projects owned by `owner_id` in one statement, for benchmarks: every other one
/// shared with the whole org, one millisecond apart, ids that sort with their time.
pub async fn seed_projects(url: &str, org_id: uuid::Uuid, owner_id: uuid::Uuid, count: i64) -> anyhow::Result<()> {
    let mut conn = AsyncPgConnection::establish(url).await?;
    diesel::sql_query(
        "INSERT INTO projects (id, org_id, team_id, owner_user_id, name, slug, visibility, status, tags, metadata, \
                               created_at, updated_at, version) \
         SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, $1, NULL, $2, 'bench ' || i, \
                'bench-' || i, CASE WHEN i % 2 = 0 THEN 'shared' ELSE 'private' END, 'active', '[]', '{}', \
                now() - interval '1 day' + i * interval '1 millisecond', \
                now() - interval '1 day' + i * interval '1 millisecond', 1 \
         FROM generate_series(1, $3) AS i",
    )
    .bind::<diesel::sql_types::Uuid, _>(org_id)
    .bind::<diesel::sql_types::Uuid, _>(owner_id)
    .bind::<BigInt, _>(count)
    .execute(&mut conn)
    .await?;
    conn.batch_execute("ANALYZE projects").await?;
    Ok(())
}

/// Runs `sql` as it is on the database at `url` (for tests that set up what no endpoint writes,
/// such as rows left by an earlier version of the service).
pub async fn execute(url: &str, sql: &str) -> anyhow::Result<()> {
    let mut conn = AsyncPgConnection::establish(url).await?;
    conn.batch_execute(sql).await?;
    Ok(())
}

/// The size of the database at `url`, in bytes.
pub async fn database_bytes(url: &str) -> anyhow::Result<u64> {
    #[derive(QueryableByName)]
    struct Size {
        #[diesel(sql_type = BigInt)]
        bytes: i64,
    }
    let mut conn = AsyncPgConnection::establish(url).await?;
    let size: Size =
        diesel::sql_query("SELECT pg_database_size(current_database()) AS bytes").get_result(&mut conn).await?;
    Ok(u64::try_from(size.bytes).unwrap_or_default())
}

/// Puts `entries` files, 100 to a directory (`/dirNNNNN/fileNNN.rs`), all with blob `sha256`,
/// into a workspace never written to as its first revision `seed`, in a few statements (for
/// benchmarks).
pub async fn seed_tree(url: &str, workspace_ref: &str, sha256: &str, size: u64, entries: u64) -> anyhow::Result<()> {
    let dirs = entries.div_ceil(100);
    let sql = format!(
        "BEGIN;
         INSERT INTO workspace_revisions (workspace_ref, seq, revision, base_revision, author_user_id, message,
             files_changed, file_count, dir_count, total_bytes, created_at)
         VALUES ('{workspace_ref}', 1, 'seed', NULL, NULL, 'seeded', {entries}, {entries}, 0, {entries} * {size}, now());
         INSERT INTO workspace_entries
         SELECT '{workspace_ref}', '/dir' || lpad(d::text, 5, '0'), '/', 'dir' || lpad(d::text, 5, '0'), 'dir', true, true,
                0, 0, NULL, NULL, NULL, 1, NULL
         FROM generate_series(0, {dirs} - 1) AS d;
         INSERT INTO workspace_entries
         SELECT '{workspace_ref}', '/dir' || lpad((i / 100)::text, 5, '0') || '/file' || lpad((i % 100)::text, 3, '0') || '.rs',
                '/dir' || lpad((i / 100)::text, 5, '0'), 'file' || lpad((i % 100)::text, 3, '0') || '.rs', 'file', false, false,
                {size}, 1710000000000, '{sha256}', 420, NULL, 1, NULL
         FROM generate_series(0, {entries} - 1) AS i;
         UPDATE workspaces SET head_seq = 1, head_revision = 'seed' WHERE workspace_ref = '{workspace_ref}';
         COMMIT;"
    );
    let mut conn = AsyncPgConnection::establish(url).await?;
    conn.batch_execute(&sql).await?;
    // Vacuumed and analyzed, as a tree grown over time would be (and so that autovacuum does
    // not start on the fresh million rows while the benchmark runs).
    conn.batch_execute("VACUUM ANALYZE workspace_entries").await?;
    Ok(())
}
