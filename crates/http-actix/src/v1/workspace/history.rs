//! A workspace's history on the wire: revisions, diffs, roll back, change sets, blob presence
//! and manifest export.

use actix_web::http::header;
use actix_web::{get, head, post, web, HttpRequest, HttpResponse};
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use projects_app::{ChangeInput, Diff, ManifestExport};
use projects_domain::PathChange;
use projects_ports::Revision;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::super::{ErrorBody, V1Auth, V1Result};
use crate::auth::{ReadRuns, WriteRuns};
use crate::body::{read_query, JsonPayload};
use crate::headers::ok_with_next;
use crate::{HttpState, JSON_BODY_LIMIT};

use super::conditional::if_match_revision;
use super::snapshots::RevisionBody;

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = v1::Revision)]
pub struct RevisionItem {
    pub revision: String,
    /// The revision this one was made on (null for the first).
    pub base_revision: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    /// Who made it (null when carried over from before history was kept).
    pub author_user_id: Option<Uuid>,
    /// Files and symlinks whose content it changed.
    pub files_changed: u64,
    pub message: Option<String>,
}

impl From<&Revision> for RevisionItem {
    fn from(r: &Revision) -> Self {
        RevisionItem {
            revision: r.revision.clone(),
            base_revision: r.base_revision.clone(),
            created_at: r.created_at,
            author_user_id: r.author_user_id.map(|id| id.as_uuid()),
            files_changed: r.files_changed,
            message: r.message.clone(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page (default 1000).
    #[param(minimum = 1, maximum = 10000)]
    pub limit: Option<u64>,
    /// From the previous page's `Link: rel="next"`.
    pub cursor: Option<String>,
}

/// List a workspace's revisions
///
/// Newest first; the next page in `Link: rel="next"`. Requires `data.projects.read` and
/// `data.runs.read`.
#[utoipa::path(
    tag = "v1 workspace",
    operation_id = "v1ListWorkspaceRevisions",
    params(("project_id" = String, Path, description = "The project's id (UUID) or slug"), PageParams),
    responses(
        (status = 200, body = Vec<RevisionItem>,
            headers(("Link" = String, description = "`<…&cursor=…>; rel=\"next\"` when there are more"))),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `data.projects.read` or `data.runs.read`", body = ErrorBody),
        (status = 404, description = "No such project visible to the caller", body = ErrorBody),
        (status = 422, description = "A bad `limit` or `cursor`", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[get("/projects/{project_id}/workspace/revisions")]
pub(super) async fn list_revisions(
    auth: V1Auth<ReadRuns>,
    state: web::Data<HttpState>,
    request: HttpRequest,
    project_id: web::Path<String>,
) -> V1Result<HttpResponse> {
    let page: PageParams = read_query(request.query_string())?;
    let principal = auth.principal;
    let project_id = project_id.into_inner();
    let (revisions, next) =
        state
            .run(move |app| async move {
                app.list_revisions(&principal, &project_id, page.limit, page.cursor.as_deref()).await
            })
            .await?;
    let items: Vec<RevisionItem> = revisions.iter().map(RevisionItem::from).collect();
    Ok(ok_with_next(&request, next.as_deref()).json(items))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiffParams {
    /// The older side (any revision of this workspace).
    pub from: String,
    /// The newer side.
    pub to: String,
    /// Only what is at or below this path.
    #[param(pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*$")]
    pub path: Option<String>,
    /// Changes per page (default 1000).
    #[param(minimum = 1, maximum = 10000)]
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = v1::Change)]
pub struct ChangeItem {
    pub path: String,
    /// `added`, `modified` or `deleted`.
    pub change: &'static str,
    /// `file` or `symlink` (the new one's, or the old one's when deleted).
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub old_sha256: Option<String>,
    pub new_sha256: Option<String>,
    pub old_size: Option<u64>,
    pub new_size: Option<u64>,
}

impl From<&PathChange> for ChangeItem {
    fn from(c: &PathChange) -> Self {
        let change = match (&c.old, &c.new) {
            (None, _) => "added",
            (_, None) => "deleted",
            _ => "modified",
        };
        let kind = c.new.as_ref().or(c.old.as_ref()).map_or("file", |e| e.kind.as_str());
        ChangeItem {
            path: c.path.as_str().to_owned(),
            change,
            kind,
            old_sha256: c.old.as_ref().and_then(|e| e.sha256.clone()),
            new_sha256: c.new.as_ref().and_then(|e| e.sha256.clone()),
            old_size: c.old.as_ref().map(|e| e.size),
            new_size: c.new.as_ref().map(|e| e.size),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = v1::Diff)]
pub struct DiffBody {
    pub from: String,
    pub to: String,
    /// By path; files and symlinks only.
    pub changes: Vec<ChangeItem>,
    /// Where the next page starts (also in `Link`); null on the last page.
    pub next_cursor: Option<String>,
}

/// Diff two revisions
///
/// What changed between `from` and `to` (either may be the older), files and symlinks only, by
/// path, paged; its cost follows what changed, not the size of the tree. Requires
/// `data.projects.read` and `data.runs.read`.
#[utoipa::path(
    tag = "v1 workspace",
    operation_id = "v1DiffWorkspaceRevisions",
    params(("project_id" = String, Path, description = "The project's id (UUID) or slug"), DiffParams),
    responses(
        (status = 200, body = DiffBody),
        (status = 400, description = "Invalid path", body = ErrorBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `data.projects.read` or `data.runs.read`", body = ErrorBody),
        (status = 404, description = "No such project or revision (`workspace_revisions.not_found`)", body = ErrorBody),
        (status = 422, description = "Missing `from`/`to`, a bad `limit` or `cursor`", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[get("/projects/{project_id}/workspace/diff")]
pub(super) async fn diff(
    auth: V1Auth<ReadRuns>,
    state: web::Data<HttpState>,
    request: HttpRequest,
    project_id: web::Path<String>,
) -> V1Result<HttpResponse> {
    let params: DiffParams = read_query(request.query_string())?;
    let principal = auth.principal;
    let project_id = project_id.into_inner();
    let Diff { from, to, changes, next_cursor } = state
        .run(move |app| async move {
            let DiffParams { from, to, path, limit, cursor } = params;
            app.diff(&principal, &project_id, &from, &to, path.as_deref(), limit, cursor.as_deref()).await
        })
        .await?;
    let body = DiffBody { from, to, changes: changes.iter().map(ChangeItem::from).collect(), next_cursor };
    Ok(ok_with_next(&request, body.next_cursor.as_deref()).json(body))
}

/// Roll back to a revision
///
/// Makes a NEW head whose tree equals `revision`'s; the history is kept. `If-Match: <head
/// revision>` (quoted or bare) makes a moved head a 412. Requires `data.runs.write`.
#[utoipa::path(
    tag = "v1 workspace",
    operation_id = "v1RestoreWorkspaceRevision",
    params(
        ("project_id" = String, Path, description = "The project's id (UUID) or slug"),
        ("revision" = String, Path, description = "The revision to restore"),
        ("If-Match" = Option<String>, Header, nullable = false, description = "The head this is based on"),
    ),
    responses(
        (status = 201, body = RevisionBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 402, description = "The project's spend has reached its budget (`billing.budget_exceeded`)", body = ErrorBody),
        (status = 403, description = "Missing `data.runs.write`, or an org quota is used up (`quota.exceeded`, `details {quota, limit, used}`)", body = ErrorBody),
        (status = 404, description = "No such project or revision (`workspace_revisions.not_found`)", body = ErrorBody),
        (status = 412, description = "The head moved (`workspace_files.precondition_failed`)", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[post("/projects/{project_id}/workspace/revisions/{revision}/restore")]
pub(super) async fn restore_revision(
    auth: V1Auth<WriteRuns>,
    state: web::Data<HttpState>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
) -> V1Result<HttpResponse> {
    let (project_id, revision) = path.into_inner();
    let if_match = if_match_revision(&request);
    let principal = auth.principal;
    let revision = state
        .run(move |app| async move { app.restore_revision(&principal, &project_id, &revision, if_match).await })
        .await?;
    Ok(HttpResponse::Created().json(RevisionBody { revision }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "op", rename_all = "lowercase", deny_unknown_fields)]
#[schema(as = v1::ChangeOp)]
pub enum ChangeOp {
    /// A file whose blob was uploaded first (`PUT …/workspace/blobs/{sha256}`).
    Put {
        #[schema(
            pattern = "^/?([^/\\x00-\\x1F\\x7F-\\x9F]*[^/\\s\\x00-\\x1F\\x7F-\\x9F]/)*[^/\\x00-\\x1F\\x7F-\\x9F]*[^/.\\s\\x00-\\x1F\\x7F-\\x9F][^/\\x00-\\x1F\\x7F-\\x9F]*$"
        )]
        path: String,
        #[schema(pattern = "^[0-9a-f]{64}$")]
        sha256: String,
        size: u64,
        mode: Option<u32>,
        mtime_unix_ms: Option<i64>,
    },
    /// The entry at `path` and everything below it (nothing there is no change).
    Delete {
        #[schema(
            pattern = "^/?([^/\\x00-\\x1F\\x7F-\\x9F]*[^/\\s\\x00-\\x1F\\x7F-\\x9F]/)*[^/\\x00-\\x1F\\x7F-\\x9F]*[^/.\\s\\x00-\\x1F\\x7F-\\x9F][^/\\x00-\\x1F\\x7F-\\x9F]*$"
        )]
        path: String,
    },
    /// The entry at `from` (and everything below it) to `path`.
    Move {
        #[schema(
            pattern = "^/?([^/\\x00-\\x1F\\x7F-\\x9F]*[^/\\s\\x00-\\x1F\\x7F-\\x9F]/)*[^/\\x00-\\x1F\\x7F-\\x9F]*[^/.\\s\\x00-\\x1F\\x7F-\\x9F][^/\\x00-\\x1F\\x7F-\\x9F]*$"
        )]
        from: String,
        #[schema(
            pattern = "^/?([^/\\x00-\\x1F\\x7F-\\x9F]*[^/\\s\\x00-\\x1F\\x7F-\\x9F]/)*[^/\\x00-\\x1F\\x7F-\\x9F]*[^/.\\s\\x00-\\x1F\\x7F-\\x9F][^/\\x00-\\x1F\\x7F-\\x9F]*$"
        )]
        path: String,
    },
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = v1::ChangeSet)]
pub struct ChangesRequest {
    /// The head this is based on; a head that moved meanwhile is a 412.
    pub base_revision: Option<String>,
    /// Shown in the revisions list (1–1000 characters; line breaks and tabs, no other control
    /// characters).
    #[schema(
        min_length = 1,
        max_length = 1000,
        pattern = "^[^\\x00-\\x08\\x0B-\\x1F\\x7F-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F][^\\x00-\\x08\\x0B-\\x1F\\x7F-\\x9F]*$"
    )]
    pub message: Option<String>,
    /// Applied in order, all or none.
    pub changes: Vec<ChangeOp>,
}

/// Commit a change set
///
/// Several puts, deletes and moves as ONE revision, without resending the tree; all or nothing.
/// A put names a blob uploaded first (missing → 422 naming it). Requires `data.runs.write`.
#[utoipa::path(
    tag = "v1 workspace",
    operation_id = "v1CommitWorkspaceChanges",
    params(("project_id" = String, Path, description = "The project's id (UUID) or slug")),
    request_body = ChangesRequest,
    responses(
        (status = 201, body = RevisionBody),
        (status = 400, description = "An invalid path, or a change the tree cannot take (below a file, over a full directory)", body = ErrorBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 402, description = "The project's spend has reached its budget (`billing.budget_exceeded`)", body = ErrorBody),
        (status = 403, description = "Missing `data.runs.write`, or an org quota is used up (`quota.exceeded`, `details {quota, limit, used}`)", body = ErrorBody),
        (status = 404, description = "No such project visible to the caller", body = ErrorBody),
        (status = 412, description = "`base_revision` is not the head", body = ErrorBody),
        (status = 422, description = "A missing blob, a wrong size, or a malformed change", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[post("/projects/{project_id}/workspace/changes")]
pub(super) async fn commit_changes(
    auth: V1Auth<WriteRuns>,
    state: web::Data<HttpState>,
    project_id: web::Path<String>,
    payload: JsonPayload,
) -> V1Result<HttpResponse> {
    let request: ChangesRequest = payload.read(64 * JSON_BODY_LIMIT).await?;
    let changes = request
        .changes
        .into_iter()
        .map(|op| match op {
            ChangeOp::Put { path, sha256, size, mode, mtime_unix_ms } => {
                ChangeInput::Put { path, sha256, size, mode, mtime_unix_ms }
            }
            ChangeOp::Delete { path } => ChangeInput::Delete { path },
            ChangeOp::Move { from, path } => ChangeInput::Move { from, path },
        })
        .collect();
    let principal = auth.principal;
    let project_id = project_id.into_inner();
    let revision = state
        .run(move |app| async move {
            app.apply_changes(&principal, &project_id, request.base_revision, request.message, changes).await
        })
        .await?;
    Ok(HttpResponse::Created().json(RevisionBody { revision }))
}

/// Is a blob uploaded?
///
/// 200 (with `Content-Length` the blob's size, no body) when this workspace holds it, else 404.
/// Requires `data.runs.read`.
#[utoipa::path(
    tag = "v1 workspace",
    operation_id = "v1HeadWorkspaceBlob",
    // The route's regex is every segment but `missing` (`…/blobs/missing` is its own resource,
    // POST only): a malformed SHA-256 still gets its 422. The document names the parameter only.
    path = "/projects/{project_id}/workspace/blobs/{sha256}",
    params(
        ("project_id" = String, Path, description = "The project's id (UUID) or slug"),
        ("sha256" = String, Path, description = "The SHA-256 of the content, lowercase hex"),
    ),
    responses(
        (status = 200, description = "Uploaded"),
        (status = 404, description = "Not uploaded, or no such project"),
        (status = 401, description = "No or bad credentials"),
        (status = 403, description = "Missing `data.runs.read`"),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[head("/projects/{project_id}/workspace/blobs/{sha256:[^/]{1,6}|[^/]{8,}|[^m/][^/]{6}|m[^i/][^/]{5}|mi[^s/][^/]{4}|mis[^s/][^/]{3}|miss[^i/][^/]{2}|missi[^n/][^/]|missin[^g/]}")]
pub(super) async fn head_blob(
    auth: V1Auth<ReadRuns>,
    state: web::Data<HttpState>,
    path: web::Path<(String, String)>,
) -> V1Result<HttpResponse> {
    let (project_id, sha256) = path.into_inner();
    let principal = auth.principal;
    let size = state.run(move |app| async move { app.blob_size(&principal, &project_id, &sha256).await }).await?;
    Ok(match size {
        Some(size) => HttpResponse::Ok().insert_header(("X-Blob-Size", size.to_string())).finish(),
        None => HttpResponse::NotFound().finish(),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = v1::BlobQuestion)]
pub struct MissingRequest {
    /// Up to 10,000 SHA-256s, lowercase hex.
    #[schema(max_items = 10000)]
    pub sha256: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = v1::BlobAnswer)]
pub struct MissingBody {
    /// Those not uploaded, in the order asked.
    pub missing: Vec<String>,
}

/// Which blobs are not uploaded?
///
/// Upload only what is new: of up to 10,000 SHA-256s, those this workspace lacks. Those it has
/// count as just used (the collector leaves them alone for its grace period). Requires
/// `data.runs.write`.
#[utoipa::path(
    tag = "v1 workspace",
    operation_id = "v1MissingWorkspaceBlobs",
    params(("project_id" = String, Path, description = "The project's id (UUID) or slug")),
    request_body = MissingRequest,
    responses(
        (status = 200, body = MissingBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `data.runs.write`", body = ErrorBody),
        (status = 404, description = "No such project visible to the caller", body = ErrorBody),
        (status = 422, description = "More than 10,000, or one that is not a SHA-256", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[post("/projects/{project_id}/workspace/blobs/missing")]
pub(super) async fn missing_blobs(
    auth: V1Auth<WriteRuns>,
    state: web::Data<HttpState>,
    project_id: web::Path<String>,
    payload: JsonPayload,
) -> V1Result<HttpResponse> {
    let request: MissingRequest = payload.read(JSON_BODY_LIMIT * 16).await?;
    let principal = auth.principal;
    let project_id = project_id.into_inner();
    let missing =
        state.run(move |app| async move { app.missing_blobs(&principal, &project_id, request.sha256).await }).await?;
    Ok(HttpResponse::Ok().json(MissingBody { missing }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ManifestParams {
    /// The revision to export (default: the head).
    pub revision: Option<String>,
}

/// The manifest document, for the OpenAPI description only (the body is streamed).
#[derive(ToSchema)]
#[schema(as = v1::Manifest)]
#[allow(dead_code)]
struct ManifestDoc {
    version: u32,
    revision: String,
    base_revision: Option<String>,
    created_at: time::OffsetDateTime,
    /// Every explicit entry, in path order (directories only implied by what is below them are
    /// left out, as Arkloop writes manifests).
    entries: Vec<super::snapshots::SnapshotEntry>,
    stats: StatsDoc,
}

#[derive(ToSchema)]
#[schema(as = v1::ManifestStats)]
#[allow(dead_code)]
struct StatsDoc {
    file_count: u64,
    dir_count: u64,
    total_bytes: u64,
}

/// The head of the manifest document up to its entries, and its end after them.
fn manifest_frame(revision: &Revision) -> Result<(String, String), serde_json::Error> {
    let created_at = revision.created_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    let open = format!(
        "{{\"version\":1,\"revision\":{},\"base_revision\":{},\"created_at\":{},\"entries\":[",
        serde_json::to_string(&revision.revision)?,
        serde_json::to_string(&revision.base_revision)?,
        serde_json::to_string(&created_at)?,
    );
    let close = format!("],\"stats\":{}}}", serde_json::to_string(&revision.stats)?);
    Ok((open, close))
}

/// Export a manifest
///
/// A revision's tree in the Arkloop manifest form (`{version, revision, base_revision,
/// created_at, entries, stats}`), streamed whatever its size. Requires `data.projects.read` and
/// `data.runs.read`.
#[utoipa::path(
    tag = "v1 workspace",
    operation_id = "v1ExportWorkspaceManifest",
    params(("project_id" = String, Path, description = "The project's id (UUID) or slug"), ManifestParams),
    responses(
        (status = 200, description = "The manifest", content_type = "application/json", body = ManifestDoc),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `data.projects.read` or `data.runs.read`", body = ErrorBody),
        (status = 404, description = "No such project, or no such revision (none yet, `workspace_revisions.not_found`)", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[get("/projects/{project_id}/workspace/manifest")]
pub(super) async fn export_manifest(
    auth: V1Auth<ReadRuns>,
    state: web::Data<HttpState>,
    request: HttpRequest,
    project_id: web::Path<String>,
) -> V1Result<HttpResponse> {
    let params: ManifestParams = read_query(request.query_string())?;
    let principal = auth.principal;
    let project_id = project_id.into_inner();
    let ManifestExport { revision, entries } = state
        .run(move |app| async move { app.export_manifest(&principal, &project_id, params.revision.as_deref()).await })
        .await?;
    let (open, close) = manifest_frame(&revision).map_err(|e| projects_app::AppError::Unexpected(e.into()))?;
    let mut first = true;
    let body = entries
        .map(move |page| {
            let page = page.map_err(|err| actix_web::error::ErrorInternalServerError(err.to_string()))?;
            let mut chunk = String::new();
            for entry in page {
                if !std::mem::take(&mut first) {
                    chunk.push(',');
                }
                let json = serde_json::to_string(&entry).map_err(actix_web::error::ErrorInternalServerError)?;
                chunk.push_str(&json);
            }
            Ok::<_, actix_web::Error>(Bytes::from(chunk))
        })
        .try_filter(|chunk| futures::future::ready(!chunk.is_empty()));
    let framed = futures::stream::once(async move { Ok(Bytes::from(open)) })
        .chain(body)
        .chain(futures::stream::once(async move { Ok(Bytes::from(close)) }));
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .streaming(framed))
}
