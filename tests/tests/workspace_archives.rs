//! Archives of a workspace over HTTP on both backends (and on S3): a directory downloads as a tar
//! or zip that standard readers unpack to the same bytes, at the head or an old revision; a tar
//! (or a gzipped one) uploads as ONE revision, merging or replacing; a member that escapes, is
//! absolute, a hard link or a device commits nothing.

use std::io::{Read, Write};

use projects_adapters_s3::test_support::TestS3Server;
use projects_blackbox_tests::{expect_json, expect_v1_error, on_both_backends, Backend, TestServer};
use reqwest::Method;
use serde_json::Value;

on_both_backends!(
    a_directory_downloads_as_tar_and_zip,
    a_tar_lands_as_one_revision,
    a_tar_breaking_a_path_rule_commits_nothing,
    a_member_over_the_file_quota_is_refused_on_its_header,
    archives_on_s3_go_both_ways,
);

struct Ws<'a> {
    server: &'a TestServer,
    base: String,
}

impl<'a> Ws<'a> {
    async fn create(server: &'a TestServer, name: &str) -> Self {
        let body = serde_json::json!({"name": name});
        let project = expect_json(server.post_json("/v1/projects", &server.owner_key, body).await, 201).await;
        Self { server, base: format!("/v1/projects/{}/workspace", project["id"].as_str().unwrap()) }
    }

    async fn put(&self, path: &str, content: &[u8]) -> String {
        let url = format!("{}/file?path={path}", self.base);
        let response =
            self.server.request(Method::PUT, &url, Some(&self.server.owner_key)).body(content.to_vec()).send().await;
        let response = response.unwrap();
        assert!([200, 201].contains(&response.status().as_u16()), "{path}: {}", response.status());
        let written: Value = response.json().await.unwrap();
        written["revision"].as_str().unwrap().to_owned()
    }

    async fn get(&self, rest: &str) -> reqwest::Response {
        self.server.get(&format!("{}/{rest}", self.base), &self.server.owner_key).await
    }

    async fn read(&self, path: &str) -> (u16, Vec<u8>) {
        let response = self.get(&format!("file?path={path}")).await;
        (response.status().as_u16(), response.bytes().await.unwrap().to_vec())
    }

    /// The newest revision's id (`null` before the first write).
    async fn head(&self) -> Value {
        expect_json(self.get("revisions?limit=1").await, 200).await[0]["revision"].clone()
    }

    async fn upload(&self, query: &str, archive: Vec<u8>) -> reqwest::Response {
        let url = format!("{}/archive?{query}", self.base);
        self.server.request(Method::PUT, &url, Some(&self.server.owner_key)).body(archive).send().await.unwrap()
    }

    async fn manifest(&self) -> Vec<Value> {
        let manifest = expect_json(self.get("manifest").await, 200).await;
        manifest["entries"].as_array().unwrap().clone()
    }
}

/// A member's content as a test shows it: short text as it is, anything longer by its SHA-256.
fn shown(content: &[u8]) -> String {
    use sha2::Digest;
    match content.len() <= 64 {
        true => String::from_utf8_lossy(content).into_owned(),
        false => format!("sha256:{}", hex::encode(sha2::Sha256::digest(content))),
    }
}

type Member = (String, char, String);

/// `(name, kind, content or link target)` of every member of a tar, in order.
fn read_tar(bytes: &[u8]) -> Vec<Member> {
    let mut archive = tar::Archive::new(bytes);
    let mut members = Vec::new();
    for member in archive.entries().expect("a tar") {
        let mut member = member.expect("a whole member");
        let name = member.path().unwrap().to_string_lossy().trim_end_matches('/').to_owned();
        let kind = member.header().entry_type();
        let mut content = Vec::new();
        let kind = if kind.is_dir() {
            'd'
        } else if kind.is_symlink() {
            content = member.link_name().unwrap().unwrap().to_string_lossy().as_bytes().to_vec();
            'l'
        } else {
            member.read_to_end(&mut content).unwrap();
            'f'
        };
        members.push((name, kind, shown(&content)));
    }
    members
}

fn read_zip(bytes: &[u8]) -> Vec<Member> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    let mut members = Vec::new();
    for i in 0..archive.len() {
        let mut member = archive.by_index(i).unwrap();
        let kind = match member.unix_mode().map(|m| m & 0o170000) {
            Some(0o040000) => 'd',
            Some(0o120000) => 'l',
            _ => 'f',
        };
        let name = member.name().trim_end_matches('/').to_owned();
        let mut content = Vec::new();
        member.read_to_end(&mut content).unwrap();
        members.push((name, kind, shown(&content)));
    }
    members
}

/// A tar builder for members as a client (or an attacker) writes them: names go into the header
/// as given, unchecked.
struct TarMaker(tar::Builder<Vec<u8>>);

