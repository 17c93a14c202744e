//! Conditional request headers of the file endpoints: `If-Match` (a revision) and
//! `If-None-Match` (content ETags).

use actix_web::http::header;
use actix_web::HttpRequest;

/// The revision an `If-Match` names; `None` without the header or with `*`. A header that is not
/// one revision (not text, empty, a list) names no revision there is, so the write is refused
/// with 412 rather than made unconditionally.
pub(super) fn if_match_revision(request: &HttpRequest) -> Option<String> {
    let value = request.headers().get(header::IF_MATCH)?;
    let Ok(value) = value.to_str().map(str::trim) else {
        return Some(String::new());
    };
    if value == "*" {
        return None;
    }
    Some(value.trim_start_matches("W/").trim_matches('"').to_owned())
}

/// The ETags an `If-None-Match` names (a file's is its SHA-256), `*` included as is.
pub(super) fn held_etags(request: &HttpRequest) -> Vec<String> {
    request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(',').map(|tag| tag.trim().trim_start_matches("W/").trim_matches('"').to_owned()).collect())
        .unwrap_or_default()
}
