//! Nobody acts as somebody else: keys act as their own user, people get their first key from an
//! invitation, automation uses service accounts, only owners touch the owner role, team projects
//! need the team, and every identity change is audited. Over HTTP, on both backends.

use projects_blackbox_tests::{expect_json, expect_v1_error, on_both_backends, Backend, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

on_both_backends!(
    nobody_mints_a_key_for_another_person,
    invitations_give_a_person_their_own_first_key_once,
    service_accounts_get_keys_from_admins_and_die_with_their_keys,
    only_an_owner_touches_the_owner_role_and_says_so,
    team_projects_need_the_team,
    identity_changes_are_in_the_audit_trail,
    a_promotion_before_accepting_does_not_reach_the_invitation,
    a_token_acts_with_the_role_it_claims,
    another_members_idempotency_key_hands_over_nothing,
    shares_need_the_team_too,
    only_an_owner_revokes_an_owners_key,
    bootstrap_mints_owner_keys_only,
);

async fn me(server: &TestServer, key: &str) -> Value {
    expect_json(server.get("/v1/me", key).await, 200).await
}

async fn accept(server: &TestServer, token: &str) -> reqwest::Response {
    server.request(Method::POST, "/v1/invitations/accept", None).json(&json!({"token": token})).send().await.unwrap()
}

async fn nobody_mints_a_key_for_another_person(backend: Backend) {
    let server = TestServer::start(backend).await;
    let owner_id = me(&server, &server.owner_key).await["user_id"].as_str().unwrap().to_owned();
    let (admin_id, admin) = server.add_member("admin@localhost", "admin").await;
    let (member_id, member) = server.add_member("member@localhost", "member").await;
    let private = json!({"name": "owner's secret"});
    let private = expect_json(server.post_json("/v1/projects", &server.owner_key, private).await, 201).await;

    // The attack: an admin asks for a key "for" the owner, then for a plain member.
    for (victim, who) in [(&owner_id, "the owner"), (&member_id, "a member")] {
        let body = json!({"name": "mine now", "scopes": [], "user_id": victim});
        let refused = server.post_json("/v1/api-keys", &admin, body).await;
        let error = expect_v1_error(refused, 403, "auth.forbidden").await;
        assert!(error["message"].as_str().unwrap().contains("own user"), "{who}: {error}");
    }
    // Nothing was made: the owner's keys are still only the owner's, and the project stays private.
    let all = expect_json(server.get("/v1/api-keys?all=true", &server.owner_key).await, 200).await;
    let owners: Vec<&Value> = all.as_array().unwrap().iter().filter(|k| k["user_id"] == owner_id.as_str()).collect();
    assert_eq!(owners.len(), 1, "only the bootstrap key: {all}");
    let id = private["id"].as_str().unwrap();
    expect_v1_error(server.get(&format!("/v1/projects/{id}"), &admin).await, 404, "projects.not_found").await;
    // Naming oneself is allowed, and the key is one's own.
    let body = json!({"name": "self", "scopes": ["data.projects.read"], "user_id": admin_id});
    let own = expect_json(server.post_json("/v1/api-keys", &admin, body).await, 201).await;
    assert_eq!(me(&server, own["key"].as_str().unwrap()).await["user_id"], admin_id.as_str());
    // A member may not even ask (minting for a service account needs org.members.manage).
    let body = json!({"name": "x", "scopes": [], "user_id": admin_id});
    expect_v1_error(server.post_json("/v1/api-keys", &member, body).await, 403, "auth.forbidden").await;
}

async fn invitations_give_a_person_their_own_first_key_once(backend: Backend) {
    let server = TestServer::start(backend).await;
    let owner = &server.owner_key;
    let added = expect_json(
        server.post_json("/v1/members", owner, json!({"email": "ada@localhost", "role": "member"})).await,
        201,
    )
    .await;
    assert_eq!(added["kind"], "user");
    let token = added["invite_token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("inv-") && token.len() == 68, "{token}");
    // Listings never show it again.
    let members = expect_json(server.get("/v1/members", owner).await, 200).await;
    assert!(!members.to_string().contains(&token));

    let named = server
        .request(Method::POST, "/v1/invitations/accept", None)
        .json(&json!({"token": token, "key_name": "ada's laptop"}))
        .send()
        .await
        .unwrap();
    let accepted = expect_json(named, 201).await;
    assert_eq!(accepted["user_id"], added["user_id"]);
    let org_id = me(&server, owner).await["org_id"].clone();
    assert_eq!(accepted["org_id"], org_id);
    let key = accepted["api_key"].as_str().unwrap();
    let ada = me(&server, key).await;
    assert_eq!(ada["user_id"], added["user_id"]);
    assert!(ada["permissions"].as_array().unwrap().contains(&json!("data.projects.manage")), "{ada}");
    let keys = expect_json(server.get("/v1/api-keys", key).await, 200).await;
    assert_eq!(keys[0]["name"], "ada's laptop");

    // Single use; unknown and malformed tokens are the same 401.
    expect_v1_error(accept(&server, &token).await, 401, "auth.invalid_token").await;
    let unknown = format!("inv-{}", "0".repeat(64));
    for bad in [unknown.as_str(), "inv-nope", "", "ak-123"] {
        expect_v1_error(accept(&server, bad).await, 401, "auth.invalid_token").await;
    }
    // A removed member's invitation is void.
    let body = json!({"email": "gone@localhost", "role": "viewer"});
    let gone = expect_json(server.post_json("/v1/members", owner, body).await, 201).await;
    let removed = server.delete(&format!("/v1/members/{}", gone["user_id"].as_str().unwrap()), owner).await;
    assert_eq!(removed.status(), 204);
    expect_v1_error(accept(&server, gone["invite_token"].as_str().unwrap()).await, 401, "auth.invalid_token").await;

    // Many redemptions at once: exactly one key.
    let body = json!({"email": "race@localhost", "role": "viewer"});
    let race = expect_json(server.post_json("/v1/members", owner, body).await, 201).await;
    let token = race["invite_token"].as_str().unwrap().to_owned();
    let attempts = futures::future::join_all((0..10).map(|_| accept(&server, &token))).await;
    let statuses: Vec<u16> = attempts.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 201 || *s == 401), "{statuses:?}");
}

