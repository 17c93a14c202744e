//! Prometheus metrics: requests by route and status, their latency, and the database pool.

use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder};

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool: IntGaugeVec,
    dependency_errors: IntCounterVec,
    integrity_failures: prometheus::IntCounter,
    http_workers: prometheus::IntGauge,
    principal_cache: IntGaugeVec,
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered, by method, route pattern and status"),
            &["method", "route", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time to answer HTTP requests, by method and route pattern",
            )
            .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
            &["method", "route"],
        )
        .expect("valid metric");
        let pool = IntGaugeVec::new(
            Opts::new(
                "db_pool_connections",
                "Database pool connections, by dependency and state (idle, in_use, max, waiting: callers queued)",
            ),
            &["dependency", "state"],
        )
        .expect("valid metric");
        let dependency_errors = IntCounterVec::new(
            Opts::new("dependency_errors_total", "Failed requests to a dependency (blob_store), since start"),
            &["dependency"],
        )
        .expect("valid metric");
        let integrity_failures = prometheus::IntCounter::new(
            "workspace_integrity_failures_total",
            "Files whose tree entry has no content in the blob store, or the wrong size, met by reads since start",
        )
        .expect("valid metric");
        let http_workers =
            prometheus::IntGauge::new("http_workers", "HTTP worker threads accepting requests (HTTP_WORKERS)")
                .expect("valid metric");
        let principal_cache = IntGaugeVec::new(
            Opts::new(
                "principal_cache",
                "The cache of authenticated callers: feed_up (1 while the identity change feed is up and the cache in use), \
                 feed_connects, hits and misses since start, entries now",
            ),
            &["value"],
        )
        .expect("valid metric");
        for collector in [
            Box::new(integrity_failures.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(principal_cache.clone()),
            Box::new(http_workers.clone()),
            Box::new(requests.clone()),
            Box::new(latency.clone()),
            Box::new(pool.clone()),
            Box::new(dependency_errors.clone()),
        ] {
            registry.register(collector).expect("unique metric names");
        }
        Self { registry, requests, latency, pool, dependency_errors, integrity_failures, http_workers, principal_cache }
    }

    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests.with_label_values(&[method, route, &status.to_string()]).inc();
        self.latency.with_label_values(&[method, route]).observe(seconds);
    }

    pub fn set_pool(&self, dependency: &str, state: projects_ports::PoolState) {
        self.pool.with_label_values(&[dependency, "idle"]).set(i64::from(state.idle));
        self.pool.with_label_values(&[dependency, "in_use"]).set(i64::from(state.in_use));
        self.pool.with_label_values(&[dependency, "max"]).set(i64::from(state.max));
        self.pool.with_label_values(&[dependency, "waiting"]).set(i64::from(state.waiting));
    }

    pub fn set_principal_cache(&self, stats: projects_app::PrincipalCacheStats) {
        let gauge = |name: &str, value: u64| {
            self.principal_cache.with_label_values(&[name]).set(i64::try_from(value).unwrap_or(i64::MAX));
        };
        gauge("feed_up", u64::from(stats.feed_up));
        gauge("feed_connects", stats.feed_connects);
        gauge("hits", stats.hits);
        gauge("misses", stats.misses);
        gauge("entries", u64::try_from(stats.entries).unwrap_or(u64::MAX));
    }

    pub fn set_http_workers(&self, workers: usize) {
        self.http_workers.set(i64::try_from(workers).unwrap_or(i64::MAX));
    }

    /// Brings the counter up to a dependency's own running total.
    pub fn set_errors_total(&self, dependency: &str, total: u64) {
        let counter = self.dependency_errors.with_label_values(&[dependency]);
        counter.inc_by(total.saturating_sub(counter.get()));
    }

    /// Brings the counter up to the use cases' own running total.
    pub fn set_integrity_failures_total(&self, total: u64) {
        self.integrity_failures.inc_by(total.saturating_sub(self.integrity_failures.get()));
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out).expect("encoding to memory");
        String::from_utf8(out).expect("the text format is UTF-8")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
