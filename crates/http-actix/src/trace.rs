//! Every request gets a trace id: the trace id of a valid W3C `traceparent`, else the caller's
//! `X-Trace-Id` when it is 32 lowercase hex, else a fresh one. It is echoed in the `X-Trace-Id`
//! response header and in every error body, and logged with one line per request.

use std::time::Instant;

use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use futures::future::LocalBoxFuture;
use projects_domain::is_lower_hex;

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

/// The trace id of a W3C trace context header: `version-traceid-parentid-flags`, lowercase hex,
/// neither id all zeros, version `ff` invalid (later versions may append fields).
fn traceparent_trace_id(value: &str) -> Option<&str> {
    let mut fields = value.trim().split('-');
    let (version, trace_id, parent_id, flags) = (fields.next()?, fields.next()?, fields.next()?, fields.next()?);
    let well_formed = is_lower_hex(version, 2)
        && version != "ff"
        && (version != "00" || fields.next().is_none())
        && is_lower_hex(trace_id, 32)
        && trace_id.bytes().any(|b| b != b'0')
        && is_lower_hex(parent_id, 16)
        && parent_id.bytes().any(|b| b != b'0')
        && is_lower_hex(flags, 2);
    well_formed.then_some(trace_id)
}

fn incoming_trace_id(req: &ServiceRequest) -> Option<String> {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    if let Some(trace_id) = header("traceparent").and_then(traceparent_trace_id) {
        return Some(trace_id.to_owned());
    }
    header(TRACE_HEADER.as_str()).filter(|value| is_lower_hex(value, 32)).map(str::to_owned)
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

#[cfg(test)]
mod tests {
    use super::traceparent_trace_id;

    #[test]
    fn traceparent_headers() {
        let id = "4bf92f3577b34da6a3ce929d0e0e4736";
        assert_eq!(traceparent_trace_id(&format!("00-{id}-00f067aa0ba902b7-01")), Some(id));
        assert_eq!(traceparent_trace_id(&format!("01-{id}-00f067aa0ba902b7-00-later")), Some(id), "future versions");
        for refused in [
            format!("00-{id}-00f067aa0ba902b7-01-extra"),
            format!("ff-{id}-00f067aa0ba902b7-01"),
            format!("00-{}-00f067aa0ba902b7-01", "0".repeat(32)),
            format!("00-{id}-0000000000000000-01"),
            format!("00-{}-00f067aa0ba902b7-01", id.to_uppercase()),
            format!("00-{id}-00f067aa0ba902b7"),
            "garbage".to_owned(),
        ] {
            assert_eq!(traceparent_trace_id(&refused), None, "{refused}");
        }
    }
}
