//! Duplicating a project on both surfaces: the copy has the source's fields under a new name and
//! slug, its workspace lists the same tree with the same sha256s, the source is untouched by
//! writes to the copy, and the copy's files outlive the source's garbage. Over HTTP on both
//! backends, and with the blobs on a real S3-compatible server.

use projects_adapters_s3::test_support::TestS3Server;
use projects_blackbox_tests::{expect_json, expect_v1_error, on_both_backends, Backend, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

on_both_backends!(
    a_duplicate_starts_at_the_source_tree_and_goes_its_own_way,
    a_duplicate_on_s3_copies_inside_the_store
);

async fn put_file(server: &TestServer, project: &str, path: &str, body: &str) -> u16 {
    let url = format!("{project}/workspace/file?path={path}");
    server
        .request(Method::PUT, &url, Some(&server.owner_key))
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn read_file(server: &TestServer, project: &str, path: &str) -> (u16, String) {
    let response = server.get(&format!("{project}/workspace/file?path={path}"), &server.owner_key).await;
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The head's manifest entries as `(path, kind, sha256, size)`, in path order.
async fn tree(server: &TestServer, project: &str) -> Vec<(String, String, String, u64)> {
    let manifest =
        expect_json(server.get(&format!("{project}/workspace/manifest"), &server.owner_key).await, 200).await;
    let mut entries: Vec<_> = manifest["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let path = e["path"].as_str().unwrap().to_owned();
            (
                path,
                e["type"].as_str().unwrap_or_default().to_owned(),
                e["sha256"].to_string(),
                e["size"].as_u64().unwrap(),
            )
        })
        .collect();
    entries.sort();
    entries
}

async fn head(server: &TestServer, project: &str) -> Value {
    expect_json(server.get(&format!("{project}/workspace"), &server.owner_key).await, 200).await["head_revision"]
        .clone()
}

async fn a_duplicate_starts_at_the_source_tree_and_goes_its_own_way(backend: Backend) {
    let server = TestServer::start_with(backend, |config| {
        config.app.blob_grace_secs = 0;
        config.app.keep_revisions = 1;
        config.app.keep_revisions_days = 0;
    })
    .await;
    duplicate_scenario(&server).await;

    // Nothing of another org's, nothing unknown, nothing without the scope.
    let other = server.owner_key_of("elsewhere", "them@example.com").await;
    let mine =
        expect_json(server.post_json("/v1/projects", &server.owner_key, json!({"name": "Mine"})).await, 201).await;
    let mine = mine["id"].as_str().unwrap();
    let theirs = server.post_json(&format!("/v1/projects/{mine}/duplicate"), &other, json!({})).await;
    expect_v1_error(theirs, 404, "projects.not_found").await;
    let unknown =
        server.post_json(&format!("/v1/projects/{}/duplicate", uuid::Uuid::nil()), &server.owner_key, json!({})).await;
    expect_v1_error(unknown, 404, "projects.not_found").await;
    let reader = server.scoped_key(&server.owner_key, &["data.projects.read", "data.runs.read"]).await;
    let refused = server.post_json(&format!("/v1/projects/{mine}/duplicate"), &reader, json!({})).await;
    expect_v1_error(refused, 403, "auth.forbidden").await;
    let bad_name =
        server.post_json(&format!("/v1/projects/{mine}/duplicate"), &server.owner_key, json!({"name": " "})).await;
    expect_v1_error(bad_name, 422, "validation.error").await;
    let null_body = server.request(Method::POST, &format!("/v1/projects/{mine}/duplicate"), Some(&server.owner_key));
    let null_body = null_body.header("Content-Type", "application/json").body("null").send().await.unwrap();
    assert_eq!(expect_json(null_body, 201).await["name"], "Mine (copy)", "a null body is no body");
    let unknown_field =
        server.post_json(&format!("/v1/projects/{mine}/duplicate"), &server.owner_key, json!({"slug": "x"})).await;
    expect_v1_error(unknown_field, 422, "validation.error").await;
}

async fn a_duplicate_on_s3_copies_inside_the_store(backend: Backend) {
    let s3 = TestS3Server::start().await;
    let server = TestServer::start_on_s3(backend, &s3, "service").await;
    duplicate_scenario(&server).await;
}

async fn duplicate_scenario(server: &TestServer) {
    let owner = &server.owner_key;
    let body = json!({"name": "Research", "description": "notes", "tags": ["q3", "legal"], "metadata": {"k": [1]}});
    let source = expect_json(server.post_json("/api/v1/projects", owner, body).await, 201).await["data"].clone();
    let source_path = format!("/v1/projects/{}", source["id"].as_str().unwrap());
    for (path, content) in [("/a.txt", "alpha"), ("/src/lib.rs", "fn main() {}"), ("/src/deep/b.bin", "bytes\0here")] {
        assert!([200, 201].contains(&put_file(server, &source_path, path, content).await));
    }
    // Two paths with the same content share one blob: it is copied once and read twice.
    assert_eq!(put_file(server, &source_path, "/same-as-a.txt", "alpha").await, 201);
    let source_tree = tree(server, &source_path).await;
    let source_head = head(server, &source_path).await;

    let copy = expect_json(server.post_json(&format!("{source_path}/duplicate"), owner, json!({})).await, 201).await;
    assert_eq!(copy["name"], "Research (copy)");
    assert_ne!(copy["id"], source["id"]);
    assert_ne!(copy["slug"], source["slug"]);
    let alumia_view = |id: Value| async move {
        let id = id.as_str().unwrap().to_owned();
        expect_json(server.get(&format!("/api/v1/projects/{id}"), owner).await, 200).await["data"].clone()
    };
    let (seen_copy, seen_source) = (alumia_view(copy["id"].clone()).await, alumia_view(source["id"].clone()).await);
    for field in ["description", "tags", "metadata", "visibility", "workspaceId"] {
        assert_eq!(seen_copy[field], seen_source[field], "{field} is carried over: {seen_copy}");
    }
    let copy_path = format!("/v1/projects/{}", copy["id"].as_str().unwrap());
    assert_eq!(tree(server, &copy_path).await, source_tree, "the copy lists the same tree with the same sha256s");
    assert_eq!(read_file(server, &copy_path, "/src/deep/b.bin").await, (200, "bytes\0here".to_owned()));

    // The copy goes its own way; the source is untouched.
    assert_eq!(put_file(server, &copy_path, "/a.txt", "changed in the copy").await, 200);
    assert_eq!(put_file(server, &copy_path, "/new.txt", "only in the copy").await, 201);
    assert_eq!(read_file(server, &source_path, "/a.txt").await, (200, "alpha".to_owned()));
    assert_eq!(read_file(server, &source_path, "/new.txt").await.0, 404);
    assert_eq!(head(server, &source_path).await, source_head, "the source's head did not move");
    assert_eq!(tree(server, &source_path).await, source_tree);

    // The source's garbage is not the copy's: overwrite and delete in the source, collect, and
    // the copy still reads every file it had.
    assert_eq!(put_file(server, &source_path, "/src/lib.rs", "rewritten").await, 200);
    let deleted = server.delete(&format!("{source_path}/workspace/file?path=/same-as-a.txt"), owner).await;
    assert!(deleted.status().is_success(), "{}", deleted.status());
    server.app().collect_garbage().await.expect("gc");
    assert_eq!(read_file(server, &copy_path, "/src/lib.rs").await, (200, "fn main() {}".to_owned()));
    assert_eq!(read_file(server, &copy_path, "/same-as-a.txt").await, (200, "alpha".to_owned()));
    assert_eq!(read_file(server, &copy_path, "/a.txt").await, (200, "changed in the copy".to_owned()));

    // A duplicate of an empty project, by slug on /api/v1 with a name: a project with no tree.
    let empty = expect_json(server.post_json("/v1/projects", owner, json!({"name": "Empty"})).await, 201).await;
    let slug = empty["slug"].as_str().unwrap();
    let response =
        server.post_json(&format!("/api/v1/projects/{slug}/duplicate"), owner, json!({"name": "Take two"})).await;
    let alumia = expect_json(response, 201).await;
    assert_eq!(alumia["success"], true, "{alumia}");
    assert_eq!(alumia["data"]["name"], "Take two");
    let take_two = format!("/v1/projects/{}", alumia["data"]["id"].as_str().unwrap());
    let listing = expect_json(server.get(&format!("{take_two}/workspace/files?path=/"), owner).await, 200).await;
    assert_eq!(listing["items"], json!([]), "{listing}");

    // On /api/v1 with an empty body, the source with files: same tree again.
    let id = source["id"].as_str().unwrap();
    let response =
        server.request(Method::POST, &format!("/api/v1/projects/{id}/duplicate"), Some(owner)).send().await.unwrap();
    let again = expect_json(response, 201).await;
    assert_eq!(again["data"]["name"], "Research (copy)");
    assert_ne!(again["data"]["slug"], copy["slug"]);
    let again_path = format!("/v1/projects/{}", again["data"]["id"].as_str().unwrap());
    assert_eq!(tree(server, &again_path).await, tree(server, &source_path).await);
}
