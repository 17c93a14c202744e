//! Workspace history: every write is a revision that can be listed, read, diffed and restored;
//! change sets touch several paths at once, all or nothing; whole trees list in pages; blobs can be
//! asked about before uploading; garbage collection keeps what the head needs and never an
//! acknowledged file's content. Over HTTP, on both backends.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use projects_adapters_s3::test_support::TestS3Server;
use projects_blackbox_tests::{expect_json, expect_v1_error, on_both_backends, Backend, TestServer};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

on_both_backends!(
    every_write_is_a_revision_in_a_paged_history,
    reads_at_a_revision_see_the_tree_as_it_was,
    recursive_listings_walk_a_whole_tree_in_pages,
    diffs_show_only_what_really_changed,
    restoring_a_revision_makes_a_new_head_and_keeps_history,
    change_sets_put_delete_and_move_in_one_revision,
    a_refused_change_set_lands_nothing,
    blob_presence_can_be_asked_before_uploading,
    manifests_export_a_revision,
    snapshot_entries_are_relative_or_absolute_deleted_or_sized,
    concurrent_change_sets_form_one_chain,
    garbage_collection_keeps_the_head_and_drops_the_rest,
    garbage_collection_never_loses_an_acknowledged_file,
    garbage_collection_on_s3_removes_objects_and_stale_uploads,
    garbage_collection_on_s3_never_loses_an_acknowledged_file,
);

/// Revisions no workspace has: well-formed but unknown, and not even well-formed.
const UNKNOWN_REVISIONS: [&str; 2] = ["00000000000000000000000000000000", "nope"];

/// The fields a diff's change shows, in the contract's words.
const CHANGE_FIELDS: [&str; 7] = ["path", "change", "type", "old_sha256", "new_sha256", "old_size", "new_size"];

/// The owner's workspace of one new project, driven over HTTP.
struct Workspace<'a> {
    server: &'a TestServer,
    id: String,
}

impl<'a> Workspace<'a> {
    async fn create(server: &'a TestServer, name: &str) -> Self {
        let created = server.post_json("/v1/projects", &server.owner_key, json!({"name": name})).await;
        let id = expect_json(created, 201).await["id"].as_str().expect("a project id").to_owned();
        Self { server, id }
    }

    fn url(&self, rest: &str) -> String {
        format!("/v1/projects/{}/workspace/{rest}", self.id)
    }

    fn request(&self, method: Method, rest: &str) -> RequestBuilder {
        self.server.request(method, &self.url(rest), Some(&self.server.owner_key))
    }

    async fn get(&self, rest: &str) -> Response {
        self.request(Method::GET, rest).send().await.expect("request")
    }

    async fn get_json(&self, rest: &str) -> Value {
        expect_json(self.get(rest).await, 200).await
    }

    async fn post(&self, rest: &str, body: Value) -> Response {
        self.request(Method::POST, rest).json(&body).send().await.expect("request")
    }

    async fn put_response(&self, path: &str, content: &str) -> Response {
        self.request(Method::PUT, &format!("file?path={path}")).body(content.to_owned()).send().await.expect("request")
    }

    /// Writes a file (new: 201, replaced: 200) and returns the revision it made.
    async fn put(&self, path: &str, content: &str) -> String {
        let response = self.put_response(path, content).await;
        let status = if response.status() == 200 { 200 } else { 201 };
        revision_of(&expect_json(response, status).await)
    }

    async fn delete(&self, path: &str) {
        let response = self.request(Method::DELETE, &format!("file?path={path}")).send().await.expect("request");
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert_eq!(status, 204, "DELETE {path}: {body}");
    }

    /// Uploads `content` as a blob and returns its SHA-256.
    async fn upload(&self, content: &str) -> String {
        let sha = sha(content);
        let response =
            self.request(Method::PUT, &format!("blobs/{sha}")).body(content.to_owned()).send().await.expect("request");
        let status = if response.status() == 200 { 200 } else { 201 };
        let stored = expect_json(response, status).await;
        assert_eq!(stored["sha256"], sha.as_str(), "{stored}");
        sha
    }

    /// The status of `HEAD …/workspace/blobs/{sha}`.
    async fn blob_status(&self, sha: &str) -> u16 {
        self.request(Method::HEAD, &format!("blobs/{sha}")).send().await.expect("request").status().as_u16()
    }

    /// What `POST …/workspace/blobs/missing` says is not uploaded among `shas`.
    async fn missing(&self, shas: &[String]) -> Vec<String> {
        let answer = expect_json(self.post("blobs/missing", json!({"sha256": shas})).await, 200).await;
        let missing = answer["missing"].as_array().unwrap_or_else(|| panic!("a missing list: {answer}"));
        missing.iter().map(|sha| sha.as_str().expect("hex strings").to_owned()).collect()
    }

    /// Posts a snapshot or a change set that must land, and returns its revision.
    async fn commit(&self, endpoint: &str, body: Value) -> String {
        revision_of(&expect_json(self.post(endpoint, body).await, 201).await)
    }

    /// Uploads each file's content and returns the snapshot entries naming them.
    async fn uploaded_entries(&self, files: &[(&str, &str)]) -> Vec<Value> {
        let mut entries = Vec::with_capacity(files.len());
        for (path, content) in files {
            self.upload(content).await;
            entries.push(file_entry(path, content));
        }
        entries
    }

    /// Publishes exactly `files` as the whole tree.
    async fn snapshot(&self, files: &[(&str, &str)]) -> String {
        let entries = self.uploaded_entries(files).await;
        self.commit("snapshots", json!({"entries": entries})).await
    }

    async fn restore(&self, revision: &str, if_match: Option<&str>) -> Response {
        let mut request = self.request(Method::POST, &format!("revisions/{revision}/restore"));
        if let Some(tag) = if_match {
            request = request.header("If-Match", tag);
        }
        request.send().await.expect("request")
    }

    /// The whole history, newest first, following `Link` from page to page.
    async fn revisions(&self) -> Vec<Value> {
        self.link_pages("revisions").await.into_iter().flat_map(array).collect()
    }

    /// The newest revision.
    async fn head(&self) -> String {
        let newest = self.get_json("revisions?limit=1").await;
        newest[0]["revision"].as_str().unwrap_or_else(|| panic!("a head revision: {newest}")).to_owned()
    }

