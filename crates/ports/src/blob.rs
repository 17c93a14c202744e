use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;

use crate::Reachable;

/// A stream of chunks, so that no file is ever held in memory whole.
pub type ByteStream = BoxStream<'static, Result<Bytes, anyhow::Error>>;

/// Why a [`ByteStream`] of a request body ended early: the client stopped sending for longer
/// than the server waits. (A stream error of any other kind is a client that hung up.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the client sent nothing of the body for too long")]
pub struct BodyStalled;

/// An object being read: its stored size (of the whole object, whatever range is read) and bytes.
pub struct Blob {
    pub size: u64,
    pub body: ByteStream,
}

/// An object as a listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub key: String,
    pub size: u64,
    pub last_modified: time::OffsetDateTime,
}

/// Object storage for workspace manifests and blobs, addressed by `/`-separated keys.
#[async_trait]
pub trait BlobStore: Reachable {
    /// Stores `body` under `key`, replacing what was there.
    async fn put(&self, key: &str, body: ByteStream) -> anyhow::Result<()>;
    /// The object's bytes, or `None` when there is no such object.
    async fn get(&self, key: &str) -> anyhow::Result<Option<Blob>>;

    /// Bytes `range` of the object (the range lies within it), or `None` when there is no such object.
    async fn get_range(&self, key: &str, range: std::ops::Range<u64>) -> anyhow::Result<Option<Blob>>;

    /// The object's size, or `None` when there is no such object.
    async fn size(&self, key: &str) -> anyhow::Result<Option<u64>>;

    /// Whether an object exists.
    async fn exists(&self, key: &str) -> anyhow::Result<bool> {
        Ok(self.size(key).await?.is_some())
    }

    /// Copies an object within the store.
    async fn copy(&self, from: &str, to: &str) -> anyhow::Result<()>;

    /// Removes an object (no error when it is already gone).
    async fn delete(&self, key: &str) -> anyhow::Result<()>;

    /// Every object under `prefix/`.
    async fn list(&self, prefix: &str) -> anyhow::Result<Vec<StoredObject>>;

    /// Removes every object under `prefix/`; returns how many.
    async fn delete_prefix(&self, prefix: &str) -> anyhow::Result<usize>;
}
