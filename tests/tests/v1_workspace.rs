//! The project's default workspace, its files and sessions (seed 001), on both backends.

use projects_adapters_s3::test_support::TestS3Server;
use projects_blackbox_tests::{expect_json, expect_v1_error, on_both_backends, Backend, TestServer};
use reqwest::Method;
use serde_json::json;
use sha2::{Digest, Sha256};

on_both_backends!(
    seed_flow_files_and_sessions,
    file_reads_follow_http_caching_and_ranges,
    workspace_access_is_checked,
    snapshots_publish_a_whole_tree,
    concurrent_writers_keep_each_others_files,
);

async fn put_file(server: &TestServer, key: &str, project: &str, path: &str, body: &'static [u8]) -> reqwest::Response {
    server
        .request(Method::PUT, &format!("/v1/projects/{project}/workspace/file?path={path}"), Some(key))
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn seed_flow_files_and_sessions(backend: Backend) {
    seed_flow(&TestServer::start(backend).await).await;
}

/// The seed's flow on PostgreSQL and a real S3-compatible server (s3s-fs, SigV4 checked).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_flow_on_postgres_and_a_real_s3_server() {
    let s3 = TestS3Server::start().await;
    let server = TestServer::start_on_s3(Backend::Postgres, &s3, "service").await;
    seed_flow(&server).await;
    let stored = std::fs::read_dir(s3.object_path("service/workspaces")).expect("blobs on the S3 server").count();
    assert!(stored > 0, "the files went to the S3 server");
}

