//! A directory of the workspace as a tar or zip download, and a tar upload as one revision.

use actix_web::http::header;
use actix_web::{get, put, web, HttpRequest, HttpResponse};
use futures::TryStreamExt;
use projects_app::{ArchiveFormat, ArchiveMode};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::super::{ErrorBody, V1Auth, V1Result};
use super::conditional::if_match_revision;
use super::upload::streamed_body;
use crate::auth::{ReadRuns, WriteRuns};
use crate::body::read_query;
use crate::HttpState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DownloadQuery {
    /// The directory to archive, e.g. `/src` (default `/`); members are named relative to it.
    #[param(pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*$")]
    pub path: Option<String>,
    /// `tar` (default) or `zip`.
    #[param(pattern = "^(tar|zip)$")]
    pub format: Option<String>,
    /// Archive the tree as of this revision (default: the head).
    pub revision: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The directory to unpack into, e.g. `/vendor` (default `/`).
    #[param(pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*$")]
    pub path: Option<String>,
    /// `tar` (the only one taken; gzip is recognised by its magic bytes).
    #[param(pattern = "^tar$")]
    pub format: Option<String>,
    /// `merge` (default: what the archive holds is added or replaced, the rest stays) or
    /// `replace` (afterwards `path` holds exactly what the archive holds).
    #[param(pattern = "^(merge|replace)$")]
    pub mode: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = v1::ArchiveLanded)]
pub struct ArchiveLandedBody {
    /// The revision the archive landed as.
    pub revision: String,
    /// Files and symlinks written.
    pub files: u64,
    /// Every member that landed, directories included.
    pub entries: u64,
}

/// Download a directory as an archive
///
/// Streamed with flat memory whatever its size: tar (with `Content-Length` for a directory of up
/// to 10,000 entries) or zip (entries stored uncompressed, with data descriptors). Requires
/// `data.projects.read` and `data.runs.read`.
#[utoipa::path(
    tag = "v1 workspace",
    operation_id = "v1DownloadWorkspaceArchive",
    params(("project_id" = String, Path, description = "The project's id (UUID) or slug"), DownloadQuery),
    responses(
        (status = 200, description = "The archive", content(
            (inline(crate::schemas::Bytes) = "application/x-tar"),
            (inline(crate::schemas::Bytes) = "application/zip"),
        )),
        (status = 400, description = "Invalid path, or a file rather than a directory", body = ErrorBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `data.projects.read` or `data.runs.read`", body = ErrorBody),
        (status = 404, description = "No such project, directory (`workspace_files.not_found`) or revision (`workspace_revisions.not_found`)", body = ErrorBody),
        (status = 422, description = "An unknown `format`", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[get("/projects/{project_id}/workspace/archive")]
pub(super) async fn download_archive(
    auth: V1Auth<ReadRuns>,
    state: web::Data<HttpState>,
    request: HttpRequest,
    project_id: web::Path<String>,
) -> V1Result<HttpResponse> {
    let query: DownloadQuery = read_query(request.query_string())?;
    let format: ArchiveFormat = query.format.as_deref().unwrap_or("tar").parse()?;
    let principal = auth.principal;
    let project_id = project_id.into_inner();
    let raw = query.path.unwrap_or_default();
    let revision = query.revision;
    let archive = state
        .run(move |app| async move {
            app.download_archive(&principal, &project_id, &raw, revision.as_deref(), format).await
        })
        .await?;
    let content_type = match format {
        ArchiveFormat::Tar => "application/x-tar",
        ArchiveFormat::Zip => "application/zip",
    };
    let mut response = HttpResponse::Ok();
    response.insert_header((header::CONTENT_TYPE, content_type));
    let disposition = header::ContentDisposition {
        disposition: header::DispositionType::Attachment,
        parameters: vec![header::DispositionParam::Filename(archive.file_name)],
    };
    response.insert_header(disposition);
    if let Some(revision) = &archive.revision {
        response.insert_header(("X-Revision", revision.as_str()));
    }
    if let Some(length) = archive.content_length {
        response.no_chunking(length);
    }
    Ok(response.streaming(archive.body.map_err(|err| actix_web::error::ErrorInternalServerError(err.to_string()))))
}

/// Upload a tar as one revision
///
/// The body is a tar stream (gzip is recognised by its magic bytes, or undone by
/// `Content-Encoding: gzip`); each member is streamed to the blob store as it is read, and the
/// whole archive lands as ONE revision. A member whose path is absolute or climbs out of `path`,
/// a hard link, a device or a FIFO → 400 `workspace_files.invalid_path` and nothing is
/// committed; symlinks become symlink entries; at most 100,000 members. Requires
/// `data.runs.write`; `If-Match: <revision>` → 412 when the head moved.
#[utoipa::path(
    tag = "v1 workspace",
    operation_id = "v1UploadWorkspaceArchive",
    params(
        ("project_id" = String, Path, description = "The project's id (UUID) or slug"),
        UploadQuery,
        ("If-Match" = Option<String>, Header, nullable = false, description = "The revision the archive is based on"),
    ),
    request_body(description = "A tar stream, plain or gzipped (any Content-Type; `application/x-tar` says it best)", content = inline(crate::schemas::Bytes), content_type = "application/octet-stream"),
    responses(
        (status = 201, description = "The archive landed", body = ArchiveLandedBody),
        (status = 400, description = "A member breaks a path rule (`workspace_files.invalid_path`)", body = ErrorBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 402, description = "The project's spend has reached its budget (`billing.budget_exceeded`)", body = ErrorBody),
        (status = 403, description = "Missing `data.runs.write`, or an org quota is used up (`quota.exceeded`, `details {quota, limit, used}`)", body = ErrorBody),
        (status = 404, description = "No such project visible to the caller", body = ErrorBody),
        (status = 412, description = "The head moved (`workspace_files.precondition_failed`)", body = ErrorBody),
        (status = 422, description = "Not a tar archive, or too many members (`validation.error`)", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[put("/projects/{project_id}/workspace/archive")]
pub(super) async fn upload_archive(
    auth: V1Auth<WriteRuns>,
    state: web::Data<HttpState>,
    request: HttpRequest,
    project_id: web::Path<String>,
    payload: web::Payload,
) -> V1Result<HttpResponse> {
    let query: UploadQuery = read_query(request.query_string())?;
    if query.format.as_deref().is_some_and(|format| format != "tar") {
        let refused = projects_domain::ValidationErrors::single("format", "only tar is taken");
        return Err(projects_app::AppError::from(refused).into());
    }
    let mode: ArchiveMode = query.mode.as_deref().map(str::parse).transpose()?.unwrap_or_default();
    let body = streamed_body(&request, payload, &state)?;
    let if_match = if_match_revision(&request);
    let principal = auth.principal;
    let project_id = project_id.into_inner();
    let raw = query.path.unwrap_or_default();
    let landed = state
        .run(move |app| async move { app.upload_archive(&principal, &project_id, &raw, mode, if_match, body).await })
        .await?;
    Ok(HttpResponse::Created().json(ArchiveLandedBody {
        revision: landed.revision,
        files: landed.files,
        entries: landed.entries,
    }))
}