async fn service_accounts_get_keys_from_admins_and_die_with_their_keys(backend: Backend) {
    let server = TestServer::start(backend).await;
    let owner = &server.owner_key;
    let (admin_id, admin) = server.add_member("admin@localhost", "admin").await;
    let body = json!({"name": "ci-bot", "role": "member"});
    let bot = expect_json(server.post_json("/v1/service-accounts", &admin, body).await, 201).await;
    assert_eq!(bot["kind"], "service_account");
    assert_eq!(bot["name"], "ci-bot");
    assert_eq!(bot["role"], "member");
    let bot_id = bot["user_id"].as_str().unwrap().to_owned();

    let owner_role = server.post_json("/v1/service-accounts", &admin, json!({"name": "boss", "role": "owner"})).await;
    expect_v1_error(owner_role, 422, "validation.error").await;
    let (_, member) = server.add_member("member@localhost", "member").await;
    let denied = server.post_json("/v1/service-accounts", &member, json!({"name": "x", "role": "viewer"})).await;
    expect_v1_error(denied, 403, "auth.forbidden").await;

    let members = expect_json(server.get("/v1/members", owner).await, 200).await;
    let listed = members.as_array().unwrap().iter().find(|m| m["user_id"] == bot_id.as_str()).expect("listed");
    assert_eq!(listed["kind"], "service_account");
    assert!(members
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["user_id"] != bot_id.as_str())
        .all(|m| m["kind"] == "user"));
    let accounts = expect_json(server.get("/v1/service-accounts", &admin).await, 200).await;
    assert_eq!(accounts.as_array().unwrap().len(), 1);
    assert_eq!(accounts[0]["user_id"], bot_id.as_str());

    // An admin mints the bot's key; it acts as the bot, within the bot's role.
    let body = json!({"name": "deploy", "scopes": ["data.projects.read", "data.projects.manage"], "user_id": bot_id});
    let key = expect_json(server.post_json("/v1/api-keys", &admin, body).await, 201).await;
    let bot_key = key["key"].as_str().unwrap().to_owned();
    assert_eq!(me(&server, &bot_key).await["user_id"], bot_id.as_str());
    let beyond = json!({"name": "x", "scopes": ["org.members.manage"], "user_id": bot_id});
    expect_v1_error(server.post_json("/v1/api-keys", &admin, beyond).await, 403, "auth.forbidden").await;
    expect_json(server.post_json("/v1/projects", &bot_key, json!({"name": "built by a bot"})).await, 201).await;

    // It outlives the person who made it.
    assert_eq!(server.delete(&format!("/v1/members/{admin_id}"), owner).await.status(), 204);
    assert_eq!(me(&server, &bot_key).await["user_id"], bot_id.as_str());

    // A person is not a service account; removing the bot kills its keys at once.
    let person = server.delete(&format!("/v1/service-accounts/{admin_id}"), owner).await;
    expect_v1_error(person, 404, "members.not_found").await;
    assert_eq!(server.delete(&format!("/v1/service-accounts/{bot_id}"), owner).await.status(), 204);
    expect_v1_error(server.get("/v1/me", &bot_key).await, 401, "auth.invalid_api_key").await;
    let accounts = expect_json(server.get("/v1/service-accounts", owner).await, 200).await;
    assert_eq!(accounts, json!([]));
}

