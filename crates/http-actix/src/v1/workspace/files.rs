//! Listing, reading, writing and deleting workspace files.

use actix_web::http::header;
use actix_web::{delete, get, head, put, web, HttpRequest, HttpResponse};
use futures::TryStreamExt;
use projects_app::{FileRead, ListQuery, Listing};
use projects_domain::{ByteRange, EntryKind};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::super::{ErrorBody, V1Auth, V1Result};
use crate::auth::{ReadRuns, WriteRuns};
use crate::body::read_query;
use crate::headers::ok_with_next;
use crate::HttpState;

use super::conditional::{held_etags, if_match_revision};
use super::mime::{mime_from_extension, peek, sniff};
use super::upload::file_body;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PathQuery {
    /// A path inside the workspace, e.g. `/src` (default `/`); no control characters.
    #[param(pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*$")]
    pub path: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQueryParams {
    /// A path inside the workspace, e.g. `/src` (default `/`); no control characters.
    #[param(pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*$")]
    pub path: Option<String>,
    /// List the tree as of this revision (default: the head).
    pub revision: Option<String>,
    /// Every entry below `path` (directories included) in path byte order, instead of its
    /// direct children.
    pub recursive: Option<bool>,
    /// Items per page (default 1000).
    #[param(minimum = 1, maximum = 10000)]
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReadQuery {
    /// The file's path inside the workspace, e.g. `/src/main.go` (not the root; required).
    #[param(
        pattern = "^/?([^/\\x00-\\x1F\\x7F-\\x9F]*[^/\\s\\x00-\\x1F\\x7F-\\x9F]/)*[^/\\x00-\\x1F\\x7F-\\x9F]*[^/.\\s\\x00-\\x1F\\x7F-\\x9F][^/\\x00-\\x1F\\x7F-\\x9F]*$"
    )]
    pub path: String,
    /// Read the file as of this revision (default: the head); such a read never changes, and
    /// says so (`Cache-Control: …, immutable`).
    pub revision: Option<String>,
}

/// The headers a file read takes (documentation only: the handler reads them itself).
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct ReadHeaders {
    /// `bytes=start-end`, `bytes=start-` or `bytes=-suffix`
    #[param(rename = "Range", nullable = false)]
    range: Option<String>,
    /// An ETag already held
    #[param(rename = "If-None-Match", nullable = false)]
    if_none_match: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = v1::FileItem)]
