//! Request bodies and query strings, parsed only after authentication and authorization (so the
//! documented order 401 → 403 → 422 holds), with errors that name the offending field.

use actix_web::web;
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
pub async fn read_body(mut payload: web::Payload, limit: usize) -> Result<web::Bytes, HttpError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| invalid(".", &format!("could not read the body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(projects_app::AppError::PayloadTooLarge { limit: limit as u64 }.into());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
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

/// Reads a JSON body of at most `limit` bytes and deserializes it.
pub async fn read_json<T: DeserializeOwned>(payload: web::Payload, limit: usize) -> Result<T, HttpError> {
    parse_json(&read_body(payload, limit).await?)
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

#[cfg(test)]
mod tests {
    use super::field_error;

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
