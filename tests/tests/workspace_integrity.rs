//! Files hold up against faults and hostile requests: a bucket that is not there is not ready,
//! content missing from storage is an integrity failure, sizes come from the stored blob, refused
//! uploads leave nothing behind, conditional and range requests follow RFC 9110, JSON endpoints
//! refuse other media types, and a client that hangs up is its own doing. Both backends, with a
//! real S3-compatible server where files are stored.

use std::io::Write;

use projects_adapters_s3::test_support::TestS3Server;
use projects_blackbox_tests::{expect_json, expect_v1_error, on_both_backends, Backend, TestServer};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

on_both_backends!(
    ready_means_the_bucket_exists_and_takes_writes,
    content_missing_from_storage_is_a_logged_counted_404,
    snapshot_sizes_must_be_their_blobs_sizes,
    a_refused_blob_upload_leaves_no_bytes_behind,
    conditional_and_range_reads_follow_rfc_9110,
    json_endpoints_refuse_other_media_types,
    a_client_that_hangs_up_is_a_499_not_a_503,
);

async fn project(server: &TestServer) -> String {
    let created = server.post_json("/v1/projects", &server.owner_key, json!({"name": "files"})).await;
    expect_json(created, 201).await["id"].as_str().unwrap().to_owned()
}

async fn put_file(server: &TestServer, id: &str, path: &str, body: &'static [u8]) -> Value {
    let url = format!("/v1/projects/{id}/workspace/file?path={path}");
    let response = server.request(Method::PUT, &url, Some(&server.owner_key)).body(body).send().await.unwrap();
    let status = response.status().as_u16();
    assert!(status == 201 || status == 200, "{status}");
    response.json().await.unwrap()
}

async fn metric(server: &TestServer, prefix: &str) -> Option<u64> {
    let metrics = server.request(Method::GET, "/metrics", None).send().await.unwrap().text().await.unwrap();
    metrics.lines().find_map(|line| line.strip_prefix(prefix)).and_then(|n| n.trim().parse().ok())
}

/// Every file under `dir` on the S3 server's disk, relative to it.
fn stored_objects(dir: &std::path::Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if entry.path().is_dir() {
                stack.push(entry.path());
            } else {
                found.push(entry.path().display().to_string());
            }
        }
    }
    found
}

async fn ready_means_the_bucket_exists_and_takes_writes(backend: Backend) {
    let s3 = TestS3Server::start().await;
    let server = TestServer::start_on_s3(backend, &s3, "service").await;
    assert_eq!(server.request(Method::GET, "/readyz", None).send().await.unwrap().status(), 200);
    let missing_bucket = TestServer::start_with(backend, |config| {
        config.blobs.blob_store_url = Some("s3://no-such-bucket/service".to_owned());
        config.blobs.s3 = s3.settings();
    })
    .await;
    let ready = missing_bucket.request(Method::GET, "/readyz", None).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["checks"]["blob_store"], "unavailable", "{body}");
}

async fn content_missing_from_storage_is_a_logged_counted_404(backend: Backend) {
    let s3 = TestS3Server::start().await;
    let server = TestServer::start_on_s3(backend, &s3, "service").await;
    let key = &server.owner_key;
    let id = project(&server).await;
    put_file(&server, &id, "/lost.txt", b"lost").await;
    let workspace = expect_json(server.get(&format!("/v1/projects/{id}/workspace"), key).await, 200).await;
    let wsref = workspace["workspace_ref"].as_str().unwrap();
    let lost = hex::encode(Sha256::digest(b"lost"));
    std::fs::remove_file(s3.object_path(&format!("service/workspaces/{wsref}/blobs/{lost}"))).unwrap();
    assert_eq!(metric(&server, "workspace_integrity_failures_total ").await, Some(0));

    for range in [None, Some("bytes=0-1")] {
        let mut request =
            server.request(Method::GET, &format!("/v1/projects/{id}/workspace/file?path=/lost.txt"), Some(key));
        if let Some(range) = range {
            request = request.header("range", range);
        }
        let error = expect_v1_error(request.send().await.unwrap(), 404, "workspace_files.not_found").await;
        assert!(error["message"].as_str().unwrap().contains("missing from storage"), "{error}");
    }
    assert_eq!(metric(&server, "workspace_integrity_failures_total ").await, Some(2));
    // A path that was never there is the plain 404, and not an integrity failure.
    let never = server.get(&format!("/v1/projects/{id}/workspace/file?path=/never.txt"), key).await;
    let error = expect_v1_error(never, 404, "workspace_files.not_found").await;
    assert!(!error["message"].as_str().unwrap().contains("storage"), "{error}");
    assert_eq!(metric(&server, "workspace_integrity_failures_total ").await, Some(2));
}

