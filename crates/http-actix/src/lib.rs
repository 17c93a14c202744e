//! The HTTP surfaces of the Projects service on actix-web: `/v1` in the Arkloop shape, health
//! endpoints, and the OpenAPI document collected from the very routes that serve requests.
//!
//! Handlers only translate: wire DTOs in, a use case of `projects_app::App`, wire DTOs out. Use
//! cases run on the service's multi-threaded runtime (see [`HttpState::run`]), so a client that
//! disconnects cannot cancel a database write halfway and no actix worker thread ever blocks.

mod allowed;
mod alumia;
mod auth;
mod bodies;
mod body;
pub mod cors;
mod error;
mod headers;
mod health;
mod metrics;
mod openapi;
mod paging;
pub mod rate_limit;
mod schemas;
mod trace;
mod v1;

use std::future::Future;
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::web;
use projects_app::{App, AppError};
use projects_ports::Reachable;
use utoipa_actix_web::AppExt;

pub use bodies::BodyLimits;
pub use error::HttpError;
pub use openapi::openapi_document;

/// Largest JSON body accepted (413 beyond it).
pub const JSON_BODY_LIMIT: usize = 1024 * 1024;

/// What every handler shares: the use cases, the runtime they run on, and the dependencies that
/// readiness checks.
pub struct HttpState {
    app: App,
    core: tokio::runtime::Handle,
    probes: Vec<(&'static str, Arc<dyn Reachable>)>,
    metrics: metrics::Metrics,
    cors_origins: Arc<cors::AllowedOrigins>,
    limiter: Option<Arc<rate_limit::Limiter>>,
    body_limits: BodyLimits,
    uploads: Option<Arc<bodies::UploadSlots>>,
    /// Where links the service hands out point (else the request's own scheme and host).
    public_base_url: Option<String>,
}

impl HttpState {
    /// `core` must be a multi-threaded runtime that outlives the server (the one `main` runs on).
    pub fn new(app: App, core: tokio::runtime::Handle, probes: Vec<(&'static str, Arc<dyn Reachable>)>) -> Self {
        Self {
            app,
            core,
            probes,
            metrics: metrics::Metrics::new(),
            cors_origins: Arc::default(),
            limiter: None,
            body_limits: BodyLimits::default(),
            uploads: None,
            public_base_url: None,
        }
    }

    /// The absolute base of links the service hands out (`https://api.example.com`).
    pub fn with_public_base_url(mut self, base: Option<String>) -> Self {
        self.public_base_url = base.filter(|b| !b.is_empty());
        self
    }

    /// Cuts bodies that pause for too long and bounds each caller's uploads (see [`bodies`]).
    pub fn with_body_limits(mut self, limits: BodyLimits) -> Self {
        self.body_limits = limits;
        self.uploads = limits.uploads_per_caller.map(|n| Arc::new(bodies::UploadSlots::new(n)));
        self
    }

    /// Limits each caller's pace (see [`rate_limit`]); [`rate_limit::RateLimits::OFF`] turns
    /// limits off.
    pub fn with_rate_limits(mut self, limits: rate_limit::RateLimits) -> Self {
        self.limiter = rate_limit::Limiter::new(limits).map(Arc::new);
        if let Some(limiter) = &self.limiter {
            rate_limit::keep_tidy(limiter, &self.core);
        }
        self
    }

    /// Shown in `/metrics`, beside the pool's size.
    pub fn with_http_workers(self, workers: usize) -> Self {
        self.metrics.set_http_workers(workers);
        self
    }

    /// Browsers on these origins may call the API with credentials (see [`cors`]).
    pub fn with_cors_origins(mut self, origins: cors::AllowedOrigins) -> Self {
        self.cors_origins = Arc::new(origins);
        self
    }

    /// Runs a use case to completion on the core runtime, detached from the request: dropping the
    /// returned future (a client hanging up) does not cancel it.
    pub(crate) async fn run<T, Fut>(&self, use_case: impl FnOnce(App) -> Fut) -> Result<T, AppError>
    where
        Fut: Future<Output = Result<T, AppError>> + Send + 'static,
        T: Send + 'static,
    {
        self.core
            .spawn(use_case(self.app.clone()))
            .await
            .map_err(|join| AppError::Unexpected(anyhow::anyhow!("use case aborted: {join}")))?
    }
}

/// Registers every documented route; shared by the server and the OpenAPI document.
fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.configure(health::routes).configure(v1::routes).configure(alumia::routes);
}

/// The whole application, ready for `HttpServer::new(move || projects_http_actix::app(state.clone()))`.
pub fn app(
    state: web::Data<HttpState>,
) -> actix_web::App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let (app, document) =
        actix_web::App::new().into_utoipa_app().openapi(openapi::base_document()).configure(routes).split_for_parts();
    let document = openapi::finish(document);
    let allowed = web::Data::new(allowed::AllowedMethods::from_document(&document));
    // No validator badge: it would send the document's address to validator.swagger.io.
    let docs = utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}")
        .url("/openapi.json", document)
        .config(utoipa_swagger_ui::Config::default().validator_url("none"));
    let cors = cors::middleware(&state.cors_origins);
    app.app_data(state)
        .app_data(allowed)
        .service(docs)
        .route("/docs", web::get().to(openapi::docs_redirect))
        .route("/metrics", web::get().to(health::metrics))
        .default_service(web::to(route_not_found))
        .wrap(actix_web::middleware::from_fn(bodies::cut_idle_bodies))
        .wrap(actix_web::middleware::from_fn(rate_limit::limited))
        .wrap(cors)
        .wrap_fn(trace::traced)
}

/// Unknown routes answer in the shape of the surface their path belongs to: 405 with `Allow` when
/// the path exists with other methods, 404 otherwise.
async fn route_not_found(
    request: actix_web::HttpRequest,
    allowed: web::Data<allowed::AllowedMethods>,
) -> actix_web::HttpResponse {
    use actix_web::Responder;
    let methods = allowed.for_path(request.path());
    let err =
        if methods.is_empty() { HttpError::RouteNotFound } else { HttpError::MethodNotAllowed { allowed: methods } };
    if request.path().starts_with("/api/") {
        alumia::route_not_found(err).await.respond_to(&request).map_into_boxed_body()
    } else {
        v1::route_not_found(err).await.respond_to(&request).map_into_boxed_body()
    }
}