    /// Every page from `rest` on, following `Link: <…>; rel="next"`.
    async fn link_pages(&self, rest: &str) -> Vec<Value> {
        let mut pages = Vec::new();
        let mut next = Some(self.url(rest));
        while let Some(url) = next.take() {
            assert!(pages.len() < 100, "{rest}: the pages never end");
            let response = self.server.get(&url, &self.server.owner_key).await;
            next = next_link(&response);
            pages.push(expect_json(response, 200).await);
        }
        pages
    }

    /// Every page from `rest` (which has a query already) on, following the body's `next_cursor`;
    /// checks that a `Link` rel=next comes exactly with a cursor.
    async fn cursor_pages(&self, rest: &str) -> Vec<Value> {
        let mut pages: Vec<Value> = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            assert!(pages.len() < 100, "{rest}: the pages never end");
            let url = match &cursor {
                Some(cursor) => format!("{rest}&cursor={}", encode(cursor)),
                None => rest.to_owned(),
            };
            let response = self.get(&url).await;
            let link = next_link(&response);
            let page = expect_json(response, 200).await;
            cursor = match &page["next_cursor"] {
                Value::String(next) => Some(next.clone()),
                Value::Null => None,
                other => panic!("{url}: next_cursor is a string or null, not {other}"),
            };
            assert_eq!(
                link.is_some(),
                cursor.is_some(),
                "{url}: a Link rel=\"next\" exactly when next_cursor is set: {page}"
            );
            pages.push(page);
            if cursor.is_none() {
                return pages;
            }
        }
    }

    /// Every entry under `path` as of `revision` (the head when `None`), from a recursive listing
    /// walked to its end; directories end in `/`.
    async fn tree(&self, path: &str, revision: Option<&str>) -> Vec<String> {
        let pages = self.cursor_pages(&format!("files?path={path}&recursive=true{}", at(revision))).await;
        pages.iter().flat_map(|page| labels(&page["items"], "path")).collect()
    }

    /// The direct children of `path` (one page), by name; directories end in `/`.
    async fn children(&self, path: &str, revision: Option<&str>) -> Vec<String> {
        labels(&self.get_json(&format!("files?path={path}{}", at(revision))).await["items"], "name")
    }

    async fn read(&self, path: &str, revision: Option<&str>) -> Response {
        self.get(&format!("file?path={path}{}", at(revision))).await
    }

    /// A file's text, which must be readable.
    async fn content(&self, path: &str, revision: Option<&str>) -> String {
        let response = self.read(path, revision).await;
        let status = response.status();
        let body = response.text().await.expect("body");
        assert_eq!(status, 200, "reading {path} at {revision:?}: {body}");
        body
    }
}

fn sha(content: &str) -> String {
    hex::encode(Sha256::digest(content.as_bytes()))
}

fn file_entry(path: &str, content: &str) -> Value {
    json!({"path": path, "type": "file", "size": content.len(), "sha256": sha(content)})
}

fn put_change(path: &str, content: &str) -> Value {
    json!({"op": "put", "path": path, "sha256": sha(content), "size": content.len()})
}

fn revision_of(body: &Value) -> String {
    body["revision"].as_str().unwrap_or_else(|| panic!("a revision in {body}")).to_owned()
}

fn at(revision: Option<&str>) -> String {
    revision.map(|revision| format!("&revision={revision}")).unwrap_or_default()
}

fn array(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        other => panic!("expected a bare JSON array, got {other}"),
    }
}

/// The `field` of each item, directories with a trailing `/`.
fn labels(items: &Value, field: &str) -> Vec<String> {
    let items = items.as_array().unwrap_or_else(|| panic!("items is an array: {items}"));
    items
        .iter()
        .map(|item| {
            let name = item[field].as_str().unwrap_or_else(|| panic!("an item without {field}: {item}"));
            if item["type"] == "dir" {
                format!("{name}/")
            } else {
                name.to_owned()
            }
        })
        .collect()
}

/// How many entries each page holds in `field` (the page itself when `field` is empty).
fn page_sizes(pages: &[Value], field: &str) -> Vec<usize> {
    pages
        .iter()
        .map(|page| if field.is_empty() { page } else { &page[field] })
        .map(|list| list.as_array().map_or(0, Vec::len))
        .collect()
}

/// The path and query (from `/v1/`) of a `Link` header's rel="next" target, absolute or relative.
fn next_link(response: &Response) -> Option<String> {
    let header = response.headers().get("link")?.to_str().expect("an ASCII Link header");
    let mut rest = header;
    while let Some(open) = rest.find('<') {
        let close = open + rest[open..].find('>').unwrap_or_else(|| panic!("an unclosed <…> in Link: {header}"));
        let target = &rest[open + 1..close];
        let after = &rest[close + 1..];
        let params = &after[..after.find('<').unwrap_or(after.len())];
        if params.contains("rel=\"next\"") || params.contains("rel=next") {
            let start = target.find("/v1/").unwrap_or_else(|| panic!("Link target {target:?} has no /v1/ path"));
            return Some(target[start..].to_owned());
        }
        rest = after;
    }
    None
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(byte).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

fn created_at(revision: &Value) -> time::OffsetDateTime {
    let text = revision["created_at"].as_str().unwrap_or_else(|| panic!("created_at: {revision}"));
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("created_at {text:?} is not RFC 3339: {e}"))
}

/// A diff change as the contract spells it; `None` content means the file is absent on that side.
fn change(path: &str, change: &str, old: Option<&str>, new: Option<&str>) -> Value {
    json!({
        "path": path, "change": change, "type": "file",
        "old_sha256": old.map(sha), "new_sha256": new.map(sha),
        "old_size": old.map(str::len), "new_size": new.map(str::len),
    })
}

/// A diff body's changes, cut down to the contract's fields.
fn changes_of(diff: &Value) -> Vec<Value> {
    let changes = diff["changes"].as_array().unwrap_or_else(|| panic!("changes is an array: {diff}"));
    changes
        .iter()
        .map(|change| {
            Value::Object(CHANGE_FIELDS.iter().map(|field| ((*field).to_owned(), change[*field].clone())).collect())
        })
        .collect()
}

async fn expect_unknown_revision(response: Response) {
    expect_v1_error(response, 404, "workspace_revisions.not_found").await;
}

/// A server whose garbage collection may take everything the head does not need, at once.
async fn collecting_server(backend: Backend) -> TestServer {
    TestServer::start_with(backend, collect_eagerly(0)).await
}

