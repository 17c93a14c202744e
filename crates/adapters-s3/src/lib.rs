//! The blob store port on the `object_store` crate, chosen by URL:
//! `s3://bucket/prefix` (with the usual `AWS_*` variables, `AWS_ENDPOINT_URL` for S3-compatible
//! servers), `file:///path` for the embedded default, `memory://` for tests.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context};
use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::buffered::BufWriter;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{ClientOptions, GetOptions, ObjectStore, RetryConfig};
use projects_ports::{Blob, BlobStore, ByteStream, Reachable, StoreError, StoredObject};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use url::Url;

#[cfg(feature = "test-support")]
pub mod test_support;

/// What an `s3://` URL cannot carry: the server and its credentials. Unset fields come from the
/// `AWS_*` environment variables (`AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, …), as the AWS tools read them.
#[derive(Clone, Default)]
pub struct S3Settings {
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &self.secret_access_key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// A blob store over any `object_store` backend.
#[derive(Clone)]
pub struct ObjectBlobStore {
    store: Arc<dyn ObjectStore>,
    /// For `file://`: the same store, to read files straight from disk in large reads (its own
    /// reads hand every 8 KiB to the blocking pool, ~131,000 hand-offs per GiB).
    local: Option<Arc<LocalFileSystem>>,
    /// Upload buffering: the part size and how many parts may be in flight at once, which
    /// together bound the memory one upload holds.
    part_size: usize,
    parts_in_flight: usize,
    errors: Arc<AtomicU64>,
}

/// Bytes per read of a local file: one blocking hand-off per MiB.
const LOCAL_READ: usize = 1024 * 1024;
/// S3's smallest part (the last may be smaller), two in flight: ≤ 10 MiB held per upload.
const S3_PART: usize = 5 * 1024 * 1024;
/// Local and in-memory stores have no minimum part size.
const LOCAL_PART: usize = 1024 * 1024;

impl ObjectBlobStore {
    /// The store a URL names, with S3 settings from the environment only.
    pub fn from_url(raw: &str) -> anyhow::Result<Self> {
        Self::open(raw, &S3Settings::default())
    }

    pub fn open(raw: &str, settings: &S3Settings) -> anyhow::Result<Self> {
        let url = Url::parse(raw).with_context(|| format!("blob store URL {raw:?} is not a URL"))?;
        let mut local = None;
        let mut part_size = LOCAL_PART;
        let store: Arc<dyn ObjectStore> = match url.scheme() {
            "memory" => Arc::new(InMemory::new()),
            "file" => {
                let dir = url.to_file_path().map_err(|_| anyhow::anyhow!("{raw:?} is not a local path"))?;
                std::fs::create_dir_all(&dir).with_context(|| format!("could not create {}", dir.display()))?;
                let files = Arc::new(LocalFileSystem::new_with_prefix(&dir)?);
                local = Some(files.clone());
                files
            }
            "s3" => {
                part_size = S3_PART;
                let bucket = url.host_str().context("s3:// URL without a bucket")?;
                let s3: Arc<dyn ObjectStore> = Arc::new(s3_builder(bucket, settings).build()?);
                match url.path().trim_matches('/') {
                    "" => s3,
                    prefix => Arc::new(PrefixStore::new(s3, prefix)),
                }
            }
            other => {
                bail!("unsupported blob store scheme {other:?} (use s3://, file:// or memory://)")
            }
        };
        Ok(Self { store, local, part_size, parts_in_flight: 2, errors: Arc::default() })
    }
}

fn s3_builder(bucket: &str, settings: &S3Settings) -> AmazonS3Builder {
    // A request to a dead store fails within seconds rather than retrying for minutes. (Client
    // options first: setting them replaces any earlier `allow_http`.)
    let retry = RetryConfig { max_retries: 2, retry_timeout: Duration::from_secs(10), ..RetryConfig::default() };
    let mut s3 = AmazonS3Builder::from_env()
        .with_bucket_name(bucket)
        .with_retry(retry)
        .with_client_options(ClientOptions::new().with_connect_timeout(Duration::from_secs(3)));
    let endpoint = settings.endpoint.clone().or_else(|| std::env::var("AWS_ENDPOINT_URL").ok());
    if let Some(endpoint) = endpoint {
        // S3-compatible servers: path-style requests, plain HTTP when the endpoint says so.
        s3 = s3
            .with_allow_http(endpoint.starts_with("http://"))
            .with_endpoint(endpoint)
            .with_virtual_hosted_style_request(false);
    }
    if let Some(region) = &settings.region {
        s3 = s3.with_region(region);
    }
    if let Some(key) = &settings.access_key_id {
        s3 = s3.with_access_key_id(key);
    }
    if let Some(secret) = &settings.secret_access_key {
        s3 = s3.with_secret_access_key(secret);
    }
    s3
}

impl ObjectBlobStore {
    /// "Not found" is an answer (`None`); any other failure is an error, counted for the
    /// `dependency_errors_total` metric.
    fn counted<T>(&self, result: object_store::Result<T>) -> anyhow::Result<Option<T>> {
        match result {
            Ok(value) => Ok(Some(value)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(err) => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                Err(err.into())
            }
        }
    }

