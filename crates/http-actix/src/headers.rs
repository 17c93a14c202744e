//! Request headers both surfaces read: `Idempotency-Key` and `If-Match`.

use actix_web::http::header::{EntityTag, HeaderMap, IF_MATCH};
use actix_web::HttpRequest;
use projects_app::AppError;
use projects_domain::{Project, ValidationErrors};

/// The project's strong ETag: its id and version, so any change changes it.
pub fn project_etag(project: &Project) -> EntityTag {
    EntityTag::new_strong(format!("{}-{}", project.id.as_uuid().simple(), project.version))
}

/// The version an `If-Match` header names for this project; `None` without the header or with
/// `*`. An ETag of another project, or a malformed one, can never match: 412.
pub fn expected_version(headers: &HeaderMap, project_id: &str) -> Result<Option<i64>, AppError> {
    let Some(value) = headers.get(IF_MATCH) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| AppError::PreconditionFailed(projects_app::Resource::Project))?.trim();
    if value == "*" {
        return Ok(None);
    }
    let tag = value.trim_start_matches("W/").trim_matches('"');
    let (id, version) = tag.rsplit_once('-').ok_or(AppError::PreconditionFailed(projects_app::Resource::Project))?;
    let version: i64 = version.parse().map_err(|_| AppError::PreconditionFailed(projects_app::Resource::Project))?;
    // The path may name the project by slug; then only the version can be checked.
    let same_project = uuid::Uuid::try_parse(project_id).map_or(true, |path_id| path_id.simple().to_string() == id);
    if !same_project {
        return Err(AppError::PreconditionFailed(projects_app::Resource::Project));
    }
    Ok(Some(version))
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
