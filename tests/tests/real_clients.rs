//! What the real clients of both systems send and expect: Arkloop's JWTs (fractional dates,
//! `account_*` roles, RS256 and EdDSA), browsers on another origin (CORS), `HEAD` on a file,
//! listing items as Arkloop types them, Alumia's list envelope, codes and `alm_` keys. Over HTTP
//! on both backends.

use std::path::PathBuf;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use projects_blackbox_tests::{
    base64_url, expect_json, expect_v1_error, on_both_backends, Backend, TestServer, JWT_SECRET,
};
use reqwest::{Method, Response};
use serde_json::{json, Value};

on_both_backends!(
    arkloop_tokens_with_fractional_dates_and_account_roles_work,
    rs256_and_eddsa_tokens_work_with_the_configured_public_key,
    browsers_on_listed_origins_get_cors_answers_and_others_none,
    head_on_a_file_answers_as_get_without_the_body,
    listing_items_are_typed_as_arkloop_types_them,
    alumia_keys_are_made_listed_and_revoked_and_work_on_both_surfaces,
);

/// The web app's origin in these tests, and one nobody listed.
const APP_ORIGIN: &str = "http://localhost:5173";
const OTHER_ORIGIN: &str = "http://evil.localhost:5173";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/jwt").join(name)
}

/// A token of the owner, as Arkloop mints them: `iat`/`exp`/`nbf` with fractions of a second.
fn arkloop_claims(me: &Value, role: &str) -> Value {
    json!({
        "sub": me["user_id"], "account": me["org_id"], "role": role,
        "iat": 1_700_000_000.123_456, "nbf": 1_700_000_000.5, "exp": 4_102_444_800.75,
    })
}

fn signed(claims: &Value, algorithm: Algorithm, key: &EncodingKey) -> String {
    jsonwebtoken::encode(&Header::new(algorithm), claims, key).expect("a signed token")
}

fn hs256(claims: &Value) -> String {
    signed(claims, Algorithm::HS256, &EncodingKey::from_secret(JWT_SECRET.as_bytes()))
}

async fn me(server: &TestServer) -> Value {
    expect_json(server.get("/v1/me", &server.owner_key).await, 200).await
}

async fn arkloop_tokens_with_fractional_dates_and_account_roles_work(backend: Backend) {
    let server = TestServer::start(backend).await;
    let me = me(&server).await;
    for (claimed, acting) in [("account_admin", "admin"), ("account_member", "member"), ("owner", "owner")] {
        let token = hs256(&arkloop_claims(&me, claimed));
        let seen = expect_json(server.get("/v1/me", &token).await, 200).await;
        assert_eq!(seen["role"], acting, "{claimed}: {seen}");
        assert_eq!(seen["user_id"], me["user_id"]);
        let listed = server.get("/api/v1/projects", &token).await;
        assert_eq!(listed.status(), 200, "{claimed} on /api/v1");
    }
    // A member's token acts as a member: it cannot manage members.
    let member = hs256(&arkloop_claims(&me, "account_member"));
    let invite = json!({"email": "someone@localhost", "role": "member"});
    expect_v1_error(server.post_json("/v1/members", &member, invite).await, 403, "auth.forbidden").await;

    // Roles nobody has, dates that are not dates, and a token not valid yet are refused.
    let mut refused = Vec::new();
    for (field, value) in [
        ("role", json!("account_owner")),
        ("role", json!("account_")),
        ("exp", json!("tomorrow")),
        ("exp", json!(1e300)),
        ("exp", json!(1_700_000_000.5)),
        ("nbf", json!(4_000_000_000.5)),
        // Issued in the future, beyond the clock leeway.
        ("iat", json!(4_000_000_000.5)),
    ] {
        let mut claims = arkloop_claims(&me, "account_admin");
        claims[field] = value.clone();
        refused.push((field, value, server.get("/v1/me", &hs256(&claims)).await));
    }
    for (field, value, response) in refused {
        let status = response.status();
        let body: Value = response.json().await.unwrap_or_default();
        assert_eq!(status, 401, "{field} = {value}: {body}");
        let code = body["code"].as_str().unwrap_or_default();
        assert!(["auth.invalid_token", "auth.token_expired"].contains(&code), "{field} = {value}: {body}");
    }
}

