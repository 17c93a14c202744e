//! The HTTP layer's one error type, and how each surface renders it.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use projects_app::AppError;
use projects_domain::ValidationErrors;

/// Everything a request can fail with: a use case's error, or a problem with the HTTP request
/// itself that never reached a use case.
#[derive(Debug)]
pub enum HttpError {
    App(AppError),
    RouteNotFound,
    /// The path exists, but not with this method.
    MethodNotAllowed {
        allowed: Vec<&'static str>,
    },
    /// A JSON endpoint sent a body declared as something else.
    UnsupportedMediaType,
    /// The caller's bucket is empty; it refills enough in this many seconds.
    RateLimited {
        retry_after_secs: u64,
    },
    /// The caller already has this many uploads in flight.
    TooManyUploads {
        limit: usize,
    },
}

impl From<AppError> for HttpError {
    fn from(err: AppError) -> Self {
        HttpError::App(err)
    }
}

impl From<ValidationErrors> for HttpError {
    fn from(errors: ValidationErrors) -> Self {
        HttpError::App(AppError::Invalid(errors))
    }
}

impl From<projects_domain::FieldError> for HttpError {
    fn from(error: projects_domain::FieldError) -> Self {
        HttpError::App(AppError::Invalid(error.into()))
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::App(err) => err.fmt(f),
            HttpError::RouteNotFound => f.write_str("no such route"),
            HttpError::UnsupportedMediaType => {
                f.write_str("the body must be JSON: send `Content-Type: application/json` (or none)")
            }
            HttpError::MethodNotAllowed { allowed } => {
                write!(f, "method not allowed here; allowed: {}", allowed.join(", "))
            }
            HttpError::RateLimited { retry_after_secs } => {
                write!(f, "too many requests from this caller; retry in {retry_after_secs} s")
            }
            HttpError::TooManyUploads { limit } => {
                write!(f, "at most {limit} uploads at once per key or token; retry when one has finished")
            }
        }
    }
}

/// An API surface's way of writing errors: its status/code table, how it names fields, and its
/// envelope. Everything else about an error response is the same on both ([`render`]).
pub trait Surface: 'static {
    /// The one status/code table of the surface.
    fn status_and_code(err: &HttpError) -> (StatusCode, &'static str);

    /// A field as the surface spells it (a validation error names fields of the domain).
    fn field_name(field: &str) -> String {
        field.to_owned()
    }

    /// The error body.
    fn body(
        code: &'static str,
        message: String,
        details: Option<BTreeMap<String, String>>,
        trace_id: &str,
    ) -> serde_json::Value;
}

/// The response of `err` on surface `S`: status and code from its table, the message both surfaces
/// share, per-field details named as `S` names fields, `Retry-After` on a 503 and a 429.
pub fn render<S: Surface>(err: &HttpError, trace_id: &str) -> HttpResponse {
    let (status, code) = S::status_and_code(err);
    let renamed;
    let (err, details) = match err {
        HttpError::App(AppError::Invalid(errors)) => {
            let mut wire = ValidationErrors::new();
            for (field, message) in errors.fields() {
                wire.add(projects_domain::FieldError::new(S::field_name(field), message.clone()));
            }
            let details = wire.fields().clone();
            renamed = HttpError::App(AppError::Invalid(wire));
            (&renamed, Some(details))
        }
        HttpError::App(AppError::QuotaExceeded(exceeded)) => {
            let details = [
                ("quota", exceeded.quota.as_str().to_owned()),
                ("limit", exceeded.limit.to_string()),
                ("used", exceeded.used.to_string()),
            ];
            (err, Some(details.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
        }
        _ => (err, None),
    };
    let mut response = HttpResponse::build(status);
    match err {
        HttpError::RateLimited { retry_after_secs } => {
            response.insert_header(("Retry-After", retry_after_secs.to_string()));
        }
        HttpError::TooManyUploads { .. } => {
            response.insert_header(("Retry-After", "1"));
        }
        _ if status == StatusCode::SERVICE_UNAVAILABLE => {
            response.insert_header(("Retry-After", "5"));
        }
        _ => {}
    }
    response.json(S::body(code, crate::v1::message(err), details, trace_id))
}

/// An error on its way out through surface `S`.
pub struct Rejection<S> {
    error: HttpError,
    surface: PhantomData<S>,
}

impl<S, E: Into<HttpError>> From<E> for Rejection<S> {
    fn from(err: E) -> Self {
        Rejection { error: err.into(), surface: PhantomData }
    }
}

impl<S> fmt::Debug for Rejection<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl<S> fmt::Display for Rejection<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl<S: Surface> ResponseError for Rejection<S> {
    fn status_code(&self) -> StatusCode {
        self.error_response().status()
    }

    fn error_response(&self) -> HttpResponse {
        let trace_id = crate::trace::current_trace_id();
        match &self.error {
            HttpError::App(AppError::Unexpected(cause)) => {
                tracing::error!(trace_id, error = format!("{cause:#}"), "unexpected error")
            }
            HttpError::App(AppError::Unavailable(cause)) => {
                tracing::warn!(trace_id, error = format!("{cause:#}"), "backing service unavailable")
            }
            _ => {}
        }
        let mut response = render::<S>(&self.error, &trace_id);
        if let HttpError::App(AppError::RangeNotSatisfiable { size }) = &self.error {
            if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&format!("bytes */{size}")) {
                response.headers_mut().insert(actix_web::http::header::CONTENT_RANGE, value);
            }
        }
        if let HttpError::MethodNotAllowed { allowed } = &self.error {
            if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&allowed.join(", ")) {
                response.headers_mut().insert(actix_web::http::header::ALLOW, value);
            }
        }
        response
    }
}
