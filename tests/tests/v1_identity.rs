//! Members, teams, shares, key revocation and JWTs, with visibility enforced on every read, over
//! HTTP on both backends.

use projects_blackbox_tests::{base64_url, expect_json, expect_v1_error, on_both_backends, Backend, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

on_both_backends!(
    visibility_matrix_over_http,
    other_orgs_get_404_on_every_project_scoped_endpoint,
    revoked_keys_and_removed_members_stop_at_once,
    jwts_authenticate_until_they_expire,
    me_shows_and_sets_preferences,
    key_use_is_recorded_off_the_request_path,
);

async fn add_member(server: &TestServer, email: &str, role: &str) -> (String, String) {
    let (user_id, own_key) = server.add_member(email, role).await;
    let scopes = match role {
        "viewer" => vec!["data.projects.read", "org.teams.read"],
        _ => vec!["data.projects.read", "data.projects.manage", "org.teams.read", "data.api_keys.manage"],
    };
    (user_id, server.scoped_key(&own_key, &scopes).await)
}

async fn create_team(server: &TestServer, name: &str, members: &[&str]) -> String {
    let owner = &server.owner_key;
    let team = expect_json(server.post_json("/v1/teams", owner, json!({"name": name})).await, 201).await;
    let team_id = team["id"].as_str().unwrap().to_owned();
    for user_id in members {
        let added = server.post_json(&format!("/v1/teams/{team_id}/members"), owner, json!({"user_id": user_id})).await;
        assert_eq!(added.status(), 204);
    }
    team_id
}

async fn create_project(server: &TestServer, key: &str, body: Value) -> String {
    expect_json(server.post_json("/v1/projects", key, body).await, 201).await["id"].as_str().unwrap().to_owned()
}

async fn visibility_matrix_over_http(backend: Backend) {
    let server = TestServer::start(backend).await;
    let (admin_id, admin) = add_member(&server, "admin@localhost", "admin").await;
    let (red_member_id, red_member) = add_member(&server, "red@localhost", "member").await;
    let (blue_viewer_id, blue_viewer) = add_member(&server, "blue@localhost", "viewer").await;
    let (_, loner) = add_member(&server, "loner@localhost", "member").await;
    let red = create_team(&server, "red", &[&red_member_id]).await;
    let blue = create_team(&server, "blue", &[&blue_viewer_id]).await;
    let _ = admin_id;

    let owner = server.owner_key.clone();
    let private = create_project(&server, &owner, json!({"name": "private"})).await;
    let private_red = create_project(&server, &owner, json!({"name": "private red", "team_id": red})).await;
    let org_wide = create_project(&server, &owner, json!({"name": "org wide", "visibility": "shared"})).await;
    let red_team =
        create_project(&server, &owner, json!({"name": "red team", "visibility": "team", "team_id": red})).await;
    let blue_shared_to_red =
        create_project(&server, &owner, json!({"name": "blue to red", "visibility": "shared", "team_id": blue})).await;
    let shared =
        server.post_json(&format!("/v1/projects/{blue_shared_to_red}/shares"), &owner, json!({"team_id": red})).await;
    assert_eq!(shared.status(), 204);
    let private_shared = create_project(&server, &owner, json!({"name": "private shared", "team_id": blue})).await;
    let shared =
        server.post_json(&format!("/v1/projects/{private_shared}/shares"), &owner, json!({"team_id": red})).await;
    assert_eq!(shared.status(), 204);

    let projects = [&private, &private_red, &org_wide, &red_team, &blue_shared_to_red, &private_shared];
    // caller → can see [private, private red, org wide, red team, blue→red, private shared]
    let table: [(&str, &str, [bool; 6]); 5] = [
        ("owner (creator)", &owner, [true, true, true, true, true, true]),
        ("admin, no team", &admin, [false, false, true, false, false, false]),
        ("member of red", &red_member, [false, false, true, true, true, false]),
        ("viewer of blue", &blue_viewer, [false, false, true, false, true, false]),
        ("member, no team", &loner, [false, false, true, false, false, false]),
    ];
    for (who, key, expected) in table {
        let mut visible = Vec::new();
        for (project, allowed) in projects.iter().zip(expected) {
            let response = server.get(&format!("/v1/projects/{project}"), key).await;
            if allowed {
                expect_json(response, 200).await;
                visible.push(project.as_str());
            } else {
                expect_v1_error(response, 404, "projects.not_found").await;
            }
        }
        let listed = expect_json(server.get("/v1/projects", key).await, 200).await;
        let mut listed: Vec<&str> = listed.as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
        listed.sort();
        visible.sort();
        assert_eq!(listed, visible, "{who} lists exactly what they may get");
    }

    // Leaving the team takes the team's projects away at once.
    let left = server.delete(&format!("/v1/teams/{red}/members/{red_member_id}"), &owner).await;
    assert_eq!(left.status(), 204);
    expect_v1_error(server.get(&format!("/v1/projects/{red_team}"), &red_member).await, 404, "projects.not_found")
        .await;
}

async fn other_orgs_get_404_on_every_project_scoped_endpoint(backend: Backend) {
    let server = TestServer::start(backend).await;
    let owner = &server.owner_key;
    let project = create_project(&server, owner, json!({"name": "Ours", "visibility": "shared"})).await;
    let team = create_team(&server, "ours", &[]).await;
    let stranger = server.owner_key_of("globex", "boss@globex.test").await;
    let their_team = {
        let created = server.post_json("/v1/teams", &stranger, json!({"name": "theirs"})).await;
        expect_json(created, 201).await["id"].as_str().unwrap().to_owned()
    };
    let missing = "0193a5b0-7e1c-7c3e-9f4a-2b8d6c1e5f70";

    for id in [project.as_str(), "ours", missing] {
        expect_v1_error(server.get(&format!("/v1/projects/{id}"), &stranger).await, 404, "projects.not_found").await;
        let share =
            server.post_json(&format!("/v1/projects/{id}/shares"), &stranger, json!({"team_id": their_team})).await;
        expect_v1_error(share, 404, "projects.not_found").await;
        let unshare = server.delete(&format!("/v1/projects/{id}/shares/{their_team}"), &stranger).await;
        expect_v1_error(unshare, 404, "projects.not_found").await;
    }
    // Teams and members of another org are as missing as missing ones.
    for id in [team.as_str(), missing] {
        let add = server.post_json(&format!("/v1/teams/{id}/members"), &stranger, json!({"user_id": missing})).await;
        expect_v1_error(add, 404, "teams.not_found").await;
    }
    let members = expect_json(server.get("/v1/members", &stranger).await, 200).await;
    assert_eq!(members.as_array().unwrap().len(), 1, "only their own owner: {members}");
    let teams = expect_json(server.get("/v1/teams", &stranger).await, 200).await;
    assert_eq!(teams, json!([{"id": their_team, "name": "theirs"}]));
    // Sharing our project into their team is refused as an unknown team.
    let cross =
        server.post_json(&format!("/v1/projects/{project}/shares"), owner, json!({"team_id": their_team})).await;
    let error = expect_v1_error(cross, 422, "validation.error").await;
    assert!(error["details"]["team_id"].is_string(), "{error}");
}

async fn revoked_keys_and_removed_members_stop_at_once(backend: Backend) {
    let server = TestServer::start(backend).await;
    let owner = &server.owner_key;
    let created =
        server.post_json("/v1/api-keys", owner, json!({"name": "temp", "scopes": ["data.projects.read"]})).await;
    let created = expect_json(created, 201).await;
    let (key_id, key) = (created["id"].as_str().unwrap(), created["key"].as_str().unwrap());
    expect_json(server.get("/v1/projects", key).await, 200).await;
    let listed = expect_json(server.get("/v1/api-keys", owner).await, 200).await;
    assert!(listed.as_array().unwrap().iter().any(|k| k["id"] == key_id));
    assert!(listed.as_array().unwrap().iter().all(|k| k.get("key").is_none()), "keys are shown once only");

    assert_eq!(server.delete(&format!("/v1/api-keys/{key_id}"), owner).await.status(), 204);
    expect_v1_error(server.get("/v1/projects", key).await, 401, "auth.invalid_api_key").await;
    expect_v1_error(server.delete(&format!("/v1/api-keys/{key_id}"), owner).await, 404, "api_keys.not_found").await;

    let (member_id, member_key) = add_member(&server, "leaver@localhost", "member").await;
    expect_json(server.get("/v1/projects", &member_key).await, 200).await;
    // A member cannot revoke the owner's keys.
    let owner_keys = expect_json(server.get("/v1/api-keys", owner).await, 200).await;
    let owner_key_id = owner_keys[0]["id"].as_str().unwrap();
    let denied = server.delete(&format!("/v1/api-keys/{owner_key_id}"), &member_key).await;
    expect_v1_error(denied, 404, "api_keys.not_found").await;

    assert_eq!(server.delete(&format!("/v1/members/{member_id}"), owner).await.status(), 204);
    expect_v1_error(server.get("/v1/projects", &member_key).await, 401, "auth.invalid_api_key").await;
    let members = expect_json(server.get("/v1/members", owner).await, 200).await;
    assert!(members.as_array().unwrap().iter().all(|m| m["user_id"] != member_id.as_str()));
}

async fn jwts_authenticate_until_they_expire(backend: Backend) {
    let server = TestServer::start(backend).await;
    let app = server.app();
    let token = app.mint_token("default", "owner@localhost", time::Duration::hours(1)).await.unwrap();
    let me = expect_json(server.get("/v1/me", &token).await, 200).await;
    assert_eq!(me["email"], "owner@localhost");
    assert_eq!(me["role"], "owner");
    expect_json(server.post_json("/v1/projects", &token, json!({"name": "Via JWT"})).await, 201).await;

    let expired = app.mint_token("default", "owner@localhost", time::Duration::minutes(-5)).await.unwrap();
    expect_v1_error(server.get("/v1/me", &expired).await, 401, "auth.token_expired").await;
    let mut tampered = token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    expect_v1_error(server.get("/v1/me", &tampered).await, 401, "auth.invalid_token").await;

    // Unsigned (`alg: none`) and malformed tokens are refused, as are absurd headers.
    let header = base64_url(r#"{"alg":"none","typ":"JWT"}"#);
    let me = expect_json(server.get("/v1/me", &token).await, 200).await;
    let claims = base64_url(&format!(
        r#"{{"sub":"{}","org":"{}","role":"owner","exp":4102444800,"iat":1700000000}}"#,
        me["user_id"].as_str().unwrap(),
        me["org_id"].as_str().unwrap()
    ));
    expect_v1_error(server.get("/v1/me", &format!("{header}.{claims}.")).await, 401, "auth.invalid_token").await;
    expect_v1_error(server.get("/v1/me", "not.a.jwt").await, 401, "auth.invalid_token").await;
    let huge = server.get("/v1/me", &"x".repeat(64 * 1024)).await;
    assert!(huge.status().is_client_error(), "{}", huge.status());

    let (member_id, _) = add_member(&server, "jwt@localhost", "member").await;
    let member_token = app.mint_token("default", "jwt@localhost", time::Duration::hours(1)).await.unwrap();
    expect_json(server.get("/v1/me", &member_token).await, 200).await;
    assert_eq!(server.delete(&format!("/v1/members/{member_id}"), &server.owner_key).await.status(), 204);
    expect_v1_error(server.get("/v1/me", &member_token).await, 401, "auth.invalid_token").await;
}

async fn me_shows_and_sets_preferences(backend: Backend) {
    let server = TestServer::start(backend).await;
    let owner = &server.owner_key;
    let me = expect_json(server.get("/v1/me", owner).await, 200).await;
    assert_eq!(me["default_project_visibility"], Value::Null);
    assert!(me["permissions"].as_array().unwrap().contains(&json!("org.members.manage")));

    let updated = server.patch_json("/v1/me", owner, json!({"default_project_visibility": "shared"})).await;
    assert_eq!(expect_json(updated, 200).await["default_project_visibility"], "shared");
    let project = expect_json(server.post_json("/v1/projects", owner, json!({"name": "Defaults"})).await, 201).await;
    assert_eq!(project["visibility"], "shared", "the caller's default applies");

    let owner_id = me["user_id"].as_str().unwrap();
    let team = create_team(&server, "mine", &[]).await;
    let not_mine = server.patch_json("/v1/me", owner, json!({"active_team_id": team})).await;
    expect_v1_error(not_mine, 422, "validation.error").await;
    let added = server.post_json(&format!("/v1/teams/{team}/members"), owner, json!({"user_id": owner_id})).await;
    assert_eq!(added.status(), 204);
    let active = expect_json(server.patch_json("/v1/me", owner, json!({"active_team_id": team})).await, 200).await;
    assert_eq!(active["active_team_id"], team.as_str());
    assert_eq!(active["default_project_visibility"], "shared", "absent fields are left alone");
    let cleared = server.patch_json("/v1/me", owner, json!({"default_project_visibility": null})).await;
    assert_eq!(expect_json(cleared, 200).await["default_project_visibility"], Value::Null);
    let bad = server.patch_json("/v1/me", owner, json!({"default_project_visibility": "public"})).await;
    expect_v1_error(bad, 422, "validation.error").await;
}

async fn key_use_is_recorded_off_the_request_path(backend: Backend) {
    let server = TestServer::start(backend).await;
    let owner = &server.owner_key;
    let before = expect_json(server.get("/v1/api-keys", owner).await, 200).await;
    assert_eq!(before[0]["last_used_at"], Value::Null, "not written by the request itself");
    server.app().flush_last_used().await.unwrap();
    let after = expect_json(server.request(Method::GET, "/v1/api-keys", Some(owner)).send().await.unwrap(), 200).await;
    assert!(after[0]["last_used_at"].is_string(), "{after}");
}