async fn rs256_and_eddsa_tokens_work_with_the_configured_public_key(backend: Backend) {
    let rsa = EncodingKey::from_rsa_pem(&std::fs::read(fixture("rsa-private.pem")).unwrap()).unwrap();
    let ed25519 = EncodingKey::from_ed_pem(&std::fs::read(fixture("ed25519-private.pem")).unwrap()).unwrap();
    for (public_key, algorithm, key, other_algorithm, other_key) in [
        ("rsa-public.pem", Algorithm::RS256, &rsa, Algorithm::EdDSA, &ed25519),
        ("ed25519-public.pem", Algorithm::EdDSA, &ed25519, Algorithm::RS256, &rsa),
    ] {
        let server = TestServer::start_with(backend, |config| {
            config.app.jwt_public_key_file = Some(fixture(public_key));
        })
        .await;
        let me = me(&server).await;
        let claims = arkloop_claims(&me, "account_admin");
        let token = signed(&claims, algorithm, key);
        let seen = expect_json(server.get("/v1/me", &token).await, 200).await;
        assert_eq!((&seen["user_id"], &seen["role"]), (&me["user_id"], &json!("admin")), "{algorithm:?}");
        let created = server.post_json("/api/v1/projects", &token, json!({"name": "Signed elsewhere"})).await;
        assert_eq!(created.status(), 201, "{algorithm:?} on /api/v1");
        // HS256 with the server's secret still works beside the public key.
        expect_json(server.get("/v1/me", &hs256(&claims)).await, 200).await;

        // The other algorithm's key is not configured; a changed payload breaks the signature.
        let foreign = signed(&claims, other_algorithm, other_key);
        expect_v1_error(server.get("/v1/me", &foreign).await, 401, "auth.invalid_token").await;
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut escalated = claims.clone();
        escalated["role"] = json!("owner");
        parts[1] = base64_url(&escalated.to_string());
        expect_v1_error(server.get("/v1/me", &parts.join(".")).await, 401, "auth.invalid_token").await;
        // An HS256 token "signed" with the public key as its secret (the algorithm confusion).
        let pem = std::fs::read(fixture(public_key)).unwrap();
        let confused = signed(&claims, Algorithm::HS256, &EncodingKey::from_secret(&pem));
        expect_v1_error(server.get("/v1/me", &confused).await, 401, "auth.invalid_token").await;
    }
}

fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|value| value.to_str().ok())
}

/// A preflight as a browser sends it before a credentialed cross-origin request.
async fn preflight(server: &TestServer, origin: &str, method: &str, path: &str, headers: &str) -> Response {
    server
        .request(Method::OPTIONS, path, None)
        .header("Origin", origin)
        .header("Access-Control-Request-Method", method)
        .header("Access-Control-Request-Headers", headers)
        .send()
        .await
        .expect("preflight")
}