/// The blob store is down: file endpoints answer 503 with a clear code, projects still work; a
/// blob that vanished from the store is a 404.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_blob_store_gives_503_on_files_only() {
    let s3 = TestS3Server::start().await;
    let server = TestServer::start_on_s3(Backend::Sqlite, &s3, "service").await;
    let key = &server.owner_key;
    let project = expect_json(server.post_json("/v1/projects", key, json!({"name": "Files"})).await, 201).await;
    let id = project["id"].as_str().unwrap();
    expect_json(put_file(&server, key, id, "/kept.txt", b"kept").await, 201).await;
    expect_json(put_file(&server, key, id, "/lost.txt", b"lost").await, 201).await;

    let workspace = expect_json(server.get(&format!("/v1/projects/{id}/workspace"), key).await, 200).await;
    let lost = hex::encode(Sha256::digest(b"lost"));
    let wsref = workspace["workspace_ref"].as_str().unwrap();
    std::fs::remove_file(s3.object_path(&format!("service/workspaces/{wsref}/blobs/{lost}"))).unwrap();
    let vanished = server.get(&format!("/v1/projects/{id}/workspace/file?path=/lost.txt"), key).await;
    expect_v1_error(vanished, 404, "workspace_files.not_found").await;

    drop(s3);
    let read = server.get(&format!("/v1/projects/{id}/workspace/file?path=/kept.txt"), key).await;
    expect_v1_error(read, 503, "service.unavailable").await;
    expect_v1_error(put_file(&server, key, id, "/new.txt", b"new").await, 503, "service.unavailable").await;
    let ready = server.request(Method::GET, "/readyz", None).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    expect_json(server.get(&format!("/v1/projects/{id}"), key).await, 200).await;
    expect_json(server.post_json("/v1/projects", key, json!({"name": "Still fine"})).await, 201).await;
    let metrics = server.request(Method::GET, "/metrics", None).send().await.unwrap().text().await.unwrap();
    let errors = metrics
        .lines()
        .find_map(|line| line.strip_prefix(r#"dependency_errors_total{dependency="blob_store"} "#))
        .and_then(|count| count.parse::<u64>().ok());
    assert!(errors.is_some_and(|count| count >= 2), "the failures are counted: {metrics}");
}

async fn seed_flow(server: &TestServer) {
    let key = &server.owner_key;
    let project = expect_json(server.post_json("/v1/projects", key, json!({"name": "Files"})).await, 201).await;
    let id = project["id"].as_str().unwrap();

    let workspace = expect_json(server.get(&format!("/v1/projects/{id}/workspace"), key).await, 200).await;
    let wsref = workspace["workspace_ref"].as_str().unwrap().to_owned();
    assert!(wsref.starts_with("wsref_") && wsref.len() == 6 + 32, "{wsref}");
    assert_eq!(workspace["status"], "idle");
    assert!(workspace.get("active_session").is_none(), "only while a session is live");
    let empty = expect_json(server.get(&format!("/v1/projects/{id}/workspace/files"), key).await, 200).await;
    assert_eq!(empty, json!({"workspace_ref": wsref, "path": "/", "items": [], "next_cursor": null}));

    let written = expect_json(put_file(server, key, id, "/src/main.go", b"package main\n\n").await, 201).await;
    assert_eq!(written["size"], 14);
    assert_eq!(written["path"], "/src/main.go");
    expect_json(put_file(server, key, id, "docs/readme.md", b"# Docs\n").await, 201).await;
    expect_json(put_file(server, key, id, "/top.txt", b"top").await, 201).await;
    let replaced = expect_json(put_file(server, key, id, "/top.txt", b"top!").await, 200).await;
    assert_ne!(replaced["revision"], written["revision"]);

    let root = expect_json(server.get(&format!("/v1/projects/{id}/workspace/files?path=/"), key).await, 200).await;
    let names: Vec<(&str, &str)> = root["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["name"].as_str().unwrap(), i["type"].as_str().unwrap()))
        .collect();
    assert_eq!(names, [("docs", "dir"), ("src", "dir"), ("top.txt", "file")]);
    assert_eq!(root["items"][0]["has_children"], true);
    let src = expect_json(server.get(&format!("/v1/projects/{id}/workspace/files?path=/src"), key).await, 200).await;
    let main = &src["items"][0];
    assert_eq!(
        (main["name"].as_str(), main["path"].as_str(), main["size"].as_u64()),
        (Some("main.go"), Some("/src/main.go"), Some(14))
    );
    assert!(main["mtime_unix_ms"].as_i64().unwrap() > 1_700_000_000_000);
    assert_eq!(main["mime_type"], "text/plain; charset=utf-8", "as the seed shows");
    for missing_or_file in ["/nope", "/top.txt", ""] {
        let listed = server.get(&format!("/v1/projects/{id}/workspace/files?path={missing_or_file}"), key).await;
        assert_eq!(listed.status(), 200);
    }

    let read = server.get(&format!("/v1/projects/{id}/workspace/file?path=/src/main.go"), key).await;
    assert_eq!(read.status(), 200);
    let content_type = read.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/") && content_type.ends_with("charset=utf-8"), "{content_type}");
    assert_eq!(read.headers()["cache-control"], "private, max-age=60");
    assert_eq!(read.bytes().await.unwrap().as_ref(), b"package main\n\n");
    expect_v1_error(
        server.get(&format!("/v1/projects/{id}/workspace/file?path=/src"), key).await,
        404,
        "workspace_files.not_found",
    )
    .await;
    for bad in ["../secret.txt", "/src/../../x", "/", "%2e%2e/x", "/a%00b"] {
        let response = server.get(&format!("/v1/projects/{id}/workspace/file?path={bad}"), key).await;
        expect_v1_error(response, 400, "workspace_files.invalid_path").await;
    }
    let listing_escape = server.get(&format!("/v1/projects/{id}/workspace/files?path=../.."), key).await;
    expect_v1_error(listing_escape, 400, "workspace_files.invalid_path").await;

    let deleted = server.delete(&format!("/v1/projects/{id}/workspace/file?path=/docs/readme.md"), key).await;
    assert_eq!(deleted.status(), 204);
    let root = expect_json(server.get(&format!("/v1/projects/{id}/workspace/files"), key).await, 200).await;
    assert_eq!(root["items"].as_array().unwrap().len(), 2, "docs went with its only file: {root}");
    expect_v1_error(
        server.delete(&format!("/v1/projects/{id}/workspace/file?path=/docs/readme.md"), key).await,
        404,
        "workspace_files.not_found",
    )
    .await;

    let session =
        server.post_json(&format!("/v1/projects/{id}/workspace/sessions"), key, json!({"session_type": "shell"})).await;
    let session = expect_json(session, 201).await;
    let session_ref = session["session_ref"].as_str().unwrap();
    assert!(session_ref.starts_with("shref_") && session_ref.len() == 6 + 32);
    assert_eq!(session["state"], "ready");
    let active = expect_json(server.get(&format!("/v1/projects/{id}/workspace"), key).await, 200).await;
    assert_eq!(active["status"], "active");
    assert_eq!(active["active_session"]["session_ref"], session_ref);
    let busy = server
        .patch_json(&format!("/v1/projects/{id}/workspace/sessions/{session_ref}"), key, json!({"state": "busy"}))
        .await;
    assert_eq!(expect_json(busy, 200).await["state"], "busy");
    let bad_state = server
        .patch_json(&format!("/v1/projects/{id}/workspace/sessions/{session_ref}"), key, json!({"state": "asleep"}))
        .await;
    expect_v1_error(bad_state, 422, "validation.error").await;
    let closed = server.delete(&format!("/v1/projects/{id}/workspace/sessions/{session_ref}"), key).await;
    assert_eq!(expect_json(closed, 200).await["state"], "closed");
    let idle = expect_json(server.get(&format!("/v1/projects/{id}/workspace"), key).await, 200).await;
    assert_eq!(idle["status"], "idle");
    let unknown =
        server.post_json(&format!("/v1/projects/{id}/workspace/sessions"), key, json!({"session_type": "vm"})).await;
    expect_v1_error(unknown, 422, "validation.error").await;
}

async fn file_reads_follow_http_caching_and_ranges(backend: Backend) {
    let server = TestServer::start(backend).await;
    let key = &server.owner_key;
    let project = expect_json(server.post_json("/v1/projects", key, json!({"name": "Ranges"})).await, 201).await;
    let id = project["id"].as_str().unwrap();
    let written = expect_json(put_file(&server, key, id, "/notes", b"hello, world").await, 201).await;
    expect_json(put_file(&server, key, id, "/blob", b"\x00\x01\x02\xff").await, 201).await;
    let path = format!("/v1/projects/{id}/workspace/file?path=/notes");

    let whole = server.get(&path, key).await;
    let etag = whole.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, format!("\"{}\"", written["sha256"].as_str().unwrap()));
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    assert_eq!(whole.headers()["content-type"], "text/plain; charset=utf-8", "sniffed: no extension");
    let cached = server.request(Method::GET, &path, Some(key)).header("If-None-Match", &etag).send().await.unwrap();
    assert_eq!(cached.status(), 304);
    assert_eq!(cached.headers()["cache-control"], whole.headers()["cache-control"], "a 304 says how long to keep it");
    let binary = server.get(&format!("/v1/projects/{id}/workspace/file?path=/blob"), key).await;
    assert_eq!(binary.headers()["content-type"], "application/octet-stream");

    let range = |value: &'static str| server.request(Method::GET, &path, Some(key)).header("Range", value).send();
    let part = range("bytes=0-4").await.unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.headers()["content-range"], "bytes 0-4/12");
    assert_eq!(part.bytes().await.unwrap().as_ref(), b"hello");
    let tail = range("bytes=-5").await.unwrap();
    assert_eq!(tail.bytes().await.unwrap().as_ref(), b"world");
    let outside = range("bytes=100-").await.unwrap();
    assert_eq!(outside.headers()["content-range"], "bytes */12");
    expect_v1_error(outside, 416, "workspace_files.range_not_satisfiable").await;
    let nonsense = range("bytes=9-2").await.unwrap();
    assert_eq!(nonsense.status(), 200, "a malformed range gets the whole body");

    let stale = server
        .request(Method::PUT, &format!("/v1/projects/{id}/workspace/file?path=/notes"), Some(key))
        .header("If-Match", "\"not-the-head\"")
        .body("lost")
        .send()
        .await
        .unwrap();
    expect_v1_error(stale, 412, "workspace_files.precondition_failed").await;
    let on_the_head = server
        .request(Method::PUT, &format!("/v1/projects/{id}/workspace/file?path=/notes"), Some(key))
        .header("If-Match", "\"".to_owned() + latest_revision(&server, key, id).await.as_str() + "\"")
        .body("kept")
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(on_the_head, 200).await["size"], 4);
}

