//! One request must not break a project or an org's list, and requests without preconditions must
//! not fail one under contention. Over HTTP, on both backends.

use projects_blackbox_tests::{expect_json, expect_v1_error, on_both_backends, Backend, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

on_both_backends!(
    extreme_metadata_numbers_round_trip_exactly_and_lists_survive,
    spend_of_the_largest_costs_never_overflows,
    nul_in_queries_and_paths_is_a_client_error,
    concurrent_patches_without_if_match_all_land,
    concurrent_restores_all_answer_the_project,
    a_taken_slug_names_nothing_about_its_holder,
);

async fn create(server: &TestServer, body: Value) -> Value {
    expect_json(server.post_json("/v1/projects", &server.owner_key, body).await, 201).await
}

async fn extreme_metadata_numbers_round_trip_exactly_and_lists_survive(backend: Backend) {
    let server = TestServer::start(backend).await;
    let owner = &server.owner_key;
    let project = create(&server, json!({"name": "numbers"})).await;
    let id = project["id"].as_str().unwrap();
    // Sent as text, so that the test's own JSON library cannot round them first.
    let body = r#"{"metadata": {"max": 1.7976931348623157e308, "min": -1.7976931348623157e308,
        "tiny": 5e-324, "inexact": 123456789012345678901234, "u64": 18446744073709551615,
        "i64": -9223372036854775808, "tenth": 0.1, "nested": [[{"x": 1e300}]]}}"#;
    let patched = server
        .request(Method::PATCH, &format!("/api/v1/projects/{id}"), Some(owner))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let sent = expect_json(patched, 200).await["data"]["metadata"].clone();
    let expected: Value = serde_json::from_str::<Value>(body).unwrap()["metadata"].clone();
    assert_eq!(sent, expected);
    for path in [format!("/api/v1/projects/{id}"), "/api/v1/projects".to_owned()] {
        let read = expect_json(server.get(&path, owner).await, 200).await;
        let metadata = if read["data"]["items"].is_array() {
            &read["data"]["items"][0]["metadata"]
        } else {
            &read["data"]["metadata"]
        };
        assert_eq!(metadata, &expected, "{path} hands back exactly what was stored");
    }
    expect_json(server.get("/v1/projects", owner).await, 200).await;
    // The project can still be changed and deleted.
    let renamed = server.patch_json(&format!("/v1/projects/{id}"), owner, json!({"name": "still fine"})).await;
    expect_json(renamed, 200).await;

    // -0.0 cannot be kept by jsonb: refused, naming the field, nothing written.
    let negative_zero = server
        .request(Method::PATCH, &format!("/v1/projects/{id}"), Some(owner))
        .header("content-type", "application/json")
        .body(r#"{"metadata": {"z": -0.0}}"#)
        .send()
        .await
        .unwrap();
    let error = expect_v1_error(negative_zero, 422, "validation.error").await;
    assert!(error["details"]["metadata"].is_string(), "{error}");
    let read = expect_json(server.get(&format!("/api/v1/projects/{id}"), owner).await, 200).await;
    assert_eq!(read["data"]["metadata"], expected);
    assert_eq!(server.delete(&format!("/v1/projects/{id}"), owner).await.status(), 204);
}

