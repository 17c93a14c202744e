//! Every list pages with `limit` and `cursor`, keyset: walked page by page it yields each item
//! once, in the same order as one big page. Over HTTP on both backends.

use projects_blackbox_tests::{expect_json, expect_v1_error, on_both_backends, Backend, TestServer};
use reqwest::Method;
use serde_json::json;

on_both_backends!(every_list_walks_with_its_cursor, a_bad_page_is_refused_with_its_parameter);

/// The `id_field`s of every item of a `/v1` list, walked `limit` at a time through its `Link`s.
async fn walk_v1(server: &TestServer, key: &str, first: &str, id_field: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut next = Some(first.to_owned());
    let mut pages = 0;
    while let Some(url) = next.take() {
        let response = server.get(&url, key).await;
        next = response.headers().get("link").map(|link| {
            let link = link.to_str().unwrap();
            assert!(link.ends_with("; rel=\"next\""), "{link}");
            link.trim_start_matches('<').split('>').next().unwrap().to_owned()
        });
        let items = expect_json(response, 200).await;
        let items = items.as_array().unwrap();
        assert!(items.len() <= 2, "{url}: a page holds at most its limit");
        seen.extend(items.iter().map(|item| item[id_field].as_str().unwrap().to_owned()));
        pages += 1;
        assert!(pages < 100, "{url}: the walk does not end");
    }
    seen
}

async fn one_page(server: &TestServer, key: &str, url: &str, id_field: &str) -> Vec<String> {
    let items = expect_json(server.get(url, key).await, 200).await;
    items.as_array().unwrap().iter().map(|item| item[id_field].as_str().unwrap().to_owned()).collect()
}

async fn every_list_walks_with_its_cursor(backend: Backend) {
    let server = TestServer::start(backend).await;
    let owner = &server.owner_key;
    for i in 0..4 {
        server.add_member(&format!("m{i}@localhost"), "member").await;
        expect_json(server.post_json("/v1/teams", owner, json!({"name": format!("team {i}")})).await, 201).await;
        let account = json!({"name": format!("bot {i}"), "role": "member"});
        expect_json(server.post_json("/v1/service-accounts", owner, account).await, 201).await;
        let key = json!({"name": format!("key {i}"), "scopes": ["data.projects.read"]});
        expect_json(server.post_json("/v1/api-keys", owner, key).await, 201).await;
    }
    let project = expect_json(server.post_json("/v1/projects", owner, json!({"name": "Paged"})).await, 201).await;
    let project = format!("/v1/projects/{}", project["id"].as_str().unwrap());
    let sessions = format!("{project}/workspace/sessions");
    for i in 0..5 {
        let opened = expect_json(server.post_json(&sessions, owner, json!({"session_type": "shell"})).await, 201).await;
        if i % 2 == 0 {
            let closed = format!("{project}/workspace/sessions/{}", opened["session_ref"].as_str().unwrap());
            assert_eq!(server.delete(&closed, owner).await.status(), 200);
        }
    }

    let lists = [
        ("/v1/members", "user_id", 9),
        ("/v1/teams", "id", 4),
        ("/v1/service-accounts", "user_id", 4),
        ("/v1/api-keys?all=true", "id", 9),
        ("/v1/audit-events", "id", 0),
        (&*format!("{project}/workspace/sessions"), "session_ref", 5),
        (&*format!("{project}/workspace/sessions?state=closed"), "session_ref", 3),
    ];
    for (list, id_field, count) in lists {
        let separator = if list.contains('?') { '&' } else { '?' };
        let whole = one_page(&server, owner, &format!("{list}{separator}limit=200"), id_field).await;
        let walked = walk_v1(&server, owner, &format!("{list}{separator}limit=2"), id_field).await;
        assert_eq!(walked, whole, "{list}: walked page by page, the same items in the same order");
        if count > 0 {
            assert_eq!(whole.len(), count, "{list}: {whole:?}");
        } else {
            assert!(whole.len() > 10, "{list}: every change above is audited");
        }
    }

    // The Alumia surface pages its keys in its envelope.
    let mut cursor = String::new();
    let mut keys = Vec::new();
    loop {
        let page =
            expect_json(server.get(&format!("/api/v1/api-keys?limit=2&cursor={cursor}"), owner).await, 200).await;
        let data = &page["data"];
        keys.extend(data["items"].as_array().unwrap().iter().map(|k| k["id"].as_str().unwrap().to_owned()));
        match data["nextCursor"].as_str() {
            Some(next) => {
                assert_eq!(data["hasMore"], true);
                cursor = next.to_owned();
            }
            None => {
                assert_eq!(data["hasMore"], false);
                break;
            }
        }
    }
    assert_eq!(keys, one_page(&server, owner, "/v1/api-keys?limit=200", "id").await, "the caller's own keys");
    assert_eq!(keys.len(), 5, "the bootstrap key and four more");
}

async fn a_bad_page_is_refused_with_its_parameter(backend: Backend) {
    let server = TestServer::start(backend).await;
    let owner = &server.owner_key;
    for list in ["/v1/members", "/v1/teams", "/v1/api-keys", "/v1/service-accounts"] {
        for (query, field) in [("limit=0", "limit"), ("limit=201", "limit"), ("cursor=junk", "cursor")] {
            let body =
                expect_v1_error(server.get(&format!("{list}?{query}"), owner).await, 422, "validation.error").await;
            assert!(body["details"][field].is_string(), "{list}?{query}: {body}");
        }
    }
    let refused = server.request(Method::GET, "/api/v1/api-keys?limit=0", Some(owner)).send().await.unwrap();
    assert_eq!(expect_json(refused, 400).await["error"]["code"], "BAD_REQUEST");
}
