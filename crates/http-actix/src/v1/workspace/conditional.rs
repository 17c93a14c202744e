//! Conditional request headers of the file endpoints: `If-Match` (a revision) and
//! `If-None-Match` (content ETags).

use actix_web::http::header;
use actix_web::HttpRequest;

pub(super) fn if_match_revision(request: &HttpRequest) -> Option<String> {
    let value = request.headers().get(header::IF_MATCH)?.to_str().ok()?.trim();
    Some(value.trim_start_matches("W/").trim_matches('"').to_owned()).filter(|v| !v.is_empty() && v != "*")
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