pub struct FileItem {
    pub name: String,
    pub path: String,
    /// `file`, `dir` or `symlink`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Bytes of a file (a symlink: of its target); null for a directory.
    pub size: Option<u64>,
    /// Null for a directory.
    pub mtime_unix_ms: Option<i64>,
    /// A file's type from its extension, `application/octet-stream` when that says nothing;
    /// null for directories and symlinks.
    pub mime_type: Option<String>,
    /// Directories only: whether anything is below.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_children: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = v1::FileList)]
pub struct FileListBody {
    pub workspace_ref: String,
    pub path: String,
    pub items: Vec<FileItem>,
    /// Where the next page starts (also in `Link: rel="next"`); null on the last page.
    pub next_cursor: Option<String>,
}

/// List a workspace directory
///
/// The direct children of `path`: directories first, then by name (byte order); with
/// `recursive=true`, every entry below `path` in path byte order. Paged by `limit` (default
/// 1000, at most 10000) with `next_cursor` and `Link: rel="next"`. At the head, or at `revision`.
/// Requires `data.projects.read` and `data.runs.read`. Nothing written yet, a missing path or a
/// file → 200 with no items.
#[utoipa::path(
    tag = "v1 workspace",
    operation_id = "v1ListWorkspaceFiles",
    params(("project_id" = String, Path, description = "The project's id (UUID) or slug"), ListQueryParams),
    responses(
        (status = 200, body = FileListBody,
            headers(("Link" = String, description = "`<…&cursor=…>; rel=\"next\"` when there are more"))),
        (status = 400, description = "Invalid path (`workspace_files.invalid_path`)", body = ErrorBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `data.projects.read` or `data.runs.read`", body = ErrorBody),
        (status = 404, description = "No such project visible to the caller, or no such revision (`workspace_revisions.not_found`)", body = ErrorBody),
        (status = 422, description = "A bad `limit` or `cursor`", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[get("/projects/{project_id}/workspace/files")]
pub(super) async fn list_files(
    auth: V1Auth<ReadRuns>,
    state: web::Data<HttpState>,
    request: HttpRequest,
    project_id: web::Path<String>,
) -> V1Result<HttpResponse> {
    let params: ListQueryParams = read_query(request.query_string())?;
    let query = ListQuery {
        path: params.path.unwrap_or_default(),
        revision: params.revision,
        recursive: params.recursive.unwrap_or(false),
        limit: params.limit,
        cursor: params.cursor,
    };
    let principal = auth.principal;
    let project_id = project_id.into_inner();
    let Listing { workspace, path, items: children, next_cursor } =
        state.run(move |app| async move { app.list_files(&principal, &project_id, query).await }).await?;
    let items = children
        .iter()
        .map(|child| FileItem {
            name: child.name.clone(),
            path: child.path.as_str().to_owned(),
            kind: child.kind.as_str(),
            size: (child.kind != EntryKind::Dir).then_some(child.size),
            mtime_unix_ms: (child.kind != EntryKind::Dir).then_some(child.mtime_unix_ms),
            mime_type: (child.kind == EntryKind::File).then(|| {
                mime_from_extension(&child.name)
                    .unwrap_or_else(|| mime_guess::mime::APPLICATION_OCTET_STREAM.to_string())
            }),
            has_children: (child.kind == EntryKind::Dir).then_some(child.has_children),
        })
        .collect();
    Ok(ok_with_next(&request, next_cursor.as_deref()).json(FileListBody {
        workspace_ref: workspace.workspace_ref,
        path: path.as_str().to_owned(),
        items,
        next_cursor,
    }))
}

/// Read a workspace file
///
/// The raw bytes, streamed. `Content-Type` from the extension, else sniffed; strong `ETag` (the
/// SHA-256) with `If-None-Match` → 304; a single `Range` → 206, outside the file → 416. Requires
/// `data.projects.read` and `data.runs.read`.
#[utoipa::path(
    tag = "v1 workspace",
    operation_id = "v1ReadWorkspaceFile",
    params(
        ("project_id" = String, Path, description = "The project's id (UUID) or slug"),
        ReadQuery,
        ReadHeaders,
    ),
    responses(
        (status = 200, description = "The file, with the type its name or first bytes tell", content_type = "*/*", body = inline(crate::schemas::Bytes)),
        (status = 206, description = "The requested range", content_type = "*/*", body = inline(crate::schemas::Bytes)),
        (status = 304, description = "Unchanged"),
        (status = 400, description = "Invalid path, or the root", body = ErrorBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `data.projects.read` or `data.runs.read`", body = ErrorBody),
        (status = 404, description = "No such project, file (`workspace_files.not_found`) or revision (`workspace_revisions.not_found`)", body = ErrorBody),
        (status = 416, description = "Range outside the file", body = ErrorBody),
        (status = 422, description = "No `path`", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[get("/projects/{project_id}/workspace/file")]
pub(super) async fn read_file(
    auth: V1Auth<ReadRuns>,
    state: web::Data<HttpState>,
    request: HttpRequest,
    project_id: web::Path<String>,
) -> V1Result<HttpResponse> {
    serve_file(auth, state, request, project_id.into_inner(), Delivery::Body).await
}

/// A workspace file's headers
///
/// What `GET` answers (status, `Content-Length`, `Content-Type`, `ETag`, `Content-Range`)
/// without the body. Requires `data.projects.read` and `data.runs.read`.
#[utoipa::path(
    tag = "v1 workspace",
    operation_id = "v1HeadWorkspaceFile",
    params(
        ("project_id" = String, Path, description = "The project's id (UUID) or slug"),
        ReadQuery,
        ReadHeaders,
    ),
    responses(
        (status = 200, description = "The file is there; `Content-Length` is its size"),
        (status = 206, description = "The requested range is there"),
        (status = 304, description = "Unchanged"),
        (status = 400, description = "Invalid path, or the root"),
        (status = 401, description = "No or bad credentials"),
        (status = 403, description = "Missing `data.projects.read` or `data.runs.read`"),
        (status = 404, description = "No such project, file or revision"),
        (status = 416, description = "Range outside the file"),
        (status = 422, description = "No `path`"),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[head("/projects/{project_id}/workspace/file")]
pub(super) async fn head_file(
    auth: V1Auth<ReadRuns>,
    state: web::Data<HttpState>,
    request: HttpRequest,
    project_id: web::Path<String>,
) -> V1Result<HttpResponse> {
    serve_file(auth, state, request, project_id.into_inner(), Delivery::HeadersOnly).await
}

/// Whether a file's answer carries its bytes (`GET`) or only says what they are (`HEAD`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Delivery {
    Body,
    HeadersOnly,
}

async fn serve_file(
    auth: V1Auth<ReadRuns>,
    state: web::Data<HttpState>,
    request: HttpRequest,
    project_id: String,
    delivery: Delivery,
) -> V1Result<HttpResponse> {
    let query: ReadQuery = read_query(request.query_string())?;
    let raw = query.path.clone();
    let range = request.headers().get(header::RANGE).and_then(|v| v.to_str().ok()).and_then(ByteRange::parse);
    // The file's ETag is its SHA-256: the tags the caller holds name contents it has.
    let held = held_etags(&request);
    let principal = auth.principal;
    // A revision never changes: what was read at one may be kept for good.
    let cache_control =
        if query.revision.is_some() { "private, max-age=31536000, immutable" } else { "private, max-age=60" };
    let revision = query.revision;
    let read =
        state
            .run(move |app| async move {
                app.read_file(&principal, &project_id, &raw, revision.as_deref(), range, &held).await
            })
            .await?;
    Ok(file_answer(read, cache_control, delivery).await)
}

/// The answer that carries a file read (or says it is unchanged, or only what it is, for `HEAD`).
pub(super) async fn file_answer(read: FileRead, cache_control: &str, delivery: Delivery) -> HttpResponse {
    let FileRead { entry, size, range, body } = read;
    let etag = header::ETag(header::EntityTag::new_strong(entry.sha256.clone().unwrap_or_default()));
    let Some(body) = body else {
        // A 304 says again how long what the caller holds may be kept (RFC 9111 §4.3.4).
        return HttpResponse::NotModified()
            .insert_header(etag)
            .insert_header((header::CACHE_CONTROL, cache_control))
            .finish();
    };
    let mut response = match &range {
        Some(_) => HttpResponse::PartialContent(),
        None => HttpResponse::Ok(),
    };
    response
        .insert_header(etag)
        .insert_header((header::CACHE_CONTROL, cache_control))
        .insert_header((header::ACCEPT_RANGES, "bytes"));
    let (content_type, body) = match mime_from_extension(&entry.path) {
        Some(known) => (known, body),
        None => {
            let (first, body) = peek(body).await;
            (sniff(&first[..first.len().min(1024)]), body)
        }
    };
    response.insert_header((header::CONTENT_TYPE, content_type));
    let length = match &range {
        Some(range) => {
            let content_range = format!("bytes {}-{}/{}", range.start, range.end.saturating_sub(1), size);
            response.insert_header((header::CONTENT_RANGE, content_range));
            range.end - range.start
        }
        None => size,
    };
    if delivery == Delivery::HeadersOnly {
        // The length of the bytes a GET would send, and none of them: the blob is not read on.
        let nothing = futures::stream::empty::<Result<bytes::Bytes, actix_web::Error>>();
        return response.body(actix_web::body::SizedStream::new(length, nothing));
    }
    response.no_chunking(length);
    response.streaming(body.map_err(|err| actix_web::error::ErrorInternalServerError(err.to_string())))
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = v1::FileWritten)]
pub struct FileWrittenBody {
    pub path: String,
    pub size: u64,
    pub sha256: String,
    /// The workspace's new revision (send as `If-Match` to write on top of exactly it).
    pub revision: String,
}

/// Upload a workspace file
///
/// The body is streamed to the blob store while hashed, then a new revision of the tree is
/// committed (compare-and-swap on the head; `If-Match: <revision>` → 412 when it moved). Requires
/// `data.runs.write`. 201 for a new file, 200 for a replaced one.
#[utoipa::path(
    tag = "v1 workspace",
    operation_id = "v1WriteWorkspaceFile",
    params(
        ("project_id" = String, Path, description = "The project's id (UUID) or slug"),
        ("path" = String, Query, pattern = "^/?([^/\\x00-\\x1F\\x7F-\\x9F]*[^/\\s\\x00-\\x1F\\x7F-\\x9F]/)*[^/\\x00-\\x1F\\x7F-\\x9F]*[^/.\\s\\x00-\\x1F\\x7F-\\x9F][^/\\x00-\\x1F\\x7F-\\x9F]*$", description = "The file's path inside the workspace, e.g. `/src/main.go` (not the root)"),
        ("If-Match" = Option<String>, Header, nullable = false, description = "The revision the write is based on"),
    ),
    request_body(content = inline(crate::schemas::Bytes), content_type = "application/octet-stream", description = "The content (an empty body makes an empty file)"),
    responses(
        (status = 201, description = "Created", body = FileWrittenBody),
        (status = 200, description = "Replaced", body = FileWrittenBody),
        (status = 400, description = "Invalid path, or a file where a directory is", body = ErrorBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 402, description = "The project's spend has reached its budget (`billing.budget_exceeded`)", body = ErrorBody),
        (status = 403, description = "Missing `data.runs.write`, or an org quota is used up (`quota.exceeded`, `details {quota, limit, used}`)", body = ErrorBody),
        (status = 404, description = "No such project visible to the caller", body = ErrorBody),
        (status = 412, description = "The head moved (`workspace_files.precondition_failed`)", body = ErrorBody),
        (status = 413, description = "Body over the upload limit", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[put("/projects/{project_id}/workspace/file")]
pub(super) async fn write_file(
    auth: V1Auth<WriteRuns>,
    state: web::Data<HttpState>,
    request: HttpRequest,
    project_id: web::Path<String>,
    payload: web::Payload,
) -> V1Result<HttpResponse> {
    let query: PathQuery = read_query(request.query_string())?;
    let raw = query.path.unwrap_or_default();
    let body = file_body(&request, payload, &state)?;
    let if_match = if_match_revision(&request);
    let principal = auth.principal;
    let project_id = project_id.into_inner();
    let written = state
        .run(move |app| async move { app.write_file(&principal, &project_id, &raw, body, if_match).await })
        .await?;
    let mut response = if written.created { HttpResponse::Created() } else { HttpResponse::Ok() };
    Ok(response.json(FileWrittenBody {
        path: written.path.as_str().to_owned(),
        size: written.size,
        sha256: written.sha256,
        revision: written.revision,
    }))
}

/// Delete a workspace file
///
/// A new revision without the file. Requires `data.runs.write`.
#[utoipa::path(
    tag = "v1 workspace",
    operation_id = "v1DeleteWorkspaceFile",
    params(
        ("project_id" = String, Path, description = "The project's id (UUID) or slug"),
        ("path" = String, Query, pattern = "^/?([^/\\x00-\\x1F\\x7F-\\x9F]*[^/\\s\\x00-\\x1F\\x7F-\\x9F]/)*[^/\\x00-\\x1F\\x7F-\\x9F]*[^/.\\s\\x00-\\x1F\\x7F-\\x9F][^/\\x00-\\x1F\\x7F-\\x9F]*$", description = "The file's path inside the workspace, e.g. `/src/main.go` (not the root)"),
        ("If-Match" = Option<String>, Header, nullable = false, description = "The revision the change is based on"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Invalid path", body = ErrorBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 402, description = "The project's spend has reached its budget (`billing.budget_exceeded`)", body = ErrorBody),
        (status = 403, description = "Missing `data.runs.write`", body = ErrorBody),
        (status = 404, description = "No such project or file", body = ErrorBody),
        (status = 412, description = "The head moved", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[delete("/projects/{project_id}/workspace/file")]
pub(super) async fn delete_file(
    auth: V1Auth<WriteRuns>,
    state: web::Data<HttpState>,
    request: HttpRequest,
    project_id: web::Path<String>,
) -> V1Result<HttpResponse> {
    let query: PathQuery = read_query(request.query_string())?;
    let raw = query.path.unwrap_or_default();
    let if_match = if_match_revision(&request);
    let principal = auth.principal;
    let project_id = project_id.into_inner();
    let revision =
        state.run(move |app| async move { app.delete_file(&principal, &project_id, &raw, if_match).await }).await?;
    let mut response = HttpResponse::NoContent();
    if let Ok(value) = header::HeaderValue::from_str(&revision) {
        response.insert_header(("X-Workspace-Revision", value));
    }
    Ok(response.finish())
}
