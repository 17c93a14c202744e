//! Signed links to a workspace file: made with a credential, followed without one.

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use projects_domain::ByteRange;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::super::{ErrorBody, V1Auth, V1Result};
use super::files::{file_answer, Delivery};
use crate::auth::ReadRuns;
use crate::body::JsonPayload;
use crate::{HttpState, JSON_BODY_LIMIT};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = v1::CreateFileLink, example = json!({"path": "/out/chart.png", "expires_in_secs": 3600}))]
pub struct CreateFileLinkRequest {
    /// The file's path in the caller's workspace, e.g. `/out/chart.png` (not the root).
    #[schema(
        pattern = "^/?([^/\\x00-\\x1F\\x7F-\\x9F]*[^/\\s\\x00-\\x1F\\x7F-\\x9F]/)*[^/\\x00-\\x1F\\x7F-\\x9F]*[^/.\\s\\x00-\\x1F\\x7F-\\x9F][^/\\x00-\\x1F\\x7F-\\x9F]*$"
    )]
    pub path: String,
    /// The revision to link to; default: the head as it is now (the link stays on it).
    #[schema(pattern = "^[^\\x00]*$")]
    pub revision: Option<String>,
    /// How long the link works, 1–86400 seconds.
    #[schema(minimum = 1, maximum = 86400)]
    #[serde(deserialize_with = "crate::body::whole_number")]
    pub expires_in_secs: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = v1::FileLink)]
pub struct FileLinkBody {
    /// Absolute; a `GET` on it needs no `Authorization`.
    pub url: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: time::OffsetDateTime,
}

/// Make a signed link to a file
///
/// An expiring URL to the file at a revision (the head as it is now by default) that works
/// without an `Authorization` header, for `<img src>` and hand-offs to other services. It dies
/// at `expires_at`, when the key that made it is revoked (or its member leaves), and with its
/// project. Requires `data.projects.read` and `data.runs.read`.
#[utoipa::path(
    tag = "v1 workspace",
    operation_id = "v1CreateFileLink",
    params(("project_id" = String, Path, description = "The project's id (UUID) or slug")),
    request_body = CreateFileLinkRequest,
    responses(
        (status = 201, body = FileLinkBody),
        (status = 400, description = "Invalid path", body = ErrorBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `data.projects.read` or `data.runs.read`", body = ErrorBody),
        (status = 404, description = "No such project, file or revision", body = ErrorBody),
        (status = 422, description = "Invalid body, or `expires_in_secs` out of range", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[post("/projects/{project_id}/workspace/file-links")]
pub(super) async fn create_file_link(
    auth: V1Auth<ReadRuns>,
    state: web::Data<HttpState>,
    request: HttpRequest,
    project_id: web::Path<String>,
    payload: JsonPayload,
) -> V1Result<HttpResponse> {
    let body: CreateFileLinkRequest = payload.read(JSON_BODY_LIMIT).await?;
    let principal = auth.principal;
    let project_id = project_id.into_inner();
    let link = state
        .run(move |app| async move {
            // Below 1 is refused by the use case, which names the field.
            let expires_in_secs = u64::try_from(body.expires_in_secs).unwrap_or(0);
            app.create_file_link(&principal, &project_id, &body.path, body.revision.as_deref(), expires_in_secs).await
        })
        .await?;
    let base = match &state.public_base_url {
        Some(base) => base.trim_end_matches('/').to_owned(),
        None => {
            let connection = request.connection_info();
            format!("{}://{}", connection.scheme(), connection.host())
        }
    };
    let url = format!("{base}/v1/file-links/{}", link.token);
    Ok(HttpResponse::Created().json(FileLinkBody { url, expires_at: link.expires_at }))
}

/// Follow a signed link
///
/// The file, as `GET …/workspace/file` answers it (`Range`, `ETag`), without `Authorization`:
/// the link is the credential. Expired, tampered with, or made by a key since revoked → 401
/// `auth.invalid_token`.
#[utoipa::path(
    tag = "v1 workspace",
    operation_id = "v1FollowFileLink",
    params(("token" = String, Path, description = "The last segment of a link's `url`")),
    responses(
        (status = 200, description = "The file", content_type = "*/*", body = inline(crate::schemas::Bytes)),
        (status = 206, description = "The requested range", content_type = "*/*", body = inline(crate::schemas::Bytes)),
        (status = 401, description = "Expired, tampered with, or its key revoked (`auth.invalid_token`)", body = ErrorBody),
        (status = 404, description = "The revision is gone (removed by retention)", body = ErrorBody),
        (status = 416, description = "Range outside the file", body = ErrorBody),
    ),
    security(())
)]
#[get("/file-links/{token}")]
pub(super) async fn follow_file_link(
    state: web::Data<HttpState>,
    request: HttpRequest,
    token: web::Path<String>,
) -> V1Result<HttpResponse> {
    let range = request.headers().get(header::RANGE).and_then(|v| v.to_str().ok()).and_then(ByteRange::parse);
    let token = token.into_inner();
    let read = state.run(move |app| async move { app.read_file_link(&token, range).await }).await?;
    // The link pins a revision: its bytes never change, but the link itself dies.
    Ok(file_answer(read, "private, max-age=60", Delivery::Body).await)
}