async fn browsers_on_listed_origins_get_cors_answers_and_others_none(backend: Backend) {
    let server = TestServer::start_with(backend, |config| {
        config.cors_allowed_origins = vec![APP_ORIGIN.to_owned(), "app://arkloop".to_owned()];
    })
    .await;
    let key = &server.owner_key;
    let id = expect_json(server.post_json("/v1/projects", key, json!({"name": "Cross origin"})).await, 201).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Every route answers the preflight, on both surfaces, with what the real clients send.
    for (method, path) in [
        ("POST", "/v1/projects".to_owned()),
        ("PUT", format!("/v1/projects/{id}/workspace/file?path=/a.txt")),
        ("GET", format!("/v1/projects/{id}/workspace/files?path=/")),
        ("PATCH", format!("/api/v1/projects/{id}")),
        ("DELETE", "/api/v1/api-keys/00000000-0000-0000-0000-000000000000".to_owned()),
    ] {
        for origin in [APP_ORIGIN, "app://arkloop"] {
            let answered =
                preflight(&server, origin, method, &path, "authorization,content-type,if-match,x-trace-id").await;
            assert!(answered.status().is_success(), "{method} {path} from {origin}: {}", answered.status());
            assert_eq!(header(&answered, "access-control-allow-origin"), Some(origin), "{method} {path}");
            assert_eq!(header(&answered, "access-control-allow-credentials"), Some("true"));
            let methods = header(&answered, "access-control-allow-methods").unwrap_or_default().to_owned();
            assert!(methods.contains(method), "{method} allowed: {methods}");
            let allowed = header(&answered, "access-control-allow-headers").unwrap_or_default().to_ascii_lowercase();
            for wanted in ["authorization", "content-type", "if-match", "x-trace-id"] {
                assert!(allowed.contains(wanted), "{wanted} allowed: {allowed}");
            }
        }
    }
    // The real request carries the origin back and exposes what the client reads.
    let listed =
        server.request(Method::GET, "/v1/projects", Some(key)).header("Origin", APP_ORIGIN).send().await.unwrap();
    assert_eq!(listed.status(), 200);
    assert_eq!(header(&listed, "access-control-allow-origin"), Some(APP_ORIGIN));
    assert_eq!(header(&listed, "access-control-allow-credentials"), Some("true"));
    let exposed = header(&listed, "access-control-expose-headers").unwrap_or_default().to_ascii_lowercase();
    for wanted in ["x-trace-id", "etag", "link", "retry-after", "ratelimit-remaining", "content-range"] {
        assert!(exposed.contains(wanted), "{wanted} exposed: {exposed}");
    }
    // An error is readable by the page too (else a 401 looks like a network failure).
    let refused =
        server.request(Method::GET, "/v1/projects", Some("ak-nope")).header("Origin", APP_ORIGIN).send().await;
    let refused = refused.unwrap();
    assert_eq!(header(&refused, "access-control-allow-origin"), Some(APP_ORIGIN));
    expect_v1_error(refused, 401, "auth.invalid_api_key").await;

    // Another origin gets no CORS header at all: its browser keeps the answer from the page.
    let denied = preflight(&server, OTHER_ORIGIN, "POST", "/v1/projects", "authorization").await;
    assert!(!denied.status().is_success(), "{}", denied.status());
    assert!(header(&denied, "access-control-allow-origin").is_none());
    let direct = server.request(Method::GET, "/v1/projects", Some(key)).header("Origin", OTHER_ORIGIN).send().await;
    let direct = direct.unwrap();
    assert_eq!(direct.status(), 200, "a client that is not a browser is served as ever");
    assert!(header(&direct, "access-control-allow-origin").is_none());

    // With no origin configured, nothing changes for anyone.
    let closed = TestServer::start(backend).await;
    let answer = preflight(&closed, APP_ORIGIN, "GET", "/v1/projects", "authorization").await;
    assert!(header(&answer, "access-control-allow-origin").is_none());
}

async fn head_on_a_file_answers_as_get_without_the_body(backend: Backend) {
    let server = TestServer::start(backend).await;
    let key = &server.owner_key;
    let id = expect_json(server.post_json("/v1/projects", key, json!({"name": "Heads"})).await, 201).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = format!("/v1/projects/{id}/workspace/file?path=/src/main.rs");
    let content = "fn main() { println!(\"hello\"); }\n";
    let put = server.request(Method::PUT, &url, Some(key)).body(content).send().await.unwrap();
    let revision = expect_json(put, 201).await["revision"].as_str().unwrap().to_owned();

    let got = server.get(&url, key).await;
    let head = server.request(Method::HEAD, &url, Some(key)).send().await.unwrap();
    assert_eq!(head.status(), 200);
    for name in ["content-length", "content-type", "etag", "accept-ranges", "cache-control"] {
        assert_eq!(header(&head, name), header(&got, name), "{name}");
    }
    assert_eq!(header(&head, "content-length"), Some(content.len().to_string().as_str()));
    assert!(head.bytes().await.unwrap().is_empty(), "no body");

    let etag = header(&got, "etag").unwrap().to_owned();
    let cached = server.request(Method::HEAD, &url, Some(key)).header("If-None-Match", etag).send().await.unwrap();
    assert_eq!(cached.status(), 304);
    let ranged = server.request(Method::HEAD, &url, Some(key)).header("Range", "bytes=0-1").send().await.unwrap();
    assert_eq!((ranged.status().as_u16(), header(&ranged, "content-length")), (206, Some("2")));
    assert_eq!(header(&ranged, "content-range"), Some(format!("bytes 0-1/{}", content.len()).as_str()));
    let at = format!("{url}&revision={revision}");
    let old = server.request(Method::HEAD, &at, Some(key)).send().await.unwrap();
    assert_eq!(header(&old, "cache-control"), Some("private, max-age=31536000, immutable"));
    let missing = format!("/v1/projects/{id}/workspace/file?path=/nope.txt");
    let missing = server.request(Method::HEAD, &missing, Some(key)).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    assert!(missing.bytes().await.unwrap().is_empty());
    let anonymous = server.request(Method::HEAD, &url, None).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
}

