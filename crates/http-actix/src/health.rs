//! Liveness and readiness.

use std::time::Duration;

use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::HttpState;

/// How long a dependency may take to answer before it counts as down.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(healthz).service(readyz);
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`, `ready` or `unavailable`.
    status: &'static str,
    /// Each dependency: `ok` or `unavailable`.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    checks: std::collections::BTreeMap<&'static str, &'static str>,
}

/// Liveness
///
/// 200 while the process serves requests.
#[utoipa::path(tag = "health", operation_id = "healthz", responses((status = 200, body = Health)))]
#[get("/healthz")]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok", checks: Default::default() })
}

/// Readiness
///
/// 200 when the database answers and the blob store accepts a write (its bucket exists), each
/// within 2 seconds; 503 otherwise.
#[utoipa::path(
    tag = "health",
    operation_id = "readyz",
    responses((status = 200, body = Health), (status = 503, body = Health))
)]
#[get("/readyz")]
async fn readyz(state: web::Data<HttpState>) -> HttpResponse {
    let mut checks = std::collections::BTreeMap::new();
    for (name, probe) in &state.probes {
        let probe = probe.clone();
        let answered =
            state.core.spawn(async move { tokio::time::timeout(PROBE_TIMEOUT, probe.check_reachable()).await }).await;
        let ok = matches!(answered, Ok(Ok(Ok(()))));
        checks.insert(*name, if ok { "ok" } else { "unavailable" });
    }
    if checks.values().all(|c| *c == "ok") {
        HttpResponse::Ok().json(Health { status: "ready", checks })
    } else {
        HttpResponse::ServiceUnavailable().json(Health { status: "unavailable", checks })
    }
}

/// Prometheus metrics (text format): requests, latency, database pool.
pub(crate) async fn metrics(state: web::Data<HttpState>) -> HttpResponse {
    for (name, probe) in &state.probes {
        if let Some(pool) = probe.pool_state() {
            state.metrics.set_pool(name, pool);
        }
        if let Some(errors) = probe.errors_total() {
            state.metrics.set_errors_total(name, errors);
        }
    }
    state.metrics.set_integrity_failures_total(state.app.integrity_failures_total());
    state.metrics.set_principal_cache(state.app.principal_cache_stats());
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(state.metrics.render())
}
