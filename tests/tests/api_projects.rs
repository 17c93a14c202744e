//! `/api/v1/projects` (the Alumia shape) over HTTP, on SQLite and on PostgreSQL.

use projects_blackbox_tests::{expect_json, on_both_backends, Backend, TestServer};
use reqwest::{Method, Response};
use serde_json::{json, Value};

on_both_backends!(
    create_list_get_in_the_alumia_envelope,
    every_seed_limit_is_a_bad_request_naming_the_field,
    names_are_generated_from_descriptions,
    patch_and_delete,
    errors_use_the_alumia_codes,
    list_filters_and_pages,
    one_project_two_surfaces,
    spend_is_the_exact_sum_of_usage,
);

/// Checks an `/api/v1` error: status, code, `success: false`, and a field when one is named.
async fn expect_error(response: Response, status: u16, code: &str) -> Value {
    let body = expect_json(response, status).await;
    assert_eq!(body["success"], false, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    body
}

async fn data(response: Response, status: u16) -> Value {
    let body = expect_json(response, status).await;
    assert_eq!(body["success"], true, "{body}");
    body["data"].clone()
}

async fn create_list_get_in_the_alumia_envelope(backend: Backend) {
    let server = TestServer::start(backend).await;
    let key = &server.owner_key;
    let created = server.post_json("/api/v1/projects", key, json!({"name": "Q3 launch", "visibility": "team"})).await;
    let created = data(created, 201).await;
    for field in [
        "id",
        "orgId",
        "workspaceId",
        "userId",
        "name",
        "slug",
        "description",
        "prompt",
        "emoji",
        "visibility",
        "status",
        "tags",
        "metadata",
        "createdAt",
        "updatedAt",
    ] {
        assert!(created.get(field).is_some(), "{field} missing from {created}");
    }
    assert_eq!(created["visibility"], "team");
    assert_eq!(created["status"], "active");
    assert_eq!(created["tags"], json!([]));
    assert_eq!(created["metadata"], json!({}));
    assert_eq!(created["slug"], "q3-launch");

    let defaults = data(server.post_json("/api/v1/projects", key, json!({"name": "Defaults"})).await, 201).await;
    assert_eq!(defaults["visibility"], "team", "the /api/v1 default");

    let listed = expect_json(server.get("/api/v1/projects", key).await, 200).await;
    assert_eq!(listed["success"], true);
    assert_eq!(listed["data"]["items"].as_array().unwrap().len(), 2, "the real Alumia shape: {listed}");
    assert_eq!((&listed["data"]["nextCursor"], &listed["data"]["hasMore"]), (&json!(null), &json!(false)));
    assert!(listed.get("pagination").is_none(), "no top-level pagination any more: {listed}");

    let id = created["id"].as_str().unwrap();
    for path in [format!("/api/v1/projects/{id}"), "/api/v1/projects/q3-launch".to_owned()] {
        let got = data(server.get(&path, key).await, 200).await;
        assert_eq!(got["id"], id);
        assert_eq!(got["spend"], json!(0));
        assert_eq!(got["sharedWorkspaces"], json!([]));
    }
}

async fn every_seed_limit_is_a_bad_request_naming_the_field(backend: Backend) {
    let server = TestServer::start(backend).await;
    let key = &server.owner_key;
    // 13 nested objects: one level too deep.
    let deep = (0..13).fold(json!(1), |inner, _| json!({ "n": inner }));
    let cases: Vec<(Value, &str)> = vec![
        (json!({}), "name"),
        (json!({"name": "", "description": ""}), "name"),
        (json!({"name": "n".repeat(256)}), "name"),
        (json!({"name": "ok", "description": "d".repeat(5_001)}), "description"),
        (json!({"name": "ok", "prompt": "p".repeat(12_001)}), "prompt"),
        (json!({"name": "ok", "emoji": "🙂".repeat(17)}), "emoji"),
        (json!({"name": "ok", "visibility": "public"}), "visibility"),
        (json!({"name": "ok", "visibility": "shared"}), "visibility"),
        (json!({"name": "ok", "tags": (0..31).map(|i| i.to_string()).collect::<Vec<_>>()}), "tags"),
        (json!({"name": "ok", "tags": ["t".repeat(81)]}), "tags"),
        (json!({"name": "ok", "tags": "not-a-list"}), "tags"),
        (json!({"name": "ok", "metadata": [1, 2]}), "metadata"),
        (json!({"name": "ok", "metadata": deep}), "metadata"),
        (json!({"name": "ok", "metadata": {"big": "x".repeat(33_000)}}), "metadata"),
        (json!({"name": "ok", "slug": "Not A Slug"}), "slug"),
        (json!({"name": "ok", "workspaceId": "nope"}), "workspaceId"),
        (json!({"name": "ok", "workspace": "typo"}), "workspace"),
        (json!({"name": 42}), "name"),
    ];
    for (body, field) in cases {
        let error =
            expect_error(server.post_json("/api/v1/projects", key, body.clone()).await, 400, "BAD_REQUEST").await;
        assert!(error["error"]["details"][field].is_string(), "{body} should name {field}: {error}");
    }
    // The limits themselves are allowed.
    let at_the_limits = json!({
        "name": "n".repeat(255), "description": "d".repeat(5_000), "prompt": "p".repeat(12_000),
        "emoji": "🙂".repeat(16), "tags": (0..30).map(|i| format!("{i:0>80}")).collect::<Vec<_>>(),
        "metadata": (0..11).fold(json!({"big": "x".repeat(32_000)}), |inner, _| json!({ "n": inner })),
    });
    data(server.post_json("/api/v1/projects", key, at_the_limits).await, 201).await;

    let project = data(server.post_json("/api/v1/projects", key, json!({"name": "Patchable"})).await, 201).await;
    let path = format!("/api/v1/projects/{}", project["id"].as_str().unwrap());
    for (body, field) in [
        (json!({"name": null}), "name"),
        (json!({"name": ""}), "name"),
        (json!({"status": "deleted"}), "status"),
        (json!({"status": null}), "status"),
        (json!({"visibility": "org"}), "visibility"),
        (json!({"tags": null}), "tags"),
        (json!({"metadata": "x"}), "metadata"),
        (json!({"emoji": "🙂".repeat(17)}), "emoji"),
        (json!({"prompt": "p".repeat(12_001)}), "prompt"),
        // NUL cannot be stored by PostgreSQL: refused alike on every backend, not a 500 on one.
        (json!({"description": "a\0b"}), "description"),
        (json!({"tags": ["ok", "n\0l"]}), "tags"),
        (json!({"metadata": {"a": [{"deep": "x\0"}]}}), "metadata"),
        (json!({"metadata": {"k\0": 1}}), "metadata"),
        (json!({"id": "0193a5b0-7e1c-7c3e-9f4a-2b8d6c1e5f70"}), "id"),
    ] {
        let error = expect_error(server.patch_json(&path, key, body.clone()).await, 400, "BAD_REQUEST").await;
        assert!(error["error"]["details"][field].is_string(), "{body} should name {field}: {error}");
    }
    let unchanged = data(server.get(&path, key).await, 200).await;
    assert_eq!(unchanged["name"], "Patchable", "no partial write");
    let malformed =
        server.request(Method::POST, "/api/v1/projects", Some(key)).body("{\"name\": ").send().await.unwrap();
    expect_error(malformed, 400, "BAD_REQUEST").await;
}

async fn names_are_generated_from_descriptions(backend: Backend) {
    let server = TestServer::start(backend).await;
    let key = &server.owner_key;
    let described = server
        .post_json("/api/v1/projects", key, json!({"description": "plan the q3 launch party. budget is tight"}))
        .await;
    let described = data(described, 201).await;
    assert_eq!(described["name"], "Plan the q3 launch party");
    assert_eq!(described["slug"], "plan-the-q3-launch-party");
    let nothing_usable = data(server.post_json("/api/v1/projects", key, json!({"description": "…"})).await, 201).await;
    assert_eq!(nothing_usable["name"], "Untitled project");

    // A configured model that does not answer: the name falls back, the create still succeeds.
    let with_dead_model = TestServer::start_with(backend, |config| {
        config.app.llm_base_url = Some("http://127.0.0.1:9/v1".to_owned());
        config.app.llm_timeout_ms = 300;
    })
    .await;
    let key = &with_dead_model.owner_key;
    let fallback = with_dead_model.post_json("/api/v1/projects", key, json!({"description": "plan the launch"})).await;
    assert_eq!(data(fallback, 201).await["name"], "Untitled project");
}

async fn patch_and_delete(backend: Backend) {
    let server = TestServer::start(backend).await;
    let key = &server.owner_key;
    let project = data(server.post_json("/api/v1/projects", key, json!({"name": "Before"})).await, 201).await;
    let id = project["id"].as_str().unwrap();
    let path = format!("/api/v1/projects/{id}");
    let patched = server
        .patch_json(
            &path,
            key,
            json!({"name": "After", "description": "now described", "prompt": "Be brief.", "emoji": "🚀",
                   "status": "completed", "visibility": "private", "tags": ["a", "b"], "metadata": {"k": [1, {"v": null}]}}),
        )
        .await;
    let patched = data(patched, 200).await;
    assert_eq!(patched["id"], id);
    assert_eq!(patched["name"], "After");
    assert_eq!(patched["slug"], "before", "renaming keeps the slug");
    assert_eq!(patched["status"], "completed");
    assert_eq!(patched["visibility"], "private");
    assert_eq!(patched["tags"], json!(["a", "b"]));
    assert_eq!(patched["metadata"], json!({"k": [1, {"v": null}]}));
    let cleared = data(server.patch_json(&path, key, json!({"description": null, "emoji": null})).await, 200).await;
    assert_eq!(cleared["description"], Value::Null);
    assert_eq!(cleared["prompt"], "Be brief.", "absent fields are left alone");
    let reslugged = data(server.patch_json(&path, key, json!({"slug": "after"})).await, 200).await;
    assert_eq!(reslugged["slug"], "after");
    data(server.get("/api/v1/projects/after", key).await, 200).await;

    let other = data(server.post_json("/api/v1/projects", key, json!({"name": "Other"})).await, 201).await;
    let clash = server
        .patch_json(&format!("/api/v1/projects/{}", other["id"].as_str().unwrap()), key, json!({"slug": "after"}))
        .await;
    expect_error(clash, 409, "CONFLICT").await;

    let deleted = server.delete(&path, key).await;
    assert_eq!(expect_json(deleted, 200).await, json!({"success": true, "data": {"deleted": true}}));
    expect_error(server.get(&path, key).await, 404, "NOT_FOUND").await;
    expect_error(server.delete(&path, key).await, 404, "NOT_FOUND").await;
    expect_error(server.patch_json(&path, key, json!({"name": "x"})).await, 404, "NOT_FOUND").await;
    let listed = expect_json(server.get("/api/v1/projects", key).await, 200).await;
    assert_eq!(listed["data"]["items"].as_array().unwrap().len(), 1);
}

async fn errors_use_the_alumia_codes(backend: Backend) {
    let server = TestServer::start(backend).await;
    let owner = &server.owner_key;
    let no_key = server.request(Method::GET, "/api/v1/projects", None).send().await.unwrap();
    expect_error(no_key, 401, "UNAUTHORIZED").await;
    let bad_key = server.get("/api/v1/projects", &format!("ak-{}", "0".repeat(64))).await;
    expect_error(bad_key, 401, "UNAUTHORIZED").await;

    let (_, viewer) = server.add_member("v@localhost", "viewer").await;
    let viewer = server.scoped_key(&viewer, &["data.projects.read"]).await;
    expect_error(server.post_json("/api/v1/projects", &viewer, json!({"name": "x"})).await, 403, "FORBIDDEN").await;

    let private =
        data(server.post_json("/api/v1/projects", owner, json!({"name": "Mine", "visibility": "private"})).await, 201)
            .await;
    let id = private["id"].as_str().unwrap();
    expect_error(server.get(&format!("/api/v1/projects/{id}"), &viewer).await, 404, "NOT_FOUND").await;
    let stranger = server.owner_key_of("globex", "boss@globex.test").await;
    for method in [Method::GET, Method::PATCH, Method::DELETE] {
        let response = server
            .request(method.clone(), &format!("/api/v1/projects/{id}"), Some(&stranger))
            .json(&json!({"name": "x"}))
            .send()
            .await
            .unwrap();
        expect_error(response, 404, "NOT_FOUND").await;
    }
    expect_error(server.get("/api/v1/nothing", owner).await, 404, "NOT_FOUND").await;

    // A body over the JSON limit and a stale `If-Match`, in the real Alumia API's words.
    let huge = json!({"name": "big", "description": "x".repeat(2 * 1024 * 1024)});
    expect_error(server.post_json("/api/v1/projects", owner, huge).await, 413, "PAYLOAD_TOO_LARGE").await;
    let stale = server
        .request(Method::PATCH, &format!("/api/v1/projects/{id}"), Some(owner))
        .header("If-Match", "\"0\"")
        .json(&json!({"name": "stale"}))
        .send()
        .await
        .unwrap();
    expect_error(stale, 412, "PRECONDITION_FAILED").await;
}

async fn list_filters_and_pages(backend: Backend) {
    let server = TestServer::start(backend).await;
    let key = &server.owner_key;
    let team = expect_json(server.post_json("/v1/teams", key, json!({"name": "Launch"})).await, 201).await;
    let team_id = team["id"].as_str().unwrap();
    let a = data(
        server
            .post_json("/api/v1/projects", key, json!({"name": "Alpha", "workspaceId": team_id, "tags": ["q3"]}))
            .await,
        201,
    )
    .await;
    let b = data(
        server.post_json("/api/v1/projects", key, json!({"name": "Beta", "description": "Launch plan"})).await,
        201,
    )
    .await;
    let path = format!("/api/v1/projects/{}", b["id"].as_str().unwrap());
    data(server.patch_json(&path, key, json!({"status": "archived"})).await, 200).await;
    let ids = |body: Value| -> Vec<String> {
        body["data"]["items"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_owned()).collect()
    };
    let (a_id, b_id) = (a["id"].as_str().unwrap().to_owned(), b["id"].as_str().unwrap().to_owned());
    let query = |q: String| {
        let server = &server;
        async move { expect_json(server.get(&format!("/api/v1/projects?{q}"), key).await, 200).await }
    };
    assert_eq!(ids(query(format!("workspaceId={team_id}")).await), [a_id.as_str()]);
    assert_eq!(ids(query("status=archived".into()).await), [b_id.as_str()]);
    assert_eq!(ids(query("tag=q3".into()).await), [a_id.as_str()]);
    assert_eq!(ids(query("q=LAUNCH".into()).await), [b_id.as_str()]);
    assert_eq!(ids(query("q=launch&status=active".into()).await), Vec::<String>::new());
    for bad in ["status=gone", "workspaceId=x", "limit=0", "cursor=zzz"] {
        expect_error(server.get(&format!("/api/v1/projects?{bad}"), key).await, 400, "BAD_REQUEST").await;
    }

    for i in 0..5 {
        data(server.post_json("/api/v1/projects", key, json!({"name": format!("p{i}")})).await, 201).await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let after = cursor.as_ref().map(|c| format!("&cursor={c}")).unwrap_or_default();
        let page = query(format!("limit=2{after}")).await;
        seen.extend(ids(page.clone()));
        assert_eq!(page["data"]["hasMore"], page["data"]["nextCursor"].is_string());
        match page["data"]["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
    let unique: std::collections::BTreeSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), 7);
}

async fn one_project_two_surfaces(backend: Backend) {
    let server = TestServer::start(backend).await;
    let key = &server.owner_key;
    let from_v1 = expect_json(
        server.post_json("/v1/projects", key, json!({"name": "Made on v1", "visibility": "shared"})).await,
        201,
    )
    .await;
    let id = from_v1["id"].as_str().unwrap();
    let seen = data(server.get(&format!("/api/v1/projects/{id}"), key).await, 200).await;
    assert_eq!(seen["name"], "Made on v1");
    assert_eq!(seen["visibility"], "team", "v1 shared is api/v1 team");
    data(server.patch_json(&format!("/api/v1/projects/{id}"), key, json!({"name": "Patched on api"})).await, 200).await;
    let back = expect_json(server.get(&format!("/v1/projects/{id}"), key).await, 200).await;
    assert_eq!(back["name"], "Patched on api");
    expect_json(server.delete(&format!("/api/v1/projects/{id}"), key).await, 200).await;
    let gone = server.get(&format!("/v1/projects/{id}"), key).await;
    assert_eq!(gone.status(), 404);

    let from_api = data(server.post_json("/api/v1/projects", key, json!({"name": "Made on api"})).await, 201).await;
    let id = from_api["id"].as_str().unwrap();
    let patched = server.patch_json(&format!("/v1/projects/{id}"), key, json!({"description": "from v1"})).await;
    assert_eq!(expect_json(patched, 200).await["description"], "from v1");
    assert_eq!(server.delete(&format!("/v1/projects/{id}"), key).await.status(), 204);
    expect_error(server.get(&format!("/api/v1/projects/{id}"), key).await, 404, "NOT_FOUND").await;
}

async fn spend_is_the_exact_sum_of_usage(backend: Backend) {
    let server = TestServer::start(backend).await;
    let key = &server.owner_key;
    let project = data(server.post_json("/api/v1/projects", key, json!({"name": "Spender"})).await, 201).await;
    let id = project["id"].as_str().unwrap();
    let usage = json!({"cost_usd": "0.1", "model": "gpt-test", "input_tokens": 10, "output_tokens": 2});
    for _ in 0..3 {
        expect_json(server.post_json(&format!("/v1/projects/{id}/usage"), key, usage.clone()).await, 201).await;
    }
    let retried = |key_header: &'static str, body: Value| {
        server
            .request(Method::POST, &format!("/v1/projects/{id}/usage"), Some(key))
            .header("Idempotency-Key", key_header)
            .json(&body)
    };
    let tiny = json!({"cost_usd": "0.000000001", "model": "gpt-test", "input_tokens": 0, "output_tokens": 0});
    let first = expect_json(retried("retry-1", tiny.clone()).send().await.unwrap(), 201).await;
    let again = expect_json(retried("retry-1", tiny.clone()).send().await.unwrap(), 201).await;
    assert_eq!(first, again, "the first record again");
    let conflict = retried("retry-1", usage.clone()).send().await.unwrap();
    assert_eq!(conflict.status(), 409);

    let raw = server.get(&format!("/api/v1/projects/{id}"), key).await.text().await.unwrap();
    assert!(raw.contains("\"spend\":0.300000001"), "exact, not a float round trip: {raw}");
    for (body, field) in [
        (json!({"cost_usd": 0.1, "model": "m", "input_tokens": 1, "output_tokens": 1}), "cost_usd"),
        (json!({"cost_usd": "-1", "model": "m", "input_tokens": 1, "output_tokens": 1}), "cost_usd"),
        (json!({"cost_usd": "1", "model": "", "input_tokens": 1, "output_tokens": 1}), "model"),
        (json!({"cost_usd": "1", "model": "m", "input_tokens": -1, "output_tokens": 1}), "input_tokens"),
    ] {
        let response = server.post_json(&format!("/v1/projects/{id}/usage"), key, body).await;
        let error = expect_json(response, 422).await;
        assert!(error["details"][field].is_string(), "{error}");
    }
}
