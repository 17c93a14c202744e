//! `/v1/projects` over HTTP, on SQLite and on PostgreSQL.

use projects_blackbox_tests::{expect_json, expect_v1_error, on_both_backends, Backend, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

on_both_backends!(
    seed_flow_create_list_get,
    other_orgs_get_the_same_404_as_missing_projects,
    credentials_are_checked_with_their_own_codes,
    bad_input_gets_a_4xx_naming_the_problem,
    lists_are_paged_newest_first_through_link_headers,
    private_projects_are_invisible_to_other_members,
    slugs_are_derived_suffixed_and_explicit_ones_conflict,
    service_endpoints_answer,
);

async fn seed_flow_create_list_get(backend: Backend) {
    let server = TestServer::start(backend).await;
    let key = &server.owner_key;
    let created =
        server.post_json("/v1/projects", key, json!({"name": "Legal Counsel Project", "description": "..."})).await;
    let created = expect_json(created, 201).await;
    for field in ["id", "org_id", "team_id", "name", "description", "visibility", "created_at"] {
        assert!(created.get(field).is_some(), "{field} missing from {created}");
    }
    assert_eq!(created["name"], "Legal Counsel Project");
    assert_eq!(created["description"], "...");
    assert_eq!(created["team_id"], Value::Null);
    assert_eq!(created["visibility"], "private", "the /v1 default");
    assert_eq!(created["status"], "active");
    assert_eq!(created["slug"], "legal-counsel-project");
    let created_at = created["created_at"].as_str().unwrap();
    assert!(created_at.ends_with('Z') && created_at.contains('T'), "RFC 3339 UTC: {created_at}");

    let listed = expect_json(server.get("/v1/projects", key).await, 200).await;
    assert_eq!(listed, json!([created.clone()]), "a bare array of what was created");

    let id = created["id"].as_str().unwrap();
    let by_id = expect_json(server.get(&format!("/v1/projects/{id}"), key).await, 200).await;
    assert_eq!(by_id, created);
    let by_slug = expect_json(server.get("/v1/projects/legal-counsel-project", key).await, 200).await;
    assert_eq!(by_slug, created);
}

async fn other_orgs_get_the_same_404_as_missing_projects(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mine = expect_json(
        server.post_json("/v1/projects", &server.owner_key, json!({"name": "Mine", "visibility": "shared"})).await,
        201,
    )
    .await;
    let other_key = server.owner_key_of("globex", "boss@globex.test").await;
    let id = mine["id"].as_str().unwrap();

    let foreign =
        expect_v1_error(server.get(&format!("/v1/projects/{id}"), &other_key).await, 404, "projects.not_found").await;
    let missing = expect_v1_error(
        server.get("/v1/projects/0193a5b0-7e1c-7c3e-9f4a-2b8d6c1e5f70", &other_key).await,
        404,
        "projects.not_found",
    )
    .await;
    assert_eq!(foreign["message"], missing["message"], "existence never leaks");
    expect_v1_error(server.get("/v1/projects/mine", &other_key).await, 404, "projects.not_found").await;
    let theirs = expect_json(server.get("/v1/projects", &other_key).await, 200).await;
    assert_eq!(theirs, json!([]));
}

async fn credentials_are_checked_with_their_own_codes(backend: Backend) {
    let server = TestServer::start(backend).await;
    let no_token = server.request(Method::GET, "/v1/projects", None).send().await.unwrap();
    expect_v1_error(no_token, 401, "auth.missing_token").await;
    for (header, code) in [
        ("Basic b3duZXI6c2VjcmV0", "auth.invalid_authorization"),
        ("Bearer", "auth.invalid_authorization"),
        ("ak-0000", "auth.invalid_authorization"),
        ("Bearer ak-0000", "auth.invalid_api_key"),
        (&*format!("Bearer ak-{}", "0".repeat(64)), "auth.invalid_api_key"),
        (&*format!("Bearer {}", server.owner_key.to_uppercase()), "auth.invalid_token"),
        ("Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig", "auth.invalid_token"),
    ] {
        let response =
            server.request(Method::GET, "/v1/projects", None).header("Authorization", header).send().await.unwrap();
        expect_v1_error(response, 401, code).await;
    }
    // Auth comes before validation: a bad body without credentials is still a 401.
    let response = server.request(Method::POST, "/v1/projects", None).body("{").send().await.unwrap();
    expect_v1_error(response, 401, "auth.missing_token").await;
}

async fn bad_input_gets_a_4xx_naming_the_problem(backend: Backend) {
    let server = TestServer::start(backend).await;
    let key = &server.owner_key;
    let raw = |body: &'static str| {
        server.request(Method::POST, "/v1/projects", Some(key)).header("content-type", "application/json").body(body)
    };
    for (body, field) in [
        ("{", "body"),
        ("", "body"),
        ("[]", "body"),
        ("\"name\"", "body"),
        (r#"{"name": "x", "bogus": 1}"#, "bogus"),
        (r#"{"name": 5}"#, "name"),
        (r#"{"description": "no name"}"#, "name"),
        (r#"{"name": "   "}"#, "name"),
        (r#"{"name": "x", "visibility": "public"}"#, "visibility"),
        (r#"{"name": "x", "team_id": "not-a-uuid"}"#, "team_id"),
        (r#"{"name": "x", "team_id": "0193a5b0-7e1c-7c3e-9f4a-2b8d6c1e5f70"}"#, "team_id"),
        (r#"{"name": "x", "slug": "Not A Slug"}"#, "slug"),
    ] {
        let error = expect_v1_error(raw(body).send().await.unwrap(), 422, "validation.error").await;
        assert!(error["details"][field].is_string(), "{body} should name {field}: {error}");
    }
    let long_name = "n".repeat(256);
    let error = expect_v1_error(
        server.post_json("/v1/projects", key, json!({"name": long_name})).await,
        422,
        "validation.error",
    )
    .await;
    assert_eq!(error["details"]["name"], "must be at most 255 characters");
    let long_description = "d".repeat(5_001);
    let error = expect_v1_error(
        server.post_json("/v1/projects", key, json!({"name": "x", "description": long_description})).await,
        422,
        "validation.error",
    )
    .await;
    assert!(error["details"]["description"].is_string(), "{error}");

    let huge = format!(r#"{{"name": "{}"}}"#, "x".repeat(2 * 1024 * 1024));
    let response = server.request(Method::POST, "/v1/projects", Some(key)).body(huge).send().await.unwrap();
    expect_v1_error(response, 413, "http.payload_too_large").await;

    for path in ["/v1/projects/not%20a%20slug", "/v1/projects/0193a5b0-zzzz", "/v1/projects/%00"] {
        expect_v1_error(server.get(path, key).await, 404, "projects.not_found").await;
    }
    for query in ["limit=0", "limit=201", "limit=ten", "limit=-1", "cursor=garbage"] {
        let error =
            expect_v1_error(server.get(&format!("/v1/projects?{query}"), key).await, 422, "validation.error").await;
        assert_eq!(error["details"].as_object().unwrap().len(), 1, "{query}: {error}");
    }
    // Nothing above was written.
    assert_eq!(expect_json(server.get("/v1/projects", key).await, 200).await, json!([]));
}

async fn lists_are_paged_newest_first_through_link_headers(backend: Backend) {
    let server = TestServer::start(backend).await;
    let key = &server.owner_key;
    let mut created = Vec::new();
    for i in 0..7 {
        let project =
            expect_json(server.post_json("/v1/projects", key, json!({"name": format!("p{i}")})).await, 201).await;
        created.push(project["id"].as_str().unwrap().to_owned());
    }
    created.reverse();

    let mut seen = Vec::new();
    let mut next = Some("/v1/projects?limit=3".to_owned());
    while let Some(path) = next.take() {
        let response = server.get(&path, key).await;
        next = response.headers().get("link").map(|link| {
            let link = link.to_str().unwrap();
            assert!(link.ends_with(r#">; rel="next""#), "{link}");
            link.trim_start_matches('<').split('>').next().unwrap().to_owned()
        });
        let page = expect_json(response, 200).await;
        let page = page.as_array().unwrap();
        assert!(page.len() <= 3);
        seen.extend(page.iter().map(|p| p["id"].as_str().unwrap().to_owned()));
    }
    assert_eq!(seen, created, "every project once, newest first");
}

async fn private_projects_are_invisible_to_other_members(backend: Backend) {
    let server = TestServer::start(backend).await;
    let alice = &server.owner_key;
    // A second owner of the same org.
    let bob = server.owner_key_of("default", "bob@localhost").await;
    let private = expect_json(server.post_json("/v1/projects", alice, json!({"name": "Diary"})).await, 201).await;
    let shared =
        expect_json(server.post_json("/v1/projects", alice, json!({"name": "Wiki", "visibility": "org"})).await, 201)
            .await;
    assert_eq!(shared["visibility"], "shared", "`org` is an alias of shared");

    let private_id = private["id"].as_str().unwrap();
    let shared_id = shared["id"].as_str().unwrap();
    expect_v1_error(server.get(&format!("/v1/projects/{private_id}"), &bob).await, 404, "projects.not_found").await;
    expect_v1_error(server.get("/v1/projects/diary", &bob).await, 404, "projects.not_found").await;
    expect_json(server.get(&format!("/v1/projects/{shared_id}"), &bob).await, 200).await;
    let bobs_list = expect_json(server.get("/v1/projects", &bob).await, 200).await;
    let ids: Vec<&str> = bobs_list.as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [shared_id]);
    let alices_list = expect_json(server.get("/v1/projects", alice).await, 200).await;
    assert_eq!(alices_list.as_array().unwrap().len(), 2);
}

async fn slugs_are_derived_suffixed_and_explicit_ones_conflict(backend: Backend) {
    let server = TestServer::start(backend).await;
    let key = &server.owner_key;
    let mut slugs = Vec::new();
    for _ in 0..3 {
        let project = expect_json(server.post_json("/v1/projects", key, json!({"name": "Q3 launch"})).await, 201).await;
        slugs.push(project["slug"].as_str().unwrap().to_owned());
    }
    assert_eq!(slugs, ["q3-launch", "q3-launch-2", "q3-launch-3"]);
    let clash = server.post_json("/v1/projects", key, json!({"name": "Other", "slug": "q3-launch-2"})).await;
    expect_v1_error(clash, 409, "projects.conflict").await;
    let custom = server.post_json("/v1/projects", key, json!({"name": "Other", "slug": "other-name"})).await;
    assert_eq!(expect_json(custom, 201).await["slug"], "other-name");
}

async fn service_endpoints_answer(backend: Backend) {
    let server = TestServer::start(backend).await;
    let health = server.request(Method::GET, "/healthz", None).send().await.unwrap();
    assert_eq!(expect_json(health, 200).await["status"], "ok");
    let ready = server.request(Method::GET, "/readyz", None).send().await.unwrap();
    let ready = expect_json(ready, 200).await;
    assert_eq!(ready["checks"], json!({"database": "ok", "blob_store": "ok"}));
    let unknown = server.request(Method::GET, "/v1/nothing-here", None).send().await.unwrap();
    expect_v1_error(unknown, 404, "http.not_found").await;
    let wrong_method = server.request(Method::PUT, "/v1/projects", Some(&server.owner_key)).send().await.unwrap();
    assert_eq!(wrong_method.headers()["allow"], "GET, POST");
    expect_v1_error(wrong_method, 405, "http.method_not_allowed").await;
    let wrong_method = server.request(Method::PUT, "/api/v1/projects/some-slug", None).send().await.unwrap();
    assert_eq!(wrong_method.headers()["allow"], "DELETE, GET, PATCH");
    let body = expect_json(wrong_method, 405).await;
    assert_eq!(body["error"]["code"], "METHOD_NOT_ALLOWED");
    let document = server.request(Method::GET, "/openapi.json", None).send().await.unwrap();
    let document = expect_json(document, 200).await;
    assert!(document["paths"]["/v1/projects"]["post"].is_object(), "{document}");
    assert!(document["paths"]["/v1/projects/{project_id}"]["get"].is_object());
    assert!(document["paths"]["/api/v1/projects/{id}"]["patch"].is_object());

    // The docs page is served from the binary itself: no CDN.
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let redirect = client.get(format!("{}/docs", server.base_url)).send().await.unwrap();
    assert_eq!(redirect.status(), 308);
    let page = server.request(Method::GET, "/docs/", None).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui") && !html.contains("https://"), "offline Swagger UI: {html}");
    let script = server.request(Method::GET, "/docs/swagger-ui-bundle.js", None).send().await.unwrap();
    assert_eq!(script.status(), 200);

    // Metrics count the requests just made, by route pattern.
    expect_json(server.get("/v1/projects", &server.owner_key).await, 200).await;
    let metrics = server.request(Method::GET, "/metrics", None).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains(r#"http_requests_total{method="GET",route="/v1/projects",status="200"}"#), "{metrics}");
    assert!(metrics.contains("http_request_duration_seconds_bucket"));
    assert!(metrics.contains(r#"db_pool_connections{dependency="database",state="max"}"#), "{metrics}");
    assert!(metrics.contains(r#"db_pool_connections{dependency="database",state="waiting"} 0"#), "{metrics}");
    assert!(metrics.contains(r#"dependency_errors_total{dependency="blob_store"} 0"#), "{metrics}");

    // A caller's trace id comes back: W3C traceparent first, then X-Trace-Id; junk gets a fresh one.
    let trace_of = |headers: Vec<(&'static str, String)>| {
        let mut request = server.request(Method::GET, "/v1/projects/00000000-0000-0000-0000-000000000000", None);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        async move {
            let response = request.send().await.unwrap();
            let header = response.headers()["x-trace-id"].to_str().unwrap().to_owned();
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(body["trace_id"], header.as_str(), "the error body carries the same id");
            header
        }
    };
    let w3c = "4bf92f3577b34da6a3ce929d0e0e4736";
    let parent = format!("00-{w3c}-00f067aa0ba902b7-01");
    let mine = "0123456789abcdef0123456789abcdef";
    assert_eq!(trace_of(vec![("traceparent", parent.clone())]).await, w3c);
    assert_eq!(trace_of(vec![("traceparent", parent), ("x-trace-id", mine.to_owned())]).await, w3c);
    assert_eq!(trace_of(vec![("x-trace-id", mine.to_owned())]).await, mine);
    let fresh = trace_of(vec![("traceparent", "00-zz-yy-01".to_owned()), ("x-trace-id", "short".to_owned())]).await;
    assert!(fresh.len() == 32 && fresh != mine && fresh != w3c);
}
