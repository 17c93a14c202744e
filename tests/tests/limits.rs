//! Limits that protect the tenants from each other: each caller's pace (rate limits). Over HTTP
//! on both backends.

use std::time::Duration;

use projects_blackbox_tests::{expect_json, expect_v1_error, on_both_backends, Backend, TestServer};
use reqwest::Response;

on_both_backends!(a_burst_gets_429_with_its_headers_and_other_callers_go_on, without_limits_no_headers,);

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