async fn listing_items_are_typed_as_arkloop_types_them(backend: Backend) {
    let server = TestServer::start(backend).await;
    let key = &server.owner_key;
    let id = expect_json(server.post_json("/v1/projects", key, json!({"name": "Types"})).await, 201).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (path, content) in [("/docs/readme.md", "# hi"), ("/data.unknownext", "??"), ("/noextension", "x")] {
        let url = format!("/v1/projects/{id}/workspace/file?path={path}");
        expect_json(server.request(Method::PUT, &url, Some(key)).body(content).send().await.unwrap(), 201).await;
    }
    let listed = expect_json(server.get(&format!("/v1/projects/{id}/workspace/files?path=/"), key).await, 200).await;
    let items = listed["items"].as_array().unwrap();
    let item = |name: &str| items.iter().find(|i| i["name"] == name).unwrap_or_else(|| panic!("{name} in {listed}"));
    let dir = item("docs");
    assert_eq!(
        (&dir["type"], &dir["size"], &dir["mtime_unix_ms"], &dir["mime_type"]),
        (&json!("dir"), &Value::Null, &Value::Null, &Value::Null)
    );
    assert_eq!(dir["has_children"], true);
    for name in ["data.unknownext", "noextension"] {
        assert_eq!(item(name)["mime_type"], "application/octet-stream", "{name}");
        assert_eq!(item(name)["size"], 2 - u64::from(name == "noextension"));
        assert!(item(name)["mtime_unix_ms"].as_i64().is_some_and(|t| t > 0));
    }
    let docs = expect_json(server.get(&format!("/v1/projects/{id}/workspace/files?path=/docs"), key).await, 200).await;
    assert_eq!(docs["items"][0]["mime_type"], "text/markdown; charset=utf-8");
    let tree = format!("/v1/projects/{id}/workspace/files?path=/&recursive=true");
    let tree = expect_json(server.get(&tree, key).await, 200).await;
    let docs_dir = tree["items"].as_array().unwrap().iter().find(|i| i["path"] == "/docs").expect("the dir").clone();
    assert_eq!((&docs_dir["size"], &docs_dir["mtime_unix_ms"]), (&Value::Null, &Value::Null), "{docs_dir}");
}