async fn workspace_access_is_checked(backend: Backend) {
    let server = TestServer::start(backend).await;
    let owner = &server.owner_key;
    let project = expect_json(
        server.post_json("/v1/projects", owner, json!({"name": "Guarded", "visibility": "shared"})).await,
        201,
    )
    .await;
    let private = expect_json(server.post_json("/v1/projects", owner, json!({"name": "Secret"})).await, 201).await;
    let id = project["id"].as_str().unwrap();
    expect_json(put_file(&server, owner, id, "/a.txt", b"a").await, 201).await;

    let read_only =
        server.post_json("/v1/api-keys", owner, json!({"name": "ro", "scopes": ["data.projects.read"]})).await;
    let read_only = expect_json(read_only, 201).await["key"].as_str().unwrap().to_owned();
    expect_json(server.get(&format!("/v1/projects/{id}/workspace"), &read_only).await, 200).await;
    expect_v1_error(server.get(&format!("/v1/projects/{id}/workspace/files"), &read_only).await, 403, "auth.forbidden")
        .await;
    expect_v1_error(
        server.get(&format!("/v1/projects/{id}/workspace/file?path=/a.txt"), &read_only).await,
        403,
        "auth.forbidden",
    )
    .await;
    let write = put_file(&server, &read_only, id, "/b.txt", b"b").await;
    expect_v1_error(write, 403, "auth.forbidden").await;

    // Another user of the org has a workspace of their own in a shared project, and none in a private one.
    let other = server.owner_key_of("default", "other@localhost").await;
    let theirs = expect_json(server.get(&format!("/v1/projects/{id}/workspace/files"), &other).await, 200).await;
    assert_eq!(theirs["items"], json!([]), "workspaces are per user");
    let private_id = private["id"].as_str().unwrap();
    for path in ["workspace", "workspace/files", "workspace/file?path=/a.txt"] {
        let response = server.get(&format!("/v1/projects/{private_id}/{path}"), &other).await;
        expect_v1_error(response, 404, "projects.not_found").await;
    }
    let stranger = server.owner_key_of("globex", "boss@globex.test").await;
    for path in ["workspace", "workspace/files", "workspace/file?path=/a.txt"] {
        expect_v1_error(server.get(&format!("/v1/projects/{id}/{path}"), &stranger).await, 404, "projects.not_found")
            .await;
    }
    let stranger_write = put_file(&server, &stranger, id, "/x.txt", b"x").await;
    expect_v1_error(stranger_write, 404, "projects.not_found").await;
    assert_eq!(server.delete(&format!("/v1/projects/{id}"), owner).await.status(), 204);
    expect_v1_error(server.get(&format!("/v1/projects/{id}/workspace"), owner).await, 404, "projects.not_found").await;
}

