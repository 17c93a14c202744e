//! Round trips (`BENCH_ONLY=round_trips`): the server's throughput against its limits measured in
//! the same run at the same concurrency — pgbench running the SQL a request needs, a static file
//! server sending the same bytes with `sendfile`, SHA-256 of the same bytes — and the statements
//! each request sends (from `pg_stat_statements` when the cluster preloads it).
//!
//! Server, load generator and database share this machine's cores, as they would on one host;
//! each figure is the median of `RUNS` windows.

use std::io::{Read, Write};
use std::process::Command;
use std::time::{Duration, Instant};

use futures::StreamExt;
use projects_blackbox_tests::{Backend, TestServer};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::Digest;

const CONNECTIONS: usize = 32;
const WINDOW: Duration = Duration::from_secs(5);
const RUNS: usize = 3;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Requests per second `connections` callers get from `request` in one window, and every
/// latency seen.
async fn throughput<F, Fut>(connections: usize, request: F) -> (f64, Vec<Duration>)
where
    F: Fn(u64) -> Fut + Clone,
    Fut: std::future::Future<Output = ()>,
{
    let deadline = Instant::now() + WINDOW;
    let callers = (0..connections).map(|caller| {
        let request = request.clone();
        async move {
            let mut latencies = Vec::new();
            let mut n = caller as u64 * 1_000_000;
            while Instant::now() < deadline {
                let started = Instant::now();
                request(n).await;
                latencies.push(started.elapsed());
                n += 1;
            }
            latencies
        }
    });
    let latencies: Vec<Duration> = futures::future::join_all(callers).await.into_iter().flatten().collect();
    (latencies.len() as f64 / WINDOW.as_secs_f64(), latencies)
}

async fn median_throughput<F, Fut>(connections: usize, request: F) -> (f64, Vec<Duration>)
where
    F: Fn(u64) -> Fut + Clone,
    Fut: std::future::Future<Output = ()>,
{
    let mut rates = Vec::new();
    let mut all = Vec::new();
    for _ in 0..RUNS {
        let (rate, latencies) = throughput(connections, request.clone()).await;
        rates.push(rate);
        all.extend(latencies);
    }
    (median(rates), all)
}

/// Requests per second `connections` keep-alive callers get for `GET path`, each on its own
/// connection and writing the request bytes by hand, as wrk does: a client that costs next to
/// nothing per request, so the figure is the server's and not the load generator's. Median of
/// `RUNS` windows.
async fn lean_get_throughput(base_url: &str, path: &str, key: &str, connections: usize) -> f64 {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
    let address = base_url.trim_start_matches("http://").to_owned();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {key}\r\n\r\n");
    let mut rates = Vec::new();
    for _ in 0..RUNS {
        let deadline = Instant::now() + WINDOW;
        let callers = (0..connections).map(|_| {
            let (address, request) = (address.clone(), request.clone());
            // A task each, as wrk runs a thread per connection group: one task driving them all
            // would make the client, not the server, the limit.
            tokio::spawn(async move {
                let stream = tokio::net::TcpStream::connect(&address).await.expect("connect");
                stream.set_nodelay(true).ok();
                let mut stream = tokio::io::BufReader::new(stream);
                let (mut served, mut line, mut body) = (0u64, String::new(), Vec::new());
                while Instant::now() < deadline {
                    stream.get_mut().write_all(request.as_bytes()).await.expect("send");
                    let mut length = 0usize;
                    line.clear();
                    stream.read_line(&mut line).await.expect("status line");
                    assert!(line.starts_with("HTTP/1.1 200"), "{line}");
                    loop {
                        line.clear();
                        stream.read_line(&mut line).await.expect("header");
                        if line == "\r\n" {
                            break;
                        }
                        if let Some((name, value)) = line.split_once(':') {
                            if name.eq_ignore_ascii_case("content-length") {
                                length = value.trim().parse().expect("a length");
                            }
                        }
                    }
                    body.resize(length, 0);
                    stream.read_exact(&mut body).await.expect("body");
                    served += 1;
                }
                served
            })
        });
        let served: u64 = futures::future::join_all(callers).await.into_iter().map(|r| r.expect("a caller")).sum();
        rates.push(served as f64 / WINDOW.as_secs_f64());
    }
    median(rates)
}

