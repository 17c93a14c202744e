//! `/api/v1`: the Alumia shape. camelCase JSON inside `{"success": true, "data": …}`, and errors
//! as `{"success": false, "error": {"code", "message", "details"?}}` with upper-case codes.

mod api_keys;
mod projects;

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use projects_app::AppError;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{HttpError, Rejection, Surface};

/// The `/api/v1` surface.
pub struct Alumia;

pub type AlumiaResult<T> = Result<T, Rejection<Alumia>>;
pub type AlumiaAuth<P> = crate::auth::Authorized<P, Alumia>;

/// Every `/api/v1` failure.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = alumia::Error, example = json!({
    "success": false,
    "error": {"code": "BAD_REQUEST", "message": "request validation failed: name: must not be empty", "details": {"name": "must not be empty"}}
}))]
pub struct ErrorEnvelope {
    /// Always `false`.
    pub success: bool,
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = alumia::ErrorDetail)]
pub struct ErrorDetail {
    /// `UNAUTHORIZED`, `BAD_REQUEST`, `FORBIDDEN`, `NOT_FOUND`, `CONFLICT`, …
    pub code: &'static str,
    pub message: String,
    /// Per-field problems, for `BAD_REQUEST`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<BTreeMap<String, String>>,
    /// The request's trace id (also in the `X-Trace-Id` header).
    pub trace_id: String,
}

/// `{"success": true, "data": …}`.
#[derive(Debug, Serialize)]
pub struct Envelope<T: Serialize> {
    pub success: bool,
    pub data: T,
}

pub fn ok<T: Serialize>(data: T) -> Envelope<T> {
    Envelope { success: true, data }
}

/// The one status/code table of `/api/v1`.
fn status_and_code(err: &HttpError) -> (StatusCode, &'static str) {
    match err {
        HttpError::App(AppError::Unauthenticated(_)) => (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"),
        HttpError::App(AppError::Forbidden { .. } | AppError::NotAllowed(_)) => (StatusCode::FORBIDDEN, "FORBIDDEN"),
        HttpError::App(AppError::Invalid(_)) => (StatusCode::BAD_REQUEST, "BAD_REQUEST"),
        HttpError::App(AppError::NotFound(_)) | HttpError::RouteNotFound => (StatusCode::NOT_FOUND, "NOT_FOUND"),
        HttpError::App(AppError::Conflict { .. }) => (StatusCode::CONFLICT, "CONFLICT"),
        HttpError::App(AppError::PreconditionFailed(_)) => (StatusCode::PRECONDITION_FAILED, "PRECONDITION_FAILED"),
        HttpError::App(AppError::InvalidPath(_)) => (StatusCode::BAD_REQUEST, "BAD_REQUEST"),
        HttpError::App(AppError::RangeNotSatisfiable { .. }) => {
            (StatusCode::RANGE_NOT_SATISFIABLE, "RANGE_NOT_SATISFIABLE")
        }
        HttpError::App(AppError::PayloadTooLarge { .. }) => (StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE"),
        HttpError::App(AppError::BudgetExceeded) => (StatusCode::PAYMENT_REQUIRED, "PAYMENT_REQUIRED"),
        HttpError::App(AppError::QuotaExceeded(_)) => (StatusCode::FORBIDDEN, "FORBIDDEN"),
        HttpError::App(AppError::BodyStalled) => (StatusCode::REQUEST_TIMEOUT, "REQUEST_TIMEOUT"),
        HttpError::TooManyUploads { .. } => (StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_REQUESTS"),
        HttpError::MethodNotAllowed { .. } => (StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED"),
        HttpError::UnsupportedMediaType => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE"),
        HttpError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_REQUESTS"),
        HttpError::App(AppError::Unavailable(_)) => (StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE"),
        HttpError::App(AppError::ClientClosed) => (crate::v1::client_closed_request(), "CLIENT_CLOSED_REQUEST"),
        HttpError::App(AppError::Unexpected(_)) => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR"),
    }
}

/// A field as `/api/v1` names it: camelCase, and a team is a workspace.
fn wire_field(field: &str) -> String {
    if let Some(rest) = field.strip_prefix("team_id") {
        return format!("workspaceId{rest}");
    }
    // Only the field's own name: what follows (`metadata.user_key`, `tags[3]`) is the caller's.
    let split = field.find(['.', '[']).unwrap_or(field.len());
    let (name, rest) = field.split_at(split);
    let mut wire = String::with_capacity(field.len());
    let mut upper = false;
    for c in name.chars() {
        match c {
            '_' => upper = true,
            c if upper => {
                wire.extend(c.to_uppercase());
                upper = false;
            }
            c => wire.push(c),
        }
    }
    wire.push_str(rest);
    wire
}

impl Surface for Alumia {
    fn status_and_code(err: &HttpError) -> (StatusCode, &'static str) {
        status_and_code(err)
    }

    fn field_name(field: &str) -> String {
        wire_field(field)
    }

    fn body(
        code: &'static str,
        message: String,
        details: Option<BTreeMap<String, String>>,
        trace_id: &str,
    ) -> serde_json::Value {
        let error = ErrorDetail { code, message, details, trace_id: trace_id.to_owned() };
        serde_json::to_value(ErrorEnvelope { success: false, error }).unwrap_or_default()
    }
}

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(utoipa_actix_web::scope("/api/v1").configure(projects::routes).configure(api_keys::routes));
}

/// Anything under `/api/` no route matched.
pub async fn route_not_found(err: HttpError) -> AlumiaResult<HttpResponse> {
    Err(err.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The codes of the real Alumia API for what limits, budgets and overload refuse.
    #[test]
    fn refusals_use_the_codes_alumia_documents() {
        use projects_domain::{Quota, QuotaExceeded};
        let exceeded = QuotaExceeded { quota: Quota::Projects, limit: 1, used: 1 };
        let cases = [
            (HttpError::App(AppError::PayloadTooLarge { limit: 1 }), 413, "PAYLOAD_TOO_LARGE"),
            (HttpError::RateLimited { retry_after_secs: 1 }, 429, "TOO_MANY_REQUESTS"),
            (HttpError::App(AppError::BudgetExceeded), 402, "PAYMENT_REQUIRED"),
            (HttpError::App(AppError::QuotaExceeded(exceeded)), 403, "FORBIDDEN"),
            (HttpError::App(AppError::Unavailable(anyhow::anyhow!("down"))), 503, "SERVICE_UNAVAILABLE"),
            (HttpError::App(AppError::PreconditionFailed(projects_app::Resource::Project)), 412, "PRECONDITION_FAILED"),
        ];
        for (err, status, code) in cases {
            assert_eq!(status_and_code(&err), (StatusCode::from_u16(status).unwrap(), code), "{err}");
        }
    }

    #[test]
    fn fields_are_named_as_alumia_names_them() {
        assert_eq!(super::wire_field("team_id"), "workspaceId");
        assert_eq!(super::wire_field("metadata.user_key"), "metadata.user_key");
        assert_eq!(super::wire_field("default_project_visibility"), "defaultProjectVisibility");
        assert_eq!(super::wire_field("name"), "name");
    }
}