/// The head revision, as the last write reported it (a no-op delete of a missing file would not).
async fn latest_revision(server: &TestServer, key: &str, project: &str) -> String {
    let written = put_file(server, key, project, "/.revision-probe", b"x").await;
    expect_json(written, 201).await["revision"].as_str().unwrap().to_owned()
}

async fn snapshots_publish_a_whole_tree(backend: Backend) {
    use sha2::Digest;
    let server = TestServer::start(backend).await;
    let key = &server.owner_key;
    let project = expect_json(server.post_json("/v1/projects", key, json!({"name": "Snapshots"})).await, 201).await;
    let id = project["id"].as_str().unwrap();
    let content: &'static [u8] = b"fn main() {}\n";
    let sha = hex::encode(sha2::Sha256::digest(content));
    let upload = |sha: String, body: &'static [u8]| {
        server.request(Method::PUT, &format!("/v1/projects/{id}/workspace/blobs/{sha}"), Some(key)).body(body).send()
    };
    let wrong = upload("0".repeat(64), content).await.unwrap();
    expect_v1_error(wrong, 422, "validation.error").await;
    expect_v1_error(upload("not-hex".into(), content).await.unwrap(), 422, "validation.error").await;
    let stored = expect_json(upload(sha.clone(), content).await.unwrap(), 201).await;
    assert_eq!(stored["size"], content.len());

    let entry = |path: &str, sha: &str| json!({"path": path, "type": "file", "size": content.len(), "mtime_unix_ms": 1_710_000_000_000i64, "sha256": sha});
    let snapshots = format!("/v1/projects/{id}/workspace/snapshots");
    let snapshot = |body: serde_json::Value| server.post_json(&snapshots, key, body);
    let missing = snapshot(json!({"entries": [entry("/src/main.rs", &"1".repeat(64))]})).await;
    expect_v1_error(missing, 422, "validation.error").await;
    let twice = snapshot(json!({"entries": [entry("/a.rs", &sha), entry("/a.rs", &sha)]})).await;
    assert_eq!(twice.status(), 422, "duplicate paths");
    let escaping = snapshot(json!({"entries": [entry("/../a.rs", &sha)]})).await;
    assert!(escaping.status().is_client_error());

    let first =
        expect_json(snapshot(json!({"entries": [entry("/src/main.rs", &sha), entry("/README.rs", &sha)]})).await, 201)
            .await;
    let revision = first["revision"].as_str().unwrap().to_owned();
    let root = expect_json(server.get(&format!("/v1/projects/{id}/workspace/files"), key).await, 200).await;
    let names: Vec<&str> = root["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["src", "README.rs"]);
    let read = server.get(&format!("/v1/projects/{id}/workspace/file?path=/src/main.rs"), key).await;
    assert_eq!(read.bytes().await.unwrap().as_ref(), content);

    let stale = snapshot(json!({"base_revision": "0000", "entries": []})).await;
    expect_v1_error(stale, 412, "workspace_files.precondition_failed").await;
    let emptied = snapshot(json!({"base_revision": revision, "entries": []})).await;
    expect_json(emptied, 201).await;
    let root = expect_json(server.get(&format!("/v1/projects/{id}/workspace/files"), key).await, 200).await;
    assert_eq!(root["items"], json!([]));
}

