//! Request headers both surfaces read: `Idempotency-Key` and `If-Match`.

use actix_web::http::header::{EntityTag, HeaderMap, IF_MATCH};
use actix_web::HttpRequest;
use projects_app::AppError;
use projects_domain::{Project, ValidationErrors};

/// A 200 whose `Link: rel="next"` points at the page after `next`, when there is one.
pub fn ok_with_next(request: &HttpRequest, next: Option<&str>) -> actix_web::HttpResponseBuilder {
    let mut response = actix_web::HttpResponse::Ok();
    if let Some(cursor) = next {
        response.insert_header((actix_web::http::header::LINK, next_link(request, cursor)));
    }
    response
}

/// `Link: <this request with cursor=…>; rel="next"`: the same path and parameters, the next page.
fn next_link(request: &HttpRequest, cursor: &str) -> String {
    let mut pairs: Vec<(String, String)> = serde_urlencoded::from_str(request.query_string()).unwrap_or_default();
    pairs.retain(|(name, _)| name != "cursor");
    pairs.push(("cursor".to_owned(), cursor.to_owned()));
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    format!("<{}?{query}>; rel=\"next\"", request.path())
}

/// The project's strong ETag: its id and version, so any change changes it.
pub fn project_etag(project: &Project) -> EntityTag {
    EntityTag::new_strong(format!("{}-{}", project.id.as_uuid().simple(), project.version))
}

/// The version an `If-Match` header names for this project; `None` without the header or with
/// `*`. An ETag of another project, or a malformed one, names a version no project has, so the
/// update is still validated first (400/422) and then refused with 412.
pub fn expected_version(headers: &HeaderMap, project_id: &str) -> Option<i64> {
    const NO_VERSION: i64 = i64::MIN;
    let value = headers.get(IF_MATCH)?;
    let Ok(value) = value.to_str().map(str::trim) else {
        return Some(NO_VERSION);
    };
    if value == "*" {
        return None;
    }
    let tag = value.trim_start_matches("W/").trim_matches('"');
    let Some((id, version)) = tag.rsplit_once('-') else {
        return Some(NO_VERSION);
    };
    // The path may name the project by slug; then only the version can be checked.
    let same_project = uuid::Uuid::try_parse(project_id).map_or(true, |path_id| path_id.simple().to_string() == id);
    match version.parse() {
        Ok(version) if same_project => Some(version),
        _ => Some(NO_VERSION),
    }
}

/// The `Idempotency-Key` header: 1–255 visible ASCII characters.
pub fn idempotency_key(request: &HttpRequest) -> Result<Option<String>, AppError> {
    let Some(value) = request.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let invalid = || ValidationErrors::single("Idempotency-Key", "must be 1–255 visible ASCII characters").into();
    let key = value.to_str().map_err(|_| invalid())?.trim();
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid());
    }
    Ok(Some(key.to_owned()))
}
