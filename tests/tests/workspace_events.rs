//! The change feed of a workspace (Server-Sent Events) over HTTP on both backends: a watcher sees
//! a write made through a second node within a second, resumes with `Last-Event-ID` without
//! losing what it missed, gets heartbeats while nothing happens, and is cut off when its key is
//! revoked; nobody watches another org's workspace.

use std::time::{Duration, Instant};

use futures::StreamExt;
use projects_blackbox_tests::{expect_json, expect_v1_error, on_both_backends, Backend, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

on_both_backends!(
    a_watcher_sees_writes_through_another_node_within_a_second,
    a_watcher_resumes_where_it_left_off,
    a_quiet_feed_sends_heartbeats_and_ends_with_its_key,
    watchers_hanging_up_mid_replay_leave_the_server_whole,
);

/// A feed being read: the frames as they arrive.
struct Feed {
    stream: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: String,
    /// The server closed the feed.
    ended: bool,
}

/// One frame of the feed: its `id`, `event` and `data` fields, or a comment.
#[derive(Debug, Default, Clone, PartialEq)]
struct Frame {
    id: Option<String>,
    event: Option<String>,
    data: Option<Value>,
    comment: Option<String>,
}

impl Feed {
    async fn open(server: &TestServer, project: &str, key: &str, last_event_id: Option<&str>, query: &str) -> Self {
        let mut request = server.request(Method::GET, &format!("{project}/workspace/events{query}"), Some(key));
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Self { stream: response.bytes_stream().boxed(), buffer: String::new(), ended: false }
    }

    /// The next frame within `wait`; `None` when the feed ended or nothing came.
    async fn next(&mut self, wait: Duration) -> Option<Frame> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let raw: String = self.buffer.drain(..end + 2).collect();
                let mut frame = Frame::default();
                for line in raw.lines() {
                    match line.split_once(':') {
                        Some(("", comment)) => frame.comment = Some(comment.trim().to_owned()),
                        Some(("id", id)) => frame.id = Some(id.trim().to_owned()),
                        Some(("event", event)) => frame.event = Some(event.trim().to_owned()),
                        Some(("data", data)) => frame.data = Some(serde_json::from_str(data.trim()).unwrap()),
                        _ => {}
                    }
                }
                if frame != Frame::default() {
                    return Some(frame);
                }
                continue;
            }
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Ok(Some(Ok(chunk))) => self.buffer.push_str(std::str::from_utf8(&chunk).unwrap()),
                Ok(_) => {
                    self.ended = true;
                    return None;
                }
                Err(_quiet) => return None,
            }
        }
    }

    /// The next `revision` event within `wait`, skipping comments.
    async fn next_revision(&mut self, wait: Duration) -> Option<Frame> {
        let deadline = Instant::now() + wait;
        loop {
            let frame = self.next(deadline.saturating_duration_since(Instant::now())).await?;
            if frame.event.as_deref() == Some("revision") {
                return Some(frame);
            }
        }
    }
}

async fn project(server: &TestServer, name: &str) -> String {
    let made = expect_json(server.post_json("/v1/projects", &server.owner_key, json!({"name": name})).await, 201).await;
    format!("/v1/projects/{}", made["id"].as_str().unwrap())
}

async fn write(server: &TestServer, project: &str, path: &str, body: &str) -> String {
    let url = format!("{project}/workspace/file?path={path}");
    let response = server.request(Method::PUT, &url, Some(&server.owner_key)).body(body.to_owned()).send().await;
    let response = response.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    response.json::<Value>().await.unwrap()["revision"].as_str().unwrap().to_owned()
}

async fn a_watcher_sees_writes_through_another_node_within_a_second(backend: Backend) {
    let server = TestServer::start(backend).await;
    let other = server.another_node().await;
    let project = project(&server, "Watched").await;
    let before = write(&server, &project, "/a.txt", "one").await;
    let mut feed = Feed::open(&server, &project, &server.owner_key, None, "").await;
    // Opened after `before`: nothing old is sent.
    assert!(feed.next_revision(Duration::from_millis(300)).await.is_none(), "only new heads are sent");

    for n in 0..3 {
        let written_at = Instant::now();
        let revision = write(&other, &project, "/a.txt", &format!("through the other node, {n}")).await;
        let frame = feed.next_revision(Duration::from_secs(1)).await.expect("seen within a second");
        let seen_after = written_at.elapsed();
        assert!(seen_after < Duration::from_secs(1), "seen after {seen_after:?}");
        assert_eq!(frame.id.as_deref(), Some(revision.as_str()));
        let data = frame.data.unwrap();
        assert_eq!(data["revision"], revision.as_str());
        assert_eq!(data["files_changed"], 1);
        if n == 0 {
            assert_eq!(data["base_revision"], before.as_str());
        }
    }
    // Through this node, at once.
    let local = write(&server, &project, "/b.txt", "here").await;
    let frame = feed.next_revision(Duration::from_millis(500)).await.expect("a local write is seen at once");
    assert_eq!(frame.id.as_deref(), Some(local.as_str()));

    // Another org's key watches nothing of this org.
    let stranger = server.owner_key_of("elsewhere", "them@example.com").await;
    let refused = server.request(Method::GET, &format!("{project}/workspace/events"), Some(&stranger)).send().await;
    expect_v1_error(refused.unwrap(), 404, "projects.not_found").await;
}