impl TarMaker {
    fn new() -> Self {
        Self(tar::Builder::new(Vec::new()))
    }

    fn raw(mut self, name: &str, kind: tar::EntryType, data: &[u8], link: Option<&str>) -> Self {
        let mut header = tar::Header::new_gnu();
        let bytes = name.as_bytes();
        header.as_gnu_mut().unwrap().name[..bytes.len()].copy_from_slice(bytes);
        header.set_entry_type(kind);
        header.set_size(data.len() as u64);
        header.set_mode(if kind.is_dir() { 0o755 } else { 0o644 });
        header.set_mtime(1_700_000_000);
        if let Some(link) = link {
            header.as_gnu_mut().unwrap().linkname[..link.len()].copy_from_slice(link.as_bytes());
        }
        header.set_cksum();
        self.0.append(&header, data).unwrap();
        self
    }

    fn file(self, name: &str, data: &[u8]) -> Self {
        self.raw(name, tar::EntryType::Regular, data, None)
    }

    /// A file through the builder's own path handling (GNU long names beyond 100 bytes).
    fn long_file(mut self, name: &str, data: &[u8]) -> Self {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o600);
        self.0.append_data(&mut header, name, data).unwrap();
        self
    }

    fn finish(self) -> Vec<u8> {
        self.0.into_inner().unwrap()
    }
}

async fn a_directory_downloads_as_tar_and_zip(backend: Backend) {
    let server = TestServer::start(backend).await;
    downloads(&server).await;
}

async fn downloads(server: &TestServer) {
    let ws = Ws::create(server, "Archived").await;
    ws.put("/top.txt", b"outside the directory").await;
    let old = ws.put("/src/main.rs", b"fn main() {}").await;
    ws.put("/src/main.rs", b"fn main() { println!(\"v2\"); }").await;
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    ws.put("/src/deep/data.bin", &big).await;
    let landed = ws
        .upload(
            "path=/src/links",
            TarMaker::new().raw("to-main", tar::EntryType::Symlink, b"", Some("../main.rs")).finish(),
        )
        .await;
    expect_json(landed, 201).await;

    let response = ws.get("archive?path=/src").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/x-tar");
    let disposition = response.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.starts_with("attachment") && disposition.contains("src.tar"), "{disposition}");
    let declared: usize = response.headers()["content-length"].to_str().unwrap().parse().unwrap();
    let bytes = response.bytes().await.unwrap();
    assert_eq!(bytes.len(), declared, "Content-Length is exact");
    let mut members = read_tar(&bytes);
    members.sort();
    let expected: Vec<Member> = vec![
        ("deep".into(), 'd', String::new()),
        ("deep/data.bin".into(), 'f', shown(&big)),
        ("links".into(), 'd', String::new()),
        ("links/to-main".into(), 'l', "../main.rs".into()),
        ("main.rs".into(), 'f', "fn main() { println!(\"v2\"); }".into()),
    ];
    assert_eq!(members, expected, "members are named relative to the directory, with their bytes");

    let response = ws.get("archive?path=/src&format=zip").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/zip");
    let mut zipped = read_zip(&response.bytes().await.unwrap());
    zipped.sort();
    assert_eq!(zipped, expected, "the zip holds the same");

    // The whole tree at an old revision: what it was then.
    let response = ws.get(&format!("archive?revision={old}")).await;
    assert_eq!(response.status(), 200);
    let mut then = read_tar(&response.bytes().await.unwrap());
    then.sort();
    let names: Vec<&str> = then.iter().map(|(name, _, _)| name.as_str()).collect();
    assert_eq!(names, ["src", "src/main.rs", "top.txt"]);
    assert_eq!(then[1].2, "fn main() {}");

    // What cannot be archived.
    expect_v1_error(ws.get("archive?path=/top.txt").await, 400, "workspace_files.invalid_path").await;
    expect_v1_error(ws.get("archive?path=/nowhere").await, 404, "workspace_files.not_found").await;
    expect_v1_error(ws.get("archive?format=rar").await, 422, "validation.error").await;
    expect_v1_error(ws.get("archive?revision=0123").await, 404, "workspace_revisions.not_found").await;

    // A workspace never written is an empty archive.
    let empty = Ws::create(server, "Empty").await;
    let response = empty.get("archive").await;
    assert_eq!(response.status(), 200);
    assert!(read_tar(&response.bytes().await.unwrap()).is_empty());
}

async fn a_tar_lands_as_one_revision(backend: Backend) {
    let server = TestServer::start(backend).await;
    uploads(&server).await;
}