/// Only the head kept, unreferenced blobs collectable after `grace_secs`.
fn collect_eagerly(grace_secs: u64) -> impl FnOnce(&mut projects_server::ServeConfig) {
    move |config| {
        config.app.blob_grace_secs = grace_secs;
        config.app.keep_revisions = 1;
        config.app.keep_revisions_days = 0;
    }
}

/// Every kind of write (a snapshot, a file upload, a delete, a change set, a restore) shows in the
/// history: a user sees them newest first, page by page through `Link`, each pointing at the one
/// before, with its author, how many files it touched and its message.
async fn every_write_is_a_revision_in_a_paged_history(backend: Backend) {
    let server = TestServer::start(backend).await;
    let ws = Workspace::create(&server, "History").await;
    let me = expect_json(server.get("/v1/me", &server.owner_key).await, 200).await;
    let author = me["user_id"].as_str().expect("GET /v1/me names the user").to_owned();
    assert_eq!(ws.revisions().await, Vec::<Value>::new(), "a new workspace has no history");

    let snapshot = ws.snapshot(&[("/a.txt", "a1"), ("b.txt", "b1")]).await;
    let put = ws.put("/a.txt", "a2").await;
    ws.delete("/b.txt").await;
    ws.upload("c1").await;
    let change_set = ws.commit("changes", json!({"message": "add c", "changes": [put_change("/c.txt", "c1")]})).await;
    let restored = revision_of(&expect_json(ws.restore(&snapshot, None).await, 201).await);

    let pages = ws.link_pages("revisions?limit=2").await;
    assert_eq!(page_sizes(&pages, ""), [2, 2, 1], "five revisions in pages of two: {pages:?}");
    let history: Vec<Value> = pages.into_iter().flat_map(array).collect();
    let ids: Vec<&str> = history.iter().map(|r| r["revision"].as_str().expect("a revision id")).collect();
    assert_eq!(
        ids,
        [restored.as_str(), change_set.as_str(), ids[2], put.as_str(), snapshot.as_str()],
        "newest first: restore, change set, delete, upload, snapshot"
    );
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 5, "five distinct revisions: {ids:?}");
    for pair in history.windows(2) {
        assert_eq!(pair[0]["base_revision"], pair[1]["revision"], "each revision builds on the one before: {pair:?}");
        assert!(created_at(&pair[0]) >= created_at(&pair[1]), "newest first by time: {pair:?}");
    }
    assert!(history[4]["base_revision"].is_null(), "the first revision has no base: {}", history[4]);
    for revision in &history {
        assert_eq!(revision["author_user_id"], author.as_str(), "the caller made it: {revision}");
    }
    let files_changed: Vec<Option<u64>> = history.iter().map(|r| r["files_changed"].as_u64()).collect();
    assert_eq!(
        files_changed,
        [Some(3u64), Some(1), Some(1), Some(1), Some(2)],
        "restore: a modified, b back, c gone; one file each for the change set, delete and upload; two in the snapshot"
    );
    assert_eq!(history[1]["message"], "add c", "the change set's message: {}", history[1]);

    let unpaged = ws.get("revisions").await;
    assert!(next_link(&unpaged).is_none(), "everything fits in the default page");
    assert_eq!(array(expect_json(unpaged, 200).await), history, "the same history without paging");
}

/// A user can look back: listings and file reads at an old revision show the tree as it was then,
/// and say that such a read never goes stale; a revision that is not this workspace's is a 404.
async fn reads_at_a_revision_see_the_tree_as_it_was(backend: Backend) {
    let server = TestServer::start(backend).await;
    let ws = Workspace::create(&server, "Back then").await;
    let first = ws.put("/a.txt", "v1").await;
    let second = ws.put("/dir/b.txt", "bee").await;
    ws.put("/a.txt", "v2").await;
    ws.delete("/dir/b.txt").await;

    assert_eq!(ws.children("/", Some(first.as_str())).await, ["a.txt"], "the tree at the first revision");
    assert_eq!(ws.children("/", Some(second.as_str())).await, ["dir/", "a.txt"], "the tree at the second revision");
    assert_eq!(ws.children("/", None).await, ["a.txt"], "the head");

    let old = ws.read("/a.txt", Some(first.as_str())).await;
    assert_eq!(old.status(), 200);
    assert_eq!(old.headers()["cache-control"], "private, max-age=31536000, immutable", "a revision never changes");
    assert_eq!(old.text().await.unwrap(), "v1", "the bytes as of the first revision");
    let now = ws.read("/a.txt", None).await;
    assert_eq!(now.headers()["cache-control"], "private, max-age=60", "the head may move");
    assert_eq!(now.text().await.unwrap(), "v2");
    assert_eq!(ws.content("/dir/b.txt", Some(second.as_str())).await, "bee", "a deleted file is still there back then");
    expect_v1_error(ws.read("/dir/b.txt", None).await, 404, "workspace_files.not_found").await;

    let elsewhere = Workspace::create(&server, "Elsewhere").await;
    let theirs = elsewhere.put("/a.txt", "theirs").await;
    for unknown in [UNKNOWN_REVISIONS[0], UNKNOWN_REVISIONS[1], theirs.as_str()] {
        expect_unknown_revision(ws.get(&format!("files?path=/&revision={unknown}")).await).await;
        expect_unknown_revision(ws.read("/a.txt", Some(unknown)).await).await;
    }
}

