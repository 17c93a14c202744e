//! Harness of the black-box tests: the real server (the same `Application::build` as the binary)
//! on a random port, over SQLite or PostgreSQL, driven over HTTP.

use projects_adapters_postgres::test_support::TestDatabase;
use projects_adapters_s3::test_support::TestS3Server;
use projects_app::App;
use projects_server::{Application, ServeConfig};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;

/// The HS256 secret every test server accepts JWTs signed with.
pub const JWT_SECRET: &str = "black-box-test-secret";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A running server with one bootstrapped org.
pub struct TestServer {
    pub base_url: String,
    /// The first-start owner key of org `default`.
    pub owner_key: String,
    app: App,
    client: reqwest::Client,
    backend: Backend,
    config: ServeConfig,
    _data_dir: std::sync::Arc<tempfile::TempDir>,
    _database: Option<std::sync::Arc<TestDatabase>>,
}

impl TestServer {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, |_| {}).await
    }

    /// Starts a server whose configuration `adjust` may change first.
    pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut ServeConfig)) -> Self {
        // Errors only (a 500's cause), into the test's captured output: shown when a test fails.
        let filter = std::env::var("TEST_LOG").unwrap_or_else(|_| "error".to_owned());
        let _ = tracing_subscriber::fmt().with_test_writer().with_env_filter(filter).try_init();
        let data_dir = tempfile::tempdir().expect("temporary data directory");
        let mut config = ServeConfig::embedded("127.0.0.1:0", data_dir.path().to_path_buf());
        config.blobs.blob_store_url = Some("memory://".to_owned());
        config.app.jwt_secret = Some(JWT_SECRET.to_owned());
        // Tests send crowds with one key; the rate-limit tests turn limits on themselves.
        (config.rate_limit_per_sec, config.rate_limit_burst) = (0, 0);
        // Likewise uploads in flight: the upload-limit tests set their own.
        config.uploads_per_key = 0;
        let database = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => {
                let database = TestDatabase::create().await;
                config.storage.database_url = Some(database.url.clone());
                Some(database)
            }
        };
        adjust(&mut config);
        let application = Application::build(config.clone()).await.expect("the server starts");
        let owner_key =
            application.bootstrapped.as_ref().expect("an empty database is bootstrapped").api_key.expose().to_owned();
        let base_url = format!("http://{}", application.address());
        let app = application.app().clone();
        tokio::spawn(application.run_until_stopped());
        Self {
            base_url,
            owner_key,
            app,
            client: reqwest::Client::new(),
            backend,
            config,
            _data_dir: std::sync::Arc::new(data_dir),
            _database: database.map(std::sync::Arc::new),
        }
    }

    /// A second node of the same service: its own process state (nothing cached), the same
    /// database and blob store, as behind a load balancer.
    pub async fn another_node(&self) -> Self {
        let mut config = self.config.clone();
        config.listen = "127.0.0.1:0".to_owned();
        let application = Application::build(config.clone()).await.expect("the second node starts");
        let base_url = format!("http://{}", application.address());
        let app = application.app().clone();
        tokio::spawn(application.run_until_stopped());
        Self {
            base_url,
            owner_key: self.owner_key.clone(),
            app,
            client: reqwest::Client::new(),
            backend: self.backend,
            config,
            _data_dir: self._data_dir.clone(),
            _database: self._database.clone(),
        }
    }

    /// Bytes the database takes (PostgreSQL: the database; SQLite: its file and write-ahead log).
    pub async fn database_bytes(&self) -> anyhow::Result<u64> {
        match (self.backend, &self._database) {
            (Backend::Postgres, Some(database)) => {
                projects_adapters_postgres::test_support::database_bytes(&database.url).await
            }
            _ => {
                let path = self._data_dir.path().join("projects.db");
                let wal = self._data_dir.path().join("projects.db-wal");
                Ok([path, wal].iter().filter_map(|p| std::fs::metadata(p).ok()).map(|m| m.len()).sum())
            }
        }
    }

    /// Puts `entries` files (`/dirNNNNN/fileNNN.rs`, 100 to a directory, all with blob `sha256`
    /// of `size` bytes, which must be uploaded already) into the workspace as its first revision,
    /// straight into the database (for benchmarks).
    pub async fn seed_tree(&self, workspace_ref: &str, sha256: &str, size: u64, entries: u64) -> anyhow::Result<()> {
        match (self.backend, &self._database) {
            (Backend::Postgres, Some(database)) => {
                projects_adapters_postgres::test_support::seed_tree(&database.url, workspace_ref, sha256, size, entries)
                    .await
            }
            _ => {
                let path = self._data_dir.path().join("projects.db");
                projects_adapters_sqlite::test_support::seed_tree(&path, workspace_ref, sha256, size, entries).await
            }
        }
    }

    /// Starts a server whose files go to a real S3-compatible server, under `prefix`.
    pub async fn start_on_s3(backend: Backend, s3: &TestS3Server, prefix: &str) -> Self {
        Self::start_on_s3_with(backend, s3, prefix, |_| {}).await
    }

    /// [`Self::start_on_s3`], with the configuration adjusted further.
    pub async fn start_on_s3_with(
        backend: Backend,
        s3: &TestS3Server,
        prefix: &str,
        adjust: impl FnOnce(&mut ServeConfig),
    ) -> Self {
        Self::start_with(backend, |config| {
            config.blobs.blob_store_url = Some(s3.url(prefix));
            config.blobs.s3 = s3.settings();
            adjust(config);
        })
        .await
    }

    /// A key of the owner `email` of org `org` (made on first use), as `server bootstrap` does.
    pub async fn owner_key_of(&self, org: &str, email: &str) -> String {
        self.app.bootstrap(org, email).await.expect("bootstrap").api_key.expose().to_owned()
    }

    /// Adds `email` to the org as `role` (through the owner) and redeems the invitation as that
    /// person would: returns their user id and their own key, with every permission of the role.
    pub async fn add_member(&self, email: &str, role: &str) -> (String, String) {
        let body = serde_json::json!({"email": email, "role": role});
        let added = expect_json(self.post_json("/v1/members", &self.owner_key, body).await, 201).await;
        let token = added["invite_token"].as_str().expect("an invitation").to_owned();
        let accept = self
            .request(Method::POST, "/v1/invitations/accept", None)
            .json(&serde_json::json!({"token": token}))
            .send()
            .await
            .expect("request");
        let accepted = expect_json(accept, 201).await;
        assert_eq!(accepted["user_id"], added["user_id"]);
        (added["user_id"].as_str().unwrap().to_owned(), accepted["api_key"].as_str().unwrap().to_owned())
    }

    /// A new key of `key`'s own user, narrowed to `scopes`.
    pub async fn scoped_key(&self, key: &str, scopes: &[&str]) -> String {
        let body = serde_json::json!({"name": "scoped", "scopes": scopes});
        let created = expect_json(self.post_json("/v1/api-keys", key, body).await, 201).await;
        created["key"].as_str().unwrap().to_owned()
    }

    /// Inserts `count` projects of `owner_id` straight into the database (for benchmarks).
    pub async fn seed_projects(&self, org_id: uuid::Uuid, owner_id: uuid::Uuid, count: i64) -> anyhow::Result<()> {
        match (self.backend, &self._database) {
            (Backend::Postgres, Some(database)) => {
                projects_adapters_postgres::test_support::seed_projects(&database.url, org_id, owner_id, count).await
            }
            _ => {
                let path = self._data_dir.path().join("projects.db");
                projects_adapters_sqlite::test_support::seed_projects(&path, org_id, owner_id, count).await
            }
        }
    }

    /// Runs `sql` on the server's database as it is (to set up rows no endpoint writes).
    pub async fn execute_sql(&self, sql: &str) -> anyhow::Result<()> {
        match (self.backend, &self._database) {
            (Backend::Postgres, Some(database)) => {
                projects_adapters_postgres::test_support::execute(&database.url, sql).await
            }
            _ => projects_adapters_sqlite::test_support::execute(&self._data_dir.path().join("projects.db"), sql).await,
        }
    }

    /// The PostgreSQL database the server runs on (none on SQLite).
    pub fn database_url(&self) -> Option<&str> {
        self._database.as_ref().map(|database| database.url.as_str())
    }

    /// The server's data directory (the embedded default keeps its database and files there).
    pub fn data_dir(&self) -> &std::path::Path {
        self._data_dir.path()
    }

    /// The server's use cases, for what has no endpoint (minting tokens, flushing key usage).
    pub fn app(&self) -> &App {
        &self.app
    }

    pub async fn delete(&self, path: &str, key: &str) -> Response {
        self.request(Method::DELETE, path, Some(key)).send().await.expect("request")
    }

    pub async fn patch_json(&self, path: &str, key: &str, body: Value) -> Response {
        self.request(Method::PATCH, path, Some(key)).json(&body).send().await.expect("request")
    }

    pub fn request(&self, method: Method, path: &str, key: Option<&str>) -> RequestBuilder {
        let request = self.client.request(method, format!("{}{path}", self.base_url));
        match key {
            Some(key) => request.bearer_auth(key),
            None => request,
        }
    }

    pub async fn get(&self, path: &str, key: &str) -> Response {
        self.request(Method::GET, path, Some(key)).send().await.expect("request")
    }

    pub async fn post_json(&self, path: &str, key: &str, body: Value) -> Response {
        self.request(Method::POST, path, Some(key)).json(&body).send().await.expect("request")
    }
}

/// Reads a JSON body after checking the status and the trace header every response carries.
pub async fn expect_json(response: Response, status: u16) -> Value {
    let got = response.status().as_u16();
    let trace = response.headers().get("x-trace-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = response.text().await.expect("body");
    assert_eq!(got, status, "unexpected status; body: {body}");
    let trace = trace.expect("X-Trace-Id header");
    assert!(trace.len() == 32 && trace.bytes().all(|b| b.is_ascii_hexdigit()), "trace id {trace:?}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("body is not JSON ({e}): {body}"))
}

/// Checks a `/v1` error: status, code, and that the body's trace id matches the header.
pub async fn expect_v1_error(response: Response, status: u16, code: &str) -> Value {
    let header = response.headers().get("x-trace-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = expect_json(response, status).await;
    assert_eq!(body["code"], code, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert_eq!(body["trace_id"].as_str(), header.as_deref(), "{body}");
    body
}

/// Runs each scenario `async fn name(backend: Backend)` once per backend, as `sqlite::name` and
/// `postgres::name`.
#[macro_export]
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario($crate::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario($crate::Backend::Postgres).await;
                }
            )*
        }
    };
}

/// `text` in unpadded base64url, as JWT parts are.
pub fn base64_url(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}
