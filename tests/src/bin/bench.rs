//! `cargo xtask bench`, over HTTP so the whole stack is measured:
//! - projects: list latency in a 100,000-project org, first page against a page deep in the list,
//!   for the owner (sees everything) and a member (visibility filtered in SQL), on SQLite and
//!   (with `DATABASE_URL`) PostgreSQL;
//! - workspace: directory listings in a 100,000-entry workspace (first, uncached, then cached);
//! - streaming: the process's resident memory while a 1 GiB file is written and read back.
//!
//! `BENCH_ONLY=projects|workspace|streaming` runs one part; `BENCH_PROJECTS`, `BENCH_ENTRIES` and
//! `BENCH_STREAM_MIB` change the sizes.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use projects_blackbox_tests::{Backend, TestServer};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::Digest;

const SAMPLES: usize = 30;

/// The median time of `SAMPLES` successful GETs; `check` looks at each JSON answer.
async fn median_with(server: &TestServer, path: &str, key: &str, check: impl Fn(&Value)) -> Duration {
    let mut times = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let started = Instant::now();
        let response = server.get(path, key).await;
        assert!(response.status().is_success(), "{path}: {}", response.status());
        let body: Value = response.json().await.expect("JSON");
        times.push(started.elapsed());
        check(&body);
    }
    times.sort();
    times[SAMPLES / 2]
}