/// A user can fetch a whole subtree (files and directories, explicit or implied) in path order,
/// page by page, through `next_cursor` or `Link`; big directories page the same way; absurd page
/// sizes are refused; an empty workspace still lists as empty.
async fn recursive_listings_walk_a_whole_tree_in_pages(backend: Backend) {
    let server = TestServer::start(backend).await;
    let ws = Workspace::create(&server, "Trees").await;
    for listing in ["files?path=/", "files?path=/&recursive=true"] {
        let empty = ws.get_json(listing).await;
        assert_eq!(empty["items"], json!([]), "{listing} of an empty workspace: {empty}");
        assert!(empty["next_cursor"].is_null(), "{listing}: {empty}");
    }

    let files = [
        ("/src/a.rs", "a"),
        ("/src/lib-x.rs", "x"),
        ("/src/lib/b.rs", "b"),
        ("/src/lib/deep/c.rs", "c"),
        ("/src/z.txt", "z"),
        ("/other.txt", "o"),
        ("/many/d1/x", "x"),
        ("/many/d2/x", "x"),
        ("/many/f1", "1"),
        ("/many/f2", "2"),
        ("/many/f3", "3"),
    ];
    let mut entries = ws.uploaded_entries(&files).await;
    entries.push(json!({"path": "/src/empty", "type": "dir"}));
    let first = ws.commit("snapshots", json!({"entries": entries})).await;
    ws.put("/src/later.rs", "later").await;

    // Path byte order: "/src/lib" < "/src/lib-x.rs" < "/src/lib/b.rs" ('-' sorts before '/').
    let at_first = [
        "/src/a.rs",
        "/src/empty/",
        "/src/lib/",
        "/src/lib-x.rs",
        "/src/lib/b.rs",
        "/src/lib/deep/",
        "/src/lib/deep/c.rs",
        "/src/z.txt",
    ];
    let mut at_head = at_first.to_vec();
    at_head.insert(2, "/src/later.rs");

    let pages = ws.cursor_pages("files?path=/src&recursive=true&limit=2").await;
    assert_eq!(page_sizes(&pages, "items"), [2, 2, 2, 2, 1], "nine entries in pages of two: {pages:?}");
    let walked: Vec<String> = pages.iter().flat_map(|page| labels(&page["items"], "path")).collect();
    assert_eq!(walked, at_head, "every entry under /src, in path byte order, once");
    assert!(pages[0]["workspace_ref"].as_str().is_some_and(|r| r.starts_with("wsref_")), "{}", pages[0]);
    for page in &pages {
        assert_eq!(page["path"], "/src", "{page}");
        assert_eq!(page["workspace_ref"], pages[0]["workspace_ref"], "{page}");
    }
    let first_page = ws.get("files?path=/src&recursive=true&limit=2").await;
    let link = next_link(&first_page).expect("a Link to the second page");
    let via_link = expect_json(server.get(&link, &server.owner_key).await, 200).await;
    assert_eq!(via_link["items"], pages[1]["items"], "the Link leads to the same second page as next_cursor");

    let whole = ws.get_json("files?path=/src&recursive=true&limit=10000").await;
    assert_eq!(labels(&whole["items"], "path"), at_head, "the largest page holds it all");
    assert!(whole["next_cursor"].is_null(), "{whole}");
    assert_eq!(ws.tree("/src", Some(first.as_str())).await, at_first, "a recursive listing at a revision");

    let directory = ws.cursor_pages("files?path=/many&limit=2").await;
    assert_eq!(page_sizes(&directory, "items"), [2, 2, 1], "five children in pages of two: {directory:?}");
    let children: Vec<String> = directory.iter().flat_map(|page| labels(&page["items"], "name")).collect();
    assert_eq!(children, ["d1/", "d2/", "f1", "f2", "f3"], "directories first, then by name, across pages");

    for refused in [
        "files?path=/&limit=0",
        "files?path=/&limit=10001",
        "files?path=/src&recursive=true&limit=0",
        "files?path=/src&recursive=true&limit=10001",
    ] {
        expect_v1_error(ws.get(refused).await, 422, "validation.error").await;
    }
}

/// A user comparing two revisions sees each file that differs (added, modified, deleted) with both
/// sides' hashes and sizes, sorted by path, optionally under one directory and in pages; a file
/// changed and changed back is not a difference; swapping the sides inverts the answer.
async fn diffs_show_only_what_really_changed(backend: Backend) {
    let server = TestServer::start(backend).await;
    let ws = Workspace::create(&server, "Diffs").await;
    let before = ws
        .snapshot(&[
            ("/src/a.rs", "a1"),
            ("/src/b.rs", "b1"),
            ("/src/c.rs", "c1"),
            ("/docs/readme.md", "r1"),
            ("/flip.txt", "f1"),
        ])
        .await;
    ws.put("/src/a.rs", "a-two").await;
    ws.delete("/src/b.rs").await;
    ws.put("/src/new.rs", "n1").await;
    ws.put("/docs/guide.md", "g1").await;
    ws.put("/lib/deep/x.rs", "x1").await;
    ws.put("/flip.txt", "f2").await;
    let after = ws.put("/flip.txt", "f1").await;

    let forward = vec![
        change("/docs/guide.md", "added", None, Some("g1")),
        change("/lib/deep/x.rs", "added", None, Some("x1")),
        change("/src/a.rs", "modified", Some("a1"), Some("a-two")),
        change("/src/b.rs", "deleted", Some("b1"), None),
        change("/src/new.rs", "added", None, Some("n1")),
    ];
    let diff = ws.get_json(&format!("diff?from={before}&to={after}")).await;
    assert_eq!(diff["from"], before.as_str(), "{diff}");
    assert_eq!(diff["to"], after.as_str(), "{diff}");
    assert_eq!(changes_of(&diff), forward, "files only (no new directories), by path; flip.txt came back: {diff}");
    assert!(diff["next_cursor"].is_null(), "{diff}");

    let backward = vec![
        change("/docs/guide.md", "deleted", Some("g1"), None),
        change("/lib/deep/x.rs", "deleted", Some("x1"), None),
        change("/src/a.rs", "modified", Some("a-two"), Some("a1")),
        change("/src/b.rs", "added", None, Some("b1")),
        change("/src/new.rs", "deleted", Some("n1"), None),
    ];
    let inverse = ws.get_json(&format!("diff?from={after}&to={before}")).await;
    assert_eq!(changes_of(&inverse), backward, "from later to earlier is the inverse: {inverse}");

    let under_src = ws.get_json(&format!("diff?from={before}&to={after}&path=/src")).await;
    assert_eq!(changes_of(&under_src), forward[2..], "only what is under /src: {under_src}");

    let pages = ws.cursor_pages(&format!("diff?from={before}&to={after}&limit=2")).await;
    assert_eq!(page_sizes(&pages, "changes"), [2, 2, 1], "five changes in pages of two: {pages:?}");
    let paged: Vec<Value> = pages.iter().flat_map(changes_of).collect();
    assert_eq!(paged, forward, "the pages add up to the whole diff");

    let same = ws.get_json(&format!("diff?from={after}&to={after}")).await;
    assert_eq!(same["changes"], json!([]), "a revision does not differ from itself: {same}");
    for unknown in UNKNOWN_REVISIONS {
        expect_unknown_revision(ws.get(&format!("diff?from={unknown}&to={after}")).await).await;
        expect_unknown_revision(ws.get(&format!("diff?from={before}&to={unknown}")).await).await;
    }
}

