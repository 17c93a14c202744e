//! Limits that protect the tenants from each other: each caller's pace (rate limits), what each
//! org may hold (quotas) and spend (budgets). Over HTTP on both backends.

use std::time::Duration;

use projects_blackbox_tests::{expect_json, expect_v1_error, on_both_backends, Backend, TestServer};
use reqwest::{Method, Response};
use serde_json::{json, Value};

on_both_backends!(
    a_burst_gets_429_with_its_headers_and_other_callers_go_on,
    without_limits_no_headers,
    a_spent_budget_stops_sessions_and_writes_but_not_reads_or_usage,
    each_quota_refuses_the_write_that_would_exceed_it,
    a_workspace_holds_at_most_its_entries,
    concurrent_creates_never_overshoot_the_quota,
);

fn header(response: &Response, name: &str) -> Option<String> {
    response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

fn number(response: &Response, name: &str) -> u64 {
    header(response, name).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{name}: {:?}", response.headers()))
}

async fn a_burst_gets_429_with_its_headers_and_other_callers_go_on(backend: Backend) {
    let server = TestServer::start_with(backend, |config| {
        (config.rate_limit_per_sec, config.rate_limit_burst) = (1, 5);
    })
    .await;
    let key = &server.owner_key;
    let other = server.owner_key_of("other-org", "other@localhost").await;

    let mut remaining = Vec::new();
    for _ in 0..5 {
        let served = server.get("/v1/projects", key).await;
        assert_eq!(served.status(), 200);
        assert_eq!(number(&served, "ratelimit-limit"), 5);
        remaining.push(number(&served, "ratelimit-remaining"));
        assert!(number(&served, "ratelimit-reset") <= 5);
    }
    assert_eq!(remaining, [4, 3, 2, 1, 0], "each request takes one token");

    let refused = server.get("/v1/projects", key).await;
    let retry_after = number(&refused, "retry-after");
    assert!((1..=2).contains(&retry_after), "one token comes back each second: {retry_after}");
    assert_eq!(number(&refused, "ratelimit-remaining"), 0);
    expect_v1_error(refused, 429, "http.rate_limited").await;
    // The same key spelled another way is the same caller.
    for spelled in [format!("bearer {key}"), format!("BEARER    {key}"), format!("Bearer {key}  ")] {
        let again = server.request(reqwest::Method::GET, "/v1/projects", None).header("Authorization", &spelled);
        let again = again.send().await.unwrap();
        assert_eq!(again.status(), 429, "{spelled:?} shares the bucket");
    }
    // The same caller on the other surface shares the bucket, and hears it in Alumia's words.
    let alumia = server.get("/api/v1/projects", key).await;
    assert!(header(&alumia, "retry-after").is_some());
    assert_eq!(expect_json(alumia, 429).await["error"]["code"], "TOO_MANY_REQUESTS");

    // Another caller is not slowed down by the first one's burst.
    let theirs = server.get("/v1/projects", &other).await;
    assert_eq!((theirs.status().as_u16(), number(&theirs, "ratelimit-remaining")), (200, 4));
    // Health checks are never limited.
    let health = server.request(reqwest::Method::GET, "/healthz", None).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert!(header(&health, "ratelimit-limit").is_none());

    // Without a token the client's address is the caller: its bucket runs dry too.
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let anonymous = server.request(reqwest::Method::GET, "/v1/projects", None).send().await.unwrap();
        statuses.push(anonymous.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429]);

    // After Retry-After, the first caller is served again.
    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    let again = server.get("/v1/projects", key).await;
    assert_eq!(again.status(), 200);
}

async fn without_limits_no_headers(backend: Backend) {
    let server = TestServer::start(backend).await;
    for _ in 0..50 {
        let served = server.get("/v1/projects", &server.owner_key).await;
        assert_eq!(served.status(), 200);
        assert!(header(&served, "ratelimit-limit").is_none());
    }
}

