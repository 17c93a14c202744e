//! `cargo xtask bench`, over HTTP so the whole stack is measured:
//! - projects: list latency in a 100,000-project org, first page against a page deep in the list,
//!   for the owner (sees everything) and a member (visibility filtered in SQL), on SQLite and
//!   (with `DATABASE_URL`) PostgreSQL;
//! - workspace: the tree engine's goals on SQLite and PostgreSQL: a one-file PUT into 100,000- and
//!   1,000,000-entry workspaces against an empty one, listings (warm, on a fresh node, at an old
//!   revision) and a 10-file diff in the 1,000,000-entry one, storage and memory of 1,000 writes,
//!   and a 100,000-entry snapshot on PostgreSQL with the S3 test server;
//! - streaming: the process's resident memory while a 1 GiB file is written and read back;
//! - limits: GET by id with rate limits on against off (the limiter's cost);
//! - archives: a 1 GiB directory downloaded as tar and zip against a GET of the same bytes, with
//!   resident memory growth (see [`archives`]);
//! - round_trips: throughput and statements per request against pgbench running the same SQL,
//!   and file bytes against a static server and SHA-256 (see [`round_trips`]).
//!
//! `BENCH_ONLY=projects|workspace|streaming|archives|limits|round_trips` runs one part; `BENCH_PROJECTS`, `BENCH_ENTRIES`,
//! `BENCH_HUGE_ENTRIES`, `BENCH_SNAPSHOT_ENTRIES` and `BENCH_STREAM_MIB` change the sizes.

mod archives;
mod round_trips;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use projects_blackbox_tests::{Backend, TestServer};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::Digest;

const SAMPLES: usize = 30;
/// Fresh nodes whose first listing of a big tree is timed.
const FRESH_NODES: usize = 7;

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

/// Medians of `SAMPLES` runs of `step` (given the run's number).
async fn median_of<F, Fut>(mut step: F) -> Duration
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut times = Vec::with_capacity(SAMPLES);
    for run in 0..SAMPLES {
        let started = Instant::now();
        step(run).await;
        times.push(started.elapsed());
    }
    times.sort();
    times[SAMPLES / 2]
}

/// A workspace of the owner's: its project id and ref.
async fn workspace_of(server: &TestServer, name: &str) -> (String, String) {
    let id = new_project(server, name).await;
    let workspace: Value =
        server.get(&format!("/v1/projects/{id}/workspace"), &server.owner_key).await.json().await.expect("JSON");
    (id, workspace["workspace_ref"].as_str().expect("ref").to_owned())
}

async fn put(server: &TestServer, id: &str, path: &str, body: Vec<u8>) -> Value {
    let url = format!("/v1/projects/{id}/workspace/file?path={path}");
    let response = server.request(Method::PUT, &url, Some(&server.owner_key)).body(body).send().await.expect("PUT");
    assert!(response.status().is_success(), "{path}: {}", response.status());
    response.json().await.expect("JSON")
}

/// The p50 of a one-file PUT into `id`'s workspace.
async fn put_p50(server: &TestServer, id: &str, label: &str) -> Duration {
    median_of(|run| {
        let body = format!("{label} {run}").into_bytes();
        async move {
            put(server, id, &format!("/bench/{label}-{run}.txt"), body).await;
        }
    })
    .await
}

async fn get_ok(server: &TestServer, path: &str) -> Value {
    let response = server.get(path, &server.owner_key).await;
    assert!(response.status().is_success(), "{path}: {}", response.status());
    response.json().await.expect("JSON")
}

fn dir_bytes(dir: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .filter_map(Result::ok)
        .map(|entry| match entry.file_type() {
            Ok(kind) if kind.is_dir() => dir_bytes(&entry.path()),
            _ => entry.metadata().map(|m| m.len()).unwrap_or(0),
        })
        .sum()
}