    /// A local file read in [`LOCAL_READ`] pieces: all of it, or `range`.
    async fn read_local(
        &self,
        files: &LocalFileSystem,
        key: &str,
        range: Option<std::ops::Range<u64>>,
    ) -> anyhow::Result<Option<Blob>> {
        use tokio::io::{AsyncReadExt, AsyncSeekExt};
        let path = files.path_to_filesystem(&Path::from(key))?;
        let mut file = match tokio::fs::File::open(&path).await {
            Ok(file) => file,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                return Err(err.into());
            }
        };
        let whole = file.metadata().await?.len();
        let range = range.unwrap_or(0..whole);
        if range.start > 0 {
            file.seek(std::io::SeekFrom::Start(range.start)).await?;
        }
        let wanted = range.end.min(whole).saturating_sub(range.start);
        let errors = self.errors.clone();
        let body = tokio_util::io::ReaderStream::with_capacity(file.take(wanted), LOCAL_READ).map_err(move |err| {
            errors.fetch_add(1, Ordering::Relaxed);
            anyhow::Error::from(err)
        });
        Ok(Some(Blob { size: whole, body: body.boxed() }))
    }

    async fn get_with(&self, key: &str, options: GetOptions) -> anyhow::Result<Option<Blob>> {
        let found = self.counted(self.store.get_opts(&Path::from(key), options).await)?;
        Ok(found.map(|result| {
            let errors = self.errors.clone();
            let size = result.meta.size;
            let stream = result.into_stream().map_err(move |err| {
                errors.fetch_add(1, Ordering::Relaxed);
                anyhow::Error::from(err)
            });
            Blob { size, body: stream.boxed() }
        }))
    }
}

#[async_trait]
impl Reachable for ObjectBlobStore {
    async fn check_reachable(&self) -> Result<(), StoreError> {
        // Ready means the bucket is there and writable. A missing bucket answers a HEAD with "not
        // found" (which looks like an answer) but a listing with NoSuchBucket; some S3-compatible
        // servers create a bucket on a write, so the listing comes first.
        let probe = async {
            self.store.list_with_delimiter(Some(&Path::from("readiness-probe"))).await?;
            self.store.put(&Path::from("readiness-probe/probe"), bytes::Bytes::from_static(b"ready").into()).await
        };
        match probe.await {
            Ok(_) => Ok(()),
            Err(err) => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                Err(StoreError::Unavailable(err.into()))
            }
        }
    }

    fn errors_total(&self) -> Option<u64> {
        Some(self.errors.load(Ordering::Relaxed))
    }
}

/// An upload in progress. Dropped before it completed (a failed body or write, or the task
/// cancelled), it aborts the multipart upload, so no half-written parts are left in the store.
/// (A process that dies mid-upload cannot: S3's `AbortIncompleteMultipartUpload` lifecycle rule
/// covers that; see the README.)
struct Upload(Option<BufWriter>);

impl Drop for Upload {
    fn drop(&mut self) {
        if let (Some(mut writer), Ok(runtime)) = (self.0.take(), tokio::runtime::Handle::try_current()) {
            runtime.spawn(async move {
                if let Err(err) = writer.abort().await {
                    tracing::warn!(error = %err, "could not abort an unfinished upload");
                }
            });
        }
    }
}

#[async_trait]
impl BlobStore for ObjectBlobStore {
    async fn put(&self, key: &str, mut body: ByteStream) -> anyhow::Result<()> {
        // Multipart upload under the hood for large bodies; nothing is held whole in memory.
        let writer = BufWriter::with_capacity(self.store.clone(), Path::from(key), self.part_size)
            .with_max_concurrency(self.parts_in_flight);
        let mut upload = Upload(Some(writer));
        let writer = upload.0.as_mut().expect("just made");
        let failed = |err: anyhow::Error| {
            self.errors.fetch_add(1, Ordering::Relaxed);
            err
        };
        while let Some(chunk) = body.next().await {
            // A body that fails (a client gone, too large) is the caller's to report, not ours.
            writer.put(chunk?).await.map_err(|err| failed(err.into()))?;
        }
        // Completing the upload: the writer speaks io::Error here.
        writer.shutdown().await.map_err(|err| failed(err.into()))?;
        upload.0 = None;
        Ok(())
    }