async fn only_an_owner_touches_the_owner_role_and_says_so(backend: Backend) {
    let server = TestServer::start(backend).await;
    let owner = &server.owner_key;
    let owner_id = me(&server, owner).await["user_id"].as_str().unwrap().to_owned();
    let (_, admin) = server.add_member("admin@localhost", "admin").await;
    let (member_id, _) = server.add_member("member@localhost", "member").await;
    let says_owner_only = |error: &Value| {
        let message = error["message"].as_str().unwrap();
        assert!(message.contains("only an owner"), "{error}");
        assert!(!message.contains("org.members.manage"), "the admin holds that permission: {error}");
    };
    let body = json!({"email": "second-owner@localhost", "role": "owner"});
    says_owner_only(&expect_v1_error(server.post_json("/v1/members", &admin, body).await, 403, "auth.forbidden").await);
    let promote = server.patch_json(&format!("/v1/members/{member_id}"), &admin, json!({"role": "owner"})).await;
    says_owner_only(&expect_v1_error(promote, 403, "auth.forbidden").await);
    let demote = server.patch_json(&format!("/v1/members/{owner_id}"), &admin, json!({"role": "viewer"})).await;
    says_owner_only(&expect_v1_error(demote, 403, "auth.forbidden").await);
    let remove = server.delete(&format!("/v1/members/{owner_id}"), &admin).await;
    says_owner_only(&expect_v1_error(remove, 403, "auth.forbidden").await);
    // The owner may.
    let promote = server.patch_json(&format!("/v1/members/{member_id}"), owner, json!({"role": "owner"})).await;
    assert_eq!(expect_json(promote, 200).await["role"], "owner");
}