/// A workspace seeded with `entries` files (one blob), on `server`.
async fn seeded(server: &TestServer, entries: u64) -> (String, String) {
    let (id, wsref) = workspace_of(server, &format!("tree of {entries}")).await;
    let content = b"fn main() {}\n";
    let sha = hex::encode(sha2::Sha256::digest(content));
    let blob = format!("/v1/projects/{id}/workspace/blobs/{sha}");
    let uploaded =
        server.request(Method::PUT, &blob, Some(&server.owner_key)).body(&content[..]).send().await.expect("blob");
    assert_eq!(uploaded.status(), 201);
    server.seed_tree(&wsref, &sha, content.len() as u64, entries).await.expect("seed");
    (id, wsref)
}

fn ratio(measured: Duration, limit: Duration) -> String {
    format!("{measured:>9.2?}  ({:.2} of the {limit:?} goal)", measured.as_secs_f64() / limit.as_secs_f64())
}

/// The workspace engine's goals on one backend: writes into big trees cost what an empty tree's
/// do, listings and diffs at any revision stay flat, storage follows the change.
async fn bench_tree(backend: Backend, big: u64, huge: u64) {
    let server = TestServer::start_with(backend, |config| config.blobs.blob_store_url = None).await;
    println!("{backend:?}: workspace engine");
    let (empty, _) = workspace_of(&server, "empty").await;
    put(&server, &empty, "/warm.txt", b"warm".to_vec()).await;
    let base = put_p50(&server, &empty, "empty").await;
    println!("  one-file PUT, empty workspace              {base:>9.2?}   (p50 of {SAMPLES})");

    for entries in [big, huge] {
        let seeding = Instant::now();
        let (id, _) = seeded(&server, entries).await;
        let seeded_in = seeding.elapsed();
        let p50 = put_p50(&server, &id, "big").await;
        println!(
            "  one-file PUT, {entries:>9}-entry workspace   {p50:>9.2?}   {:.2}x the empty one (goal ≤ 1.5x; seeded in {seeded_in:.1?})",
            p50.as_secs_f64() / base.as_secs_f64()
        );
        if entries != huge {
            continue;
        }
        let dir = format!("/v1/projects/{id}/workspace/files?path=/dir{:05}", entries / 200);
        let server = &server;
        let listing = |url: String| async move {
            let listed = get_ok(server, &url).await;
            assert_eq!(listed["items"].as_array().map(Vec::len), Some(100), "{url}");
        };
        // Nodes that never read this workspace or any of its revisions. Each has listed another
        // (small) workspace, so its connections are open and its statements prepared: what is
        // timed is meeting this tree for the first time, which the manifest store paid for with
        // a whole-tree parse. The median over several such nodes, each timed once.
        let mut cold_times = Vec::with_capacity(FRESH_NODES);
        for _ in 0..FRESH_NODES {
            let fresh = server.another_node().await;
            get_ok(&fresh, &format!("/v1/projects/{empty}/workspace/files?path=/")).await;
            let cold_started = Instant::now();
            let cold: Value = get_ok(&fresh, &dir).await;
            cold_times.push(cold_started.elapsed());
            assert_eq!(cold["items"].as_array().map(Vec::len), Some(100));
        }
        cold_times.sort();
        let cold = cold_times[FRESH_NODES / 2];
        let warm = median_of(|_| listing(dir.clone())).await;
        let old = median_of(|_| listing(format!("{dir}&revision=seed"))).await;
        let limit = Duration::from_millis(2);
        println!("  100-file directory listing, warm           {}", ratio(warm, limit));
        println!(
            "  the same on a node that never saw it       {}   (median of {FRESH_NODES} nodes)",
            ratio(cold, limit)
        );
        println!("  the same at the first revision             {}", ratio(old, limit));

        let head: Value = get_ok(server, &format!("/v1/projects/{id}/workspace/revisions?limit=1")).await;
        let before = head[0]["revision"].as_str().expect("head").to_owned();
        let mut last = String::new();
        for n in 0..10 {
            last = put(server, &id, &format!("/dir{:05}/file{n:03}.rs", n * 7), format!("changed {n}").into_bytes())
                .await["revision"]
                .as_str()
                .expect("revision")
                .to_owned();
        }
        let diff_url = format!("/v1/projects/{id}/workspace/diff?from={before}&to={last}");
        let diff = median_of(|_| {
            let url = diff_url.clone();
            async move {
                let diff = get_ok(server, &url).await;
                assert_eq!(diff["changes"].as_array().map(Vec::len), Some(10));
            }
        })
        .await;
        println!("  diff of two revisions 10 files apart       {}", ratio(diff, Duration::from_millis(10)));
    }

    // Storage and memory of 1,000 one-file writes into the big tree.
    let (id, _) = seeded(&server, big).await;
    let stored_before = server.database_bytes().await.expect("size") + dir_bytes(&server.data_dir().join("blobs"));
    let resident_before = resident_kib();
    let mut peak = resident_before;
    let mut written = 0u64;
    for n in 0..1_000u64 {
        let body = format!("write number {n:04} of a thousand").into_bytes();
        written += body.len() as u64;
        put(&server, &id, &format!("/dir{:05}/new{n:04}.txt", n % 1_000), body).await;
        peak = peak.max(resident_kib());
    }
    let stored_after = server.database_bytes().await.expect("size") + dir_bytes(&server.data_dir().join("blobs"));
    let grown = stored_after.saturating_sub(stored_before).saturating_sub(written);
    println!(
        "  1,000 one-file writes into {big} entries: storage +{:.2} MB beyond the {written} bytes written ({:.2} of the 10 MB goal)",
        grown as f64 / 1e6,
        grown as f64 / 10e6
    );
    println!(
        "    resident memory {} MiB before, peak {} MiB (+{} MiB; goal ≤ 50 MiB)",
        resident_before / 1024,
        peak / 1024,
        peak.saturating_sub(resident_before) / 1024
    );
}