async fn a_spent_budget_stops_sessions_and_writes_but_not_reads_or_usage(backend: Backend) {
    let server = TestServer::start(backend).await;
    let owner = &server.owner_key;
    let created = expect_json(server.post_json("/v1/projects", owner, json!({"name": "Budgeted"})).await, 201).await;
    assert_eq!(created["budget_usd"], Value::Null, "no budget by default");
    let id = created["id"].as_str().unwrap().to_owned();
    let project = format!("/v1/projects/{id}");
    let file = |name: &str| format!("{project}/workspace/file?path=/{name}");
    let write = |name: &str| server.request(Method::PUT, &file(name), Some(owner)).body("bytes").send();
    let usage_url = format!("{project}/usage");
    let usage = |cost: &str| {
        let body = json!({"cost_usd": cost, "model": "m", "input_tokens": 1, "output_tokens": 1});
        server.post_json(&usage_url, owner, body)
    };

    // Only admins set budgets; a bad amount is refused on each surface in its words.
    let (_, member) = server.add_member("spender@localhost", "member").await;
    let refused = server.patch_json(&project, &member, json!({"budget_usd": "1"})).await;
    expect_v1_error(refused, 403, "auth.forbidden").await;
    let alumia = format!("/api/v1/projects/{id}");
    let refused = server.patch_json(&alumia, &member, json!({"budgetUsd": "1"})).await;
    assert_eq!(expect_json(refused, 403).await["error"]["code"], "FORBIDDEN");
    for bad in [json!("-1"), json!("1.0000000001"), json!("lots"), json!(1)] {
        let response = server.patch_json(&project, owner, json!({"budget_usd": bad})).await;
        let status = response.status().as_u16();
        assert_eq!(status, 422, "{bad}");
    }
    let bad = expect_json(server.patch_json(&alumia, owner, json!({"budgetUsd": "x"})).await, 400).await;
    assert!(bad["error"]["details"]["budgetUsd"].is_string(), "{bad}");

    let set = expect_json(server.patch_json(&project, owner, json!({"budget_usd": "1.50"})).await, 200).await;
    assert_eq!(set["budget_usd"], "1.5");
    let seen = expect_json(server.get(&alumia, owner).await, 200).await;
    assert_eq!(seen["data"]["budgetUsd"], "1.5");

    // Under the budget everything works; at it, usage is still recorded but sessions and writes stop.
    expect_json(write("a.txt").await.unwrap(), 201).await;
    expect_json(usage("1.25").await, 201).await;
    expect_json(write("b.txt").await.unwrap(), 201).await;
    expect_json(usage("0.25").await, 201).await;
    expect_v1_error(write("c.txt").await.unwrap(), 402, "billing.budget_exceeded").await;
    let session =
        server.post_json(&format!("{project}/workspace/sessions"), owner, json!({"session_type": "shell"})).await;
    expect_v1_error(session, 402, "billing.budget_exceeded").await;
    let deleted = server.request(Method::DELETE, &file("a.txt"), Some(owner)).send().await.unwrap();
    expect_v1_error(deleted, 402, "billing.budget_exceeded").await;
    expect_json(usage("0.10").await, 201).await;
    let spend = expect_json(server.get(&alumia, owner).await, 200).await["data"]["spend"].clone();
    assert_eq!(spend, json!(1.6), "usage is recorded past the budget");
    let listed = expect_json(server.get(&format!("{project}/workspace/files?path=/"), owner).await, 200).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 2, "reads go on");
    assert_eq!(server.get(&file("a.txt"), owner).await.status(), 200);

    // Raised (here on /api/v1), writes go on; cleared, there is no limit.
    let raised = expect_json(server.patch_json(&alumia, owner, json!({"budgetUsd": "10"})).await, 200).await;
    assert_eq!(raised["data"]["budgetUsd"], "10");
    expect_json(write("c.txt").await.unwrap(), 201).await;
    let cleared = expect_json(server.patch_json(&project, owner, json!({"budget_usd": null})).await, 200).await;
    assert_eq!(cleared["budget_usd"], Value::Null);
    expect_json(usage("100").await, 201).await;
    expect_json(write("d.txt").await.unwrap(), 201).await;
}

/// The `details` of a quota refusal, as `(quota, limit, used)`.
async fn quota_refusal(response: Response) -> (String, u64, u64) {
    let body = expect_v1_error(response, 403, "quota.exceeded").await;
    let detail = |name: &str| body["details"][name].as_str().unwrap_or_else(|| panic!("{name} in {body}")).to_owned();
    (detail("quota"), detail("limit").parse().unwrap(), detail("used").parse().unwrap())
}

