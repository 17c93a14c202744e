//! A real S3-compatible server for tests: s3s-fs, in process, on 127.0.0.1, checking SigV4
//! signatures against one access key, storing objects under a temporary directory.

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnectionBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;

use crate::{ObjectBlobStore, S3Settings};

const ACCESS_KEY_ID: &str = "projects-test-key";
const SECRET_ACCESS_KEY: &str = "projects-test-secret";

/// A running s3s-fs server; it stops (and its files go) when dropped.
pub struct TestS3Server {
    pub endpoint: String,
    pub bucket: String,
    root: tempfile::TempDir,
    accept_loop: tokio::task::JoinHandle<()>,
}

impl TestS3Server {
    /// Starts a server with one empty bucket. Needs a tokio runtime.
    pub async fn start() -> Self {
        let root = tempfile::tempdir().expect("temporary directory of the S3 server");
        let bucket = "projects-test".to_owned();
        std::fs::create_dir(root.path().join(&bucket)).expect("bucket directory");
        let filesystem = s3s_fs::FileSystem::new(root.path()).expect("s3s-fs over the directory");
        let mut service = S3ServiceBuilder::new(filesystem);
        service.set_auth(SimpleAuth::from_single(ACCESS_KEY_ID, SECRET_ACCESS_KEY));
        let service = service.build();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let endpoint = format!("http://{}", listener.local_addr().expect("bound address"));
        let accept_loop = tokio::spawn(async move {
            // Connections belong to the loop: stopping it closes kept-alive ones too, so a
            // dropped server is really gone for clients with pooled connections.
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((socket, _)) = listener.accept().await {
                while connections.try_join_next().is_some() {}
                let connection = ConnectionBuilder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(socket), service.clone())
                    .into_owned();
                connections.spawn(async move {
                    let _ = connection.await;
                });
            }
        });
        Self { endpoint, bucket, root, accept_loop }
    }

    /// Settings with the right credentials.
    pub fn settings(&self) -> S3Settings {
        S3Settings {
            endpoint: Some(self.endpoint.clone()),
            region: Some("us-east-1".to_owned()),
            access_key_id: Some(ACCESS_KEY_ID.to_owned()),
            secret_access_key: Some(SECRET_ACCESS_KEY.to_owned()),
        }
    }

    /// The `s3://` URL of the bucket under `prefix`.
    pub fn url(&self, prefix: &str) -> String {
        format!("s3://{}/{prefix}", self.bucket)
    }

    /// A store on the bucket under `prefix`.
    pub fn store(&self, prefix: &str) -> ObjectBlobStore {
        ObjectBlobStore::open(&self.url(prefix), &self.settings()).expect("S3 blob store")
    }

    /// Where an object lands on disk, to check what the server really holds.
    pub fn object_path(&self, key: &str) -> std::path::PathBuf {
        self.root.path().join(&self.bucket).join(key)
    }
}

impl Drop for TestS3Server {
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}
