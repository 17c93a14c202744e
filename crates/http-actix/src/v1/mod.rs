//! `/v1`: the Arkloop shape. snake_case JSON, bare arrays for lists, and errors as
//! `{"code", "message", "trace_id", "details"?}` with dotted codes.

mod identity;
pub(crate) mod projects;
mod teams;
mod workspace;

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use projects_app::{AppError, AuthFailure, Refusal, Resource};
use projects_domain::Quota;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{HttpError, Rejection, Surface};

/// The `/v1` surface.
pub struct V1;

pub type V1Result<T> = Result<T, Rejection<V1>>;
pub type V1Auth<P> = crate::auth::Authorized<P, V1>;

/// The error body of every `/v1` failure.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = v1::Error, example = json!({
    "code": "validation.error",
    "message": "request validation failed",
    "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
    "details": {"name": "must not be empty"}
}))]
pub struct ErrorBody {
    /// Dotted, stable error code, e.g. `projects.not_found`.
    pub code: &'static str,
    /// What went wrong, for people.
    pub message: String,
    /// The request's trace id (also in the `X-Trace-Id` header).
    pub trace_id: String,
    /// Per-field problems, for `validation.error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<BTreeMap<String, String>>,
}

fn not_found_code(resource: Resource) -> &'static str {
    match resource {
        Resource::Project => "projects.not_found",
        Resource::Member => "members.not_found",
        Resource::Team => "teams.not_found",
        Resource::ApiKey => "api_keys.not_found",
        Resource::WorkspaceFile | Resource::WorkspaceFileContent => "workspace_files.not_found",
        Resource::Session => "workspace_sessions.not_found",
        Resource::Revision => "workspace_revisions.not_found",
    }
}

fn conflict_code(resource: Resource) -> &'static str {
    match resource {
        Resource::Project => "projects.conflict",
        Resource::Member => "members.conflict",
        Resource::Team => "teams.conflict",
        Resource::ApiKey => "api_keys.conflict",
        Resource::WorkspaceFile | Resource::WorkspaceFileContent => "workspace_files.conflict",
        Resource::Session => "workspace_sessions.conflict",
        Resource::Revision => "workspace_revisions.conflict",
    }
}

/// 499, nginx's status for a client that hung up first: it never reaches the client, but logs and
/// metrics count it as the client's doing rather than a 5xx.
pub(crate) fn client_closed_request() -> StatusCode {
    StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST)
}

/// The one status/code table of `/v1`.
fn status_and_code(err: &HttpError) -> (StatusCode, &'static str) {
    use AuthFailure::*;
    match err {
        HttpError::App(AppError::Unauthenticated(failure)) => (
            StatusCode::UNAUTHORIZED,
            match failure {
                MissingToken => "auth.missing_token",
                InvalidAuthorization => "auth.invalid_authorization",
                InvalidApiKey => "auth.invalid_api_key",
                InvalidToken => "auth.invalid_token",
                TokenExpired => "auth.token_expired",
            },
        ),
        HttpError::App(AppError::Forbidden { .. } | AppError::NotAllowed(_)) => {
            (StatusCode::FORBIDDEN, "auth.forbidden")
        }
        HttpError::App(AppError::Invalid(_)) => (StatusCode::UNPROCESSABLE_ENTITY, "validation.error"),
        HttpError::App(AppError::NotFound(resource)) => (StatusCode::NOT_FOUND, not_found_code(*resource)),
        HttpError::App(AppError::Conflict { resource, .. }) => (StatusCode::CONFLICT, conflict_code(*resource)),
        HttpError::App(AppError::PreconditionFailed(Resource::WorkspaceFile)) => {
            (StatusCode::PRECONDITION_FAILED, "workspace_files.precondition_failed")
        }
        HttpError::App(AppError::PreconditionFailed(_)) => {
            (StatusCode::PRECONDITION_FAILED, "projects.precondition_failed")
        }
        HttpError::App(AppError::InvalidPath(_)) => (StatusCode::BAD_REQUEST, "workspace_files.invalid_path"),
        HttpError::App(AppError::RangeNotSatisfiable { .. }) => {
            (StatusCode::RANGE_NOT_SATISFIABLE, "workspace_files.range_not_satisfiable")
        }
        HttpError::App(AppError::PayloadTooLarge { .. }) => (StatusCode::PAYLOAD_TOO_LARGE, "http.payload_too_large"),
        HttpError::App(AppError::BudgetExceeded) => (StatusCode::PAYMENT_REQUIRED, "billing.budget_exceeded"),
        HttpError::App(AppError::QuotaExceeded(_)) => (StatusCode::FORBIDDEN, "quota.exceeded"),
        HttpError::App(AppError::Unavailable(_)) => (StatusCode::SERVICE_UNAVAILABLE, "service.unavailable"),
        HttpError::App(AppError::BodyStalled) => (StatusCode::REQUEST_TIMEOUT, "http.request_timeout"),
        HttpError::TooManyUploads { .. } => (StatusCode::TOO_MANY_REQUESTS, "http.rate_limited"),
        HttpError::App(AppError::ClientClosed) => (client_closed_request(), "http.client_closed_request"),
        HttpError::App(AppError::Unexpected(_)) => (StatusCode::INTERNAL_SERVER_ERROR, "internal.error"),
        HttpError::RouteNotFound => (StatusCode::NOT_FOUND, "http.not_found"),
        HttpError::MethodNotAllowed { .. } => (StatusCode::METHOD_NOT_ALLOWED, "http.method_not_allowed"),
        HttpError::UnsupportedMediaType => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "http.unsupported_media_type"),
        HttpError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "http.rate_limited"),
    }
}

