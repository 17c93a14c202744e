//! Every request gets a trace id (the caller's `X-Trace-Id` when it is 32 lowercase hex, a fresh
//! one otherwise), echoed in the `X-Trace-Id` response header and in every error body, and logged
//! with one line per request.

use std::time::Instant;

use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use futures::future::LocalBoxFuture;

pub const TRACE_HEADER: HeaderName = HeaderName::from_static("x-trace-id");

tokio::task_local! {
    static TRACE_ID: String;
}

/// The current request's trace id (a fresh one outside a request).
pub fn current_trace_id() -> String {
    TRACE_ID.try_with(Clone::clone).unwrap_or_else(|_| new_trace_id())
}

fn new_trace_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn incoming_trace_id(req: &ServiceRequest) -> Option<String> {
    let value = req.headers().get(&TRACE_HEADER)?.to_str().ok()?;
    let valid = value.len() == 32 && value.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    valid.then(|| value.to_owned())
}

pub fn traced<S, B>(
    req: ServiceRequest,
    service: &S,
) -> LocalBoxFuture<'static, Result<ServiceResponse<B>, actix_web::Error>>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
{
    let trace_id = incoming_trace_id(&req).unwrap_or_else(new_trace_id);
    let state = req.app_data::<actix_web::web::Data<crate::HttpState>>().cloned();
    let method = req.method().clone();
    let path = req.path().to_owned();
    let started = Instant::now();
    let response = service.call(req);
    Box::pin(TRACE_ID.scope(trace_id.clone(), async move {
        let mut response = response.await?;
        let header = HeaderValue::from_str(&trace_id).expect("hex is a valid header value");
        response.headers_mut().insert(TRACE_HEADER, header);
        // Unmatched paths are one label, not one per path a scanner tries.
        let route = response.request().match_pattern().unwrap_or_else(|| "unmatched".to_owned());
        let seconds = started.elapsed().as_secs_f64();
        if let Some(state) = &state {
            state.metrics.observe(method.as_str(), &route, response.status().as_u16(), seconds);
        }
        tracing::info!(
            %method,
            route,
            status = response.status().as_u16(),
            path,
            latency_ms = seconds * 1e3,
            trace_id,
            "request"
        );
        Ok(response)
    }))
}