async fn median(server: &TestServer, path: &str, key: &str) -> Duration {
    median_with(server, path, key, |page| {
        assert_eq!(page.as_array().map(Vec::len), Some(50), "{path} returns a full page");
    })
    .await
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

async fn new_project(server: &TestServer, name: &str) -> String {
    let response = server.post_json("/v1/projects", &server.owner_key, json!({ "name": name })).await;
    assert_eq!(response.status(), 201);
    let project: Value = response.json().await.expect("JSON");
    project["id"].as_str().expect("id").to_owned()
}

/// A snapshot of `entries` files in 100-file directories, all with one blob, then listings.
async fn bench_workspace_listing(entries: usize) {
    let server = TestServer::start(Backend::Sqlite).await;
    let key = server.owner_key.clone();
    let id = new_project(&server, "Big tree").await;
    let content: &'static [u8] = b"fn main() {}\n";
    let sha = hex::encode(sha2::Sha256::digest(content));
    let blob = format!("/v1/projects/{id}/workspace/blobs/{sha}");
    let uploaded = server.request(Method::PUT, &blob, Some(&key)).body(content).send().await.expect("upload");
    assert_eq!(uploaded.status(), 201);
    let files: Vec<Value> = (0..entries)
        .map(|i| {
            let path = format!("/dir{:04}/file{:03}.rs", i / 100, i % 100);
            json!({"path": path, "type": "file", "size": content.len(), "mtime_unix_ms": 1_710_000_000_000i64, "sha256": sha})
        })
        .collect();
    let publishing = Instant::now();
    let published =
        server.post_json(&format!("/v1/projects/{id}/workspace/snapshots"), &key, json!({ "entries": files })).await;
    assert_eq!(published.status(), 201, "{}", published.text().await.unwrap_or_default());
    let published_in = publishing.elapsed();

    let files_of = |dir: &str| format!("/v1/projects/{id}/workspace/files?path={dir}");
    let first = Instant::now();
    let root: Value = server.get(&files_of("/"), &key).await.json().await.expect("JSON");
    let first = first.elapsed();
    let dirs = entries.div_ceil(100);
    assert_eq!(root["items"].as_array().map(Vec::len), Some(dirs));
    let root_cached = median_with(&server, &files_of("/"), &key, |listing| {
        assert_eq!(listing["items"].as_array().map(Vec::len), Some(dirs));
    })
    .await;
    let middle = format!("/dir{:04}", dirs / 2);
    let dir_cached = median_with(&server, &files_of(&middle), &key, |listing| {
        assert_eq!(listing["items"].as_array().map(Vec::len), Some(100));
    })
    .await;
    println!("Workspace of {entries} entries (snapshot published in {published_in:.1?})");
    println!("  first listing of / after the publish         {first:>9.2?}");
    println!("  listing / ({dirs} dirs), cached               {root_cached:>9.2?}   (median of {SAMPLES})");
    println!("  listing {middle} (100 files), cached         {dir_cached:>9.2?}   (median of {SAMPLES})");
}

fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The highest resident size seen while `work` runs, sampled every 10 ms.
async fn peak_resident_during<T>(work: impl std::future::Future<Output = T>) -> (T, u64) {
    let peak = Arc::new(AtomicU64::new(resident_kib()));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = tokio::spawn({
        let (peak, done) = (peak.clone(), done.clone());
        async move {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(resident_kib(), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    });
    let output = work.await;
    done.store(true, Ordering::Relaxed);
    sampler.await.expect("sampler");
    (output, peak.load(Ordering::Relaxed))
}

/// Writes and reads back a `mib` MiB file on the embedded default (files on disk), watching the
/// resident memory of this process, which holds the server and the client.
async fn bench_streaming(mib: u64) {
    let server = TestServer::start_with(Backend::Sqlite, |config| config.blobs.blob_store_url = None).await;
    let key = server.owner_key.clone();
    let id = new_project(&server, "Large file").await;
    let file = format!("/v1/projects/{id}/workspace/file?path=/large.bin");
    let before = resident_kib();
    let chunk = bytes::Bytes::from(vec![b'x'; 64 * 1024]);
    let chunks = futures::stream::iter((0..mib * 16).map(move |_| Ok::<_, std::io::Error>(chunk.clone())));
    let started = Instant::now();
    let (written, write_peak) = peak_resident_during(async {
        let body = reqwest::Body::wrap_stream(chunks);
        server.request(Method::PUT, &file, Some(&key)).body(body).send().await.expect("upload")
    })
    .await;
    let write_time = started.elapsed();
    assert_eq!(written.status(), 201, "{}", written.text().await.unwrap_or_default());
    let started = Instant::now();
    let (read, read_peak) = peak_resident_during(async {
        let response = server.get(&file, &key).await;
        assert_eq!(response.status(), 200);
        let mut stream = response.bytes_stream();
        let mut total = 0u64;
        while let Some(piece) = stream.next().await {
            total += piece.expect("body").len() as u64;
        }
        total
    })
    .await;
    let read_time = started.elapsed();
    assert_eq!(read, mib * 1024 * 1024);
    let mib_per_s = |time: Duration| mib as f64 / time.as_secs_f64();
    println!("Streaming a {mib} MiB file (server and client in this process, files on disk)");
    println!("  resident before                      {:>7} MiB", before / 1024);
    println!("  peak while writing  {:>7} MiB   ({:.0} MiB/s)", write_peak / 1024, mib_per_s(write_time));
    println!("  peak while reading  {:>7} MiB   ({:.0} MiB/s)", read_peak / 1024, mib_per_s(read_time));
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let setting = |name: &str, default: u64| std::env::var(name).ok().and_then(|n| n.parse().ok()).unwrap_or(default);
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let runs = |part: &str| only.is_empty() || only == part;
    if runs("streaming") {
        bench_streaming(setting("BENCH_STREAM_MIB", 1024)).await;
    }
    if runs("workspace") {
        bench_workspace_listing(setting("BENCH_ENTRIES", 100_000) as usize).await;
    }
    if runs("projects") {
        let count = setting("BENCH_PROJECTS", 100_000) as i64;
        bench(Backend::Sqlite, count).await;
        if std::env::var("DATABASE_URL").is_ok() {
            bench(Backend::Postgres, count).await;
        } else {
            println!("PostgreSQL: skipped (no DATABASE_URL; `cargo xtask bench` provides one)");
        }
    }
}
