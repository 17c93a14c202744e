//! The Projects service, assembled: configuration, storage selection, migrations, first-start
//! bootstrap and the HTTP server. The `server` binary parses flags and calls into this; the
//! black-box tests call the same [`Application::build`] on port 0.

mod config;

use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{web, HttpServer};
use anyhow::Context;
use projects_adapters_llm::{LlmConfig, LlmNames};
use projects_adapters_postgres::{PoolSettings, PostgresStore};
use projects_adapters_sqlite::SqliteStore;
use projects_app::{App, Bootstrapped, JwtKeys, Ports};
use projects_http_actix::cors::AllowedOrigins;
use projects_http_actix::rate_limit::RateLimits;
use projects_http_actix::HttpState;
use projects_ports::{
    BlobStore, IdentityStore, ProjectStore, RandomIds, Reachable, SystemClock, UsageStore, WorkspaceStore,
};

pub use config::{AppOptions, BlobStoreConfig, Database, ServeConfig, StorageConfig};

/// The stores over whichever database the configuration names.
pub struct Stores {
    pub projects: Arc<dyn ProjectStore>,
    pub identity: Arc<dyn IdentityStore>,
    pub usage: Arc<dyn UsageStore>,
    pub workspaces: Arc<dyn WorkspaceStore>,
    pub database: Arc<dyn Reachable>,
    /// PostgreSQL's URL, for the feed of identity changes; none for SQLite (one process).
    notifying_database: Option<String>,
}

impl Stores {
    /// Connects and brings the schema up to date (PostgreSQL under an advisory lock).
    pub async fn open(storage: &StorageConfig) -> anyhow::Result<Self> {
        match storage.database()? {
            Database::Postgres(url) => {
                projects_adapters_postgres::run_migrations(&url)
                    .await
                    .context("could not migrate the PostgreSQL database")?;
                let settings = PoolSettings { max_size: storage.pool_size(), ..PoolSettings::default() };
                let store = Arc::new(PostgresStore::connect(&url, &settings).await?);
                Ok(Self { notifying_database: Some(url), ..Self::over(store) })
            }
            Database::Sqlite(path) => {
                let store = Arc::new(
                    SqliteStore::open_with_pool(&path, storage.pool_size())
                        .await
                        .with_context(|| format!("could not open the SQLite database {}", path.display()))?,
                );
                Ok(Self::over(store))
            }
        }
    }

    /// Every store trait served by one adapter value.
    fn over<S>(store: Arc<S>) -> Self
    where
        S: ProjectStore + IdentityStore + UsageStore + WorkspaceStore + 'static,
    {
        Self {
            projects: store.clone(),
            identity: store.clone(),
            usage: store.clone(),
            workspaces: store.clone(),
            database: store,
            notifying_database: None,
        }
    }

    /// Keeps `app`'s cache of callers told of every change to them: from PostgreSQL's
    /// notifications, for as long as the runtime runs; with SQLite, which one process serves,
    /// the app's own changes are all there is.
    pub fn follow_identity_changes(&self, app: &App) {
        match &self.notifying_database {
            Some(url) => {
                tokio::spawn(projects_adapters_postgres::follow_identity_changes(
                    url.clone(),
                    app.identity_changes(),
                    projects_adapters_postgres::FeedSettings::default(),
                ));
            }
            None => app.identity_changes().feed_up(),
        }
    }

    /// The use cases over these stores; JWTs are accepted when a secret is given.
    pub fn app(&self, options: &AppOptions, blobs: Arc<dyn BlobStore>) -> anyhow::Result<App> {
        let app = App::new(Ports {
            projects: self.projects.clone(),
            identity: self.identity.clone(),
            usage: self.usage.clone(),
            workspaces: self.workspaces.clone(),
            blobs: blobs.clone(),
            clock: Arc::new(SystemClock),
            ids: Arc::new(RandomIds),
        })
        .with_retention(time::Duration::days(i64::from(options.retention_days)))
        .with_principal_ttl(std::time::Duration::from_secs(options.principal_cache_ttl_secs))
        .with_feed_timing(
            std::time::Duration::from_secs(options.events_heartbeat_secs),
            std::time::Duration::from_secs(options.events_max_secs),
        )
        .with_tree_retention(options.tree_retention())
        .with_quotas(options.quotas.quotas())
        .with_link_secret(options.link_secret());
        let keys = options.jwt_secret.as_deref().filter(|s| !s.is_empty()).map(|s| JwtKeys::hs256(s.as_bytes()));
        let keys = match options.jwt_public_key_file.as_deref().filter(|p| !p.as_os_str().is_empty()) {
            Some(path) => {
                let pem = std::fs::read(path).with_context(|| format!("could not read {}", path.display()))?;
                let keys = keys.unwrap_or_else(JwtKeys::none).with_public_key_pem(&pem);
                Some(keys.with_context(|| format!("JWT_PUBLIC_KEY_FILE {}", path.display()))?)
            }
            None => keys,
        };
        let app = match keys {
            Some(keys) => app.with_jwt(keys),
            None => app,
        };
        Ok(match options.llm_base_url.as_deref().filter(|s| !s.is_empty()) {
            Some(base_url) => app.with_name_generator(Arc::new(LlmNames::new(LlmConfig {
                base_url: base_url.to_owned(),
                api_key: options.llm_api_key.clone().filter(|k| !k.is_empty()),
                model: options.llm_model.clone(),
                timeout: std::time::Duration::from_millis(options.llm_timeout_ms),
            })?)),
            None => app,
        })
    }
}

