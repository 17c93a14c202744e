//! Updating, deleting, restoring, idempotent creates and the audit trail on `/v1`, on both backends.

use std::collections::BTreeSet;

use projects_blackbox_tests::{expect_json, expect_v1_error, on_both_backends, Backend, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

on_both_backends!(
    stale_if_match_is_refused,
    delete_then_restore_with_a_fresh_slug,
    creates_are_idempotent_by_key,
    concurrent_creates_of_one_name_get_distinct_slugs,
    paging_sees_each_project_once_while_others_are_created,
    the_audit_trail_records_who_changed_what,
);

async fn stale_if_match_is_refused(backend: Backend) {
    let server = TestServer::start(backend).await;
    let key = &server.owner_key;
    let created = server.post_json("/v1/projects", key, json!({"name": "Versioned"})).await;
    let etag = created.headers()["etag"].to_str().unwrap().to_owned();
    let id = expect_json(created, 201).await["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/projects/{id}");

    let patch = |etag: &str, body: Value| {
        server.request(Method::PATCH, &path, Some(key)).header("If-Match", etag).json(&body).send()
    };
    let first = patch(&etag, json!({"name": "First"})).await.unwrap();
    let new_etag = first.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(new_etag, etag);
    expect_json(first, 200).await;
    let stale = patch(&etag, json!({"name": "Lost update"})).await.unwrap();
    expect_v1_error(stale, 412, "projects.precondition_failed").await;
    let garbage = patch("\"nonsense\"", json!({"name": "x"})).await.unwrap();
    expect_v1_error(garbage, 412, "projects.precondition_failed").await;
    // A bad body is a bad body, whatever the If-Match says.
    let invalid = patch("\"nonsense\"", json!({"name": ""})).await.unwrap();
    expect_v1_error(invalid, 422, "validation.error").await;
    expect_json(patch(&new_etag, json!({"status": "archived"})).await.unwrap(), 200).await;
    let current = expect_json(server.get(&path, key).await, 200).await;
    assert_eq!((current["name"].as_str(), current["status"].as_str()), (Some("First"), Some("archived")));
    // Without If-Match the last writer wins.
    expect_json(server.patch_json(&path, key, json!({"name": "Unconditional"})).await, 200).await;
}

async fn delete_then_restore_with_a_fresh_slug(backend: Backend) {
    let server = TestServer::start(backend).await;
    let owner = &server.owner_key;
    let project = expect_json(
        server.post_json("/v1/projects", owner, json!({"name": "Phoenix", "visibility": "shared"})).await,
        201,
    )
    .await;
    let id = project["id"].as_str().unwrap();
    let (_, member_key) = server.add_member("m@localhost", "member").await;
    let member_key = server.scoped_key(&member_key, &["data.projects.read", "data.projects.manage"]).await;
    // A member who can see it may not delete someone else's project.
    expect_v1_error(server.delete(&format!("/v1/projects/{id}"), &member_key).await, 403, "auth.forbidden").await;

    assert_eq!(server.delete(&format!("/v1/projects/{id}"), owner).await.status(), 204);
    expect_v1_error(server.get(&format!("/v1/projects/{id}"), owner).await, 404, "projects.not_found").await;
    expect_v1_error(server.delete(&format!("/v1/projects/{id}"), owner).await, 404, "projects.not_found").await;
    let usage = json!({"cost_usd": "1", "model": "m", "input_tokens": 1, "output_tokens": 1});
    let on_deleted = server.post_json(&format!("/v1/projects/{id}/usage"), owner, usage).await;
    expect_v1_error(on_deleted, 404, "projects.not_found").await;

    let heir = expect_json(server.post_json("/v1/projects", owner, json!({"name": "Phoenix"})).await, 201).await;
    assert_eq!(heir["slug"], "phoenix", "a deleted project frees its slug");
    let restore = |key: &str| server.request(Method::POST, &format!("/v1/projects/{id}/restore"), Some(key)).send();
    // They could see it, so they learn nothing new: but only its owner or an admin restores it.
    expect_v1_error(restore(&member_key).await.unwrap(), 403, "auth.forbidden").await;
    let restored = expect_json(restore(owner).await.unwrap(), 200).await;
    assert_eq!(restored["id"], id);
    assert_eq!(restored["slug"], "phoenix-2", "a fresh suffix rather than a failure");
    expect_json(server.get(&format!("/v1/projects/{id}"), owner).await, 200).await;
    let again = expect_json(restore(owner).await.unwrap(), 200).await;
    assert_eq!(again["slug"], "phoenix-2", "restoring a live project is a no-op");
    let missing =
        server.request(Method::POST, "/v1/projects/0193a5b0-7e1c-7c3e-9f4a-2b8d6c1e5f70/restore", Some(owner));
    expect_v1_error(missing.send().await.unwrap(), 404, "projects.not_found").await;
}

async fn creates_are_idempotent_by_key(backend: Backend) {
    let server = TestServer::start(backend).await;
    let key = &server.owner_key;
    for (path, id_of) in [("/v1/projects", "/id"), ("/api/v1/projects", "/data/id")] {
        let create = |idempotency: &'static str, body: Value| {
            server.request(Method::POST, path, Some(key)).header("Idempotency-Key", idempotency).json(&body).send()
        };
        let first = create("once", json!({"name": "Only once"})).await.unwrap();
        let first = expect_json(first, 201).await;
        let repeat = expect_json(create("once", json!({"name": "Only once"})).await.unwrap(), 201).await;
        assert_eq!(first.pointer(id_of), repeat.pointer(id_of), "{path}: the first project again");
        let other = create("once", json!({"name": "Something else"})).await.unwrap();
        assert_eq!(other.status(), 409, "{path}: same key, other body");
        let bad = create("", json!({"name": "x"})).await.unwrap();
        assert!(bad.status().is_client_error());
    }
    let listed = expect_json(server.get("/v1/projects", key).await, 200).await;
    assert_eq!(listed.as_array().unwrap().len(), 2, "one project per surface, not more");

    // Once the project a key made is deleted, the key is spent: 409, not a 404 or a second project.
    let made = expect_json(
        server
            .request(Method::POST, "/v1/projects", Some(key))
            .header("Idempotency-Key", "spent")
            .json(&json!({"name": "Brief"}))
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    assert_eq!(server.delete(&format!("/v1/projects/{}", made["id"].as_str().unwrap()), key).await.status(), 204);
    let replay = server
        .request(Method::POST, "/v1/projects", Some(key))
        .header("Idempotency-Key", "spent")
        .json(&json!({"name": "Brief"}));
    expect_v1_error(replay.send().await.unwrap(), 409, "projects.conflict").await;
}

async fn concurrent_creates_of_one_name_get_distinct_slugs(backend: Backend) {
    let server = TestServer::start(backend).await;
    let key = &server.owner_key;
    let creates = (0..12).map(|_| server.post_json("/v1/projects", key, json!({"name": "Same name"})));
    let responses = futures::future::join_all(creates).await;
    let mut slugs = BTreeSet::new();
    for response in responses {
        let project = expect_json(response, 201).await;
        slugs.insert(project["slug"].as_str().unwrap().to_owned());
    }
    assert_eq!(slugs.len(), 12, "{slugs:?}");
    assert!(slugs.contains("same-name"), "{slugs:?}");
    // `-2`, `-3`, … in order while that works; a random suffix only under heavy contention.
    let suffixed =
        |slug: &String| slug.strip_prefix("same-name-").is_some_and(|n| n.parse::<u32>().is_ok_and(|n| n >= 2));
    assert!(slugs.iter().all(|slug| slug == "same-name" || suffixed(slug)), "{slugs:?}");
}

async fn paging_sees_each_project_once_while_others_are_created(backend: Backend) {
    let server = TestServer::start(backend).await;
    let key = server.owner_key.clone();
    let mut existing = BTreeSet::new();
    for i in 0..15 {
        let project =
            expect_json(server.post_json("/v1/projects", &key, json!({"name": format!("old {i}")})).await, 201).await;
        existing.insert(project["id"].as_str().unwrap().to_owned());
    }
    let mut seen = Vec::new();
    let mut next = Some("/v1/projects?limit=4".to_owned());
    let mut round = 0;
    while let Some(path) = next.take() {
        // New projects keep arriving between pages; they are newer than the cursor, so a walk
        // that started before them neither repeats nor skips anything.
        let newcomer = server.post_json("/v1/projects", &key, json!({"name": format!("new {round}")})).await;
        expect_json(newcomer, 201).await;
        round += 1;
        let response = server.get(&path, &key).await;
        next = response
            .headers()
            .get("link")
            .map(|link| link.to_str().unwrap().trim_start_matches('<').split('>').next().unwrap().to_owned());
        let page = expect_json(response, 200).await;
        seen.extend(page.as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_owned()));
    }
    let unique: BTreeSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "no project twice");
    assert!(existing.is_subset(&unique), "every project that existed before the walk");
}