/// A user rolling back gets a new revision whose tree is the old one, and loses no history: the
/// revisions after the restored one stay readable; a stale `If-Match` or an unknown revision
/// changes nothing.
async fn restoring_a_revision_makes_a_new_head_and_keeps_history(backend: Backend) {
    let server = TestServer::start(backend).await;
    let ws = Workspace::create(&server, "Roll back").await;
    let first = ws.put("/a.txt", "one").await;
    let kept = ws.put("/b.txt", "bee").await;
    let later = ws.put("/a.txt", "two").await;
    ws.delete("/b.txt").await;
    let head = ws.put("/c.txt", "sea").await;
    let before = ws.revisions().await;
    assert_eq!(before.len(), 5);

    let (stale_tag, head_tag) = (format!("\"{kept}\""), format!("\"{head}\""));
    let stale = ws.restore(&kept, Some(stale_tag.as_str())).await;
    expect_v1_error(stale, 412, "workspace_files.precondition_failed").await;
    for unknown in UNKNOWN_REVISIONS {
        expect_unknown_revision(ws.restore(unknown, None).await).await;
    }
    assert_eq!(ws.revisions().await, before, "a refused restore adds nothing");

    let restored = revision_of(&expect_json(ws.restore(&kept, Some(head_tag.as_str())).await, 201).await);
    assert!(![&first, &kept, &later, &head].contains(&&restored), "a new revision, not an old one: {restored}");
    let history = ws.revisions().await;
    assert_eq!(history.len(), 6, "one more revision: {history:?}");
    assert_eq!(history[0]["revision"], restored.as_str());
    assert_eq!(history[0]["base_revision"], head.as_str(), "the restore builds on the old head");
    assert_eq!(history[1..], before[..], "every older revision is kept");
    assert_eq!(
        ws.tree("/", None).await,
        ws.tree("/", Some(kept.as_str())).await,
        "the head's tree is the restored one"
    );
    assert_eq!(ws.tree("/", None).await, ["/a.txt", "/b.txt"]);
    assert_eq!(ws.content("/a.txt", None).await, "one");
    assert_eq!(ws.content("/b.txt", None).await, "bee");
    expect_v1_error(ws.read("/c.txt", None).await, 404, "workspace_files.not_found").await;
    assert_eq!(ws.content("/a.txt", Some(later.as_str())).await, "two", "what came after is still readable");

    // A bare If-Match works too; restoring the pre-rollback head undoes the rollback.
    let undone = revision_of(&expect_json(ws.restore(&head, Some(restored.as_str())).await, 201).await);
    assert_eq!(ws.tree("/", None).await, ["/a.txt", "/c.txt"]);
    assert_eq!(ws.content("/a.txt", None).await, "two");
    assert_eq!(ws.content("/c.txt", None).await, "sea");
    let history = ws.revisions().await;
    assert_eq!(history.len(), 7);
    assert_eq!(history[0]["revision"], undone.as_str());
    assert_eq!(history[0]["base_revision"], restored.as_str());
}

/// A user changes several paths in one revision without resending the tree: puts (relative paths
/// too, with their mtime), a directory deleted with all below it, a file and a whole directory
/// moved; the message shows in the history; a stale base or a path leaving the root is refused.
async fn change_sets_put_delete_and_move_in_one_revision(backend: Backend) {
    let server = TestServer::start(backend).await;
    let ws = Workspace::create(&server, "Change sets").await;
    let (main, util, readme) = ("fn main() {}\n", "pub fn util() {}\n", "# readme\n");
    for content in [main, util, readme, "alpha", "beta"] {
        ws.upload(content).await;
    }
    let mtime = 1_710_000_000_000i64;
    let mut relative = put_change("src/main.rs", main);
    relative["mtime_unix_ms"] = json!(mtime);
    let changes = [
        relative,
        put_change("/src/lib/util.rs", util),
        put_change("/docs/readme.md", readme),
        put_change("/old/a.txt", "alpha"),
        put_change("/old/sub/b.txt", "beta"),
    ];
    let initial = ws.commit("changes", json!({"message": "initial", "changes": changes})).await;
    let history = ws.revisions().await;
    let newest = &history[0];
    assert_eq!(newest["revision"], initial.as_str());
    assert_eq!(newest["message"], "initial", "{newest}");
    assert_eq!(newest["files_changed"], 5, "{newest}");
    assert_eq!(
        ws.tree("/", None).await,
        [
            "/docs/",
            "/docs/readme.md",
            "/old/",
            "/old/a.txt",
            "/old/sub/",
            "/old/sub/b.txt",
            "/src/",
            "/src/lib/",
            "/src/lib/util.rs",
            "/src/main.rs"
        ]
    );
    let src = ws.get_json("files?path=/src").await;
    let listed_main = src["items"].as_array().unwrap().iter().find(|item| item["name"] == "main.rs").cloned();
    assert_eq!(listed_main.map(|item| item["mtime_unix_ms"].clone()), Some(json!(mtime)), "the mtime given: {src}");
    assert_eq!(ws.content("/src/main.rs", None).await, main);

    let reshape = json!({"base_revision": initial, "message": "reshape", "changes": [
        {"op": "delete", "path": "/docs"},
        {"op": "move", "from": "/src/main.rs", "path": "/bin/main.rs"},
        {"op": "move", "from": "old", "path": "/new"},
    ]});
    let reshaped = ws.commit("changes", reshape).await;
    assert_eq!(
        ws.tree("/", None).await,
        [
            "/bin/",
            "/bin/main.rs",
            "/new/",
            "/new/a.txt",
            "/new/sub/",
            "/new/sub/b.txt",
            "/src/",
            "/src/lib/",
            "/src/lib/util.rs"
        ],
        "/docs went with all below it; the moved file and subtree left their old paths"
    );
    assert_eq!(ws.content("/bin/main.rs", None).await, main);
    assert_eq!(ws.content("/new/sub/b.txt", None).await, "beta");
    expect_v1_error(ws.read("/old/a.txt", None).await, 404, "workspace_files.not_found").await;
    let history = ws.revisions().await;
    let newest = &history[0];
    assert_eq!(newest["revision"], reshaped.as_str());
    assert_eq!(newest["base_revision"], initial.as_str());
    assert_eq!(newest["message"], "reshape", "{newest}");

    let stale =
        ws.post("changes", json!({"base_revision": initial, "changes": [{"op": "delete", "path": "/bin"}]})).await;
    expect_v1_error(stale, 412, "workspace_files.precondition_failed").await;
    assert_eq!(ws.content("/bin/main.rs", None).await, main, "the stale change set deleted nothing");
    for escaping in [put_change("../x", "alpha"), json!({"op": "move", "from": "/bin/main.rs", "path": "/../../x"})] {
        let refused = ws.post("changes", json!({"changes": [escaping]})).await;
        expect_v1_error(refused, 400, "workspace_files.invalid_path").await;
    }
    assert_eq!(ws.head().await, reshaped, "nothing refused made a revision");
}