async fn snapshot_sizes_must_be_their_blobs_sizes(backend: Backend) {
    let s3 = TestS3Server::start().await;
    let server = TestServer::start_on_s3(backend, &s3, "service").await;
    let key = &server.owner_key;
    let id = project(&server).await;
    let content = b"thirteen byte";
    let sha = hex::encode(Sha256::digest(content));
    let url = format!("/v1/projects/{id}/workspace/blobs/{sha}");
    let uploaded = server.request(Method::PUT, &url, Some(key)).body(&content[..]).send().await.unwrap();
    assert_eq!(expect_json(uploaded, 201).await["size"], 13);
    let entry = |size: u64| json!({"path": "/a.txt", "type": "file", "size": size, "sha256": sha});
    for lie in [14, 12, 0] {
        let body = json!({"entries": [entry(lie)]});
        let refused = server.post_json(&format!("/v1/projects/{id}/workspace/snapshots"), key, body).await;
        let error = expect_v1_error(refused, 422, "validation.error").await;
        assert!(error["details"]["entries"].as_str().unwrap().contains("13 bytes"), "{error}");
    }
    // A sha256 on any kind of entry is checked.
    let bad_dir = json!({"entries": [{"path": "/d", "type": "dir", "sha256": "not-a-sha"}]});
    let refused = server.post_json(&format!("/v1/projects/{id}/workspace/snapshots"), key, bad_dir).await;
    expect_v1_error(refused, 422, "validation.error").await;
    // Nothing was committed by the refusals; the truthful snapshot reads back whole.
    let files = expect_json(server.get(&format!("/v1/projects/{id}/workspace/files"), key).await, 200).await;
    assert_eq!(files["items"], json!([]));
    let body = json!({"entries": [entry(13)]});
    expect_json(server.post_json(&format!("/v1/projects/{id}/workspace/snapshots"), key, body).await, 201).await;
    let read = server.get(&format!("/v1/projects/{id}/workspace/file?path=/a.txt"), key).await;
    assert_eq!(read.headers()["content-length"], "13");
    assert_eq!(&read.bytes().await.unwrap()[..], content);
}

async fn a_refused_blob_upload_leaves_no_bytes_behind(backend: Backend) {
    let s3 = TestS3Server::start().await;
    let server = TestServer::start_on_s3(backend, &s3, "service").await;
    let key = &server.owner_key;
    let id = project(&server).await;
    let claimed = hex::encode(Sha256::digest(b"what was promised"));
    let url = format!("/v1/projects/{id}/workspace/blobs/{claimed}");
    let refused = server.request(Method::PUT, &url, Some(key)).body("something else").send().await.unwrap();
    expect_v1_error(refused, 422, "validation.error").await;
    let left = stored_objects(&s3.object_path("service/workspaces"));
    assert!(left.is_empty(), "the refused bytes are gone: {left:?}");
    // A malformed name is refused before any byte is stored.
    let url = format!("/v1/projects/{id}/workspace/blobs/XYZ");
    let refused = server.request(Method::PUT, &url, Some(key)).body("x").send().await.unwrap();
    expect_v1_error(refused, 422, "validation.error").await;
    assert!(stored_objects(&s3.object_path("service/workspaces")).is_empty());
}