    async fn get(&self, key: &str) -> anyhow::Result<Option<Blob>> {
        match &self.local {
            Some(files) => self.read_local(files, key, None).await,
            None => self.get_with(key, GetOptions::default()).await,
        }
    }

    async fn get_range(&self, key: &str, range: std::ops::Range<u64>) -> anyhow::Result<Option<Blob>> {
        match &self.local {
            Some(files) => self.read_local(files, key, Some(range)).await,
            None => self.get_with(key, GetOptions { range: Some(range.into()), ..GetOptions::default() }).await,
        }
    }

    async fn size(&self, key: &str) -> anyhow::Result<Option<u64>> {
        Ok(self.counted(self.store.head(&Path::from(key)).await)?.map(|meta| meta.size))
    }

    async fn copy(&self, from: &str, to: &str) -> anyhow::Result<()> {
        self.counted(self.store.copy(&Path::from(from), &Path::from(to)).await)?
            .with_context(|| format!("cannot copy {from}: not found"))
    }

    async fn list(&self, prefix: &str) -> anyhow::Result<Vec<StoredObject>> {
        let listed = self.store.list(Some(&Path::from(prefix))).try_collect::<Vec<_>>().await;
        let listed = self.counted(listed)?.unwrap_or_default();
        Ok(listed
            .into_iter()
            .map(|meta| StoredObject {
                key: meta.location.to_string(),
                size: meta.size,
                last_modified: time::OffsetDateTime::from_unix_timestamp(meta.last_modified.timestamp())
                    .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
            })
            .collect())
    }

    async fn delete_prefix(&self, prefix: &str) -> anyhow::Result<usize> {
        let locations = self.store.list(Some(&Path::from(prefix))).map_ok(|meta| meta.location).boxed();
        let deleted = self.store.delete_stream(locations).try_collect::<Vec<Path>>().await;
        Ok(self.counted(deleted)?.map_or(0, |deleted| deleted.len()))
    }