/// A 100,000-entry snapshot on PostgreSQL and the S3 test server, end to end: the blobs asked
/// about and uploaded, then the commit.
async fn bench_snapshot(entries: usize) {
    let s3 = projects_adapters_s3::test_support::TestS3Server::start().await;
    let server = TestServer::start_on_s3(Backend::Postgres, &s3, "bench").await;
    let key = server.owner_key.clone();
    let id = new_project(&server, "Snapshot").await;
    let distinct = 1_000;
    let contents: Vec<Vec<u8>> = (0..distinct).map(|n| format!("content {n}\n").into_bytes()).collect();
    let shas: Vec<String> = contents.iter().map(|c| hex::encode(sha2::Sha256::digest(c))).collect();
    let started = Instant::now();
    let missing: Value = server
        .post_json(&format!("/v1/projects/{id}/workspace/blobs/missing"), &key, json!({ "sha256": shas }))
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(missing["missing"].as_array().map(Vec::len), Some(distinct));
    let uploads = futures::stream::iter(contents.iter().zip(&shas))
        .map(|(content, sha)| {
            let request = server.request(Method::PUT, &format!("/v1/projects/{id}/workspace/blobs/{sha}"), Some(&key));
            async move { request.body(content.clone()).send().await.expect("upload").status() }
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    assert!(uploads.iter().all(|status| status.as_u16() == 201));
    let uploaded_in = started.elapsed();
    let files: Vec<Value> = (0..entries)
        .map(|i| {
            let n = i % distinct;
            json!({"path": format!("dir{:05}/file{:03}.rs", i / 100, i % 100), "type": "file",
                   "size": contents[n].len(), "mtime_unix_ms": 1_710_000_000_000i64, "sha256": shas[n]})
        })
        .collect();
    let committing = Instant::now();
    let published =
        server.post_json(&format!("/v1/projects/{id}/workspace/snapshots"), &key, json!({ "entries": files })).await;
    assert_eq!(published.status(), 201, "{}", published.text().await.unwrap_or_default());
    let committed_in = committing.elapsed();
    println!("PostgreSQL + S3 test server: a {entries}-entry snapshot ({distinct} distinct blobs)");
    println!("  blobs asked about and uploaded              {uploaded_in:>9.2?}");
    println!("  snapshot committed                          {}", ratio(committed_in, Duration::from_secs(10)));
    println!(
        "  end to end                                  {}",
        ratio(uploaded_in + committed_in, Duration::from_secs(10))
    );
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

/// GETs of one project by id served in `window` by `callers` concurrent callers.
async fn gets_served(server: &TestServer, id: &str, callers: usize, window: Duration) -> u64 {
    let path = format!("/v1/projects/{id}");
    let deadline = Instant::now() + window;
    let caller = || async {
        let mut served = 0u64;
        while Instant::now() < deadline {
            let response = server.get(&path, &server.owner_key).await;
            assert_eq!(response.status(), 200, "{path}");
            let _ = response.bytes().await;
            served += 1;
        }
        served
    };
    futures::future::join_all((0..callers).map(|_| caller())).await.into_iter().sum()
}

/// GET by id with rate limits on (a bucket no caller empties) against the same with them off:
/// the limiter's cost per request, as a ratio of throughput in one run (alternating, best of 3).
async fn bench_limiter(backend: Backend) {
    const CALLERS: usize = 16;
    const WINDOW: Duration = Duration::from_secs(3);
    let off = TestServer::start(backend).await;
    let on = TestServer::start_with(backend, |config| {
        (config.rate_limit_per_sec, config.rate_limit_burst) = (1_000_000, 1_000_000);
    })
    .await;
    let (off_id, on_id) = (new_project(&off, "limits off").await, new_project(&on, "limits on").await);
    let (mut best_off, mut best_on) = (0u64, 0u64);
    for _ in 0..3 {
        best_off = best_off.max(gets_served(&off, &off_id, CALLERS, WINDOW).await);
        best_on = best_on.max(gets_served(&on, &on_id, CALLERS, WINDOW).await);
    }
    let rate = |served: u64| served as f64 / WINDOW.as_secs_f64();
    println!(
        "{backend:?}: GET /v1/projects/{{id}}, {CALLERS} callers: {:.0} rps with rate limits on, {:.0} off: {:.3} of it (goal ≥ 0.95)",
        rate(best_on),
        rate(best_off),
        best_on as f64 / best_off as f64
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let setting = |name: &str, default: u64| std::env::var(name).ok().and_then(|n| n.parse().ok()).unwrap_or(default);
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let runs = |part: &str| only.is_empty() || only == part;
    if runs("round_trips") {
        if std::env::var("DATABASE_URL").is_ok() {
            round_trips::bench_round_trips().await;
        }
        round_trips::bench_bytes(setting("BENCH_STREAM_MIB", 1024)).await;
    }
    if runs("streaming") {
        bench_streaming(setting("BENCH_STREAM_MIB", 1024)).await;
    }
    if runs("archives") {
        archives::bench_archives(setting("BENCH_STREAM_MIB", 1024)).await;
    }
    if runs("workspace") {
        let (big, huge) = (setting("BENCH_ENTRIES", 100_000), setting("BENCH_HUGE_ENTRIES", 1_000_000));
        bench_tree(Backend::Sqlite, big, huge).await;
        if std::env::var("DATABASE_URL").is_ok() {
            bench_tree(Backend::Postgres, big, huge).await;
            bench_snapshot(setting("BENCH_SNAPSHOT_ENTRIES", 100_000) as usize).await;
        }
    }
    if runs("limits") {
        bench_limiter(Backend::Sqlite).await;
        if std::env::var("DATABASE_URL").is_ok() {
            bench_limiter(Backend::Postgres).await;
        }
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
