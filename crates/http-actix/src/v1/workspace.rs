//! `/v1/projects/{project_id}/workspace`: the caller's default workspace, its files and sessions.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{delete, get, patch, post, put, web, HttpRequest, HttpResponse};
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use projects_app::{BodyAborted, BodyTooLarge, FileRead, WorkspaceView};
use projects_domain::{ByteRange, EntryKind, ManifestEntry};
use projects_ports::{ByteStream, Session};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{ErrorBody, V1Auth, V1Result};
use crate::auth::{ReadProjects, ReadRuns, WriteRuns};
use crate::body::{read_query, JsonPayload};
use crate::{HttpError, HttpState, JSON_BODY_LIMIT};

/// Largest file a single upload may carry.
pub const FILE_BODY_LIMIT: u64 = 1024 * 1024 * 1024;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(get_workspace)
        .service(list_files)
        .service(read_file)
        .service(write_file)
        .service(delete_file)
        .service(upload_blob)
        .service(commit_snapshot)
        .service(open_session)
        .service(touch_session)
        .service(close_session);
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = v1::Session)]
pub struct SessionBody {
    #[schema(example = "shref_0123456789abcdef0123456789abcdef")]
    pub session_ref: String,
    /// `shell` or `browser`.
    #[schema(schema_with = crate::schemas::session_type)]
    pub session_type: String,
    /// `ready`, `busy` or `closed`.
    pub state: String,
    #[serde(with = "time::serde::rfc3339")]
    pub last_used_at: time::OffsetDateTime,
}

