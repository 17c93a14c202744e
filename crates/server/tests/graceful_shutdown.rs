//! The binary itself, as an operator runs it: SIGTERM during a slow request lets it finish within
//! the grace period, new connections are refused meanwhile, and the grace period is a real bound;
//! its log written to a file is plain text, and its sizing is what the environment says.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;

struct RunningServer {
    child: Child,
    base_url: String,
    owner_key: String,
    _data_dir: tempfile::TempDir,
}

impl RunningServer {
    fn start(grace_secs: u64) -> Self {
        Self::start_with(grace_secs, &[], Stdio::null())
    }

    fn start_with(grace_secs: u64, env: &[(&str, &str)], stderr: Stdio) -> Self {
        let data_dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_server"))
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env("DATA_DIR", data_dir.path())
            .env("SHUTDOWN_GRACE_SECS", grace_secs.to_string())
            .env_remove("DATABASE_URL")
            .env_remove("BLOB_STORE_URL")
            .env_remove("HTTP_WORKERS")
            .env_remove("DB_POOL_SIZE")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("the server binary starts");
        // The first start prints the owner key once, on the line after this one.
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let owner_key = loop {
            let line = lines.next().expect("the server prints its owner key").unwrap();
            if line.starts_with("Owner API key") {
                break lines.next().unwrap().unwrap();
            }
        };
        let base_url = format!("http://127.0.0.1:{port}");
        Self { child, base_url, owner_key, _data_dir: data_dir }
    }

    fn terminate(&self) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }

    fn wait_for_exit(&mut self, within: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the server did not stop within {within:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

type InFlight = tokio::task::JoinHandle<reqwest::Result<reqwest::Response>>;

/// Starts an upload whose body trickles in over `seconds`, and returns once it has been going for
/// `going_for`.
async fn upload_in_flight(server: &RunningServer, seconds: u64, going_for: Duration) -> InFlight {
    let client = reqwest::Client::new();
    let project: serde_json::Value = client
        .post(format!("{}/v1/projects", server.base_url))
        .bearer_auth(&server.owner_key)
        .json(&serde_json::json!({"name": "Slow"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = project["id"].as_str().unwrap();
    let chunks = futures::stream::unfold(0u64, move |sent| async move {
        if sent == seconds * 10 {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        Some((Ok::<_, std::io::Error>(Bytes::from_static(b"0123456789")), sent + 1))
    });
    let upload = client
        .put(format!("{}/v1/projects/{id}/workspace/file?path=/slow.txt", server.base_url))
        .bearer_auth(&server.owner_key)
        .body(reqwest::Body::wrap_stream(chunks))
        .send();
    let in_flight = tokio::spawn(upload);
    tokio::time::sleep(going_for).await;
    in_flight
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_a_slow_request_finish() {
    let mut server = RunningServer::start(30);
    let upload = upload_in_flight(&server, 3, Duration::from_millis(700)).await;
    server.terminate();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused = reqwest::Client::new().get(format!("{}/healthz", server.base_url)).send().await;
    assert!(refused.is_err(), "no new connections once stopping: {refused:?}");

    let response = upload.await.unwrap().expect("the in-flight request is answered");
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap_or_default());
    let written: serde_json::Value = response.json().await.unwrap();
    assert_eq!(written["size"], 300, "the whole body was taken");
    let status = server.wait_for_exit(Duration::from_secs(10));
    assert!(status.success(), "a clean exit: {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_grace_period_bounds_the_wait() {
    let mut server = RunningServer::start(1);
    let upload = upload_in_flight(&server, 20, Duration::from_millis(500)).await;
    let stopping = Instant::now();
    server.terminate();
    server.wait_for_exit(Duration::from_secs(8));
    assert!(stopping.elapsed() < Duration::from_secs(8));
    let cut_off = upload.await.unwrap();
    assert!(cut_off.map(|r| !r.status().is_success()).unwrap_or(true), "a request past the grace period is cut off");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_file_is_plain_text_and_the_sizing_is_configured() {
    let log_dir = tempfile::tempdir().unwrap();
    let log_path = log_dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut server = RunningServer::start_with(1, &[("HTTP_WORKERS", "3"), ("DB_POOL_SIZE", "5")], Stdio::from(log));
    let metrics = reqwest::get(format!("{}/metrics", server.base_url)).await.unwrap().text().await.unwrap();
    assert!(metrics.lines().any(|line| line == "http_workers 3"), "{metrics}");
    assert!(
        metrics.lines().any(|line| line == r#"db_pool_connections{dependency="database",state="max"} 5"#),
        "{metrics}"
    );
    server.terminate();
    server.wait_for_exit(Duration::from_secs(10));
    let written = std::fs::read_to_string(&log_path).unwrap();
    assert!(written.contains("listening"), "the log has its lines: {written}");
    assert!(!written.contains('\u{1b}'), "no terminal colour codes in a file: {written:?}");
}