/// A change set is all or nothing: when one change is refused (a blob never uploaded, a size that
/// is not the blob's, a path leaving the root, a stale base) the user finds nothing of it applied.
async fn a_refused_change_set_lands_nothing(backend: Backend) {
    let server = TestServer::start(backend).await;
    let ws = Workspace::create(&server, "All or nothing").await;
    let old = ws.put("/old.txt", "old").await;
    let head = ws.put("/kept.txt", "kept").await;
    ws.upload("fine").await;
    let never = "never uploaded";
    let ghost = json!({"op": "put", "path": "/ghost.txt", "sha256": sha(never), "size": never.len()});
    let mut wrong_size = put_change("/fine.txt", "fine");
    wrong_size["size"] = json!("fine".len() + 1);
    let delete_kept = json!({"op": "delete", "path": "/kept.txt"});
    let tree = ws.tree("/", None).await;
    let history = ws.revisions().await;

    let refusals = [
        (json!({"changes": [put_change("/fine.txt", "fine"), ghost.clone()]}), 422, "validation.error"),
        (json!({"changes": [delete_kept.clone(), ghost]}), 422, "validation.error"),
        (json!({"changes": [delete_kept.clone(), wrong_size]}), 422, "validation.error"),
        (
            json!({"changes": [put_change("/fine.txt", "fine"), put_change("/../escape.txt", "fine")]}),
            400,
            "workspace_files.invalid_path",
        ),
        (
            json!({"base_revision": old, "changes": [put_change("/fine.txt", "fine"), delete_kept]}),
            412,
            "workspace_files.precondition_failed",
        ),
    ];
    for (body, status, code) in refusals {
        let error = expect_v1_error(ws.post("changes", body.clone()).await, status, code).await;
        if body.to_string().contains(&sha(never)) {
            assert!(error.to_string().contains(&sha(never)), "the error names the missing blob: {error}");
        }
        assert_eq!(ws.revisions().await, history, "no revision for the refused {body}");
        assert_eq!(ws.head().await, head);
        assert_eq!(ws.tree("/", None).await, tree, "the tree is as it was after the refused {body}");
        expect_v1_error(ws.read("/fine.txt", None).await, 404, "workspace_files.not_found").await;
        assert_eq!(ws.content("/kept.txt", None).await, "kept");
    }
}

/// A client can ask which blobs it still has to upload, one by one or up to 10,000 at a time, and
/// upload only those.
async fn blob_presence_can_be_asked_before_uploading(backend: Backend) {
    let server = TestServer::start(backend).await;
    let ws = Workspace::create(&server, "Blobs").await;
    let stored = ws.upload("stored").await;
    let (absent, also_absent) = (sha("absent"), sha("also absent"));
    assert_eq!(ws.blob_status(&stored).await, 200, "an uploaded blob is there");
    assert_eq!(ws.blob_status(&absent).await, 404, "a blob never uploaded is not");
    assert_eq!(
        ws.missing(&[absent.clone(), stored.clone(), also_absent.clone()]).await,
        [absent.clone(), also_absent.clone()],
        "the ones not uploaded, in the order asked"
    );
    assert_eq!(ws.missing(std::slice::from_ref(&stored)).await, Vec::<String>::new());
    let many: Vec<String> = (0..10_000u32).map(|n| format!("{n:064x}")).collect();
    assert_eq!(ws.missing(&many).await, many, "10,000 at once is allowed");

    let too_many: Vec<String> = (0..10_001u32).map(|n| format!("{n:064x}")).collect();
    expect_v1_error(ws.post("blobs/missing", json!({"sha256": too_many})).await, 422, "validation.error").await;
    let not_hex = ws.post("blobs/missing", json!({"sha256": [stored, "not-hex"]})).await;
    expect_v1_error(not_hex, 422, "validation.error").await;
}

/// A user can export any revision's manifest (the head by default): its files with sizes and
/// hashes, its place in the history and its totals.
async fn manifests_export_a_revision(backend: Backend) {
    let server = TestServer::start(backend).await;
    let ws = Workspace::create(&server, "Export").await;
    let first = ws.snapshot(&[("/src/a.rs", "abc"), ("/b.txt", "bbbbb")]).await;
    let second = ws.put("/c.txt", "cc").await;

    let old = ws.get_json(&format!("manifest?revision={first}")).await;
    assert!(old["version"].is_u64(), "{old}");
    assert_eq!(old["revision"], first.as_str(), "{old}");
    assert!(old["base_revision"].is_null(), "{old}");
    created_at(&old);
    assert_manifest(&old, &[("b.txt", "bbbbb"), ("src/a.rs", "abc")]);

    let head = ws.get_json("manifest").await;
    assert_eq!(head["revision"], second.as_str(), "without a revision: the head: {head}");
    assert_eq!(head["base_revision"], first.as_str(), "{head}");
    assert_manifest(&head, &[("b.txt", "bbbbb"), ("c.txt", "cc"), ("src/a.rs", "abc")]);

    for unknown in UNKNOWN_REVISIONS {
        expect_unknown_revision(ws.get(&format!("manifest?revision={unknown}")).await).await;
    }
}

/// Checks a manifest's file entries (paths compared without their leading `/`, sorted) and stats.
fn assert_manifest(manifest: &Value, files: &[(&str, &str)]) {
    let entries = manifest["entries"].as_array().unwrap_or_else(|| panic!("entries is an array: {manifest}"));
    let mut listed: Vec<String> = entries
        .iter()
        .filter(|entry| entry["type"] == "file")
        .map(|entry| {
            let path = entry["path"].as_str().unwrap_or_else(|| panic!("an entry without a path: {entry}"));
            format!("{} {} {}", path.trim_start_matches('/'), entry["size"], entry["sha256"].as_str().unwrap_or("-"))
        })
        .collect();
    listed.sort();
    let expected: Vec<String> =
        files.iter().map(|(path, content)| format!("{path} {} {}", content.len(), sha(content))).collect();
    assert_eq!(listed, expected, "the revision's files: {manifest}");
    let stats = &manifest["stats"];
    assert_eq!(stats["file_count"], files.len(), "{manifest}");
    assert_eq!(stats["total_bytes"], files.iter().map(|(_, content)| content.len()).sum::<usize>(), "{manifest}");
    assert!(stats["dir_count"].is_u64(), "{manifest}");
}

