//! Workspaces written before the tree store (a head revision in the database, the tree in a
//! manifest object, blobs beside it) are carried over on first touch, on both backends.

use projects_blackbox_tests::{expect_json, on_both_backends, Backend, TestServer};
use reqwest::Method;
use serde_json::json;
use sha2::{Digest, Sha256};

on_both_backends!(a_workspace_from_the_manifest_store_is_carried_over);

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A user whose workspace was last written by the manifest-store version of the service finds
/// every file where it was, under the same revision, and can go on writing; the old manifests
/// go, and the blobs no tree references are collected.
async fn a_workspace_from_the_manifest_store_is_carried_over(backend: Backend) {
    let server = TestServer::start_with(backend, |config| {
        config.blobs.blob_store_url = None;
        config.app.blob_grace_secs = 0;
    })
    .await;
    let key = &server.owner_key;
    let project = expect_json(server.post_json("/v1/projects", key, json!({"name": "Old"})).await, 201).await;
    let id = project["id"].as_str().unwrap();
    let workspace = expect_json(server.get(&format!("/v1/projects/{id}/workspace"), key).await, 200).await;
    let wsref = workspace["workspace_ref"].as_str().unwrap();

    // What the manifest store left: blobs by SHA-256, a manifest per revision, the head's id.
    let root = server.data_dir().join("blobs/workspaces").join(wsref);
    let (main, readme, orphan) = (b"package main\n".as_slice(), b"# hi\n".as_slice(), b"lost race".as_slice());
    std::fs::create_dir_all(root.join("blobs")).unwrap();
    std::fs::create_dir_all(root.join("manifests")).unwrap();
    for content in [main, readme, orphan] {
        std::fs::write(root.join("blobs").join(sha(content)), content).unwrap();
    }
    let manifest = json!({
        "version": 1, "revision": "0123456789abcdef0123456789abcdef", "base_revision": "fedcba9876543210fedcba9876543210",
        "created_at": "2026-11-30T12:00:00Z",
        "entries": [
            {"path": "/README.md", "type": "file", "size": readme.len(), "mtime_unix_ms": 1, "sha256": sha(readme), "mode": 420},
            {"path": "/docs", "type": "dir", "size": 0, "mtime_unix_ms": 1},
            {"path": "/src/main.go", "type": "file", "size": main.len(), "mtime_unix_ms": 2, "sha256": sha(main), "mode": 420}
        ],
        "stats": {"file_count": 2, "dir_count": 1, "total_bytes": readme.len() + main.len()}
    });
    let old = "0123456789abcdef0123456789abcdef";
    std::fs::write(root.join(format!("manifests/{old}.json")), serde_json::to_vec(&manifest).unwrap()).unwrap();
    std::fs::write(root.join("manifests/fedcba9876543210fedcba9876543210.json"), b"{}").unwrap();
    server
        .execute_sql(&format!("UPDATE workspaces SET head_revision = '{old}' WHERE workspace_ref = '{wsref}'"))
        .await
        .unwrap();

    let listed = expect_json(server.get(&format!("/v1/projects/{id}/workspace/files"), key).await, 200).await;
    let names: Vec<(&str, &str)> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["name"].as_str().unwrap(), i["type"].as_str().unwrap()))
        .collect();
    assert_eq!(names, [("docs", "dir"), ("src", "dir"), ("README.md", "file")], "{listed}");
    let read = server.get(&format!("/v1/projects/{id}/workspace/file?path=/src/main.go"), key).await;
    assert_eq!(read.status(), 200);
    assert_eq!(read.bytes().await.unwrap().as_ref(), main);
    let revisions = expect_json(server.get(&format!("/v1/projects/{id}/workspace/revisions"), key).await, 200).await;
    assert_eq!(revisions.as_array().unwrap().len(), 1, "{revisions}");
    assert_eq!(revisions[0]["revision"], old, "the head keeps its id");
    assert_eq!(revisions[0]["base_revision"], "fedcba9876543210fedcba9876543210");
    let manifests_left = std::fs::read_dir(root.join("manifests")).map(|dir| dir.count()).unwrap_or(0);
    assert_eq!(manifests_left, 0, "the old manifests are gone once carried over");

    // Writing goes on from the carried-over head.
    let written = server
        .request(Method::PUT, &format!("/v1/projects/{id}/workspace/file?path=/src/new.go"), Some(key))
        .header("If-Match", old)
        .body("package new\n")
        .send()
        .await
        .unwrap();
    let written = expect_json(written, 201).await;
    let revisions = expect_json(server.get(&format!("/v1/projects/{id}/workspace/revisions"), key).await, 200).await;
    assert_eq!(revisions[0]["revision"], written["revision"]);
    assert_eq!(revisions[0]["base_revision"], old);

    let report = server.app().collect_garbage().await.expect("gc");
    assert!(report.blobs_removed >= 1, "{report:?}");
    assert!(!root.join("blobs").join(sha(orphan)).exists(), "a blob no tree referenced is collected");
    for content in [main, readme] {
        assert!(root.join("blobs").join(sha(content)).exists(), "referenced blobs stay");
    }
    let manifest =
        expect_json(server.get(&format!("/v1/projects/{id}/workspace/manifest?revision={old}"), key).await, 200).await;
    let paths: Vec<&str> =
        manifest["entries"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["/README.md", "/docs", "/src/main.go"], "{manifest}");
}