async fn team_projects_need_the_team(backend: Backend) {
    let server = TestServer::start(backend).await;
    let owner = &server.owner_key;
    let (inside_id, inside) = server.add_member("inside@localhost", "member").await;
    let (_, outside) = server.add_member("outside@localhost", "member").await;
    let (_, admin) = server.add_member("admin@localhost", "admin").await;
    let team = expect_json(server.post_json("/v1/teams", owner, json!({"name": "red"})).await, 201).await;
    let team_id = team["id"].as_str().unwrap();
    let added = server.post_json(&format!("/v1/teams/{team_id}/members"), owner, json!({"user_id": inside_id})).await;
    assert_eq!(added.status(), 204);

    let v1 = json!({"name": "in red", "team_id": team_id});
    let refused = server.post_json("/v1/projects", &outside, v1.clone()).await;
    let error = expect_v1_error(refused, 403, "auth.forbidden").await;
    assert!(error["message"].as_str().unwrap().contains("team"), "{error}");
    let alumia = json!({"name": "in red", "workspaceId": team_id});
    let refused = server.post_json("/api/v1/projects", &outside, alumia.clone()).await;
    let body = expect_json(refused, 403).await;
    assert_eq!(body["error"]["code"], "FORBIDDEN");
    let listed = expect_json(server.get("/v1/projects", owner).await, 200).await;
    assert_eq!(listed, json!([]), "nothing was created");

    expect_json(server.post_json("/v1/projects", &inside, v1).await, 201).await;
    let made = expect_json(server.post_json("/api/v1/projects", &admin, alumia).await, 201).await;
    assert_eq!(made["data"]["workspaceId"], team_id);
    // A team of the org that does not exist is named by its Alumia name.
    let missing = json!({"name": "x", "workspaceId": "0193a5b0-7e1c-7c3e-9f4a-2b8d6c1e5f70"});
    let body = expect_json(server.post_json("/api/v1/projects", &admin, missing).await, 400).await;
    assert!(body["error"]["details"]["workspaceId"].is_string(), "{body}");
    assert!(!body.to_string().contains("team_id"), "{body}");
}