async fn spend_of_the_largest_costs_never_overflows(backend: Backend) {
    let server = TestServer::start(backend).await;
    let owner = &server.owner_key;
    let id = create(&server, json!({"name": "big spender"})).await["id"].as_str().unwrap().to_owned();
    let largest = json!({"cost_usd": "999999999.999999999", "model": "m", "input_tokens": 1, "output_tokens": 1});
    for _ in 0..12 {
        expect_json(server.post_json(&format!("/v1/projects/{id}/usage"), owner, largest.clone()).await, 201).await;
    }
    let details = server.get(&format!("/api/v1/projects/{id}"), owner).await.text().await.unwrap();
    // Read as text: a JSON library would round the number to a double.
    assert!(details.contains(r#""spend":11999999999.999999988"#), "exact, past i64 nanos: {details}");
    let too_big = json!({"cost_usd": "1000000000", "model": "m", "input_tokens": 1, "output_tokens": 1});
    let refused = server.post_json(&format!("/v1/projects/{id}/usage"), owner, too_big).await;
    let error = expect_v1_error(refused, 422, "validation.error").await;
    assert!(error["details"]["cost_usd"].is_string(), "{error}");
}

async fn nul_in_queries_and_paths_is_a_client_error(backend: Backend) {
    let server = TestServer::start(backend).await;
    let owner = &server.owner_key;
    let id =
        create(&server, json!({"name": "target", "visibility": "shared"})).await["id"].as_str().unwrap().to_owned();
    for query in ["q=a%00b", "tag=a%00", "q=%00"] {
        let response = server.get(&format!("/api/v1/projects?{query}"), owner).await;
        let body = expect_json(response, 400).await;
        assert_eq!(body["error"]["code"], "BAD_REQUEST", "{query}: {body}");
    }
    for path in ["/v1/projects/a%00b", "/api/v1/projects/%00"] {
        assert_eq!(server.get(path, owner).await.status(), 404, "{path}");
    }
    for method in [Method::PATCH, Method::DELETE] {
        let response = server
            .request(method, &format!("/v1/projects/{id}/workspace/sessions/shref_%00"), Some(owner))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        expect_v1_error(response, 404, "workspace_sessions.not_found").await;
    }
}

async fn concurrent_patches_without_if_match_all_land(backend: Backend) {
    let server = TestServer::start(backend).await;
    let owner = &server.owner_key;
    let id = create(&server, json!({"name": "contended"})).await["id"].as_str().unwrap().to_owned();
    let patches = (0..50).map(|i| {
        let (server, id) = (&server, &id);
        async move {
            server.patch_json(&format!("/v1/projects/{id}"), owner, json!({"description": format!("writer {i}")})).await
        }
    });
    let statuses: Vec<u16> = futures::future::join_all(patches).await.iter().map(|r| r.status().as_u16()).collect();
    assert!(statuses.iter().all(|s| *s == 200), "last writer wins, nobody fails: {statuses:?}");
    let project = expect_json(server.get(&format!("/api/v1/projects/{id}"), owner).await, 200).await;
    assert!(project["data"]["description"].as_str().unwrap().starts_with("writer "));
}

async fn concurrent_restores_all_answer_the_project(backend: Backend) {
    let server = TestServer::start(backend).await;
    let owner = &server.owner_key;
    let id = create(&server, json!({"name": "phoenix"})).await["id"].as_str().unwrap().to_owned();
    assert_eq!(server.delete(&format!("/v1/projects/{id}"), owner).await.status(), 204);
    let restores =
        (0..20).map(|_| {
            let (server, id) = (&server, &id);
            async move {
                server.request(Method::POST, &format!("/v1/projects/{id}/restore"), Some(owner)).send().await.unwrap()
            }
        });
    for response in futures::future::join_all(restores).await {
        let project = expect_json(response, 200).await;
        assert_eq!(project["id"], id.as_str());
    }
    let events = expect_json(server.get(&format!("/v1/audit-events?project_id={id}"), owner).await, 200).await;
    let restored = events.as_array().unwrap().iter().filter(|e| e["action"] == "project.restored").count();
    assert_eq!(restored, 1, "one restore happened; the others found it done");
}

async fn a_taken_slug_names_nothing_about_its_holder(backend: Backend) {
    let server = TestServer::start(backend).await;
    let holder = create(&server, json!({"name": "Secret Plan", "slug": "secret-plan", "description": "hush"})).await;
    let (_, member) = server.add_member("m@localhost", "member").await;
    for (path, body) in [
        ("/v1/projects", json!({"name": "mine", "slug": "secret-plan"})),
        ("/api/v1/projects", json!({"name": "mine", "slug": "secret-plan"})),
    ] {
        let response = server.post_json(path, &member, body).await;
        let text = expect_json(response, 409).await.to_string();
        for secret in [holder["id"].as_str().unwrap(), "Secret Plan", "hush", holder["owner_user_id"].as_str().unwrap()]
        {
            assert!(!text.contains(secret), "{path} leaks {secret:?}: {text}");
        }
    }
}