async fn uploads(server: &TestServer) {
    let ws = Ws::create(server, "Unpacked").await;
    ws.put("/keep.txt", b"outside").await;
    ws.put("/vendor/old.txt", b"replaced away").await;
    let history_before = expect_json(ws.get("revisions").await, 200).await.as_array().unwrap().len();
    let long_name = format!("{}/file.txt", "d".repeat(150));
    let archive = TarMaker::new()
        .raw("lib/", tar::EntryType::Directory, b"", None)
        .file("lib/a.txt", b"alpha")
        .file("./lib/b.txt", b"beta")
        .raw("empty/", tar::EntryType::Directory, b"", None)
        .raw("lib/link", tar::EntryType::Symlink, b"", Some("a.txt"))
        .long_file(&long_name, b"long")
        .file("lib/a.txt", b"alpha, the later one wins")
        .finish();
    let landed = expect_json(ws.upload("path=/vendor", archive).await, 201).await;
    assert_eq!(landed["files"], 4, "{landed}");
    assert_eq!(landed["entries"], 6, "one entry per path: {landed}");
    let history = expect_json(ws.get("revisions").await, 200).await;
    assert_eq!(history.as_array().unwrap().len(), history_before + 1, "one revision");
    assert_eq!(history[0]["revision"], landed["revision"]);
    assert_eq!(ws.head().await, landed["revision"]);
    assert_eq!(ws.read("/vendor/lib/a.txt").await, (200, b"alpha, the later one wins".to_vec()));
    assert_eq!(ws.read("/vendor/lib/b.txt").await, (200, b"beta".to_vec()));
    assert_eq!(ws.read(&format!("/vendor/{long_name}")).await, (200, b"long".to_vec()));
    assert_eq!(ws.read("/vendor/old.txt").await.0, 200, "merge keeps what the archive does not name");
    let manifest = ws.manifest().await;
    let link = manifest.iter().find(|e| e["path"] == "/vendor/lib/link").expect("the symlink is an entry");
    assert_eq!((link["type"].as_str(), link["link_target"].as_str()), (Some("symlink"), Some("a.txt")));
    assert!(manifest.iter().any(|e| e["path"] == "/vendor/empty" && e["type"] == "dir"), "empty directories land");

    // Gzipped, replacing: afterwards /vendor holds exactly the archive; the rest is untouched.
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gzip.write_all(&TarMaker::new().file("only.txt", b"only me").finish()).unwrap();
    let landed = expect_json(ws.upload("path=/vendor&mode=replace", gzip.finish().unwrap()).await, 201).await;
    assert_eq!((landed["files"].as_u64(), landed["entries"].as_u64()), (Some(1), Some(1)));
    assert_eq!(ws.read("/vendor/only.txt").await, (200, b"only me".to_vec()));
    assert_eq!(ws.read("/vendor/old.txt").await.0, 404, "replace drops what the archive does not hold");
    assert_eq!(ws.read("/vendor/lib/a.txt").await.0, 404);
    assert_eq!(ws.read("/keep.txt").await, (200, b"outside".to_vec()), "outside the path nothing changes");

    // Replacing at the root makes the tree the archive.
    let landed =
        expect_json(ws.upload("mode=replace", TarMaker::new().file("a/b.txt", b"b").finish()).await, 201).await;
    assert_eq!(landed["files"], 1);
    let paths: Vec<Value> = ws.manifest().await.iter().map(|e| e["path"].clone()).collect();
    assert_eq!(paths, [serde_json::json!("/a/b.txt")], "the manifest names files, not the directories they imply");

    // With If-Match, a head that moved is a 412 and nothing lands.
    let stale = ws.server.request(Method::PUT, &format!("{}/archive", ws.base), Some(&ws.server.owner_key));
    let stale = stale.header("If-Match", "0123456789abcdef0123456789abcdef");
    let refused = stale.body(TarMaker::new().file("x.txt", b"x").finish()).send().await.unwrap();
    expect_v1_error(refused, 412, "workspace_files.precondition_failed").await;
    assert_eq!(ws.read("/x.txt").await.0, 404);
}