/// What went wrong, for people; both surfaces say it the same way.
pub(crate) fn message(err: &HttpError) -> String {
    use AuthFailure::*;
    match err {
        HttpError::App(AppError::Unauthenticated(failure)) => match failure {
            MissingToken => "missing Authorization header; send `Authorization: Bearer <token>`",
            InvalidAuthorization => "malformed Authorization header; expected `Bearer <token>`",
            InvalidApiKey => "API key is malformed, unknown or revoked",
            InvalidToken => "bearer token is neither an API key nor a valid token",
            TokenExpired => "token has expired",
        }
        .to_owned(),
        HttpError::App(AppError::Forbidden { missing }) => {
            format!("this requires the {missing} permission")
        }
        HttpError::App(AppError::NotAllowed(refusal)) => match refusal {
            Refusal::OwnerRoleNeedsOwner => "only an owner may grant, change or remove the owner role",
            Refusal::KeyForAnotherPerson => {
                "a key acts as its own user: create keys for yourself or for a service account, never for another person"
            }
            Refusal::RoleAboveYours => "you cannot grant a role above your own",
            Refusal::NotInTeam => "only members of that team (or the org's admins) may create projects in it",
            Refusal::BudgetNeedsAdmin => "only the org's owners and admins set a project's budget",
        }
        .to_owned(),
        HttpError::App(AppError::Invalid(errors)) => format!("request validation failed: {errors}"),
        HttpError::App(AppError::NotFound(resource)) => match resource {
            Resource::Project => "project not found",
            Resource::Member => "member not found",
            Resource::Team => "team not found",
            Resource::ApiKey => "API key not found",
            Resource::WorkspaceFile => "no such file in the workspace",
            Resource::WorkspaceFileContent => {
                "the file is in the workspace's tree but its content is missing from storage; this was logged"
            }
            Resource::Session => "no such open session",
            Resource::Revision => "no such revision in this workspace (never made, or removed by retention)",
        }
        .to_owned(),
        HttpError::App(AppError::Conflict { field, .. }) => format!("{field} is already taken"),
        HttpError::App(AppError::PreconditionFailed(Resource::WorkspaceFile)) => {
            "the workspace changed since that revision; read it again".to_owned()
        }
        HttpError::App(AppError::PreconditionFailed(_)) => {
            "the project changed since that ETag; read it again".to_owned()
        }
        HttpError::App(AppError::InvalidPath(why)) => format!("path {why}"),
        HttpError::App(AppError::BudgetExceeded) => {
            "the project's spend has reached its budget: no new sessions or workspace writes until an admin raises it"
                .to_owned()
        }
        HttpError::App(AppError::QuotaExceeded(exceeded)) => match exceeded.quota {
            Quota::WorkspaceEntries => {
                format!("the workspace may hold at most {} files and directories; it holds {}", exceeded.limit, exceeded.used)
            }
            Quota::FileBytes => format!("a file may be at most {} bytes", exceeded.limit),
            _ => format!("{exceeded}; ask the operator to raise it, or remove some"),
        },
        HttpError::App(AppError::BodyStalled) => {
            "the request body sent nothing for too long and was cut; send it again, without pauses".to_owned()
        }
        HttpError::App(AppError::Unavailable(_)) => "a backing service is unavailable; retry shortly".to_owned(),
        HttpError::App(AppError::Unexpected(_)) => "internal error; quote the trace id when reporting it".to_owned(),
        other => other.to_string(),
    }
}

impl Surface for V1 {
    fn status_and_code(err: &HttpError) -> (StatusCode, &'static str) {
        status_and_code(err)
    }

    fn body(
        code: &'static str,
        message: String,
        details: Option<BTreeMap<String, String>>,
        trace_id: &str,
    ) -> serde_json::Value {
        serde_json::to_value(ErrorBody { code, message, trace_id: trace_id.to_owned(), details }).unwrap_or_default()
    }
}

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(
        utoipa_actix_web::scope("/v1")
            .configure(projects::routes)
            .configure(identity::routes)
            .configure(teams::routes)
            .configure(workspace::routes),
    );
}

/// Anything no route matched.
pub async fn route_not_found(err: HttpError) -> V1Result<HttpResponse> {
    Err(err.into())
}