async fn conditional_and_range_reads_follow_rfc_9110(backend: Backend) {
    let server = TestServer::start(backend).await;
    let key = &server.owner_key;
    let id = project(&server).await;
    put_file(&server, &id, "/full.txt", b"hello").await;
    put_file(&server, &id, "/empty.txt", b"").await;
    let read = |path: &str, header: (&'static str, &'static str)| {
        server
            .request(Method::GET, &format!("/v1/projects/{id}/workspace/file?path={path}"), Some(key))
            .header(header.0, header.1)
            .send()
    };
    let any = read("/full.txt", ("if-none-match", "*")).await.unwrap();
    assert_eq!(any.status(), 304, "`*` matches any current file");
    let other = read("/full.txt", ("if-none-match", "\"0000\"")).await.unwrap();
    assert_eq!(other.status(), 200);
    for range in ["bytes=-5", "bytes=0-", "bytes=0-0"] {
        let empty = read("/empty.txt", ("range", range)).await.unwrap();
        assert_eq!(empty.status(), 416, "{range} on an empty file");
        assert_eq!(empty.headers()["content-range"], "bytes */0");
    }
    let tail = read("/full.txt", ("range", "bytes=-3")).await.unwrap();
    assert_eq!(tail.status(), 206);
    assert_eq!(tail.headers()["content-range"], "bytes 2-4/5");
    assert_eq!(tail.text().await.unwrap(), "llo");
}

async fn json_endpoints_refuse_other_media_types(backend: Backend) {
    let server = TestServer::start(backend).await;
    let key = &server.owner_key;
    let body = r#"{"name": "typed"}"#;
    for (path, code_field) in [("/v1/projects", "code"), ("/api/v1/projects", "error")] {
        for content_type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"] {
            let refused = server
                .request(Method::POST, path, Some(key))
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(refused.status(), 415, "{path} {content_type}");
            let error: Value = refused.json().await.unwrap();
            let code = if code_field == "code" { &error["code"] } else { &error["error"]["code"] };
            assert!(code == "http.unsupported_media_type" || code == "UNSUPPORTED_MEDIA_TYPE", "{path}: {error}");
        }
    }
    let listed = expect_json(server.get("/v1/projects", key).await, 200).await;
    assert_eq!(listed, json!([]), "nothing was created");
    // No Content-Type is read as JSON; a +json type is JSON.
    let untyped = server.request(Method::POST, "/v1/projects", Some(key)).body(body).send().await.unwrap();
    expect_json(untyped, 201).await;
    let id = expect_json(server.get("/v1/projects", key).await, 200).await[0]["id"].as_str().unwrap().to_owned();
    let merge = server
        .request(Method::PATCH, &format!("/v1/projects/{id}"), Some(key))
        .header("content-type", "application/merge-patch+json")
        .body(r#"{"description": "typed"}"#)
        .send()
        .await
        .unwrap();
    expect_json(merge, 200).await;
    // File uploads take any type.
    let url = format!("/v1/projects/{id}/workspace/file?path=/page.html");
    let upload = server.request(Method::PUT, &url, Some(key)).header("content-type", "text/html").body("<p>").send();
    expect_json(upload.await.unwrap(), 201).await;
}

async fn a_client_that_hangs_up_is_a_499_not_a_503(backend: Backend) {
    let server = TestServer::start(backend).await;
    let id = project(&server).await;
    let address = server.base_url.trim_start_matches("http://").to_owned();
    let owner_key = server.owner_key.clone();
    let path = format!("/v1/projects/{id}/workspace/file?path=/half.bin");
    tokio::task::spawn_blocking(move || {
        let mut socket = std::net::TcpStream::connect(address).unwrap();
        let head = format!(
            "PUT {path} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {owner_key}\r\nContent-Length: 100000\r\n\r\n"
        );
        socket.write_all(head.as_bytes()).unwrap();
        socket.write_all(&[7u8; 1000]).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(200));
        // Gone with 99,000 bytes unsent.
    })
    .await
    .unwrap();
    let route = r#"http_requests_total{method="PUT",route="/v1/projects/{project_id}/workspace/file",status="#;
    let mut closed = None;
    for _ in 0..50 {
        closed = metric(&server, &format!("{route}\"499\"}} ")).await;
        if closed.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(closed, Some(1), "counted as the client's doing");
    assert_eq!(metric(&server, &format!("{route}\"503\"}} ")).await, None, "not as the blob store's");
    assert_eq!(metric(&server, r#"dependency_errors_total{dependency="blob_store"} "#).await.unwrap_or(0), 0);
    let files =
        expect_json(server.get(&format!("/v1/projects/{id}/workspace/files"), &server.owner_key).await, 200).await;
    assert_eq!(files["items"], json!([]), "nothing half-written is listed");
}
