use std::path::PathBuf;

use anyhow::bail;
use projects_adapters_s3::{ObjectBlobStore, S3Settings};

/// Where the data lives.
#[derive(Debug, Clone, clap::Args)]
pub struct StorageConfig {
    /// Directory of the embedded default's database and blobs.
    #[arg(long, env = "DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// `postgres://…` for PostgreSQL, `sqlite://<path>` for SQLite
    /// [default: sqlite://<data-dir>/projects.db]
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Database connections at most [default: four per CPU, 8 to 64]
    #[arg(long, env = "DB_POOL_SIZE", value_parser = clap::value_parser!(u32).range(2..=1000))]
    pub db_pool_size: Option<u32>,
}

/// The database a configuration names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    Postgres(String),
    Sqlite(PathBuf),
}

impl StorageConfig {
    pub fn pool_size(&self) -> u32 {
        self.db_pool_size.unwrap_or_else(projects_adapters_sql::pool::default_pool_size)
    }

    pub fn database(&self) -> anyhow::Result<Database> {
        let Some(url) = self.database_url.as_deref().filter(|u| !u.is_empty()) else {
            return Ok(Database::Sqlite(self.data_dir.join("projects.db")));
        };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Database::Postgres(url.to_owned()));
        }
        if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            if path.is_empty() {
                bail!("DATABASE_URL {url:?} names no file");
            }
            return Ok(Database::Sqlite(PathBuf::from(path)));
        }
        bail!("DATABASE_URL must start with postgres://, postgresql:// or sqlite://");
    }
}

/// Where file contents live.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct BlobStoreConfig {
    /// `s3://bucket/prefix` (with the AWS_* variables: AWS_ENDPOINT_URL for S3-compatible servers,
    /// AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), `file:///dir` or `memory://`
    /// [default: file://<data-dir>/blobs]
    #[arg(long, env = "BLOB_STORE_URL")]
    pub blob_store_url: Option<String>,
    /// S3 settings given in code (tests) rather than by AWS_* variables.
    #[arg(skip)]
    pub s3: S3Settings,
}

impl BlobStoreConfig {
    pub fn url(&self, data_dir: &std::path::Path) -> String {
        match &self.blob_store_url {
            Some(url) if !url.is_empty() => url.clone(),
            _ => {
                let dir = data_dir.join("blobs");
                let dir = std::path::absolute(&dir).unwrap_or(dir);
                url::Url::from_directory_path(&dir)
                    .map(String::from)
                    .unwrap_or_else(|_| format!("file://{}", dir.display()))
            }
        }
    }

    pub fn open(&self, data_dir: &std::path::Path) -> anyhow::Result<ObjectBlobStore> {
        ObjectBlobStore::open(&self.url(data_dir), &self.s3)
    }
}

/// Settings of the use cases themselves.
#[derive(Debug, Clone, clap::Args)]
pub struct AppOptions {
    /// Secret for HS256 JWT bearer tokens (never logged).
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// PEM public key (RSA or Ed25519) of an identity provider: its RS256 or EdDSA JWTs are
    /// accepted beside the HS256 ones.
    #[arg(long, env = "JWT_PUBLIC_KEY_FILE")]
    pub jwt_public_key_file: Option<PathBuf>,
    /// Days a deleted project can be restored before `server purge` removes it.
    #[arg(long, env = "RETENTION_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub retention_days: u32,
    /// OpenAI-compatible API that names projects created with a description only (e.g.
    /// `https://api.openai.com/v1`); without it names are derived from the description.
    #[arg(long, env = "LLM_BASE_URL")]
    pub llm_base_url: Option<String>,
    /// Bearer key for that API (never logged).
    #[arg(long, env = "LLM_API_KEY", hide_env_values = true)]
    pub llm_api_key: Option<String>,
    /// The model to ask.
    #[arg(long, env = "LLM_MODEL", default_value = "gpt-4o-mini")]
    pub llm_model: String,
    /// How long to wait for a name before settling for `Untitled project`.
    #[arg(long, env = "LLM_TIMEOUT_MS", default_value_t = 5_000)]
    pub llm_timeout_ms: u64,
    /// Seconds a blob no revision references is kept after a write last named it, before the
    /// collector removes it.
    #[arg(long, env = "BLOB_GRACE_SECS", default_value_t = 3_600)]
    pub blob_grace_secs: u64,
    /// The newest this many revisions of each workspace are kept (the head always)…
    #[arg(long, env = "KEEP_REVISIONS", default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    pub keep_revisions: u64,
    /// …and so is every revision younger than this many days.
    #[arg(long, env = "KEEP_REVISIONS_DAYS", default_value_t = 7, value_parser = clap::value_parser!(u32).range(0..=3650))]
    pub keep_revisions_days: u32,
    /// Seconds between two passes of the collector while serving (0: never; `server gc` runs one).
    #[arg(long, env = "GC_INTERVAL_SECS", default_value_t = 3_600)]
    pub gc_interval_secs: u64,
    /// Milliseconds between two looks at the heads of the workspaces this node's change feeds
    /// follow: how soon a watcher sees a write made through another node (one statement per look).
    #[arg(long, env = "HEAD_POLL_MS", default_value_t = 250, value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub head_poll_ms: u64,
    /// Seconds a change feed with nothing new waits before it sends a heartbeat (and checks that
    /// the caller's key still stands).
    #[arg(long, env = "EVENTS_HEARTBEAT_SECS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub events_heartbeat_secs: u64,
    /// Seconds a change feed lasts at most; its client reconnects with `Last-Event-ID`.
    #[arg(long, env = "EVENTS_MAX_SECS", default_value_t = 3_600, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub events_max_secs: u64,
    /// How long an authenticated caller is kept in memory at most (changes to it are heard of
    /// at once regardless); `0`: the store is read on every request.
    #[arg(long, env = "PRINCIPAL_CACHE_TTL_SECS", default_value_t = 60)]
    pub principal_cache_ttl_secs: u64,
    #[command(flatten)]
    pub quotas: QuotaOptions,
    /// Secret that signs file links (never logged); nodes serving the same links share it.
    /// Default: derived from `JWT_SECRET`, else random at start (links die with the process).
    #[arg(long, env = "FILE_LINK_SECRET", hide_env_values = true)]
    pub file_link_secret: Option<String>,
}