/// Writers racing on one workspace: each loser of the head's compare-and-swap retries on the new
/// head, so every file is there at the end.
async fn concurrent_writers_keep_each_others_files(backend: Backend) {
    let server = TestServer::start(backend).await;
    let key = &server.owner_key;
    let project = expect_json(server.post_json("/v1/projects", key, json!({"name": "Race"})).await, 201).await;
    let id = project["id"].as_str().unwrap();
    let writers = 8;
    let paths: Vec<String> = (0..writers).map(|n| format!("/race/file{n}.txt")).collect();
    let writes = paths.iter().map(|path| {
        server
            .request(Method::PUT, &format!("/v1/projects/{id}/workspace/file?path={path}"), Some(key))
            .body(path.clone())
            .send()
    });
    for response in futures::future::join_all(writes).await {
        expect_json(response.unwrap(), 201).await;
    }
    let listed =
        expect_json(server.get(&format!("/v1/projects/{id}/workspace/files?path=/race"), key).await, 200).await;
    let mut names: Vec<&str> =
        listed["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    names.sort();
    let expected: Vec<String> = (0..writers).map(|n| format!("file{n}.txt")).collect();
    assert_eq!(names, expected, "no write lost");
    for path in &paths {
        let read = server.get(&format!("/v1/projects/{id}/workspace/file?path={path}"), key).await;
        assert_eq!(read.text().await.unwrap(), *path);
    }
}