async fn alumia_keys_are_made_listed_and_revoked_and_work_on_both_surfaces(backend: Backend) {
    let server = TestServer::start(backend).await;
    let owner = &server.owner_key;
    let mut made = Vec::new();
    for (body, env) in [(json!({"name": "live default"}), "live"), (json!({"name": "ci", "env": "test"}), "test")] {
        let created = expect_json(server.post_json("/api/v1/api-keys", owner, body).await, 201).await;
        assert_eq!(created["success"], true);
        let data = created["data"].clone();
        let key = data["key"].as_str().unwrap().to_owned();
        let hex = key.strip_prefix(&format!("alm_{env}_")).unwrap_or_else(|| panic!("alm_{env}_ key: {key}"));
        assert!(hex.len() == 48 && hex.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()), "{key}");
        assert_eq!(data["prefix"], &key[..12]);
        for field in ["id", "name", "scopes", "createdAt", "lastUsedAt"] {
            assert!(data.get(field).is_some(), "{field} in {data}");
        }
        made.push((data["id"].as_str().unwrap().to_owned(), key));
    }
    let (id, key) = &made[0];
    // The key works on both surfaces, as the same person.
    let me = expect_json(server.get("/v1/me", key).await, 200).await;
    let owner_me = expect_json(server.get("/v1/me", owner).await, 200).await;
    assert_eq!(me["user_id"], owner_me["user_id"]);
    expect_json(server.post_json("/api/v1/projects", key, json!({"name": "By alm key"})).await, 201).await;
    let v1_listed = expect_json(server.get("/v1/projects", key).await, 200).await;
    assert_eq!(v1_listed.as_array().unwrap().len(), 1);
    // An `ak-` key works on /api/v1 too, and both shapes are in either listing.
    let listed = expect_json(server.get("/api/v1/api-keys", owner).await, 200).await;
    let items = listed["data"]["items"].as_array().unwrap();
    assert_eq!((&listed["data"]["nextCursor"], &listed["data"]["hasMore"]), (&Value::Null, &json!(false)));
    let prefixes: Vec<&str> = items.iter().map(|k| k["prefix"].as_str().unwrap()).collect();
    assert!(prefixes.iter().any(|p| p.starts_with("ak-")), "{prefixes:?}");
    assert_eq!(prefixes.iter().filter(|p| p.starts_with("alm_")).count(), 2, "{prefixes:?}");
    assert!(items.iter().all(|k| k.get("key").is_none()), "never the key itself: {listed}");
    let v1_keys = expect_json(server.get("/v1/api-keys", owner).await, 200).await;
    assert!(v1_keys.as_array().unwrap().iter().any(|k| k["key_prefix"] == made[1].1[..12]));

    // Scopes narrow the key; ones the caller lacks or nobody knows are refused.
    let narrow = json!({"name": "reader", "scopes": ["data.projects.read"], "env": "test"});
    let reader = expect_json(server.post_json("/api/v1/api-keys", owner, narrow).await, 201).await["data"]["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let denied = server.post_json("/api/v1/projects", &reader, json!({"name": "nope"})).await;
    assert_eq!(expect_json(denied, 403).await["error"]["code"], "FORBIDDEN");
    for bad in [
        json!({"name": "x", "env": "prod"}),
        json!({"name": "x", "scopes": ["no.such.scope"]}),
        json!({"name": ""}),
        json!({"name": "x", "unknown": 1}),
        json!({"name": "bad\u{0}name"}),
        json!({"name": "x", "scopes": null}),
    ] {
        let refused = server.post_json("/api/v1/api-keys", owner, bad.clone()).await;
        assert_eq!(expect_json(refused, 400).await["error"]["code"], "BAD_REQUEST", "{bad}");
    }
    let escalate = server.post_json("/api/v1/api-keys", &reader, json!({"name": "more"})).await;
    assert_eq!(expect_json(escalate, 403).await["error"]["code"], "FORBIDDEN", "a read-only key makes no keys");

    // Revoked, it stops at once on both surfaces; a second revoke and junk ids are 404.
    let revoked = server.delete(&format!("/api/v1/api-keys/{id}"), owner).await;
    assert_eq!(expect_json(revoked, 200).await, json!({"success": true, "data": {"deleted": true}}));
    expect_v1_error(server.get("/v1/me", key).await, 401, "auth.invalid_api_key").await;
    assert_eq!(expect_json(server.get("/api/v1/projects", key).await, 401).await["error"]["code"], "UNAUTHORIZED");
    for gone in [id.as_str(), "not-a-uuid"] {
        let again = server.delete(&format!("/api/v1/api-keys/{gone}"), owner).await;
        assert_eq!(expect_json(again, 404).await["error"]["code"], "NOT_FOUND");
    }
    // Malformed `alm_` keys are refused like malformed `ak-` ones.
    for bad in ["alm_live_", "alm_live_zz", &format!("alm_prod_{}", "a".repeat(48))] {
        expect_v1_error(server.get("/v1/me", bad).await, 401, "auth.invalid_api_key").await;
    }
}