/// pgbench's tps for `script` at `clients`, median of `RUNS` windows.
fn pgbench(url: &str, clients: usize, script: &str) -> Option<f64> {
    let file = tempfile::NamedTempFile::new().ok()?;
    std::fs::write(file.path(), script).ok()?;
    let mut rates = Vec::new();
    for _ in 0..RUNS {
        let output = Command::new("pgbench")
            .args(["-n", "-M", "prepared", "-j", "2"])
            .args(["-c", &clients.to_string(), "-T", &WINDOW.as_secs().to_string(), "-f"])
            .arg(file.path())
            .arg(url)
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&output.stdout);
        let tps = text.lines().find(|l| l.starts_with("tps = "))?.trim_start_matches("tps = ");
        rates.push(tps.split_whitespace().next()?.parse().ok()?);
    }
    Some(median(rates))
}

/// Statements the database ran per request, by `pg_stat_statements`, for `count` requests.
async fn statements_per_request<F, Fut>(url: &str, count: u64, request: F) -> Option<f64>
where
    F: Fn(u64) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let psql =
        |sql: &str| Command::new("psql").args(["-qtAX", url, "-c", sql]).output().ok().filter(|o| o.status.success());
    psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")?;
    psql("SELECT pg_stat_statements_reset()")?;
    for n in 0..count {
        request(n).await;
    }
    let counted = psql(
        "SELECT sum(calls) FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
         AND query NOT ILIKE '%pg_stat_statements%' AND query <> 'SELECT $1'",
    )?;
    let calls: f64 = String::from_utf8_lossy(&counted.stdout).trim().parse().ok()?;
    Some(calls / count as f64)
}

fn percentile(latencies: &mut [Duration], p: f64) -> Duration {
    latencies.sort();
    latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)]
}

fn ratio_line(what: &str, ours: f64, unit: &str, limit: Option<f64>, limit_name: &str, goal: &str) {
    match limit {
        Some(limit) => println!(
            "  {what:<44} {ours:>9.0} {unit:<5} {limit_name:<46} {limit:>9.0}   ratio {:.2}  (goal {goal})",
            ours / limit
        ),
        None => println!("  {what:<44} {ours:>9.0} {unit:<5} {limit_name:<46}       n/a"),
    }
}

