//! Roles, scoped keys and the 401 → 403 → 422 order, over HTTP on both backends.

use projects_blackbox_tests::{expect_json, expect_v1_error, on_both_backends, Backend, TestServer};
use reqwest::Method;
use serde_json::json;

on_both_backends!(
    permissions_are_checked_before_the_body,
    scoped_keys_narrow_the_role,
    key_scopes_cannot_exceed_the_role_or_the_caller,
    members_are_added_once_and_owners_only_by_owners,
    roles_change_within_the_owner_rules,
);

/// Adds a member with `role` and returns a key of theirs narrowed to `scopes`.
async fn member_key(server: &TestServer, email: &str, role: &str, scopes: &[&str]) -> String {
    let (_, own_key) = server.add_member(email, role).await;
    server.scoped_key(&own_key, scopes).await
}

async fn permissions_are_checked_before_the_body(backend: Backend) {
    let server = TestServer::start(backend).await;
    let viewer = member_key(&server, "viewer@localhost", "viewer", &["data.projects.read"]).await;
    let forbidden = server.post_json("/v1/projects", &viewer, json!({"name": "nope"})).await;
    let error = expect_v1_error(forbidden, 403, "auth.forbidden").await;
    assert!(error["message"].as_str().unwrap().contains("data.projects.manage"), "{error}");
    // A broken body does not change the answer: permission comes first.
    let broken = server.request(Method::POST, "/v1/projects", Some(&viewer)).body("{").send().await.unwrap();
    expect_v1_error(broken, 403, "auth.forbidden").await;
    expect_json(server.get("/v1/projects", &viewer).await, 200).await;
}

async fn scoped_keys_narrow_the_role(backend: Backend) {
    let server = TestServer::start(backend).await;
    let owner = &server.owner_key;
    let created =
        server.post_json("/v1/api-keys", owner, json!({"name": "read only", "scopes": ["data.projects.read"]})).await;
    let created = expect_json(created, 201).await;
    assert_eq!(created["scopes"], json!(["data.projects.read"]));
    let read_only = created["key"].as_str().unwrap();
    assert!(read_only.starts_with(created["key_prefix"].as_str().unwrap()));
    assert_eq!(created["key_prefix"].as_str().unwrap().len(), "ak-".len() + 8);

    expect_json(server.post_json("/v1/projects", owner, json!({"name": "Visible"})).await, 201).await;
    let listed = expect_json(server.get("/v1/projects", read_only).await, 200).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let denied = server.post_json("/v1/projects", read_only, json!({"name": "Denied"})).await;
    expect_v1_error(denied, 403, "auth.forbidden").await;
    let denied = server.post_json("/v1/api-keys", read_only, json!({"name": "x", "scopes": []})).await;
    expect_v1_error(denied, 403, "auth.forbidden").await;
}

async fn key_scopes_cannot_exceed_the_role_or_the_caller(backend: Backend) {
    let server = TestServer::start(backend).await;
    let owner = &server.owner_key;
    let unknown =
        server.post_json("/v1/api-keys", owner, json!({"name": "x", "scopes": ["data.projects.delete"]})).await;
    let error = expect_v1_error(unknown, 422, "validation.error").await;
    assert!(error["details"]["scopes"].as_str().unwrap().contains("data.projects.delete"), "{error}");

    let (viewer_id, viewer_key) = server.add_member("v@localhost", "viewer").await;
    let viewer = json!({"user_id": viewer_id});
    let beyond_role =
        server.post_json("/v1/api-keys", &viewer_key, json!({"name": "x", "scopes": ["data.projects.manage"]})).await;
    expect_v1_error(beyond_role, 403, "auth.forbidden").await;

    let member = member_key(&server, "m@localhost", "member", &["data.projects.read", "data.api_keys.manage"]).await;
    // The member's own role allows data.projects.manage, but the calling key does not hold it.
    let beyond_caller =
        server.post_json("/v1/api-keys", &member, json!({"name": "x", "scopes": ["data.projects.manage"]})).await;
    expect_v1_error(beyond_caller, 403, "auth.forbidden").await;
    let for_someone_else = server
        .post_json("/v1/api-keys", &member, json!({"name": "x", "scopes": [], "user_id": viewer["user_id"]}))
        .await;
    expect_v1_error(for_someone_else, 403, "auth.forbidden").await;
}