/// What each org may hold; `0` is unlimited. Generous by default: they are there to stop a
/// runaway agent loop or a noisy tenant, not to meter normal use.
#[derive(Debug, Clone, clap::Args)]
pub struct QuotaOptions {
    /// Live projects per org.
    #[arg(long, env = "QUOTA_PROJECTS", default_value_t = 100_000)]
    pub quota_projects: u64,
    /// Members (people and service accounts) per org.
    #[arg(long, env = "QUOTA_MEMBERS", default_value_t = 10_000)]
    pub quota_members: u64,
    /// Live API keys per org.
    #[arg(long, env = "QUOTA_API_KEYS", default_value_t = 10_000)]
    pub quota_api_keys: u64,
    /// Bytes of file content per org, over all its workspaces.
    #[arg(long, env = "QUOTA_STORAGE_BYTES", default_value_t = 1 << 40)]
    pub quota_storage_bytes: u64,
    /// Files and directories per workspace.
    #[arg(long, env = "QUOTA_WORKSPACE_ENTRIES", default_value_t = 5_000_000)]
    pub quota_workspace_entries: u64,
    /// Bytes per file.
    #[arg(long, env = "QUOTA_FILE_BYTES", default_value_t = 5 << 30)]
    pub quota_file_bytes: u64,
}

impl QuotaOptions {
    pub fn quotas(&self) -> projects_domain::Quotas {
        use projects_domain::Quota::*;
        projects_domain::Quotas::UNLIMITED
            .with(Projects, self.quota_projects)
            .with(Members, self.quota_members)
            .with(ApiKeys, self.quota_api_keys)
            .with(StorageBytes, self.quota_storage_bytes)
            .with(WorkspaceEntries, self.quota_workspace_entries)
            .with(FileBytes, self.quota_file_bytes)
    }
}

impl Default for QuotaOptions {
    fn default() -> Self {
        use projects_domain::Quota::*;
        Self {
            quota_projects: Projects.default_limit(),
            quota_members: Members.default_limit(),
            quota_api_keys: ApiKeys.default_limit(),
            quota_storage_bytes: StorageBytes.default_limit(),
            quota_workspace_entries: WorkspaceEntries.default_limit(),
            quota_file_bytes: FileBytes.default_limit(),
        }
    }
}

impl AppOptions {
    /// What signs file links: the configured secret, else one derived from the JWT secret, else
    /// a random one (said in the log: links made now stop working at the next start).
    pub fn link_secret(&self) -> projects_app::LinkSecret {
        let configured = |s: &Option<String>| s.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
        match (configured(&self.file_link_secret), configured(&self.jwt_secret)) {
            (Some(secret), _) => projects_app::LinkSecret::derive(&secret),
            (None, Some(jwt)) => projects_app::LinkSecret::derive(&format!("jwt:{jwt}")),
            (None, None) => {
                tracing::warn!("no FILE_LINK_SECRET or JWT_SECRET: file links work on this node until it restarts");
                projects_app::LinkSecret::random()
            }
        }
    }