pub async fn bench_round_trips() {
    let server = TestServer::start(Backend::Postgres).await;
    let url = server.database_url().expect("a PostgreSQL server").to_owned();
    let me: Value = server.get("/v1/me", &server.owner_key).await.json().await.expect("JSON");
    let (org, owner) = (me["org_id"].as_str().unwrap().to_owned(), me["user_id"].as_str().unwrap().to_owned());
    let id = super::new_project(&server, "Round trips").await;
    println!("Round trips on PostgreSQL, {CONNECTIONS} connections, median of {RUNS} × {WINDOW:?}:");

    let get_path = format!("/v1/projects/{id}");
    let get = |_: u64| {
        let (server, path) = (&server, &get_path);
        async move {
            let response = server.get(path, &server.owner_key).await;
            assert_eq!(response.status(), 200);
            let _ = response.bytes().await;
        }
    };
    let (get_rps, _) = median_throughput(CONNECTIONS, get).await;
    let select = format!(
        "SELECT p.*, s.team_id, w.* FROM projects p \
         LEFT JOIN project_shares s ON s.org_id = p.org_id AND s.project_id = p.id \
         LEFT JOIN workspaces w ON w.org_id = p.org_id AND w.project_id = p.id \
              AND w.user_id = '00000000-0000-0000-0000-000000000000' \
         WHERE p.org_id = '{org}' AND p.deleted_at IS NULL AND p.id = '{id}';\n"
    );
    let select_tps = pgbench(&url, CONNECTIONS, &select);
    ratio_line("GET /v1/projects/{id}", get_rps, "rps", select_tps, "pgbench: its SELECT", "≥ 0.5");
    let lean_rps = lean_get_throughput(&server.base_url, &get_path, &server.owner_key, CONNECTIONS).await;
    ratio_line("  the same, a wrk-like client", lean_rps, "rps", select_tps, "pgbench: its SELECT", "≥ 0.5");

    let create = |n: u64| {
        let server = &server;
        async move {
            let response =
                server.post_json("/v1/projects", &server.owner_key, json!({"name": format!("load {n}")})).await;
            assert_eq!(response.status(), 201);
            let _ = response.bytes().await;
        }
    };
    let (create_rps, _) = median_throughput(CONNECTIONS, create).await;
    let insert = format!(
        "BEGIN;\n\
         INSERT INTO projects (id, org_id, team_id, owner_user_id, name, slug, visibility, status, tags, metadata, \
         created_at, updated_at, version) VALUES (gen_random_uuid(), '{org}', NULL, '{owner}', 'pgbench', \
         'pgbench-' || gen_random_uuid(), 'private', 'active', '[]', '{{}}', now(), now(), 1);\n\
         INSERT INTO audit_events (id, org_id, actor_user_id, action, project_id, fields, created_at, target_type, \
         target_id) VALUES (gen_random_uuid(), '{org}', '{owner}', 'project.created', NULL, '', now(), 'project', \
         gen_random_uuid());\n\
         COMMIT;\n"
    );
    ratio_line(
        "POST /v1/projects (small org)",
        create_rps,
        "rps",
        pgbench(&url, CONNECTIONS, &insert),
        "pgbench: BEGIN, 2 INSERTs, COMMIT",
        "≥ 0.5",
    );

    let listing_project = super::new_project(&server, "Listing").await;
    for n in 0..100 {
        let path = format!("/v1/projects/{listing_project}/workspace/file?path=/dir/file-{n}.txt");
        let response = server.request(Method::PUT, &path, Some(&server.owner_key)).body("x").send().await.unwrap();
        assert_eq!(response.status(), 201);
    }
    let listing_path = format!("/v1/projects/{listing_project}/workspace/files?path=/dir");
    let read_path = format!("/v1/projects/{listing_project}/workspace/file?path=/dir/file-7.txt");
    let per_request = [
        ("GET /v1/projects/{id}", get_path.clone(), Method::GET),
        ("GET /v1/projects", "/v1/projects?limit=50".to_owned(), Method::GET),
        ("POST /v1/projects", "/v1/projects".to_owned(), Method::POST),
        ("a listing of 100 files", listing_path, Method::GET),
        ("a file read", read_path, Method::GET),
    ];
    println!("  statements per request (pg_stat_statements, 200 requests each):");
    for (what, path, method) in per_request {
        let send = |n: u64| {
            let (server, path, method) = (&server, &path, method.clone());
            async move {
                let request = server.request(method.clone(), path, Some(&server.owner_key));
                let request =
                    if method == Method::POST { request.json(&json!({"name": format!("stmt {n}")})) } else { request };
                let response = request.send().await.unwrap();
                assert!(response.status().is_success(), "{path}: {}", response.status());
                let _ = response.bytes().await;
            }
        };
        match statements_per_request(&url, 200, send).await {
            Some(count) => println!("    {what:<28} {count:.2}"),
            None => println!("    {what:<28} n/a (pg_stat_statements is not preloaded)"),
        }
    }

    let (_, mut latencies) = median_throughput(64, get).await;
    let (p50, p99) = (percentile(&mut latencies, 0.5), percentile(&mut latencies, 0.99));
    println!(
        "  GET at 64 connections: p50 {p50:.2?}, p99 {p99:.2?}: p99/p50 {:.1} (goal ≤ 5)",
        p99.as_secs_f64() / p50.as_secs_f64()
    );

    let me_id = uuid::Uuid::parse_str(&owner).unwrap();
    server.seed_projects(uuid::Uuid::parse_str(&org).unwrap(), me_id, 100_000).await.expect("seed");
    let (big_create_rps, _) = median_throughput(CONNECTIONS, create).await;
    println!(
        "  POST /v1/projects in an org of 100,000: {big_create_rps:.0} rps, {:.2}× slower than the small org (goal ≤ 1.2)",
        create_rps / big_create_rps
    );
}