/// A sandbox publishing a tree may name paths relatively or absolutely and mark entries deleted
/// (they are not in the tree); a size that is not the blob's is refused and changes nothing.
async fn snapshot_entries_are_relative_or_absolute_deleted_or_sized(backend: Backend) {
    let server = TestServer::start(backend).await;
    let ws = Workspace::create(&server, "Snapshot rules").await;
    let (main, readme) = ("package main\n", "# Read me\n");
    let mut entries = ws.uploaded_entries(&[("src/main.go", main), ("/README.md", readme)]).await;
    let mut gone = file_entry("/gone.txt", readme);
    gone["deleted"] = json!(true);
    entries.push(gone);
    let published = ws.commit("snapshots", json!({"entries": entries})).await;
    assert_eq!(
        ws.tree("/", None).await,
        ["/README.md", "/src/", "/src/main.go"],
        "the deleted entry is not in the tree"
    );
    assert_eq!(ws.content("/src/main.go", None).await, main, "a relative entry lands under the root");
    expect_v1_error(ws.read("/gone.txt", None).await, 404, "workspace_files.not_found").await;

    let mut wrong = file_entry("/README.md", readme);
    wrong["size"] = json!(readme.len() + 1);
    let refused = ws.post("snapshots", json!({"base_revision": published, "entries": [wrong]})).await;
    expect_v1_error(refused, 422, "validation.error").await;
    assert_eq!(ws.head().await, published, "the refused snapshot made no revision");
    assert_eq!(ws.tree("/", None).await, ["/README.md", "/src/", "/src/main.go"]);
}

/// Sixteen clients committing change sets at once, none naming a base: every one lands, every file
/// is there, and the history is one straight line from the head before the race.
async fn concurrent_change_sets_form_one_chain(backend: Backend) {
    let server = TestServer::start(backend).await;
    let ws = Workspace::create(&server, "Race").await;
    let before = ws.put("/seed.txt", "seed").await;
    let contents: Vec<String> = (0..16).map(|n| format!("racer {n}")).collect();
    for content in &contents {
        ws.upload(content).await;
    }
    let path = |n: usize| format!("/race/f{n:02}.txt");
    let racing = contents
        .iter()
        .enumerate()
        .map(|(n, content)| ws.post("changes", json!({"changes": [put_change(&path(n), content)]})));
    let mut made = HashSet::new();
    for response in futures::future::join_all(racing).await {
        made.insert(revision_of(&expect_json(response, 201).await));
    }
    assert_eq!(made.len(), 16, "sixteen distinct revisions: {made:?}");
    let expected: Vec<String> = (0..16).map(|n| format!("f{n:02}.txt")).collect();
    assert_eq!(ws.children("/race", None).await, expected, "no change set lost");
    for (n, content) in contents.iter().enumerate() {
        assert_eq!(&ws.content(&path(n), None).await, content);
    }

    let history = ws.revisions().await;
    assert_eq!(history.len(), 17, "the seed and the sixteen: {history:?}");
    let base_of: HashMap<&str, &str> = history
        .iter()
        .filter_map(|r| Some((r["revision"].as_str()?, r["base_revision"].as_str()?)))
        .filter(|(revision, _)| made.contains(*revision))
        .collect();
    assert_eq!(base_of.len(), 16, "every raced revision is listed with a base: {history:?}");
    let bases: HashSet<&str> = base_of.values().copied().collect();
    assert_eq!(bases.len(), 16, "no two writes built on the same revision: {base_of:?}");
    assert!(bases.iter().all(|base| *base == before || made.contains(*base)), "bases within the race: {base_of:?}");
    assert_eq!(base_of.values().filter(|base| **base == before).count(), 1, "one write built on the old head");
    let tip = history[0]["revision"].as_str().unwrap();
    assert!(made.contains(tip) && !bases.contains(tip), "the newest is the end of the chain: {base_of:?}");
    let mut current = tip;
    for _ in 0..16 {
        current = *base_of.get(current).unwrap_or_else(|| panic!("the chain breaks at {current}: {base_of:?}"));
    }
    assert_eq!(current, before, "sixteen steps back from the head lead to the head before the race");
}

/// With nothing kept but the head, collecting garbage drops old revisions and unused uploads, and
/// keeps what the head reads; content that was collected can be written again.
async fn garbage_collection_keeps_the_head_and_drops_the_rest(backend: Backend) {
    let server = collecting_server(backend).await;
    let ws = Workspace::create(&server, "Collected").await;
    let (one, two, unused) = ("version one", "version two", "uploaded, never used");
    let old = ws.put("/a.txt", one).await;
    let head = ws.put("/a.txt", two).await;
    let orphan = ws.upload(unused).await;
    assert_eq!(ws.blob_status(&orphan).await, 200, "before collecting, the upload is there");
    assert_eq!(ws.children("/", Some(old.as_str())).await, ["a.txt"], "before collecting, the old revision is there");

    let report = server.app().collect_garbage().await.expect("gc");
    assert!(report.blobs_removed >= 1, "the unused upload is counted as removed: {}", report.blobs_removed);
    assert_eq!(ws.content("/a.txt", None).await, two, "the head still reads");
    expect_unknown_revision(ws.get(&format!("files?path=/&revision={old}")).await).await;
    expect_unknown_revision(ws.read("/a.txt", Some(old.as_str())).await).await;
    let history = ws.revisions().await;
    assert_eq!(history[0]["revision"], head.as_str(), "the head is kept: {history:?}");
    assert!(history.iter().all(|r| r["revision"] != old.as_str()), "the old revision is gone: {history:?}");
    assert_eq!(ws.blob_status(&orphan).await, 404, "the unused upload is gone");
    let expected = vec![orphan.clone()];
    assert_eq!(ws.missing(&[orphan.clone(), sha(two)]).await, expected, "only the unused upload is missing");
    assert_eq!(ws.blob_status(&sha(two)).await, 200, "the head's blob is kept");

    // Collected content can come back, by upload and change set or by a plain file write.
    ws.upload(unused).await;
    assert_eq!(ws.blob_status(&orphan).await, 200, "uploaded again");
    ws.commit("changes", json!({"changes": [put_change("/again.txt", unused)]})).await;
    ws.put("/one-again.txt", one).await;
    server.app().collect_garbage().await.expect("gc");
    assert_eq!(ws.content("/again.txt", None).await, unused);
    assert_eq!(ws.content("/one-again.txt", None).await, one);
    assert_eq!(ws.content("/a.txt", None).await, two);
}