    /// What the collector keeps.
    pub fn tree_retention(&self) -> projects_app::Retention {
        projects_app::Retention {
            blob_grace: time::Duration::seconds(i64::try_from(self.blob_grace_secs).unwrap_or(i64::MAX)),
            keep_revisions: self.keep_revisions,
            keep_revisions_for: time::Duration::days(i64::from(self.keep_revisions_days)),
        }
    }
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            jwt_secret: None,
            jwt_public_key_file: None,
            retention_days: 30,
            llm_base_url: None,
            llm_api_key: None,
            llm_model: "gpt-4o-mini".to_owned(),
            llm_timeout_ms: 5_000,
            blob_grace_secs: 3_600,
            keep_revisions: 100,
            keep_revisions_days: 7,
            principal_cache_ttl_secs: 60,
            gc_interval_secs: 3_600,
            head_poll_ms: 250,
            events_heartbeat_secs: 15,
            events_max_secs: 3_600,
            quotas: QuotaOptions::default(),
            file_link_secret: None,
        }
    }
}

/// Everything `server serve` needs.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeConfig {
    /// Address to listen on.
    #[arg(long, env = "LISTEN_ADDR", default_value = "127.0.0.1:8080")]
    pub listen: String,
    #[command(flatten)]
    pub storage: StorageConfig,
    #[command(flatten)]
    pub blobs: BlobStoreConfig,
    #[command(flatten)]
    pub app: AppOptions,
    /// Origins whose browser pages may call the API with credentials, comma-separated
    /// (`http://localhost:5173,app://arkloop`); none by default.
    #[arg(long, env = "CORS_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub cors_allowed_origins: Vec<String>,
    /// Requests per second each caller (API key or token; client IP without one) may make on
    /// this node, sustained; `0` turns rate limits off.
    #[arg(long, env = "RATE_LIMIT_PER_SEC", default_value_t = 50)]
    pub rate_limit_per_sec: u32,
    /// Requests each caller may make at once before the sustained rate applies; `0`: off.
    #[arg(long, env = "RATE_LIMIT_BURST", default_value_t = 200)]
    pub rate_limit_burst: u32,
    /// The absolute base of links the service hands out (`https://api.example.com`); default:
    /// the scheme and host of the request that asked for the link.
    #[arg(long, env = "PUBLIC_BASE_URL")]
    pub public_base_url: Option<String>,
    /// Seconds a request body may send nothing before it is cut with 408; `0`: never.
    #[arg(long, env = "BODY_IDLE_TIMEOUT_SECS", default_value_t = 30)]
    pub body_idle_timeout_secs: u64,
    /// File and blob uploads each caller (key or token) may have in flight at once; `0`: any.
    #[arg(long, env = "UPLOADS_PER_KEY", default_value_t = 8)]
    pub uploads_per_key: usize,
    /// HTTP worker threads [default: one per CPU]
    #[arg(long, env = "HTTP_WORKERS", value_parser = clap::value_parser!(u16).range(1..=512))]
    pub http_workers: Option<u16>,
    /// On SIGTERM/SIGINT, how long in-flight requests may take to finish.
    #[arg(long, env = "SHUTDOWN_GRACE_SECS", default_value_t = 30)]
    pub shutdown_grace_secs: u64,
    /// Name of the org made on a first start against an empty database.
    #[arg(long, env = "BOOTSTRAP_ORG", default_value = "default")]
    pub bootstrap_org: String,
    /// Email of that org's owner.
    #[arg(long, env = "BOOTSTRAP_EMAIL", default_value = "owner@localhost")]
    pub bootstrap_email: String,
}

impl ServeConfig {
    pub fn workers(&self) -> usize {
        self.http_workers
            .map_or_else(|| std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get), usize::from)
    }

    /// The embedded default on a given address and directory, as tests want it.
    pub fn embedded(listen: &str, data_dir: PathBuf) -> Self {
        Self {
            listen: listen.to_owned(),
            storage: StorageConfig { data_dir, database_url: None, db_pool_size: None },
            blobs: BlobStoreConfig::default(),
            app: AppOptions::default(),
            cors_allowed_origins: Vec::new(),
            rate_limit_per_sec: 50,
            rate_limit_burst: 200,
            public_base_url: None,
            body_idle_timeout_secs: 30,
            uploads_per_key: 8,
            http_workers: None,
            shutdown_grace_secs: 30,
            bootstrap_org: "default".to_owned(),
            bootstrap_email: "owner@localhost".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn storage(url: Option<&str>) -> StorageConfig {
        StorageConfig { data_dir: PathBuf::from("/srv/data"), database_url: url.map(str::to_owned), db_pool_size: None }
    }

    #[test]
    fn database_urls() {
        assert_eq!(storage(None).database().unwrap(), Database::Sqlite("/srv/data/projects.db".into()));
        assert_eq!(storage(Some("")).database().unwrap(), Database::Sqlite("/srv/data/projects.db".into()));
        assert_eq!(storage(Some("sqlite://x/y.db")).database().unwrap(), Database::Sqlite("x/y.db".into()));
        assert_eq!(
            storage(Some("postgres://u@h/db")).database().unwrap(),
            Database::Postgres("postgres://u@h/db".into())
        );
        assert!(storage(Some("mysql://h/db")).database().is_err());
        assert!(storage(Some("sqlite://")).database().is_err());
    }
}
