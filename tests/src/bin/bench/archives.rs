//! Archives (`BENCH_ONLY=archives`): a directory holding a 1 GiB file (and a thousand small ones)
//! downloaded as tar and as zip, against a GET of the same big file in the same run (the limit:
//! the same bytes through the same stack without an archive around them), with the resident
//! memory growth of this process (server and client) during each; then the tar uploaded back.

use std::time::{Duration, Instant};

use futures::StreamExt;
use projects_blackbox_tests::{Backend, TestServer};
use reqwest::Method;

/// Bytes of the response to `path`, with the time it took and the peak resident growth (KiB).
async fn drain(server: &TestServer, path: &str) -> (u64, Duration, u64, Option<u64>) {
    let before = super::resident_kib();
    let started = Instant::now();
    let ((total, declared), peak) = super::peak_resident_during(async {
        let response = server.get(path, &server.owner_key).await;
        assert_eq!(response.status(), 200, "{path}");
        let declared = response.content_length();
        let mut stream = response.bytes_stream();
        let mut total = 0u64;
        while let Some(piece) = stream.next().await {
            total += piece.expect("body").len() as u64;
        }
        (total, declared)
    })
    .await;
    (total, started.elapsed(), peak.saturating_sub(before), declared)
}

pub async fn bench_archives(mib: u64) {
    let server = TestServer::start_with(Backend::Sqlite, |config| config.blobs.blob_store_url = None).await;
    let key = server.owner_key.clone();
    let id = super::new_project(&server, "Archived").await;
    let workspace = format!("/v1/projects/{id}/workspace");
    let chunk = bytes::Bytes::from(vec![b'x'; 64 * 1024]);
    let chunks = futures::stream::iter((0..mib * 16).map(move |_| Ok::<_, std::io::Error>(chunk.clone())));
    let big = format!("{workspace}/file?path=/data/big.bin");
    let written = server.request(Method::PUT, &big, Some(&key)).body(reqwest::Body::wrap_stream(chunks)).send().await;
    assert_eq!(written.expect("upload").status(), 201);
    let mut small = tar::Builder::new(Vec::new());
    for n in 0..1_000 {
        let content = format!("small file {n}\n");
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        small.append_data(&mut header, format!("small/{n:04}.txt"), content.as_bytes()).expect("a member");
    }
    let landed = server
        .request(Method::PUT, &format!("{workspace}/archive?path=/data"), Some(&key))
        .body(small.into_inner().expect("a tar"))
        .send()
        .await
        .expect("small files");
    assert_eq!(landed.status(), 201);

    let mib_per_s = |bytes: u64, time: Duration| bytes as f64 / 1_048_576.0 / time.as_secs_f64();
    println!("Archives of a directory with a {mib} MiB file and 1,000 small ones (files on disk, SQLite)");
    let (file_bytes, file_time, file_growth, _) = drain(&server, &big).await;
    let limit = mib_per_s(file_bytes, file_time);
    println!("  GET of the big file alone (the limit): {limit:.0} MiB/s, resident +{} MiB", file_growth / 1024);
    for format in ["tar", "zip"] {
        let (bytes, time, growth, declared) =
            drain(&server, &format!("{workspace}/archive?path=/data&format={format}")).await;
        assert!(bytes > file_bytes, "{format}: the archive holds the file");
        let rate = mib_per_s(bytes, time);
        println!(
            "  {format}: {} MiB in {:.2} s, {rate:.0} MiB/s = {:.2} of the limit; resident +{} MiB (goal < 20); Content-Length {}",
            bytes / 1_048_576,
            time.as_secs_f64(),
            rate / limit,
            growth / 1024,
            declared.map_or("none (streamed)".to_owned(), |n| format!("{n} (exact: {})", n == bytes)),
        );
    }
}
