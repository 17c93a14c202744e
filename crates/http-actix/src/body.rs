//! Request bodies and query strings, parsed only after authentication and authorization (so the
//! documented order 401 → 403 → 422 holds), with errors that name the offending field.

use actix_web::dev::Payload;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{web, FromRequest, HttpRequest};
use futures::StreamExt;
use projects_domain::{FieldError, PageRequest, ValidationErrors};
use serde::de::DeserializeOwned;

use crate::HttpError;

/// Turns a serde message into `(field, message)`: serde reports missing and unknown fields at the
/// enclosing object, so those name the field themselves.
fn field_error(path: &str, message: &str) -> (String, String) {
    let message = message.split(" at line ").next().unwrap_or(message);
    let quoted = |prefix: &str| message.strip_prefix(prefix).and_then(|rest| rest.split('`').next()).map(str::to_owned);
    // serde_path_to_error says `.` for the root and `?` when it could not tell where it was.
    let at_root = matches!(path, "" | "." | "?");
    let within = |field: String| {
        if at_root {
            field
        } else if path == field || path.ends_with(&format!(".{field}")) {
            path.to_owned()
        } else {
            format!("{path}.{field}")
        }
    };
    if let Some(field) = quoted("missing field `") {
        return (within(field), "is required".to_owned());
    }
    if let Some(field) = quoted("unknown field `") {
        return (within(field), "is not a known field".to_owned());
    }
    let field = if at_root { "body".to_owned() } else { path.to_owned() };
    (field, message.to_owned())
}

fn invalid(path: &str, message: &str) -> HttpError {
    let (field, message) = field_error(path, message);
    ValidationErrors::single(field, message).into()
}

/// Reads a whole body of at most `limit` bytes (413 beyond).
pub async fn read_body(
    mut payload: impl futures::Stream<Item = Result<web::Bytes, actix_web::error::PayloadError>> + Unpin,
    limit: usize,
) -> Result<web::Bytes, HttpError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| match crate::bodies::is_stalled(&e) {
            true => HttpError::App(projects_app::AppError::BodyStalled),
            false => invalid(".", &format!("could not read the body: {e}")),
        })?;
        if body.len() + chunk.len() > limit {
            return Err(projects_app::AppError::PayloadTooLarge { limit: limit as u64 }.into());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// A request body meant to be JSON. Extracting it never fails, so that authentication and
/// permissions are still checked first; reading it refuses a declared type that is not JSON
/// (`application/json` or any `+json`) with 415. No `Content-Type` at all is read as JSON, as
/// clients that send none mean it.
pub struct JsonPayload {
    payload: Payload,
    declared_json: bool,
}

fn is_json_media_type(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

impl FromRequest for JsonPayload {
    type Error = actix_web::Error;
    type Future = futures::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let declared_json = match req.headers().get(CONTENT_TYPE) {
            None => true,
            Some(value) => value.to_str().is_ok_and(is_json_media_type),
        };
        futures::future::ready(Ok(JsonPayload { payload: payload.take(), declared_json }))
    }
}

impl JsonPayload {
    /// Reads at most `limit` bytes (413 beyond) and deserializes them.
    pub async fn read<T: DeserializeOwned>(self, limit: usize) -> Result<T, HttpError> {
        parse_json(&self.read_bytes(limit).await?)
    }

    /// The raw bytes (for idempotency keys, which compare the request as sent).
    pub async fn read_bytes(self, limit: usize) -> Result<web::Bytes, HttpError> {
        if !self.declared_json {
            return Err(HttpError::UnsupportedMediaType);
        }
        read_body(self.payload, limit).await
    }
}

/// Deserializes a JSON object, naming the field that failed.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, HttpError> {
    // Serde would also read a struct from a JSON array; only objects are meant.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(invalid(".", "must be a JSON object"));
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(deserializer)
        .map_err(|err| invalid(&err.path().to_string(), &err.inner().to_string()))
}

/// [`parse_json`], where an empty body (or `null`) stands for `{}`.
pub fn parse_json_or_default<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, HttpError> {
    if body.iter().all(u8::is_ascii_whitespace) || body.trim_ascii() == b"null" {
        return Ok(T::default());
    }
    parse_json(body)
}

/// For PATCH fields: absent stays `None` (thanks to `#[serde(default)]`), `null` becomes
/// `Some(None)`, a value `Some(Some(value))`.
pub fn double_option<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}

/// Parses the query string into a struct of string fields; each field's own parsing (and its
/// error naming it) is up to the caller.
/// An integer that JSON may also write as `12.0`: JSON Schema counts a number with a zero
/// fraction as an integer, and generated clients do send them.
pub fn whole_number<'de, D>(deserializer: D) -> Result<i64, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let number = <serde_json::Number as serde::Deserialize>::deserialize(deserializer)?;
    if let Some(whole) = number.as_i64() {
        return Ok(whole);
    }
    match number.as_f64() {
        Some(float) if float.fract() == 0.0 && float.abs() < 9.0e15 => Ok(float as i64),
        _ => Err(serde::de::Error::custom(format!("expected a whole number, got {number}"))),
    }
}

pub fn read_query<T: DeserializeOwned>(query: &str) -> Result<T, HttpError> {
    serde_urlencoded::from_str(query).map_err(|err| invalid("query", &err.to_string()))
}

/// `limit` and `cursor` as query parameters, each error naming its parameter.
pub fn page_request(limit: Option<&str>, cursor: Option<&str>) -> Result<PageRequest, FieldError> {
    let limit = limit
        .map(|raw| {
            raw.parse::<u32>().map_err(|_| {
                FieldError::new("limit", format!("must be an integer between 1 and {}", PageRequest::MAX_LIMIT))
            })
        })
        .transpose()?;
    PageRequest::new(limit, cursor)
}

/// An id in a path: anything that is not a UUID names nothing there is (404).
pub(crate) fn path_id<T: From<uuid::Uuid>>(
    raw: &str,
    resource: projects_app::Resource,
) -> Result<T, projects_app::AppError> {
    uuid::Uuid::try_parse(raw).map(T::from).map_err(|_| projects_app::AppError::NotFound(resource))
}

#[cfg(test)]
mod tests {
    use super::field_error;

    #[test]
    fn json_media_types() {
        for json in ["application/json", "Application/JSON; charset=utf-8", "application/merge-patch+json"] {
            assert!(super::is_json_media_type(json), "{json}");
        }
        for other in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "", "json"] {
            assert!(!super::is_json_media_type(other), "{other}");
        }
    }

    #[test]
    fn serde_messages_name_the_field() {
        assert_eq!(field_error(".", "missing field `name` at line 1 column 2"), ("name".into(), "is required".into()));
        assert_eq!(
            field_error(".", "unknown field `nmae`, expected one of `name`, `slug`"),
            ("nmae".into(), "is not a known field".into())
        );
        assert_eq!(
            field_error("visibility", "unknown variant `public`, expected `private` or `shared` at line 1 column 30"),
            ("visibility".into(), "unknown variant `public`, expected `private` or `shared`".into())
        );
        assert_eq!(field_error(".", "expected value at line 1 column 1"), ("body".into(), "expected value".into()));
        assert_eq!(field_error("?", "EOF while parsing an object at line 1 column 1").0, "body");
        // serde_path_to_error already puts an unknown field in the path.
        assert_eq!(field_error("bogus", "unknown field `bogus`, expected `name`").0, "bogus");
    }
}