    async fn delete(&self, key: &str) -> anyhow::Result<()> {
        self.counted(self.store.delete(&Path::from(key)).await).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    async fn round_trip(store: ObjectBlobStore) {
        store.check_reachable().await.unwrap();
        assert!(store.get("workspaces/w/blobs/missing").await.unwrap().is_none());
        let chunks: Vec<anyhow::Result<Bytes>> =
            vec![Ok(Bytes::from_static(b"hello ")), Ok(Bytes::from_static(b"world"))];
        store.put("workspaces/w/blobs/a", futures::stream::iter(chunks).boxed()).await.unwrap();
        let read: Vec<Bytes> =
            store.get("workspaces/w/blobs/a").await.unwrap().unwrap().body.try_collect().await.unwrap();
        assert_eq!(read.concat(), b"hello world");
        let part: Vec<Bytes> =
            store.get_range("workspaces/w/blobs/a", 6..11).await.unwrap().unwrap().body.try_collect().await.unwrap();
        assert_eq!(part.concat(), b"world");
        assert!(store.exists("workspaces/w/blobs/a").await.unwrap());
        store.copy("workspaces/w/blobs/a", "workspaces/w/blobs/b").await.unwrap();
        store.delete("workspaces/w/blobs/a").await.unwrap();
        store.delete("workspaces/w/blobs/a").await.unwrap();
        assert!(!store.exists("workspaces/w/blobs/a").await.unwrap());
        assert!(store.exists("workspaces/w/blobs/b").await.unwrap());
        store.put("workspaces/other/x", futures::stream::empty().boxed()).await.unwrap();
        let listed = store.list("workspaces/w").await.unwrap();
        assert_eq!(listed.iter().map(|o| (o.key.as_str(), o.size)).collect::<Vec<_>>(), [("workspaces/w/blobs/b", 11)]);
        assert_eq!(store.delete_prefix("workspaces/w").await.unwrap(), 1);
        assert!(!store.exists("workspaces/w/blobs/b").await.unwrap());
        assert!(store.exists("workspaces/other/x").await.unwrap(), "only under the prefix");
    }

    #[tokio::test]
    async fn memory_store_round_trips() {
        round_trip(ObjectBlobStore::from_url("memory://").unwrap()).await;
    }

    #[tokio::test]
    async fn file_store_round_trips_under_its_directory() {
        let dir = tempfile::tempdir().unwrap();
        let url = Url::from_directory_path(dir.path().join("blobs")).unwrap();
        round_trip(ObjectBlobStore::from_url(url.as_str()).unwrap()).await;
        assert!(dir.path().join("blobs/workspaces/other/x").exists(), "files live under the configured directory");
    }

    #[tokio::test]
    async fn s3_store_round_trips_on_a_real_s3_compatible_server() {
        let server = test_support::TestS3Server::start().await;
        round_trip(server.store("tenant-a")).await;
        assert!(server.object_path("tenant-a/workspaces/other/x").exists(), "objects live under the URL's prefix");
    }

    /// 12 MiB in 256 KiB chunks (over the 5 MiB part: a multipart upload; over the 1 MiB local
    /// read: several reads), back whole and by ranges that cross read boundaries.
    async fn large_round_trip(store: ObjectBlobStore) {
        let pattern = |i: usize| (i % 251) as u8;
        let chunk: Vec<u8> = (0..256 * 1024).map(pattern).collect();
        let chunks = (0..48).map(move |_| Ok(Bytes::from(chunk.clone())));
        store.put("blobs/big", futures::stream::iter(chunks).boxed()).await.unwrap();
        let blob = store.get("blobs/big").await.unwrap().unwrap();
        assert_eq!(blob.size, 12 * 1024 * 1024);
        let whole: Vec<Bytes> = blob.body.try_collect().await.unwrap();
        let whole = whole.concat();
        assert_eq!(whole.len(), 12 * 1024 * 1024);
        assert!(whole.iter().enumerate().all(|(i, b)| *b == pattern(i % (256 * 1024))));
        for range in [12 * 1024 * 1024 - 3..12 * 1024 * 1024, 1024 * 1024 - 5..3 * 1024 * 1024 + 7] {
            let blob = store.get_range("blobs/big", range.clone()).await.unwrap().unwrap();
            assert_eq!(blob.size, 12 * 1024 * 1024, "the size is the whole object's");
            let part: Vec<Bytes> = blob.body.try_collect().await.unwrap();
            assert_eq!(part.concat(), whole[range.start as usize..range.end as usize]);
        }
    }

    #[tokio::test]
    async fn large_bodies_go_up_in_parts_and_come_back_whole_and_by_range() {
        let server = test_support::TestS3Server::start().await;
        large_round_trip(server.store("big")).await;
    }

    #[tokio::test]
    async fn large_local_files_are_read_whole_and_by_range() {
        let dir = tempfile::tempdir().unwrap();
        let url = Url::from_directory_path(dir.path()).unwrap();
        large_round_trip(ObjectBlobStore::from_url(url.as_str()).unwrap()).await;
    }

    #[tokio::test]
    async fn a_failed_body_leaves_no_object_behind() {
        let server = test_support::TestS3Server::start().await;
        let store = server.store("aborted");
        let chunks: Vec<anyhow::Result<Bytes>> =
            vec![Ok(Bytes::from_static(b"half a body")), Err(anyhow::anyhow!("client went away"))];
        assert!(store.put("blobs/half", futures::stream::iter(chunks).boxed()).await.is_err());
        assert!(!store.exists("blobs/half").await.unwrap());
    }

    #[tokio::test]
    async fn requests_signed_with_a_wrong_secret_are_refused() {
        let server = test_support::TestS3Server::start().await;
        let settings = S3Settings { secret_access_key: Some("not-the-secret".to_owned()), ..server.settings() };
        let store = ObjectBlobStore::open(&server.url("x"), &settings).unwrap();
        let body = futures::stream::iter(vec![Ok(Bytes::from_static(b"x"))]).boxed();
        let refused = store.put("blobs/x", body).await.expect_err("a wrong signature is refused");
        assert!(format!("{refused:#}").contains("SignatureDoesNotMatch"), "{refused:#}");
        assert!(store.check_reachable().await.is_err(), "a store that refuses us is not ready");
        assert!(!server.object_path("x/blobs/x").exists());
    }

    #[tokio::test]
    async fn a_server_that_is_gone_is_unreachable_without_long_retries() {
        let server = test_support::TestS3Server::start().await;
        let store = server.store("gone");
        drop(server);
        let started = std::time::Instant::now();
        assert!(matches!(store.check_reachable().await, Err(StoreError::Unavailable(_))));
        assert!(store.get("blobs/x").await.is_err());
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "gave up after {:?}", started.elapsed());
    }

    #[test]
    fn settings_never_show_the_secret() {
        let settings = S3Settings { secret_access_key: Some("hunter2".to_owned()), ..S3Settings::default() };
        assert!(!format!("{settings:?}").contains("hunter2"));
    }

    #[test]
    fn unknown_schemes_are_refused() {
        assert!(ObjectBlobStore::from_url("ftp://x").is_err());
        assert!(ObjectBlobStore::from_url("not a url").is_err());
    }
}
