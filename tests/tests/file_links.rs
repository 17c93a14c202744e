//! Signed links to a workspace file: they work without a key, show the revision they were made
//! at, and die at expiry, at tampering, when their key is revoked and with their project. Over
//! HTTP on both backends.

use std::time::Duration;

use projects_blackbox_tests::{expect_json, expect_v1_error, on_both_backends, Backend, TestServer};
use reqwest::Method;
use serde_json::json;

on_both_backends!(a_signed_link_works_without_a_key_and_dies_as_documented);

async fn a_signed_link_works_without_a_key_and_dies_as_documented(backend: Backend) {
    let server = TestServer::start(backend).await;
    let owner = &server.owner_key;
    let project = expect_json(server.post_json("/v1/projects", owner, json!({"name": "Linked"})).await, 201).await;
    let project = format!("/v1/projects/{}", project["id"].as_str().unwrap());
    let file = format!("{project}/workspace/file?path=/chart.png");
    let put = |key: &str, body: &'static str| server.request(Method::PUT, &file, Some(key)).body(body).send();
    expect_json(put(owner, "first chart").await.unwrap(), 201).await;
    let links = format!("{project}/workspace/file-links");
    let make = |key: &str, body: serde_json::Value| {
        let (links, key, server) = (links.clone(), key.to_owned(), &server);
        async move { server.post_json(&links, &key, body).await }
    };
    let follow = |url: &str| {
        let path = url.strip_prefix(&server.base_url).unwrap_or_else(|| panic!("{url} is not on this server"));
        server.request(Method::GET, path, None)
    };

    let link = expect_json(make(owner, json!({"path": "/chart.png", "expires_in_secs": 60})).await, 201).await;
    let url = link["url"].as_str().unwrap().to_owned();
    assert!(link["expires_at"].is_string(), "{link}");
    let served = follow(&url).send().await.unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.text().await.unwrap(), "first chart");
    let ranged = follow(&url).header("Range", "bytes=0-4").send().await.unwrap();
    assert_eq!((ranged.status().as_u16(), ranged.text().await.unwrap()), (206, "first".to_owned()));

    // The link shows what its maker saw, whatever is written after.
    expect_json(put(owner, "second chart").await.unwrap(), 200).await;
    assert_eq!(follow(&url).send().await.unwrap().text().await.unwrap(), "first chart");

    // Tampered with, it is nobody's.
    let (body, tag) = url.rsplit_once('.').unwrap();
    let flipped = match tag.strip_prefix('A') {
        Some(rest) => format!("B{rest}"),
        None => format!("A{}", &tag[1..]),
    };
    expect_v1_error(follow(&format!("{body}.{flipped}")).send().await.unwrap(), 401, "auth.invalid_token").await;
    expect_v1_error(
        follow(&format!("{}/v1/file-links/junk", server.base_url)).send().await.unwrap(),
        401,
        "auth.invalid_token",
    )
    .await;

    // Out of range, for a missing file, or without the permission, no link is made.
    for secs in [0, 86_401] {
        let refused = make(owner, json!({"path": "/chart.png", "expires_in_secs": secs})).await;
        expect_v1_error(refused, 422, "validation.error").await;
    }
    expect_v1_error(
        make(owner, json!({"path": "/nope.png", "expires_in_secs": 60})).await,
        404,
        "workspace_files.not_found",
    )
    .await;

    // It dies at expiry.
    let brief = expect_json(make(owner, json!({"path": "/chart.png", "expires_in_secs": 1})).await, 201).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    expect_v1_error(follow(brief["url"].as_str().unwrap()).send().await.unwrap(), 401, "auth.invalid_token").await;

    // It dies with the key that made it.
    let scoped = server.scoped_key(owner, &["data.projects.read", "data.runs.read", "data.api_keys.manage"]).await;
    let theirs = expect_json(make(&scoped, json!({"path": "/chart.png", "expires_in_secs": 600})).await, 201).await;
    let theirs = theirs["url"].as_str().unwrap().to_owned();
    assert_eq!(follow(&theirs).send().await.unwrap().status(), 200);
    let keys = expect_json(server.get("/v1/api-keys", owner).await, 200).await;
    let key_id =
        keys.as_array().unwrap().iter().find(|k| k["name"] == "scoped").unwrap()["id"].as_str().unwrap().to_owned();
    assert!(server.delete(&format!("/v1/api-keys/{key_id}"), owner).await.status().is_success());
    expect_v1_error(follow(&theirs).send().await.unwrap(), 401, "auth.invalid_token").await;
    assert_eq!(follow(&url).send().await.unwrap().status(), 200, "the owner's link lives on");

    // And with its project.
    assert_eq!(server.delete(&project, owner).await.status(), 204);
    expect_v1_error(follow(&url).send().await.unwrap(), 401, "auth.invalid_token").await;
}
