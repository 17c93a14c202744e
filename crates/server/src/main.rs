//! `server`: the Projects service binary. See `server --help`.

use clap::{Parser, Subcommand};
use projects_server::{AppOptions, Application, BlobStoreConfig, ServeConfig, StorageConfig, Stores};

/// Projects service for AI-agent platforms: the Arkloop /v1 and Alumia /api/v1 project APIs.
#[derive(Debug, Parser)]
#[command(name = "server", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeConfig,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve HTTP (the default): migrate, bootstrap an empty database, listen.
    Serve(ServeConfig),
    /// Apply pending database migrations and exit.
    Migrate(StorageConfig),
    /// Create an org with an owner (or a new key for the owner of an existing org) and print the key.
    Bootstrap {
        /// The org's name; an existing org of that name gets a new owner key.
        #[arg(long)]
        org: String,
        /// The owner's email.
        #[arg(long)]
        email: String,
        /// Print `{"org_id": …, "user_id": …, "api_key": …}`.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        storage: StorageConfig,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Remove for good the projects deleted longer ago than the retention window.
    Purge(Maintenance),
    /// One pass of the garbage collector: old revisions past retention, then blobs and uploads
    /// nothing references any more (after the grace period).
    Gc(Maintenance),
    /// Mint a JWT for a member (signed with JWT_SECRET), for local use.
    Token {
        /// The member's email.
        #[arg(long)]
        email: String,
        /// Their org.
        #[arg(long, default_value = "default")]
        org: String,
        /// How long it is valid: seconds, or a number with s, m, h or d.
        #[arg(long, default_value = "1h", value_parser = parse_ttl)]
        ttl: time::Duration,
        /// The HS256 secret.
        #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
        jwt_secret: String,
        #[command(flatten)]
        storage: StorageConfig,
    },
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colour codes only for a person at a terminal: in files and log collectors they are noise.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    if std::env::var("LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Openapi) => {
            let document = projects_http_actix::openapi_document();
            println!("{}", document.to_pretty_json()?);
        }
        Some(Command::Migrate(storage)) => {
            init_logging();
            Stores::open(&storage).await?;
            eprintln!("server: migrations are up to date");
        }
        Some(Command::Bootstrap { org, email, json, storage }) => {
            init_logging();
            let made =
                Stores::open(&storage).await?.app(&AppOptions::default(), no_blobs())?.bootstrap(&org, &email).await?;
            if json {
                // Exactly this key order and spacing: scripts match on it.
                let quoted = |value: String| serde_json::Value::String(value).to_string();
                println!(
                    "{{\"org_id\": {}, \"user_id\": {}, \"api_key\": {}}}",
                    quoted(made.org_id.to_string()),
                    quoted(made.user_id.to_string()),
                    quoted(made.api_key.expose().to_owned())
                );
            } else {
                println!("org_id:  {}\nuser_id: {}\napi_key: {}", made.org_id, made.user_id, made.api_key.expose());
            }
        }
        Some(Command::Token { email, org, ttl, jwt_secret, storage }) => {
            init_logging();
            let options = AppOptions { jwt_secret: Some(jwt_secret), ..AppOptions::default() };
            let app = Stores::open(&storage).await?.app(&options, no_blobs())?;
            println!("{}", app.mint_token(&org, &email, ttl).await?);
        }
        Some(Command::Purge(maintenance)) => {
            init_logging();
            let purged = maintenance.app().await?.purge_deleted_projects().await?;
            eprintln!("server: purged {purged} deleted projects");
        }
        Some(Command::Gc(maintenance)) => {
            init_logging();
            let report = maintenance.app().await?.collect_garbage().await?;
            eprintln!(
                "server: removed {} revisions, {} blobs and {} stale uploads",
                report.revisions_removed, report.blobs_removed, report.uploads_removed
            );
        }
        Some(Command::Serve(config)) => serve(config).await?,
        None => serve(cli.serve).await?,
    }
    Ok(())
}

async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    init_logging();
    let application = Application::build(config.clone()).await?;
    if let Some(made) = &application.bootstrapped {
        println!(
            "First start: created org {:?} (org_id {}) with owner {} (user_id {}).",
            config.bootstrap_org, made.org_id, config.bootstrap_email, made.user_id
        );
        println!("Owner API key, shown only this once:\n{}", made.api_key.expose());
    }
    tracing::info!(address = %application.address(), "listening");
    application.run_until_stopped().await?;
    Ok(())
}

fn parse_ttl(raw: &str) -> Result<time::Duration, String> {
    let (number, unit) = match raw.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => raw.split_at(at),
        None => (raw, "s"),
    };
    let number: i64 = number.parse().map_err(|_| format!("{raw:?} is not a duration like 90s, 15m, 1h or 7d"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(format!("unknown unit {unit:?}: use s, m, h or d")),
    };
    if number <= 0 {
        return Err("the duration must be positive".to_owned());
    }
    Ok(time::Duration::seconds(number * seconds))
}

/// What the maintenance subcommands (`purge`, `gc`) run on: the database and the real blob store,
/// since both remove files.
#[derive(Debug, clap::Args)]
struct Maintenance {
    #[command(flatten)]
    storage: StorageConfig,
    #[command(flatten)]
    blobs: BlobStoreConfig,
    #[command(flatten)]
    app: AppOptions,
}

impl Maintenance {
    async fn app(self) -> anyhow::Result<projects_app::App> {
        let blobs = std::sync::Arc::new(self.blobs.open(&self.storage.data_dir)?);
        Stores::open(&self.storage).await?.app(&self.app, blobs)
    }
}

/// Subcommands that never touch files run without a blob store.
fn no_blobs() -> std::sync::Arc<dyn projects_ports::BlobStore> {
    std::sync::Arc::new(projects_adapters_s3::ObjectBlobStore::from_url("memory://").expect("memory store"))
}