/// A built, bound, not yet running service.
pub struct Application {
    address: SocketAddr,
    server: Server,
    app: App,
    /// The org, owner and key made on a first start against an empty database.
    pub bootstrapped: Option<Bootstrapped>,
}

impl Application {
    /// Opens storage, bootstraps an empty database, and binds the listener (port 0 picks a free
    /// port; [`Application::address`] tells which). Must be called on a multi-threaded tokio
    /// runtime, which then runs every use case.
    pub async fn build(config: ServeConfig) -> anyhow::Result<Self> {
        let stores = Stores::open(&config.storage).await?;
        let blobs = Arc::new(config.blobs.open(&config.storage.data_dir)?);
        let app = stores.app(&config.app, blobs.clone())?;
        stores.follow_identity_changes(&app);
        let bootstrapped = app
            .bootstrap_if_empty(&config.bootstrap_org, &config.bootstrap_email)
            .await
            .context("could not bootstrap the empty database")?;
        let probes: Vec<(&'static str, Arc<dyn Reachable>)> =
            vec![("database", stores.database.clone()), ("blob_store", blobs)];
        let origins = AllowedOrigins::parse(&config.cors_allowed_origins)
            .map_err(|err| anyhow::anyhow!("CORS_ALLOWED_ORIGINS: {err}"))?;
        let limits = RateLimits { per_sec: config.rate_limit_per_sec, burst: config.rate_limit_burst };
        let state = HttpState::new(app.clone(), tokio::runtime::Handle::current(), probes)
            .with_cors_origins(origins)
            .with_public_base_url(config.public_base_url.clone())
            .with_rate_limits(limits)
            .with_body_limits(projects_http_actix::BodyLimits {
                idle_timeout: (config.body_idle_timeout_secs > 0)
                    .then(|| std::time::Duration::from_secs(config.body_idle_timeout_secs)),
                uploads_per_caller: std::num::NonZeroUsize::new(config.uploads_per_key),
            })
            .with_http_workers(config.workers());
        let state = web::Data::new(state);
        let listener = std::net::TcpListener::bind(&config.listen)
            .with_context(|| format!("could not listen on {}", config.listen))?;
        let address = listener.local_addr()?;
        // On SIGTERM/SIGINT actix stops accepting and gives in-flight requests the grace period.
        let server = HttpServer::new(move || projects_http_actix::app(state.clone()))
            .workers(config.workers())
            .shutdown_timeout(config.shutdown_grace_secs)
            .listen(listener)?
            .run();
        tokio::spawn(record_last_used(app.clone()));
        tokio::spawn({
            let (app, interval) = (app.clone(), std::time::Duration::from_millis(config.app.head_poll_ms));
            async move { app.follow_heads(interval).await }
        });
        if config.app.gc_interval_secs > 0 {
            tokio::spawn(collect_garbage(app.clone(), std::time::Duration::from_secs(config.app.gc_interval_secs)));
        }
        Ok(Self { address, server, app, bootstrapped })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The use cases this server runs, for in-process callers such as tests.
    pub fn app(&self) -> &App {
        &self.app
    }

    /// Serves until SIGINT/SIGTERM, then finishes in-flight requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        if let Err(err) = self.app.flush_last_used().await {
            tracing::warn!(error = %err, "could not record the last use of API keys");
        }
        served
    }
}

/// How often the last use of API keys is written: often enough for a "last used" column, rarely
/// enough that no request ever waits on it.
const KEY_USAGE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);

/// The collector, a pass every `interval` (the first one `interval` after start). Several nodes
/// may run it at once: each claims different rows, and a pass that finds nothing costs a few
/// queries.
async fn collect_garbage(app: App, interval: std::time::Duration) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    loop {
        ticks.tick().await;
        if let Err(err) = app.collect_garbage().await {
            tracing::warn!(error = %err, "garbage collection failed; retrying at the next pass");
        }
    }
}

async fn record_last_used(app: App) {
    let mut ticks = tokio::time::interval(KEY_USAGE_INTERVAL);
    loop {
        ticks.tick().await;
        if let Err(err) = app.flush_last_used().await {
            tracing::warn!(error = %err, "could not record the last use of API keys");
        }
    }
}