/// A static file server's answer to GET: headers, then the file by `std::io::copy`, which Linux
/// turns into `sendfile` from a file to a socket.
fn serve_statically(path: std::path::PathBuf) -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let mut file = std::fs::File::open(&path).unwrap();
            let size = file.metadata().unwrap().len();
            let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {size}\r\nconnection: close\r\n\r\n");
            let _ = stream.write_all(head.as_bytes());
            let _ = std::io::copy(&mut file, &mut stream);
        }
    });
    address
}

async fn download(request: reqwest::RequestBuilder) -> (u64, Duration) {
    let started = Instant::now();
    let response = request.send().await.expect("download");
    assert_eq!(response.status(), 200);
    let mut stream = response.bytes_stream();
    let mut total = 0u64;
    while let Some(piece) = stream.next().await {
        total += piece.expect("body").len() as u64;
    }
    (total, started.elapsed())
}

/// Bytes: a GET of a large local file against a static server with `sendfile`, a PUT of it
/// against hashing the same bytes, and the PUT's resident-memory growth.
pub async fn bench_bytes(mib: u64) {
    let server = TestServer::start_with(Backend::Sqlite, |config| config.blobs.blob_store_url = None).await;
    let key = server.owner_key.clone();
    let id = super::new_project(&server, "Bytes").await;
    let file = format!("/v1/projects/{id}/workspace/file?path=/large.bin");
    let chunk = bytes::Bytes::from(vec![b'x'; 256 * 1024]);
    let size = mib * 1024 * 1024;
    println!("Bytes of a {mib} MiB file (local blobs; server and client in this process):");

    let hashing = Instant::now();
    let mut hasher = sha2::Sha256::new();
    for _ in 0..mib * 4 {
        hasher.update(&chunk);
    }
    let sha256 = hex::encode(hasher.finalize());
    let hash_rate = size as f64 / hashing.elapsed().as_secs_f64() / 1e6;

    let before = super::resident_kib();
    let chunks = futures::stream::iter((0..mib * 4).map({
        let chunk = chunk.clone();
        move |_| Ok::<_, std::io::Error>(chunk.clone())
    }));
    let started = Instant::now();
    let (written, peak) = super::peak_resident_during(async {
        let body = reqwest::Body::wrap_stream(chunks);
        server.request(Method::PUT, &file, Some(&key)).body(body).send().await.expect("upload")
    })
    .await;
    let put_rate = size as f64 / started.elapsed().as_secs_f64() / 1e6;
    assert_eq!(written.status(), 201);
    let written: Value = written.json().await.unwrap();
    assert_eq!(written["sha256"], sha256);
    ratio_line("PUT", put_rate, "MB/s", Some(hash_rate), "SHA-256 of the same bytes", "≥ 0.8");
    println!("  PUT resident growth: {} MiB (goal < 20)", peak.saturating_sub(before) / 1024);

    let client = reqwest::Client::new();
    let blob = server.data_dir().join("blobs").join(format!(
        "workspaces/{}/blobs/{sha256}",
        server.get(&format!("/v1/projects/{id}/workspace"), &key).await.json::<Value>().await.unwrap()["workspace_ref"]
            .as_str()
            .unwrap()
    ));
    let static_server = serve_statically(blob);
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for _ in 0..RUNS {
        let (read, time) = download(server.request(Method::GET, &file, Some(&key))).await;
        assert_eq!(read, size);
        ours.push(size as f64 / time.as_secs_f64() / 1e6);
        let (read, time) = download(client.get(format!("http://{static_server}/"))).await;
        assert_eq!(read, size);
        theirs.push(size as f64 / time.as_secs_f64() / 1e6);
    }
    ratio_line("GET", median(ours), "MB/s", Some(median(theirs)), "static server, sendfile", "≥ 0.8");
}