async fn the_audit_trail_records_who_changed_what(backend: Backend) {
    let server = TestServer::start(backend).await;
    let key = &server.owner_key;
    let project = expect_json(server.post_json("/v1/projects", key, json!({"name": "Audited"})).await, 201).await;
    let id = project["id"].as_str().unwrap();
    expect_json(
        server.patch_json(&format!("/v1/projects/{id}"), key, json!({"name": "Renamed", "status": "completed"})).await,
        200,
    )
    .await;
    let team = expect_json(server.post_json("/v1/teams", key, json!({"name": "Auditors"})).await, 201).await;
    let shared = server.post_json(&format!("/v1/projects/{id}/shares"), key, json!({"team_id": team["id"]})).await;
    assert_eq!(shared.status(), 204);
    assert_eq!(server.delete(&format!("/v1/projects/{id}"), key).await.status(), 204);
    let restore = server.request(Method::POST, &format!("/v1/projects/{id}/restore"), Some(key)).send().await.unwrap();
    expect_json(restore, 200).await;
    expect_json(server.post_json("/v1/projects", key, json!({"name": "Unrelated"})).await, 201).await;

    let events = expect_json(server.get(&format!("/v1/audit-events?project_id={id}"), key).await, 200).await;
    let actions: Vec<&str> = events.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        ["project.restored", "project.deleted", "project.shared", "project.updated", "project.created"]
    );
    let updated = &events[3];
    assert_eq!(updated["fields"], json!(["name", "status"]));
    let me = expect_json(server.get("/v1/me", key).await, 200).await;
    assert!(events.as_array().unwrap().iter().all(|e| e["actor_user_id"] == me["user_id"]));

    let first_page = server.get("/v1/audit-events?limit=2", key).await;
    assert!(first_page.headers().contains_key("link"));
    assert_eq!(expect_json(first_page, 200).await.as_array().unwrap().len(), 2);
    expect_v1_error(server.get("/v1/audit-events?project_id=nope", key).await, 422, "validation.error").await;
    let stranger = server.owner_key_of("globex", "boss@globex.test").await;
    let theirs = expect_json(server.get("/v1/audit-events", &stranger).await, 200).await;
    let boss = expect_json(server.get("/v1/me", &stranger).await, 200).await;
    // Only their own org's start: its owner and key.
    let actions: Vec<&str> = theirs.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["api_key.created", "member.added"], "nothing crosses orgs: {theirs}");
    assert!(theirs.as_array().unwrap().iter().all(|e| e["actor_user_id"] == boss["user_id"]));
}
