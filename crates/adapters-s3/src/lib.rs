//! The blob store port on the `object_store` crate, chosen by URL:
//! `s3://bucket/prefix` (with the usual `AWS_*` variables, `AWS_ENDPOINT_URL` for S3-compatible
//! servers), `file:///path` for the embedded default, `memory://` for tests.

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
use object_store::{GetOptions, ObjectStore};
use projects_ports::{BlobStore, ByteStream, Reachable, StoreError};
use tokio::io::AsyncWriteExt;
use url::Url;

/// A blob store over any `object_store` backend.
#[derive(Clone)]
pub struct ObjectBlobStore {
    store: Arc<dyn ObjectStore>,
}

impl ObjectBlobStore {
    pub fn from_url(raw: &str) -> anyhow::Result<Self> {
        let url = Url::parse(raw).with_context(|| format!("blob store URL {raw:?} is not a URL"))?;
        let store: Arc<dyn ObjectStore> = match url.scheme() {
            "memory" => Arc::new(InMemory::new()),
            "file" => {
                let dir = url.to_file_path().map_err(|_| anyhow::anyhow!("{raw:?} is not a local path"))?;
                std::fs::create_dir_all(&dir).with_context(|| format!("could not create {}", dir.display()))?;
                Arc::new(LocalFileSystem::new_with_prefix(&dir)?)
            }
            "s3" => {
                let bucket = url.host_str().context("s3:// URL without a bucket")?;
                let s3 = AmazonS3Builder::from_env().with_bucket_name(bucket);
                let s3 = match std::env::var("AWS_ENDPOINT_URL") {
                    Ok(endpoint) => s3.with_endpoint(&endpoint).with_allow_http(endpoint.starts_with("http://")),
                    Err(_) => s3,
                };
                let s3: Arc<dyn ObjectStore> = Arc::new(s3.build()?);
                match url.path().trim_matches('/') {
                    "" => s3,
                    prefix => Arc::new(PrefixStore::new(s3, prefix)),
                }
            }
            other => {
                bail!("unsupported blob store scheme {other:?} (use s3://, file:// or memory://)")
            }
        };
        Ok(Self { store })
    }
}

impl ObjectBlobStore {
    async fn get_with(&self, key: &str, options: GetOptions) -> anyhow::Result<Option<ByteStream>> {
        match self.store.get_opts(&Path::from(key), options).await {
            Ok(result) => Ok(Some(result.into_stream().map_err(anyhow::Error::from).boxed())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }
}

#[async_trait]
impl Reachable for ObjectBlobStore {
    async fn check_reachable(&self) -> Result<(), StoreError> {
        // Any answer, "not found" included, proves the store is there.
        match self.store.head(&Path::from("readiness-probe")).await {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(StoreError::Unavailable(err.into())),
        }
    }
}

#[async_trait]
impl BlobStore for ObjectBlobStore {
    async fn put(&self, key: &str, mut body: ByteStream) -> anyhow::Result<()> {
        // Multipart upload under the hood for large bodies; nothing is held whole in memory.
        let mut writer = BufWriter::new(self.store.clone(), Path::from(key));
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(chunk) => writer.put(chunk).await?,
                Err(err) => {
                    writer.abort().await?;
                    return Err(err);
                }
            }
        }
        writer.shutdown().await?;
        Ok(())
    }

    async fn get(&self, key: &str) -> anyhow::Result<Option<ByteStream>> {
        self.get_with(key, GetOptions::default()).await
    }

    async fn get_range(&self, key: &str, range: std::ops::Range<u64>) -> anyhow::Result<Option<ByteStream>> {
        self.get_with(key, GetOptions { range: Some(range.into()), ..GetOptions::default() }).await
    }

    async fn exists(&self, key: &str) -> anyhow::Result<bool> {
        match self.store.head(&Path::from(key)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(err) => Err(err.into()),
        }
    }

    async fn copy(&self, from: &str, to: &str) -> anyhow::Result<()> {
        Ok(self.store.copy(&Path::from(from), &Path::from(to)).await?)
    }

    async fn delete_prefix(&self, prefix: &str) -> anyhow::Result<usize> {
        let locations = self.store.list(Some(&Path::from(prefix))).map_ok(|meta| meta.location).boxed();
        let deleted: Vec<Path> = self.store.delete_stream(locations).try_collect().await?;
        Ok(deleted.len())
    }

    async fn delete(&self, key: &str) -> anyhow::Result<()> {
        match self.store.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(err.into()),
        }
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
        let read: Vec<Bytes> = store.get("workspaces/w/blobs/a").await.unwrap().unwrap().try_collect().await.unwrap();
        assert_eq!(read.concat(), b"hello world");
        let part: Vec<Bytes> =
            store.get_range("workspaces/w/blobs/a", 6..11).await.unwrap().unwrap().try_collect().await.unwrap();
        assert_eq!(part.concat(), b"world");
        assert!(store.exists("workspaces/w/blobs/a").await.unwrap());
        store.copy("workspaces/w/blobs/a", "workspaces/w/blobs/b").await.unwrap();
        store.delete("workspaces/w/blobs/a").await.unwrap();
        store.delete("workspaces/w/blobs/a").await.unwrap();
        assert!(!store.exists("workspaces/w/blobs/a").await.unwrap());
        assert!(store.exists("workspaces/w/blobs/b").await.unwrap());
        store.put("workspaces/other/x", futures::stream::empty().boxed()).await.unwrap();
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

    #[test]
    fn unknown_schemes_are_refused() {
        assert!(ObjectBlobStore::from_url("ftp://x").is_err());
        assert!(ObjectBlobStore::from_url("not a url").is_err());
    }
}
