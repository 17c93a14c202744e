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