async fn identity_changes_are_in_the_audit_trail(backend: Backend) {
    let server = TestServer::start(backend).await;
    let owner = &server.owner_key;
    let owner_id = me(&server, owner).await["user_id"].as_str().unwrap().to_owned();
    let (ada_id, ada_key) = server.add_member("ada@localhost", "member").await;
    let role = server.patch_json(&format!("/v1/members/{ada_id}"), owner, json!({"role": "admin"})).await;
    expect_json(role, 200).await;
    let team = expect_json(server.post_json("/v1/teams", owner, json!({"name": "red"})).await, 201).await;
    let team_id = team["id"].as_str().unwrap().to_owned();
    let added = server.post_json(&format!("/v1/teams/{team_id}/members"), owner, json!({"user_id": ada_id})).await;
    assert_eq!(added.status(), 204);
    let removed = server.delete(&format!("/v1/teams/{team_id}/members/{ada_id}"), owner).await;
    assert_eq!(removed.status(), 204);
    let bot = json!({"name": "bot", "role": "viewer"});
    let bot = expect_json(server.post_json("/v1/service-accounts", owner, bot).await, 201).await;
    let bot_id = bot["user_id"].as_str().unwrap().to_owned();
    let keys = expect_json(server.get("/v1/api-keys", &ada_key).await, 200).await;
    let ada_key_id = keys[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(server.delete(&format!("/v1/api-keys/{ada_key_id}"), owner).await.status(), 204);
    assert_eq!(server.delete(&format!("/v1/service-accounts/{bot_id}"), owner).await.status(), 204);
    assert_eq!(server.delete(&format!("/v1/members/{ada_id}"), owner).await.status(), 204);

    let events = expect_json(server.get("/v1/audit-events?limit=50", owner).await, 200).await;
    let events = events.as_array().unwrap();
    let find = |action: &str| {
        events.iter().find(|e| e["action"] == action).unwrap_or_else(|| panic!("no {action} in {events:?}")).clone()
    };
    let expect = |action: &str, actor: &str, target_type: &str, target_id: &str| {
        let event = find(action);
        assert_eq!(event["actor_user_id"], actor, "{event}");
        assert_eq!(event["target_type"], target_type, "{event}");
        assert_eq!(event["target_id"], target_id, "{event}");
        event
    };
    expect("member.added", &owner_id, "member", &ada_id);
    // Ada made her own key by accepting the invitation.
    expect("api_key.created", &ada_id, "api_key", &ada_key_id);
    let changed = expect("member.role_changed", &owner_id, "member", &ada_id);
    assert_eq!(changed["fields"], json!(["member", "admin"]));
    expect("team.created", &owner_id, "team", &team_id);
    assert_eq!(expect("team.member_added", &owner_id, "team", &team_id)["fields"], json!([ada_id]));
    assert_eq!(expect("team.member_removed", &owner_id, "team", &team_id)["fields"], json!([ada_id]));
    expect("service_account.created", &owner_id, "service_account", &bot_id);
    expect("service_account.removed", &owner_id, "service_account", &bot_id);
    expect("api_key.revoked", &owner_id, "api_key", &ada_key_id);
    expect("member.removed", &owner_id, "member", &ada_id);
}

async fn a_promotion_before_accepting_does_not_reach_the_invitation(backend: Backend) {
    let server = TestServer::start(backend).await;
    let owner = &server.owner_key;
    let (admin_id, admin) = server.add_member("admin@localhost", "admin").await;
    // The admin invites someone and keeps the token; the owner then makes them an owner.
    let body = json!({"email": "future-owner@localhost", "role": "member"});
    let invited = expect_json(server.post_json("/v1/members", &admin, body).await, 201).await;
    let id = invited["user_id"].as_str().unwrap();
    let promoted = server.patch_json(&format!("/v1/members/{id}"), owner, json!({"role": "owner"})).await;
    assert_eq!(expect_json(promoted, 200).await["role"], "owner");
    let accepted = expect_json(accept(&server, invited["invite_token"].as_str().unwrap()).await, 201).await;
    let key = accepted["api_key"].as_str().unwrap();
    let permissions = me(&server, key).await["permissions"].clone();
    assert!(!permissions.as_array().unwrap().contains(&json!("org.members.manage")), "{permissions}");
    let escalate = server.patch_json(&format!("/v1/members/{admin_id}"), key, json!({"role": "owner"})).await;
    expect_v1_error(escalate, 403, "auth.forbidden").await;
}

fn token(server_me: &Value, role: &str) -> String {
    let claims = json!({
        "sub": server_me["user_id"], "org": server_me["org_id"], "role": role,
        "iat": 1_700_000_000, "exp": 4_102_444_800u64,
    });
    let key = jsonwebtoken::EncodingKey::from_secret(projects_blackbox_tests::JWT_SECRET.as_bytes());
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap()
}

async fn a_token_acts_with_the_role_it_claims(backend: Backend) {
    let server = TestServer::start(backend).await;
    let owner_me = me(&server, &server.owner_key).await;
    let (member_id, _) = server.add_member("m@localhost", "member").await;
    let as_admin = token(&owner_me, "admin");
    assert_eq!(me(&server, &as_admin).await["role"], "admin");
    let promote = server.patch_json(&format!("/v1/members/{member_id}"), &as_admin, json!({"role": "owner"})).await;
    let error = expect_v1_error(promote, 403, "auth.forbidden").await;
    assert!(error["message"].as_str().unwrap().contains("only an owner"), "{error}");
    // As a member, the owner is not an admin either: a team they are not in is closed.
    let team = expect_json(server.post_json("/v1/teams", &server.owner_key, json!({"name": "red"})).await, 201).await;
    let as_member = token(&owner_me, "member");
    let body = json!({"name": "in red", "team_id": team["id"]});
    expect_v1_error(server.post_json("/v1/projects", &as_member, body).await, 403, "auth.forbidden").await;
    // A claim above the member's role grants nothing more.
    let (_, _) = server.add_member("v@localhost", "viewer").await;
    let members = expect_json(server.get("/v1/members", &server.owner_key).await, 200).await;
    let viewer = members.as_array().unwrap().iter().find(|m| m["email"] == "v@localhost").unwrap().clone();
    let viewer_me = json!({"user_id": viewer["user_id"], "org_id": owner_me["org_id"]});
    let claims_owner = token(&viewer_me, "owner");
    assert_eq!(me(&server, &claims_owner).await["role"], "viewer");
}

async fn another_members_idempotency_key_hands_over_nothing(backend: Backend) {
    let server = TestServer::start(backend).await;
    let (_, member) = server.add_member("m@localhost", "member").await;
    let body = json!({"name": "owner's private plan", "description": "secret"});
    let first = server
        .request(Method::POST, "/v1/projects", Some(&server.owner_key))
        .header("idempotency-key", "shared-key-1")
        .json(&body)
        .send()
        .await
        .unwrap();
    let project = expect_json(first, 201).await;
    let replay = server
        .request(Method::POST, "/v1/projects", Some(&member))
        .header("idempotency-key", "shared-key-1")
        .json(&body)
        .send()
        .await
        .unwrap();
    let text = expect_json(replay, 409).await.to_string();
    assert!(!text.contains(project["id"].as_str().unwrap()) && !text.contains("secret"), "{text}");
}

async fn shares_need_the_team_too(backend: Backend) {
    let server = TestServer::start(backend).await;
    let owner = &server.owner_key;
    let (_, member) = server.add_member("m@localhost", "member").await;
    let team = expect_json(server.post_json("/v1/teams", owner, json!({"name": "red"})).await, 201).await;
    let body = json!({"name": "mine", "visibility": "shared"});
    let mine = expect_json(server.post_json("/v1/projects", &member, body).await, 201).await;
    let share = format!("/v1/projects/{}/shares", mine["id"].as_str().unwrap());
    let refused = server.post_json(&share, &member, json!({"team_id": team["id"]})).await;
    expect_v1_error(refused, 403, "auth.forbidden").await;
    assert_eq!(server.post_json(&share, owner, json!({"team_id": team["id"]})).await.status(), 204);
    // Sharing again changes nothing and records nothing.
    assert_eq!(server.post_json(&share, owner, json!({"team_id": team["id"]})).await.status(), 204);
    let events = expect_json(server.get("/v1/audit-events", owner).await, 200).await;
    let shared = events.as_array().unwrap().iter().filter(|e| e["action"] == "project.shared").count();
    assert_eq!(shared, 1);
}

async fn only_an_owner_revokes_an_owners_key(backend: Backend) {
    let server = TestServer::start(backend).await;
    let owner = &server.owner_key;
    let (_, admin) = server.add_member("admin@localhost", "admin").await;
    let keys = expect_json(server.get("/v1/api-keys", owner).await, 200).await;
    let owner_key_id = keys[0]["id"].as_str().unwrap().to_owned();
    let refused = server.delete(&format!("/v1/api-keys/{owner_key_id}"), &admin).await;
    let error = expect_v1_error(refused, 403, "auth.forbidden").await;
    assert!(error["message"].as_str().unwrap().contains("only an owner"), "{error}");
    expect_json(server.get("/v1/me", owner).await, 200).await;
}

async fn bootstrap_mints_owner_keys_only(backend: Backend) {
    let server = TestServer::start(backend).await;
    server.add_member("m@localhost", "admin").await;
    assert!(server.app().bootstrap("default", "m@localhost").await.is_err(), "not an owner: no key");
    let again = server.owner_key_of("default", "owner@localhost").await;
    assert_eq!(me(&server, &again).await["email"], "owner@localhost");
    let owner_id = me(&server, &again).await["user_id"].clone();
    let events = expect_json(server.get("/v1/audit-events", &server.owner_key).await, 200).await;
    let first_start: Vec<&Value> =
        events.as_array().unwrap().iter().filter(|e| e["actor_user_id"] == owner_id).collect();
    assert!(first_start.len() >= 3, "the first start's owner and key, and the new key, are audited: {events}");
}