async fn a_tar_breaking_a_path_rule_commits_nothing(backend: Backend) {
    let server = TestServer::start(backend).await;
    let ws = Ws::create(&server, "Guarded").await;
    ws.put("/a.txt", b"before").await;
    let head = ws.head().await;
    assert!(head.is_string(), "{head}");
    let fine = |t: TarMaker| t.file("ok.txt", b"would land");
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("escaping", fine(TarMaker::new()).file("../../etc/x", b"x").finish(), 400, "workspace_files.invalid_path"),
        ("climbing", fine(TarMaker::new()).file("a/../../x", b"x").finish(), 400, "workspace_files.invalid_path"),
        ("absolute", fine(TarMaker::new()).file("/etc/passwd", b"x").finish(), 400, "workspace_files.invalid_path"),
        (
            "hard link",
            fine(TarMaker::new()).raw("h", tar::EntryType::Link, b"", Some("ok.txt")).finish(),
            400,
            "workspace_files.invalid_path",
        ),
        (
            "device",
            fine(TarMaker::new()).raw("dev", tar::EntryType::Char, b"", None).finish(),
            400,
            "workspace_files.invalid_path",
        ),
        (
            "fifo",
            fine(TarMaker::new()).raw("p", tar::EntryType::Fifo, b"", None).finish(),
            400,
            "workspace_files.invalid_path",
        ),
        ("control", fine(TarMaker::new()).file("a\u{1}b", b"x").finish(), 400, "workspace_files.invalid_path"),
        ("below a file", fine(TarMaker::new()).file("ok.txt/x", b"x").finish(), 400, "workspace_files.invalid_path"),
        ("not a tar", b"this is not a tar archive at all, just some text".repeat(20), 422, "validation.error"),
    ];
    for (what, archive, status, code) in cases {
        let response = ws.upload("path=/", archive).await;
        assert_eq!(response.status().as_u16(), status, "{what}");
        expect_v1_error(response, status, code).await;
        assert_eq!(ws.head().await, head, "{what}: nothing committed");
        assert_eq!(ws.read("/ok.txt").await.0, 404, "{what}: not even the fine member");
    }
    // A gzip stream whose bytes were changed in transit (stored, so only its checksum can tell),
    // an empty body, and a replace over a file: refused too.
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
    gzip.write_all(&fine(TarMaker::new()).file("q.txt", &[b'Q'; 5_000]).finish()).unwrap();
    let mut corrupt = gzip.finish().unwrap();
    let at = corrupt.windows(4).position(|w| w == b"QQQQ").expect("the stored bytes") + 100;
    corrupt[at] = b'Z';
    let response = ws.upload("", corrupt).await;
    assert_eq!(response.status(), 422, "a gzip stream failing its checksum");
    expect_v1_error(ws.upload("", Vec::new()).await, 422, "validation.error").await;
    // Zeros going on after the archive's end: a record's padding is fine, megabytes are not.
    let padded = [fine(TarMaker::new()).finish(), vec![0u8; 10_240]].concat();
    let landed = expect_json(ws.upload("path=/padded", padded).await, 201).await;
    assert_eq!(landed["files"], 1);
    let mut endless = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    endless.write_all(&fine(TarMaker::new()).finish()).unwrap();
    endless.write_all(&vec![0u8; 8 << 20]).unwrap();
    let head = ws.head().await;
    expect_v1_error(ws.upload("path=/endless", endless.finish().unwrap()).await, 422, "validation.error").await;
    assert_eq!(ws.head().await, head);
    let over_a_file = ws.upload("path=/a.txt&mode=replace", fine(TarMaker::new()).finish()).await;
    expect_v1_error(over_a_file, 400, "workspace_files.invalid_path").await;
    assert_eq!(ws.read("/a.txt").await, (200, b"before".to_vec()));
    assert_eq!(ws.head().await, head);
    // Cut short inside a member: refused too.
    let whole = fine(TarMaker::new()).file("big.bin", &[7u8; 5_000]).finish();
    let cut = whole[..whole.len() - 3_000].to_vec();
    let response = ws.upload("", cut).await;
    assert_eq!(response.status(), 422, "a truncated archive");
    assert_eq!(ws.head().await, head);
    expect_v1_error(ws.upload("format=zip", Vec::new()).await, 422, "validation.error").await;
    expect_v1_error(ws.upload("mode=overwrite", Vec::new()).await, 422, "validation.error").await;
    expect_v1_error(
        ws.upload("path=/a.txt", fine(TarMaker::new()).finish()).await,
        400,
        "workspace_files.invalid_path",
    )
    .await;
    assert_eq!(ws.head().await, head);
}

/// A member declaring more bytes than one file may hold is refused on its header, before any of
/// its bytes are read.
async fn a_member_over_the_file_quota_is_refused_on_its_header(backend: Backend) {
    let server = TestServer::start_with(backend, |config| config.app.quotas.quota_file_bytes = 1_000).await;
    let ws = Ws::create(&server, "Quota").await;
    let mut header = tar::Header::new_gnu();
    header.set_path("huge.bin").unwrap();
    header.set_size(1 << 40);
    header.set_mode(0o644);
    header.set_cksum();
    // The header claims a TiB; only a few bytes follow.
    let mut archive = header.as_bytes().to_vec();
    archive.extend_from_slice(&[0u8; 512]);
    let refused = expect_v1_error(ws.upload("", archive).await, 403, "quota.exceeded").await;
    assert_eq!(refused["details"]["quota"], "file_bytes", "{refused}");
    assert!(ws.head().await.is_null(), "nothing committed");
}

async fn archives_on_s3_go_both_ways(backend: Backend) {
    let s3 = TestS3Server::start().await;
    let server = TestServer::start_on_s3(backend, &s3, "service").await;
    downloads(&server).await;
    uploads(&server).await;
}