async fn each_quota_refuses_the_write_that_would_exceed_it(backend: Backend) {
    let server = TestServer::start_with(backend, |config| {
        let quotas = &mut config.app.quotas;
        (quotas.quota_projects, quotas.quota_members, quotas.quota_api_keys) = (3, 3, 4);
        (quotas.quota_file_bytes, quotas.quota_storage_bytes, quotas.quota_workspace_entries) = (10, 25, 0);
    })
    .await;
    let owner = &server.owner_key;
    let create = |name: &str| server.post_json("/v1/projects", owner, json!({"name": name}));

    // Projects: live ones count, on both surfaces; deleting one frees its place.
    let mut ids = Vec::new();
    for name in ["One", "Two", "Three"] {
        ids.push(expect_json(create(name).await, 201).await["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(quota_refusal(create("Four").await).await, ("projects".into(), 3, 3));
    let alumia = server.post_json("/api/v1/projects", owner, json!({"name": "Four"})).await;
    let refused = expect_json(alumia, 403).await;
    assert_eq!(
        (refused["error"]["code"].as_str(), refused["error"]["details"]["quota"].as_str()),
        (Some("FORBIDDEN"), Some("projects"))
    );
    let listed = expect_json(server.get("/v1/projects", owner).await, 200).await;
    assert_eq!(listed.as_array().unwrap().len(), 3, "nothing written");
    assert_eq!(server.delete(&format!("/v1/projects/{}", ids[2]), owner).await.status(), 204);
    expect_json(create("Four").await, 201).await;

    // Members: the owner and two more; keys: theirs and one more, until one is revoked.
    let (_, ada) = server.add_member("ada@localhost", "member").await;
    server.add_member("bea@localhost", "member").await;
    let third = server.post_json("/v1/members", owner, json!({"email": "cy@localhost", "role": "member"})).await;
    assert_eq!(quota_refusal(third).await, ("members".into(), 3, 3));
    let account = server.post_json("/v1/service-accounts", owner, json!({"name": "ci", "role": "member"})).await;
    assert_eq!(quota_refusal(account).await.0, "members", "service accounts are members");
    let key = expect_json(
        server.post_json("/v1/api-keys", &ada, json!({"name": "spare", "scopes": ["data.projects.read"]})).await,
        201,
    )
    .await;
    let over =
        server.post_json("/v1/api-keys", &ada, json!({"name": "one too many", "scopes": ["data.projects.read"]})).await;
    assert_eq!(quota_refusal(over).await, ("api_keys".into(), 4, 4));
    let revoked = server.delete(&format!("/v1/api-keys/{}", key["id"].as_str().unwrap()), &ada).await;
    assert!(revoked.status().is_success(), "{}", revoked.status());
    expect_json(
        server.post_json("/v1/api-keys", &ada, json!({"name": "again", "scopes": ["data.projects.read"]})).await,
        201,
    )
    .await;

    // Bytes per file, declared or not, and bytes per org (the same content is stored once).
    let file = |name: &str| format!("/v1/projects/{}/workspace/file?path=/{name}", ids[0]);
    let put = |name: &str, body: reqwest::Body| server.request(Method::PUT, &file(name), Some(owner)).body(body).send();
    assert_eq!(quota_refusal(put("big", "eleven byte".into()).await.unwrap()).await, ("file_bytes".into(), 10, 11));
    let chunks = futures::stream::iter(["eleven", " byte"].map(|s| Ok::<_, std::io::Error>(bytes::Bytes::from(s))));
    let streamed = put("big", reqwest::Body::wrap_stream(chunks)).await.unwrap();
    assert_eq!(quota_refusal(streamed).await.0, "file_bytes", "a body with no length is cut where it passes");
    expect_json(put("a", "0123456789".into()).await.unwrap(), 201).await;
    expect_json(put("a-again", "0123456789".into()).await.unwrap(), 201).await;
    expect_json(put("b", "abcdefghij".into()).await.unwrap(), 201).await;
    assert_eq!(quota_refusal(put("c", "ABCDEFGHIJ".into()).await.unwrap()).await, ("storage_bytes".into(), 25, 20));
    assert_eq!(server.get(&file("c"), owner).await.status(), 404, "nothing written");
    expect_json(put("c", "ABCDE".into()).await.unwrap(), 201).await;
}

async fn a_workspace_holds_at_most_its_entries(backend: Backend) {
    let server = TestServer::start_with(backend, |config| config.app.quotas.quota_workspace_entries = 4).await;
    let owner = &server.owner_key;
    let project = expect_json(server.post_json("/v1/projects", owner, json!({"name": "Tree"})).await, 201).await;
    let file = |path: &str| format!("/v1/projects/{}/workspace/file?path={path}", project["id"].as_str().unwrap());
    let put = |path: &str| server.request(Method::PUT, &file(path), Some(owner)).body("x").send();
    let mut written = 0;
    let refused = loop {
        let response = put(&format!("/src/{written}.txt")).await.unwrap();
        if response.status() != 201 {
            break response;
        }
        written += 1;
        assert!(written <= 4, "a fifth entry was accepted");
    };
    let (quota, limit, used) = quota_refusal(refused).await;
    assert_eq!((quota.as_str(), limit, used), ("workspace_entries", 4, 4));
    assert!(written >= 2, "the directory and its files count: {written} written");
    // Replacing a file adds nothing, and is still allowed at the limit.
    assert_eq!(put("/src/0.txt").await.unwrap().status(), 200);
}

async fn concurrent_creates_never_overshoot_the_quota(backend: Backend) {
    let server = TestServer::start_with(backend, |config| config.app.quotas.quota_projects = 5).await;
    let owner = &server.owner_key;
    let creates = (0..20).map(|i| server.post_json("/v1/projects", owner, json!({"name": format!("Racer {i}")})));
    let statuses: Vec<u16> = futures::future::join_all(creates).await.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 5, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 403).count(), 15, "{statuses:?}");
    let listed = expect_json(server.get("/v1/projects?limit=100", owner).await, 200).await;
    assert_eq!(listed.as_array().unwrap().len(), 5);
}