async fn a_watcher_resumes_where_it_left_off(backend: Backend) {
    let server = TestServer::start(backend).await;
    let project = project(&server, "Resumed").await;
    let first = write(&server, &project, "/a.txt", "1").await;
    let mut missed = Vec::new();
    for n in 2..=4 {
        missed.push(write(&server, &project, "/a.txt", &n.to_string()).await);
    }
    let mut order = Vec::new();
    // Last-Event-ID wins over `since`: what came after `first`, oldest first.
    let mut feed = Feed::open(&server, &project, &server.owner_key, Some(&first), "?since=nonsense").await;
    for _ in 0..3 {
        order.push(feed.next_revision(Duration::from_secs(1)).await.expect("a missed head").id.unwrap());
    }
    assert_eq!(order, missed, "every missed head, once, in order");
    let history =
        expect_json(server.get(&format!("{project}/workspace/revisions"), &server.owner_key).await, 200).await;
    let newest_first: Vec<String> =
        history.as_array().unwrap().iter().map(|r| r["revision"].as_str().unwrap().to_owned()).collect();
    let oldest_first: Vec<String> = newest_first.into_iter().rev().skip(1).collect();
    assert_eq!(order, oldest_first, "in history order");
    assert!(feed.next_revision(Duration::from_millis(300)).await.is_none(), "and nothing else");

    // `since` alone works too, and an unknown revision is a 404.
    let mut from_since = Feed::open(&server, &project, &server.owner_key, None, &format!("?since={}", order[1])).await;
    assert_eq!(from_since.next_revision(Duration::from_secs(1)).await.unwrap().id.as_deref(), Some(order[2].as_str()));
    let unknown = server
        .request(
            Method::GET,
            &format!("{project}/workspace/events?since=0123456789abcdef0123456789abcdef"),
            Some(&server.owner_key),
        )
        .send()
        .await
        .unwrap();
    expect_v1_error(unknown, 404, "workspace_revisions.not_found").await;
}

async fn a_quiet_feed_sends_heartbeats_and_ends_with_its_key(backend: Backend) {
    let server = TestServer::start_with(backend, |config| config.app.events_heartbeat_secs = 1).await;
    let project = project(&server, "Quiet").await;
    let body = json!({"name": "watcher", "scopes": ["data.projects.read", "data.runs.read"]});
    let created = expect_json(server.post_json("/v1/api-keys", &server.owner_key, body).await, 201).await;
    let key = created["key"].as_str().unwrap().to_owned();
    let mut feed = Feed::open(&server, &project, &key, None, "").await;
    let started = Instant::now();
    let mut heartbeats = 0;
    while heartbeats < 2 {
        let frame = feed.next(Duration::from_secs(3)).await.expect("the feed stays open");
        if frame.comment.as_deref() == Some("heartbeat") {
            heartbeats += 1;
        }
    }
    assert!(started.elapsed() >= Duration::from_millis(1_500), "heartbeats come when nothing happens, not in a rush");

    let revoked = server.delete(&format!("/v1/api-keys/{}", created["id"].as_str().unwrap()), &server.owner_key).await;
    assert_eq!(revoked.status(), 204);
    let revoked_at = Instant::now();
    while feed.next(Duration::from_secs(3)).await.is_some() {}
    assert!(feed.ended, "a revoked key's feed ends");
    assert!(revoked_at.elapsed() < Duration::from_secs(3), "at its next heartbeat: {:?}", revoked_at.elapsed());
}

/// Watchers that hang up while the history they missed is being read to them: the reads they
/// leave behind are finished or cut where the store allows it, and the server goes on serving
/// (no panic, no 5xx; on SQLite, a query cut on the wrong runtime would panic).
async fn watchers_hanging_up_mid_replay_leave_the_server_whole(backend: Backend) {
    // A panic in any of the server's tasks (which would not fail the test by itself) is counted.
    static PANICS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        previous(info);
    }));
    let server = TestServer::start(backend).await;
    let project = project(&server, "Hung up").await;
    let first = write(&server, &project, "/a.txt", "0").await;
    for n in 1..120 {
        write(&server, &project, "/a.txt", &n.to_string()).await;
    }
    for n in 0..100 {
        // Gone at once, or after the opening comment: while the history it missed is read.
        let mut feed = Feed::open(&server, &project, &server.owner_key, Some(&first), "").await;
        if n % 2 == 0 {
            feed.next(Duration::from_secs(2)).await.expect("the feed opens");
        }
        drop(feed);
    }
    let mut feed = Feed::open(&server, &project, &server.owner_key, Some(&first), "").await;
    let mut replayed = 0;
    while feed.next_revision(Duration::from_millis(500)).await.is_some() {
        replayed += 1;
    }
    assert_eq!(replayed, 119, "a whole replay after a hundred cut ones");
    let listed = server.get(&format!("{project}/workspace/files?path=/"), &server.owner_key).await;
    assert_eq!(listed.status(), 200);
    assert_eq!(PANICS.load(std::sync::atomic::Ordering::SeqCst), 0, "no task of the server panicked");
}