/// Files written and overwritten while garbage is being collected over and over (only the head
/// kept, unreferenced blobs collectable after one second): the collector really removes the
/// overwritten contents meanwhile, and every write the server acknowledged reads back with its
/// exact bytes, also after one more collection. The grace period is what protects a write in
/// flight, so writes are not refused either.
async fn garbage_collection_never_loses_an_acknowledged_file(backend: Backend) {
    collect_while_writing(&TestServer::start_with(backend, collect_eagerly(1)).await).await;
}

/// The same race with the blobs on a real S3-compatible server, where a collected blob is an
/// object deleted over the network while writers upload the same content again.
async fn garbage_collection_on_s3_never_loses_an_acknowledged_file(backend: Backend) {
    let s3 = TestS3Server::start().await;
    collect_while_writing(&TestServer::start_on_s3_with(backend, &s3, "service", collect_eagerly(1)).await).await;
}

async fn collect_while_writing(server: &TestServer) {
    let ws = Workspace::create(server, "Collected while writing").await;
    let done = Arc::new(AtomicBool::new(false));
    let runs = Arc::new(AtomicU32::new(0));
    let removed = Arc::new(AtomicU32::new(0));
    let collector = tokio::spawn({
        let app = server.app().clone();
        let (done, runs, removed) = (Arc::clone(&done), Arc::clone(&runs), Arc::clone(&removed));
        async move {
            while !done.load(Ordering::SeqCst) {
                let report = app.collect_garbage().await.expect("gc");
                removed.fetch_add(report.blobs_removed as u32, Ordering::SeqCst);
                runs.fetch_add(1, Ordering::SeqCst);
                tokio::task::yield_now().await;
            }
        }
    });
    // The writers start once the collector is going (or has died, which the join below reports).
    while runs.load(Ordering::SeqCst) == 0 && !collector.is_finished() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    // Five files, each rewritten until the collector has removed some of their old contents.
    let mut latest: std::collections::BTreeMap<String, String> = Default::default();
    let mut refused = Vec::new();
    let started = std::time::Instant::now();
    let mut n = 0;
    while removed.load(Ordering::SeqCst) < 3 && started.elapsed() < Duration::from_secs(20) {
        let (path, content) = (format!("/race/f{}.txt", n % 5), format!("write {n} during collection"));
        let response = ws.put_response(&path, &content).await;
        match response.status().as_u16() {
            200 | 201 => {
                latest.insert(path, content);
            }
            status => refused.push((path, status, response.text().await.unwrap_or_default())),
        }
        n += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    done.store(true, Ordering::SeqCst);
    collector.await.expect("the collector ran without failing");
    assert!(removed.load(Ordering::SeqCst) >= 3, "the collector removed overwritten contents meanwhile");
    assert!(refused.is_empty(), "writes within the grace period are never refused: {refused:?}");
    let acknowledged: Vec<(String, String)> = latest.into_iter().collect();

    server.app().collect_garbage().await.expect("gc");
    let listed = ws.children("/race", None).await;
    for (path, content) in &acknowledged {
        let name = path.trim_start_matches("/race/");
        assert!(listed.iter().any(|listed| listed == name), "{path} is in the head: {listed:?}");
        assert_eq!(&ws.content(path, None).await, content, "{path} kept its bytes");
    }
}

/// On S3 the collector really deletes objects: the blob nothing references and the one only an
/// expired revision did, and an upload a crashed process left behind a day ago, while the head's
/// blob and an upload still streaming in (fresh) stay.
async fn garbage_collection_on_s3_removes_objects_and_stale_uploads(backend: Backend) {
    let s3 = TestS3Server::start().await;
    let server = TestServer::start_on_s3_with(backend, &s3, "service", collect_eagerly(0)).await;
    let ws = Workspace::create(&server, "Collected on S3").await;
    let workspace = expect_json(server.get(&format!("/v1/projects/{}/workspace", ws.id), &server.owner_key).await, 200);
    let wsref = workspace.await["workspace_ref"].as_str().expect("a workspace ref").to_owned();
    let object = |kind: &str, name: &str| s3.object_path(&format!("service/workspaces/{wsref}/{kind}/{name}"));
    let (old, head, unused) = ("first version", "second version", "uploaded, never used");
    ws.put("/a.txt", old).await;
    ws.put("/a.txt", head).await;
    ws.upload(unused).await;
    for content in [old, head, unused] {
        assert!(object("blobs", &sha(content)).exists(), "{content:?} is an object before collecting");
    }
    // Uploads a process left mid-way: one from a day and a minute ago, one from just now.
    std::fs::create_dir_all(object("uploads", "")).expect("the uploads folder");
    for name in ["crashed", "streaming"] {
        std::fs::write(object("uploads", name), b"partial bytes").expect("a left-over upload");
    }
    let a_day_ago = std::time::SystemTime::now() - Duration::from_secs(24 * 3600 + 60);
    std::fs::File::options()
        .write(true)
        .open(object("uploads", "crashed"))
        .and_then(|file| file.set_modified(a_day_ago))
        .expect("an old upload");

    let report = server.app().collect_garbage().await.expect("gc");
    assert_eq!((report.blobs_removed, report.uploads_removed), (2, 1), "{report:?}");
    assert!(!object("blobs", &sha(old)).exists(), "the expired revision's blob is deleted from S3");
    assert!(!object("blobs", &sha(unused)).exists(), "the unused upload is deleted from S3");
    assert!(object("blobs", &sha(head)).exists(), "the head's blob stays on S3");
    assert!(!object("uploads", "crashed").exists(), "the crashed upload is swept");
    assert!(object("uploads", "streaming").exists(), "an upload still streaming in is left alone");
    assert_eq!(ws.content("/a.txt", None).await, head, "the head still reads from S3");
    assert_eq!(ws.missing(&[sha(unused), sha(head)]).await, [sha(unused)], "only the unused blob is missing");

    // A second pass finds nothing more, and what was collected can come back.
    let again = server.app().collect_garbage().await.expect("gc");
    assert_eq!((again.blobs_removed, again.uploads_removed), (0, 0), "{again:?}");
    ws.put("/b.txt", unused).await;
    assert_eq!(ws.content("/b.txt", None).await, unused);
    assert!(object("blobs", &sha(unused)).exists(), "written again, the blob is an object again");
}
