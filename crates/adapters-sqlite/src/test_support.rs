//! A fresh SQLite database file per test, in a temporary directory removed afterwards.

use tempfile::TempDir;

use crate::SqliteStore;

pub struct TestDatabase {
    pub dir: TempDir,
}

impl TestDatabase {
    pub fn create() -> Self {
        Self { dir: tempfile::tempdir().expect("temporary directory") }
    }

    pub async fn store(&self) -> SqliteStore {
        SqliteStore::open(&self.dir.path().join("projects.db")).await.expect("open SQLite store")
    }
}

/// Inserts `count` projects owned by `owner_id` in one statement, for benchmarks: every other one
/// shared with the whole org, one millisecond apart, ids that sort with their time.
pub async fn seed_projects(
    path: &std::path::Path,
    org_id: uuid::Uuid,
    owner_id: uuid::Uuid,
    count: i64,
) -> anyhow::Result<()> {
    use diesel::sql_types::{BigInt, Text};
    use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
    let store = SqliteStore::open(path).await?;
    let mut conn = store.conn().await?;
    let start = projects_adapters_sql::types::micros(time::OffsetDateTime::now_utc() - time::Duration::days(1));
    diesel::sql_query(
        "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?) \
         INSERT INTO projects (id, org_id, team_id, owner_user_id, name, slug, visibility, status, tags, metadata, \
                               created_at, updated_at, version) \
         SELECT printf('00000000-0000-7000-8000-%012x', i), ?, NULL, ?, 'bench ' || i, 'bench-' || i, \
                CASE WHEN i % 2 = 0 THEN 'shared' ELSE 'private' END, 'active', '[]', '{}', ? + i * 1000, ? + i * 1000, 1 \
         FROM seq",
    )
    .bind::<BigInt, _>(count)
    .bind::<Text, _>(org_id.hyphenated().to_string())
    .bind::<Text, _>(owner_id.hyphenated().to_string())
    .bind::<BigInt, _>(start)
    .bind::<BigInt, _>(start)
    .execute(&mut conn)
    .await?;
    conn.batch_execute("ANALYZE").await?;
    Ok(())
}

/// Runs `sql` as it is on the database file at `path` (for tests that set up what no endpoint
/// writes, such as rows left by an earlier version of the service).
pub async fn execute(path: &std::path::Path, sql: &str) -> anyhow::Result<()> {
    use diesel_async::SimpleAsyncConnection;
    let store = SqliteStore::open(path).await?;
    let mut conn = store.conn().await?;
    conn.batch_execute(sql).await?;
    Ok(())
}

/// Puts `entries` files, 100 to a directory (`/dirNNNNN/fileNNN.rs`), all with blob `sha256`,
/// into a workspace never written to as its first revision `seed`, in a few statements (for
/// benchmarks).
pub async fn seed_tree(
    path: &std::path::Path,
    workspace_ref: &str,
    sha256: &str,
    size: u64,
    entries: u64,
) -> anyhow::Result<()> {
    let dirs = entries.div_ceil(100);
    let now = projects_adapters_sql::types::micros(time::OffsetDateTime::now_utc());
    let sql = format!(
        "BEGIN;
         INSERT INTO workspace_revisions (workspace_ref, seq, revision, base_revision, author_user_id, message,
             files_changed, file_count, dir_count, total_bytes, created_at)
         VALUES ('{workspace_ref}', 1, 'seed', NULL, NULL, 'seeded', {entries}, {entries}, 0, {entries} * {size}, {now});
         WITH RECURSIVE seq(d) AS (SELECT 0 UNION ALL SELECT d + 1 FROM seq WHERE d + 1 < {dirs})
         INSERT INTO workspace_entries
         SELECT '{workspace_ref}', printf('/dir%05d', d), '/', printf('dir%05d', d), 'dir', 1, 1, 0, 0, NULL, NULL, NULL, 1, NULL
         FROM seq;
         WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < {entries})
         INSERT INTO workspace_entries
         SELECT '{workspace_ref}', printf('/dir%05d/file%03d.rs', i / 100, i % 100), printf('/dir%05d', i / 100),
                printf('file%03d.rs', i % 100), 'file', 0, 0, {size}, 1710000000000, '{sha256}', 420, NULL, 1, NULL
         FROM seq;
         UPDATE workspaces SET head_seq = 1, head_revision = 'seed' WHERE workspace_ref = '{workspace_ref}';
         COMMIT;
         ANALYZE;
         PRAGMA wal_checkpoint(TRUNCATE);"
    );
    // Checkpointed, as a tree grown over time would be: not a 600 MB write-ahead log.
    execute(path, &sql).await
}
