//! Authenticated callers are cached per node, and no node honours a credential the store no
//! longer does: a revocation, removal or team change holds at once on the node that made it and
//! within moments on another (PostgreSQL's notifications), and while the feed of changes is cut
//! nothing cached is used.

use std::time::{Duration, Instant};

use projects_blackbox_tests::{expect_json, expect_v1_error, Backend, TestServer};
use serde_json::json;

/// How soon another node must refuse what one node revoked. Notifications take a few
/// milliseconds; the rest is headroom for a loaded test machine.
const OTHER_NODE_WITHIN: Duration = Duration::from_millis(100);

/// Asks `node` for `path` until it answers `status`; returns how long that took.
async fn until_status(node: &TestServer, path: &str, key: &str, status: u16, give_up: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let answered = node.get(path, key).await.status().as_u16();
        if answered == status {
            return started.elapsed();
        }
        assert!(started.elapsed() < give_up, "{path} still answers {answered}, not {status}, after {give_up:?}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn hits(node: &TestServer) -> u64 {
    node.app().principal_cache_stats().hits
}

async fn a_key(server: &TestServer) -> (String, String) {
    let created = expect_json(
        server
            .post_json("/v1/api-keys", &server.owner_key, json!({"name": "agent", "scopes": ["data.projects.read"]}))
            .await,
        201,
    )
    .await;
    (created["id"].as_str().unwrap().to_owned(), created["key"].as_str().unwrap().to_owned())
}

/// Warms `node`'s cache for `key` and shows it is used.
async fn cached_on(node: &TestServer, key: &str) {
    expect_json(node.get("/v1/me", key).await, 200).await;
    let before = hits(node);
    expect_json(node.get("/v1/me", key).await, 200).await;
    assert!(hits(node) > before, "the second request is served from the cache");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_key_is_refused_at_once_here_and_within_moments_on_another_node() {
    let server = TestServer::start(Backend::Postgres).await;
    let other = server.another_node().await;
    let (key_id, key) = a_key(&server).await;
    cached_on(&server, &key).await;
    cached_on(&other, &key).await;

    let revoked = server.delete(&format!("/v1/api-keys/{key_id}"), &server.owner_key).await;
    assert_eq!(revoked.status(), 204);
    let revoked_at = Instant::now();
    expect_v1_error(server.get("/v1/me", &key).await, 401, "auth.invalid_api_key").await;
    until_status(&other, "/v1/me", &key, 401, Duration::from_secs(5)).await;
    let window = revoked_at.elapsed();
    eprintln!("another node refused the revoked key {window:?} after the revoking response");
    assert!(window < OTHER_NODE_WITHIN, "another node honoured a revoked key for {window:?}");
    // The owner's own key, of the same org, still works (and is read afresh).
    expect_json(other.get("/v1/me", &server.owner_key).await, 200).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removals_and_team_changes_reach_every_node() {
    let server = TestServer::start(Backend::Postgres).await;
    let other = server.another_node().await;
    let owner = server.owner_key.clone();
    let (member_id, member) = server.add_member("member@localhost", "member").await;
    let team = expect_json(server.post_json("/v1/teams", &owner, json!({"name": "red"})).await, 201).await;
    let team_id = team["id"].as_str().unwrap().to_owned();
    let project = expect_json(
        server
            .post_json("/v1/projects", &owner, json!({"name": "red's", "visibility": "team", "team_id": team_id}))
            .await,
        201,
    )
    .await;
    let path = format!("/v1/projects/{}", project["id"].as_str().unwrap());

    // Joining the team shows the team's project on the other node, which had cached the member
    // without it.
    cached_on(&other, &member).await;
    expect_v1_error(other.get(&path, &member).await, 404, "projects.not_found").await;
    let joined = server.post_json(&format!("/v1/teams/{team_id}/members"), &owner, json!({"user_id": member_id})).await;
    assert_eq!(joined.status(), 204);
    until_status(&other, &path, &member, 200, Duration::from_secs(5)).await;

    // Removing the member refuses their key there too.
    cached_on(&other, &member).await;
    assert_eq!(server.delete(&format!("/v1/members/{member_id}"), &owner).await.status(), 204);
    let window = until_status(&other, "/v1/me", &member, 401, Duration::from_secs(5)).await;
    assert!(window < OTHER_NODE_WITHIN, "a removed member was served for {window:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_feed_cut_nothing_cached_is_used() {
    let server = TestServer::start(Backend::Postgres).await;
    let (_, key) = a_key(&server).await;
    cached_on(&server, &key).await;

    // A change no notification tells of (written behind the service's back): the cache serves
    // the key until its TTL, which is what the feed is for.
    server.execute_sql("UPDATE api_keys SET revoked_at = now() WHERE name = 'agent'").await.unwrap();
    let before = hits(&server);
    expect_json(server.get("/v1/me", &key).await, 200).await;
    assert_eq!(hits(&server), before + 1, "served from the cache");

    // Cutting the feed's connection: once the node notices, nothing it kept is trusted, whether
    // it is still down or back (changes may have gone untold meanwhile).
    let connects = server.app().principal_cache_stats().feed_connects;
    server
        .execute_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = 'projects-identity-feed' AND datname = current_database()",
        )
        .await
        .unwrap();
    let noticed = Instant::now();
    loop {
        let stats = server.app().principal_cache_stats();
        if !stats.feed_up || stats.feed_connects > connects {
            break;
        }
        assert!(noticed.elapsed() < Duration::from_secs(5), "the node never noticed its feed was cut");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    expect_v1_error(server.get("/v1/me", &key).await, 401, "auth.invalid_api_key").await;
}

/// SQLite serves one process: its own changes are all there are, and they hold at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_forgets_at_once_what_it_changes() {
    let server = TestServer::start(Backend::Sqlite).await;
    let (key_id, key) = a_key(&server).await;
    cached_on(&server, &key).await;
    assert_eq!(server.delete(&format!("/v1/api-keys/{key_id}"), &server.owner_key).await.status(), 204);
    expect_v1_error(server.get("/v1/me", &key).await, 401, "auth.invalid_api_key").await;

    let (member_id, member) = server.add_member("member@localhost", "member").await;
    cached_on(&server, &member).await;
    assert_eq!(server.delete(&format!("/v1/members/{member_id}"), &server.owner_key).await.status(), 204);
    expect_v1_error(server.get("/v1/me", &member).await, 401, "auth.invalid_api_key").await;
}
