//! `cargo xtask bench`: list latency in a 100,000-project org, first page against a page deep in
//! the list, for the owner (sees everything) and a member (visibility filtered in SQL), on SQLite
//! and (with `DATABASE_URL`) PostgreSQL. Over HTTP, so the whole stack is measured.

use std::time::{Duration, Instant};

use projects_blackbox_tests::{Backend, TestServer};
use serde_json::Value;

const SAMPLES: usize = 30;

async fn median(server: &TestServer, path: &str, key: &str) -> Duration {
    let mut times = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let started = Instant::now();
        let response = server.get(path, key).await;
        assert!(response.status().is_success(), "{path}: {}", response.status());
        let page: Value = response.json().await.expect("JSON");
        assert_eq!(page.as_array().map(Vec::len), Some(50), "{path} returns a full page");
        times.push(started.elapsed());
    }
    times.sort();
    times[SAMPLES / 2]
}

async fn bench(backend: Backend, count: i64) {
    let server = TestServer::start(backend).await;
    let owner = server.owner_key.clone();
    let me: Value = server.get("/v1/me", &owner).await.json().await.expect("JSON");
    let ids = |field: &str| uuid::Uuid::parse_str(me[field].as_str().unwrap()).unwrap();
    let seeding = Instant::now();
    server.seed_projects(ids("org_id"), ids("user_id"), count).await.expect("seed");
    let seeded = seeding.elapsed();
    let other = server.owner_key_of("default", "other@localhost").await;

    // A cursor half-way down the list: the page after the middle project.
    let mut deep_cursor = None;
    let probe = server.get("/v1/projects?limit=200", &owner).await;
    assert!(probe.status().is_success());
    let mut next = probe.headers().get("link").map(|l| l.to_str().unwrap().to_owned());
    for _ in 0..(count / 2 / 200) {
        let link = next.take().expect("more pages");
        let path = link.trim_start_matches('<').split('>').next().unwrap().to_owned();
        deep_cursor = path.split("cursor=").nth(1).map(str::to_owned);
        let response = server.get(&path, &owner).await;
        next = response.headers().get("link").map(|l| l.to_str().unwrap().to_owned());
    }
    let deep_cursor = deep_cursor.expect("a cursor in the middle");

    println!("{backend:?}: {count} projects (seeded in {seeded:.1?})");
    for (who, key) in [("their owner", &owner), ("another user", &other)] {
        let first = median(&server, "/v1/projects?limit=50", key).await;
        let deep = median(&server, &format!("/v1/projects?limit=50&cursor={deep_cursor}"), key).await;
        println!("  {who:<13} first page {first:>9.2?}   page at the middle {deep:>9.2?}   (median of {SAMPLES})");
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let count = std::env::var("BENCH_PROJECTS").ok().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    bench(Backend::Sqlite, count).await;
    if std::env::var("DATABASE_URL").is_ok() {
        bench(Backend::Postgres, count).await;
    } else {
        println!("PostgreSQL: skipped (no DATABASE_URL; `cargo xtask bench` provides one)");
    }
}