impl From<&Session> for SessionBody {
    fn from(s: &Session) -> Self {
        SessionBody {
            session_ref: s.session_ref.clone(),
            session_type: s.session_type.clone(),
            state: s.state.clone(),
            last_used_at: s.last_used_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = v1::Workspace)]
pub struct WorkspaceBody {
    pub project_id: Uuid,
    #[schema(example = "wsref_0123456789abcdef0123456789abcdef")]
    pub workspace_ref: String,
    pub owner_user_id: Uuid,
    /// `active` while a live session exists, `idle` otherwise.
    pub status: &'static str,
    #[serde(with = "time::serde::rfc3339")]
    pub last_used_at: time::OffsetDateTime,
    /// Only while the workspace has a live session: the most recently used one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_session: Option<SessionBody>,
}

impl From<&WorkspaceView> for WorkspaceBody {
    fn from(view: &WorkspaceView) -> Self {
        WorkspaceBody {
            project_id: view.project_id.as_uuid(),
            workspace_ref: view.workspace.workspace_ref.clone(),
            owner_user_id: view.workspace.user_id.as_uuid(),
            status: if view.active_session.is_some() { "active" } else { "idle" },
            last_used_at: view.workspace.last_used_at,
            active_session: view.active_session.as_ref().map(SessionBody::from),
        }
    }
}

/// Get the project's default workspace
///
/// The caller's own workspace of the project (made on first access; each call bumps
/// `last_used_at`). Requires `data.projects.read`.
#[utoipa::path(
    tag = "v1 workspace",
    operation_id = "v1GetWorkspace",
    params(("project_id" = String, Path, description = "The project's id (UUID) or slug")),
    responses(
        (status = 200, body = WorkspaceBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `data.projects.read`", body = ErrorBody),
        (status = 404, description = "No such project visible to the caller", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[get("/projects/{project_id}/workspace")]
async fn get_workspace(
    auth: V1Auth<ReadProjects>,
    state: web::Data<HttpState>,
    project_id: web::Path<String>,
) -> V1Result<HttpResponse> {
    let principal = auth.principal;
    let project_id = project_id.into_inner();
    let view = state.run(move |app| async move { app.get_workspace(&principal, &project_id).await }).await?;
    Ok(HttpResponse::Ok().json(WorkspaceBody::from(&view)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PathQuery {
    /// A path inside the workspace, e.g. `/src` (default `/`); no control characters.
    #[param(pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*$")]
    pub path: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = v1::FileItem)]
pub struct FileItem {
    pub name: String,
    pub path: String,
    /// `file`, `dir` or `symlink`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub size: u64,
    pub mtime_unix_ms: i64,
    /// From the extension; null when it says nothing (directories included).
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
}

fn kind_name(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::File => "file",
        EntryKind::Dir => "dir",
        EntryKind::Symlink => "symlink",
    }
}

/// `text/*` and the textual application types get `; charset=utf-8`.
fn with_charset(mime: &mime_guess::Mime) -> String {
    let textual = mime.type_() == "text" || matches!(mime.subtype().as_str(), "json" | "xml" | "javascript");
    if textual {
        format!("{}; charset=utf-8", mime.essence_str())
    } else {
        mime.essence_str().to_owned()
    }
}

/// Source files that the MIME registry does not know but that are plain text.
const TEXT_EXTENSIONS: &[&str] = &[
    "go", "rs", "py", "rb", "php", "java", "kt", "kts", "scala", "swift", "c", "h", "cc", "cpp", "hpp", "cs", "ts",
    "tsx", "jsx", "vue", "svelte", "sh", "bash", "zsh", "toml", "yaml", "yml", "ini", "cfg", "conf", "env", "sql",
    "gradle", "lua", "r", "dart", "ex", "exs", "erl", "hs", "ml", "clj", "proto", "graphql", "lock", "log",
];

fn mime_from_extension(path: &str) -> Option<String> {
    if let Some(mime) = mime_guess::from_path(path).first() {
        return Some(with_charset(&mime));
    }
    let extension = std::path::Path::new(path).extension()?.to_str()?.to_ascii_lowercase();
    TEXT_EXTENSIONS.contains(&extension.as_str()).then(|| "text/plain; charset=utf-8".to_owned())
}

/// Text (valid UTF-8, no NUL) or binary, from the first bytes.
fn sniff(first: &[u8]) -> String {
    let valid = match std::str::from_utf8(first) {
        Ok(_) => true,
        // A character cut at the end of the sample is still text.
        Err(err) => err.error_len().is_none(),
    };
    if valid && !first.contains(&0) {
        "text/plain; charset=utf-8".to_owned()
    } else {
        "application/octet-stream".to_owned()
    }
}

/// List a workspace directory
///
/// The direct children of `path`: directories first, then by name. Requires `data.projects.read`
/// and `data.runs.read`. No manifest yet, a missing path or a file → 200 with no items.
#[utoipa::path(
    tag = "v1 workspace",
    operation_id = "v1ListWorkspaceFiles",
    params(("project_id" = String, Path, description = "The project's id (UUID) or slug"), PathQuery),
    responses(
        (status = 200, body = FileListBody),
        (status = 400, description = "Invalid path (`workspace_files.invalid_path`)", body = ErrorBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `data.projects.read` or `data.runs.read`", body = ErrorBody),
        (status = 404, description = "No such project visible to the caller", body = ErrorBody),
        (status = 503, description = "The blob store is unavailable", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[get("/projects/{project_id}/workspace/files")]
async fn list_files(
    auth: V1Auth<ReadRuns>,
    state: web::Data<HttpState>,
    request: HttpRequest,
    project_id: web::Path<String>,
) -> V1Result<HttpResponse> {
    let query: PathQuery = read_query(request.query_string())?;
    let raw = query.path.unwrap_or_default();
    let principal = auth.principal;
    let project_id = project_id.into_inner();
    let (workspace, path, children) =
        state.run(move |app| async move { app.list_files(&principal, &project_id, &raw).await }).await?;
    let items = children
        .iter()
        .map(|child| FileItem {
            name: child.name.clone(),
            path: child.path.as_str().to_owned(),
            kind: kind_name(child.kind),
            size: child.size,
            mtime_unix_ms: child.mtime_unix_ms,
            mime_type: (child.kind == EntryKind::File).then(|| mime_from_extension(&child.name)).flatten(),
            has_children: (child.kind == EntryKind::Dir).then_some(child.has_children),
        })
        .collect();
    Ok(HttpResponse::Ok().json(FileListBody {
        workspace_ref: workspace.workspace_ref,
        path: path.as_str().to_owned(),
        items,
    }))
}

/// The first chunk of a stream, and the stream with it put back.
async fn peek(mut body: ByteStream) -> (Bytes, ByteStream) {
    match body.next().await {
        Some(Ok(first)) => {
            let again = first.clone();
            (first, futures::stream::once(async move { Ok(again) }).chain(body).boxed())
        }
        Some(Err(err)) => (Bytes::new(), futures::stream::once(async move { Err(err) }).boxed()),
        None => (Bytes::new(), futures::stream::empty().boxed()),
    }
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
        ("path" = String, Query, pattern = "^/?([^/\\x00-\\x1F\\x7F-\\x9F]*[^/\\s\\x00-\\x1F\\x7F-\\x9F]/)*[^/\\x00-\\x1F\\x7F-\\x9F]*[^/.\\s\\x00-\\x1F\\x7F-\\x9F][^/\\x00-\\x1F\\x7F-\\x9F]*$", description = "The file's path inside the workspace, e.g. `/src/main.go` (not the root)"),
        ("Range" = Option<String>, Header, nullable = false, description = "`bytes=start-end`, `bytes=start-` or `bytes=-suffix`"),
        ("If-None-Match" = Option<String>, Header, nullable = false, description = "An ETag already held"),
    ),
    responses(
        (status = 200, description = "The file, with the type its name or first bytes tell", content_type = "*/*", body = inline(crate::schemas::Bytes)),
        (status = 206, description = "The requested range", content_type = "*/*", body = inline(crate::schemas::Bytes)),
        (status = 304, description = "Unchanged"),
        (status = 400, description = "Invalid path, or the root", body = ErrorBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `data.projects.read` or `data.runs.read`", body = ErrorBody),
        (status = 404, description = "No such project, or no such file (`workspace_files.not_found`)", body = ErrorBody),
        (status = 416, description = "Range outside the file", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[get("/projects/{project_id}/workspace/file")]
async fn read_file(
    auth: V1Auth<ReadRuns>,
    state: web::Data<HttpState>,
    request: HttpRequest,
    project_id: web::Path<String>,
) -> V1Result<HttpResponse> {
    let query: PathQuery = read_query(request.query_string())?;
    let raw = query.path.unwrap_or_default();
    let range = request.headers().get(header::RANGE).and_then(|v| v.to_str().ok()).and_then(ByteRange::parse);
    // The file's ETag is its SHA-256: the tags the caller holds name contents it has.
    let held: Vec<String> = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(',').map(|tag| tag.trim().trim_start_matches("W/").trim_matches('"').to_owned()).collect())
        .unwrap_or_default();
    let principal = auth.principal;
    let project_id = project_id.into_inner();
    let FileRead { entry, size, range, body } =
        state.run(move |app| async move { app.read_file(&principal, &project_id, &raw, range, &held).await }).await?;
    let etag = header::ETag(header::EntityTag::new_strong(entry.sha256.clone().unwrap_or_default()));
    let Some(body) = body else {
        return Ok(HttpResponse::NotModified().insert_header(etag).finish());
    };
    let mut response = match &range {
        Some(_) => HttpResponse::PartialContent(),
        None => HttpResponse::Ok(),
    };
    response
        .insert_header(etag)
        .insert_header((header::CACHE_CONTROL, "private, max-age=60"))
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
    response.no_chunking(length);
    Ok(response.streaming(body.map_err(|err| actix_web::error::ErrorInternalServerError(err.to_string()))))
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

/// A file's content; a declared length over the limit is a 413 before any byte is read.
fn file_body(request: &HttpRequest, payload: web::Payload) -> Result<ByteStream, HttpError> {
    let declared = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > FILE_BODY_LIMIT) {
        return Err(projects_app::AppError::PayloadTooLarge { limit: FILE_BODY_LIMIT }.into());
    }
    Ok(capped(payload, FILE_BODY_LIMIT))
}

/// The request body as a stream that fails past the limit. actix payloads live on their worker
/// thread, so a task there reads it into a small channel (backpressure: 4 chunks) that the use
/// case reads from wherever it runs.
fn capped(payload: web::Payload, limit: u64) -> ByteStream {
    let (sender, receiver) = tokio::sync::mpsc::channel::<anyhow::Result<Bytes>>(4);
    actix_web::rt::spawn(async move {
        let mut payload = payload;
        let mut seen = 0u64;
        while let Some(chunk) = payload.next().await {
            let item = match chunk {
                Ok(chunk) => {
                    seen += chunk.len() as u64;
                    if seen > limit {
                        Err(anyhow::Error::new(BodyTooLarge { limit }))
                    } else {
                        Ok(chunk)
                    }
                }
                Err(err) => Err(anyhow::Error::new(BodyAborted(err.to_string()))),
            };
            let failed = item.is_err();
            if sender.send(item).await.is_err() || failed {
                break;
            }
        }
    });
    futures::stream::unfold(receiver, |mut receiver| async move { receiver.recv().await.map(|item| (item, receiver)) })
        .boxed()
}

fn if_match_revision(request: &HttpRequest) -> Option<String> {
    let value = request.headers().get(header::IF_MATCH)?.to_str().ok()?.trim();
    Some(value.trim_start_matches("W/").trim_matches('"').to_owned()).filter(|v| !v.is_empty() && v != "*")
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
        (status = 403, description = "Missing `data.runs.write`", body = ErrorBody),
        (status = 404, description = "No such project visible to the caller", body = ErrorBody),
        (status = 412, description = "The head moved (`workspace_files.precondition_failed`)", body = ErrorBody),
        (status = 413, description = "Body over the upload limit", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[put("/projects/{project_id}/workspace/file")]
async fn write_file(
    auth: V1Auth<WriteRuns>,
    state: web::Data<HttpState>,
    request: HttpRequest,
    project_id: web::Path<String>,
    payload: web::Payload,
) -> V1Result<HttpResponse> {
    let query: PathQuery = read_query(request.query_string())?;
    let raw = query.path.unwrap_or_default();
    let body = file_body(&request, payload)?;
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
        (status = 403, description = "Missing `data.runs.write`", body = ErrorBody),
        (status = 404, description = "No such project or file", body = ErrorBody),
        (status = 412, description = "The head moved", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[delete("/projects/{project_id}/workspace/file")]
async fn delete_file(
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
    if let Ok(value) = HeaderValue::from_str(&revision) {
        response.insert_header(("X-Workspace-Revision", value));
    }
    Ok(response.finish())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = v1::OpenSession, example = json!({"session_type": "shell"}))]
pub struct OpenSessionRequest {
    /// `shell` or `browser`.
    #[schema(schema_with = crate::schemas::session_type)]
    pub session_type: String,
}

/// Open a session
///
/// Requires `data.runs.write`. A live session makes the workspace `active`.
#[utoipa::path(
    tag = "v1 workspace",
    operation_id = "v1OpenSession",
    params(("project_id" = String, Path, description = "The project's id (UUID) or slug")),
    request_body = OpenSessionRequest,
    responses(
        (status = 201, body = SessionBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `data.runs.write`", body = ErrorBody),
        (status = 404, description = "No such project visible to the caller", body = ErrorBody),
        (status = 422, description = "Unknown session type", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[post("/projects/{project_id}/workspace/sessions")]
async fn open_session(
    auth: V1Auth<WriteRuns>,
    state: web::Data<HttpState>,
    project_id: web::Path<String>,
    payload: JsonPayload,
) -> V1Result<HttpResponse> {
    let request: OpenSessionRequest = payload.read(JSON_BODY_LIMIT).await?;
    let principal = auth.principal;
    let project_id = project_id.into_inner();
    let session = state
        .run(move |app| async move { app.open_session(&principal, &project_id, &request.session_type).await })
        .await?;
    Ok(HttpResponse::Created().json(SessionBody::from(&session)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = v1::TouchSession, example = json!({"state": "busy"}))]
pub struct TouchSessionRequest {
    /// `ready` or `busy`; absent or null: only a heartbeat.
    #[schema(schema_with = crate::schemas::session_state_or_null)]
    pub state: Option<String>,
}

/// Heartbeat or change a session's state
#[utoipa::path(
    tag = "v1 workspace",
    operation_id = "v1TouchSession",
    params(
        ("project_id" = String, Path, description = "The project's id (UUID) or slug"),
        ("session_ref" = String, Path, description = "The session"),
    ),
    request_body = TouchSessionRequest,
    responses(
        (status = 200, body = SessionBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `data.runs.write`", body = ErrorBody),
        (status = 404, description = "No such project or open session", body = ErrorBody),
        (status = 422, description = "Unknown state", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[patch("/projects/{project_id}/workspace/sessions/{session_ref}")]
async fn touch_session(
    auth: V1Auth<WriteRuns>,
    state: web::Data<HttpState>,
    path: web::Path<(String, String)>,
    payload: JsonPayload,
) -> V1Result<HttpResponse> {
    let request: TouchSessionRequest = payload.read(JSON_BODY_LIMIT).await?;
    let (project_id, session_ref) = path.into_inner();
    let principal = auth.principal;
    let session = state
        .run(move |app| async move {
            app.touch_session(&principal, &project_id, &session_ref, request.state.as_deref()).await
        })
        .await?;
    Ok(HttpResponse::Ok().json(SessionBody::from(&session)))
}

/// Close a session
#[utoipa::path(
    tag = "v1 workspace",
    operation_id = "v1CloseSession",
    params(
        ("project_id" = String, Path, description = "The project's id (UUID) or slug"),
        ("session_ref" = String, Path, description = "The session"),
    ),
    responses(
        (status = 200, description = "The session, now `closed`", body = SessionBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `data.runs.write`", body = ErrorBody),
        (status = 404, description = "No such project or open session", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[delete("/projects/{project_id}/workspace/sessions/{session_ref}")]
async fn close_session(
    auth: V1Auth<WriteRuns>,
    state: web::Data<HttpState>,
    path: web::Path<(String, String)>,
) -> V1Result<HttpResponse> {
    let (project_id, session_ref) = path.into_inner();
    let principal = auth.principal;
    let session =
        state.run(move |app| async move { app.close_session(&principal, &project_id, &session_ref).await }).await?;
    Ok(HttpResponse::Ok().json(SessionBody::from(&session)))
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = v1::BlobStored)]
pub struct BlobBody {
    pub sha256: String,
    pub size: u64,
}

/// Upload a blob for a snapshot
///
/// The body must hash to `sha256` (else 422). Requires `data.runs.write`.
#[utoipa::path(
    tag = "v1 workspace",
    operation_id = "v1UploadWorkspaceBlob",
    params(
        ("project_id" = String, Path, description = "The project's id (UUID) or slug"),
        ("sha256" = String, Path, pattern = "^[0-9a-f]{64}$", description = "The SHA-256 of the body, lowercase hex"),
    ),
    request_body(content = inline(crate::schemas::Bytes), content_type = "application/octet-stream"),
    responses(
        (status = 201, body = BlobBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `data.runs.write`", body = ErrorBody),
        (status = 404, description = "No such project visible to the caller", body = ErrorBody),
        (status = 413, description = "Body over the upload limit", body = ErrorBody),
        (status = 422, description = "The body does not hash to `sha256`", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[put("/projects/{project_id}/workspace/blobs/{sha256}")]
async fn upload_blob(
    auth: V1Auth<WriteRuns>,
    state: web::Data<HttpState>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> V1Result<HttpResponse> {
    let (project_id, sha256) = path.into_inner();
    let body = file_body(&request, payload)?;
    let principal = auth.principal;
    let expected = sha256.clone();
    let size =
        state.run(move |app| async move { app.upload_blob(&principal, &project_id, &expected, body).await }).await?;
    Ok(HttpResponse::Created().json(BlobBody { sha256, size }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = v1::Snapshot)]
pub struct SnapshotRequest {
    /// The revision this tree replaces; a head that moved meanwhile is a 412.
    pub base_revision: Option<String>,
    /// The whole tree.
    #[schema(value_type = Vec<SnapshotEntry>)]
    pub entries: Vec<ManifestEntry>,
}

/// One entry of a snapshot (the domain's `ManifestEntry`, as the document shows it).
#[derive(ToSchema)]
#[schema(as = v1::SnapshotEntry)]
#[allow(dead_code)]
struct SnapshotEntry {
    #[schema(
        pattern = "^/?([^/\\x00-\\x1F\\x7F-\\x9F]*[^/\\s\\x00-\\x1F\\x7F-\\x9F]/)*[^/\\x00-\\x1F\\x7F-\\x9F]*[^/.\\s\\x00-\\x1F\\x7F-\\x9F][^/\\x00-\\x1F\\x7F-\\x9F]*$"
    )]
    path: String,
    #[serde(rename = "type")]
    #[schema(schema_with = crate::schemas::entry_kind)]
    kind: String,
    /// Bytes (default 0).
    #[schema(nullable = false)]
    size: Option<u64>,
    /// Default 0.
    #[schema(nullable = false)]
    mtime_unix_ms: Option<i64>,
    /// Lowercase hex SHA-256 of the content, uploaded first; required for files.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    sha256: Option<String>,
    mode: Option<u32>,
    link_target: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = v1::SnapshotCommitted)]
pub struct RevisionBody {
    pub revision: String,
}

/// Commit a snapshot
///
/// Publishes a whole tree as the workspace's next revision in one step. Every file's blob must
/// have been uploaded (else 422). Requires `data.runs.write`.
#[utoipa::path(
    tag = "v1 workspace",
    operation_id = "v1CommitSnapshot",
    params(("project_id" = String, Path, description = "The project's id (UUID) or slug")),
    request_body = SnapshotRequest,
    responses(
        (status = 201, body = RevisionBody),
        (status = 400, description = "A path that is invalid or not canonical", body = ErrorBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `data.runs.write`", body = ErrorBody),
        (status = 404, description = "No such project visible to the caller", body = ErrorBody),
        (status = 412, description = "`base_revision` is not the head", body = ErrorBody),
        (status = 422, description = "Invalid entries or a missing blob", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[post("/projects/{project_id}/workspace/snapshots")]
async fn commit_snapshot(
    auth: V1Auth<WriteRuns>,
    state: web::Data<HttpState>,
    project_id: web::Path<String>,
    payload: JsonPayload,
) -> V1Result<HttpResponse> {
    let request: SnapshotRequest = payload.read(64 * JSON_BODY_LIMIT).await?;
    let principal = auth.principal;
    let project_id = project_id.into_inner();
    let revision = state
        .run(move |app| async move {
            app.commit_snapshot(&principal, &project_id, request.base_revision, request.entries).await
        })
        .await?;
    Ok(HttpResponse::Created().json(RevisionBody { revision }))
}