async fn members_are_added_once_and_owners_only_by_owners(backend: Backend) {
    let server = TestServer::start(backend).await;
    let owner = &server.owner_key;
    expect_json(
        server.post_json("/v1/members", owner, json!({"email": "Ada@Example.com", "role": "admin"})).await,
        201,
    )
    .await;
    let again = server.post_json("/v1/members", owner, json!({"email": "ada@example.com", "role": "member"})).await;
    expect_v1_error(again, 409, "members.conflict").await;
    let bad = server.post_json("/v1/members", owner, json!({"email": "not an email", "role": "chief"})).await;
    expect_v1_error(bad, 422, "validation.error").await;

    let admin = member_key(&server, "admin@localhost", "admin", &["org.members.manage", "data.api_keys.manage"]).await;
    let escalate =
        server.post_json("/v1/members", &admin, json!({"email": "new-owner@localhost", "role": "owner"})).await;
    expect_v1_error(escalate, 403, "auth.forbidden").await;
    expect_json(
        server.post_json("/v1/members", &admin, json!({"email": "helper@localhost", "role": "member"})).await,
        201,
    )
    .await;
    let member = member_key(&server, "plain@localhost", "member", &["data.projects.read"]).await;
    let denied = server.post_json("/v1/members", &member, json!({"email": "x@localhost", "role": "viewer"})).await;
    expect_v1_error(denied, 403, "auth.forbidden").await;
}

async fn roles_change_within_the_owner_rules(backend: Backend) {
    let server = TestServer::start(backend).await;
    let owner = &server.owner_key;
    let me = expect_json(server.get("/v1/me", owner).await, 200).await;
    let owner_id = me["user_id"].as_str().unwrap().to_owned();
    let (ada_id, ada_key) = server.add_member("ada@localhost", "admin").await;
    let ada_key = server.scoped_key(&ada_key, &["org.members.manage"]).await;

    let demoted = server.patch_json(&format!("/v1/members/{ada_id}"), owner, json!({"role": "member"})).await;
    assert_eq!(expect_json(demoted, 200).await["role"], "member");
    let members = expect_json(server.get("/v1/members", owner).await, 200).await;
    assert!(members.as_array().unwrap().iter().any(|m| m["user_id"] == ada_id.as_str() && m["role"] == "member"));
    // A member's key no longer carries org.members.manage, whatever its scopes say.
    let denied = server.patch_json(&format!("/v1/members/{owner_id}"), &ada_key, json!({"role": "viewer"})).await;
    expect_v1_error(denied, 403, "auth.forbidden").await;

    let promoted = server.patch_json(&format!("/v1/members/{ada_id}"), owner, json!({"role": "admin"})).await;
    expect_json(promoted, 200).await;
    let on_owner = server.patch_json(&format!("/v1/members/{owner_id}"), &ada_key, json!({"role": "viewer"})).await;
    expect_v1_error(on_owner, 403, "auth.forbidden").await;
    let to_owner = server.patch_json(&format!("/v1/members/{ada_id}"), &ada_key, json!({"role": "owner"})).await;
    expect_v1_error(to_owner, 422, "validation.error").await;
    let on_self = server.patch_json(&format!("/v1/members/{owner_id}"), owner, json!({"role": "admin"})).await;
    expect_v1_error(on_self, 422, "validation.error").await;
    for missing in ["0193a5b0-7e1c-7c3e-9f4a-2b8d6c1e5f70", "not-an-id"] {
        let response = server.patch_json(&format!("/v1/members/{missing}"), owner, json!({"role": "viewer"})).await;
        expect_v1_error(response, 404, "members.not_found").await;
    }
}
