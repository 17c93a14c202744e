//! Blobs uploaded by SHA-256, and whole trees published at once.

use actix_web::{post, put, web, HttpRequest, HttpResponse};
use projects_domain::ManifestEntry;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::super::{ErrorBody, V1Auth, V1Result};
use crate::auth::WriteRuns;
use crate::body::JsonPayload;
use crate::{HttpState, JSON_BODY_LIMIT};

use super::upload::file_body;

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
    // The route's regex is every segment but `missing` (`…/blobs/missing` is its own resource,
    // POST only): a malformed SHA-256 still gets its 422. The document names the parameter only.
    path = "/projects/{project_id}/workspace/blobs/{sha256}",
    params(
        ("project_id" = String, Path, description = "The project's id (UUID) or slug"),
        ("sha256" = String, Path, pattern = "^[0-9a-f]{64}$", description = "The SHA-256 of the body, lowercase hex"),
    ),
    request_body(content = inline(crate::schemas::Bytes), content_type = "application/octet-stream"),
    responses(
        (status = 201, body = BlobBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 402, description = "The project's spend has reached its budget (`billing.budget_exceeded`)", body = ErrorBody),
        (status = 403, description = "Missing `data.runs.write`, or an org quota is used up (`quota.exceeded`, `details {quota, limit, used}`)", body = ErrorBody),
        (status = 404, description = "No such project visible to the caller", body = ErrorBody),
        (status = 413, description = "Body over the upload limit", body = ErrorBody),
        (status = 422, description = "The body does not hash to `sha256`", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[put("/projects/{project_id}/workspace/blobs/{sha256:[^/]{1,6}|[^/]{8,}|[^m/][^/]{6}|m[^i/][^/]{5}|mi[^s/][^/]{4}|mis[^s/][^/]{3}|miss[^i/][^/]{2}|missi[^n/][^/]|missin[^g/]}")]
pub(super) async fn upload_blob(
    auth: V1Auth<WriteRuns>,
    state: web::Data<HttpState>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> V1Result<HttpResponse> {
    let (project_id, sha256) = path.into_inner();
    let body = file_body(&request, payload, &state)?;
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
pub(super) struct SnapshotEntry {
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
    /// Not part of the tree (a deletion sent with the rest); default false.
    #[schema(nullable = false)]
    deleted: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = v1::SnapshotCommitted)]
pub struct RevisionBody {
    pub revision: String,
}

/// Commit a snapshot
///
/// Publishes a whole tree as the workspace's next revision in one step. Paths may be relative or
/// absolute; an entry with `"deleted": true` is left out. Every file's blob must have been
/// uploaded, with the size the entry says (else 422). Requires `data.runs.write`.
#[utoipa::path(
    tag = "v1 workspace",
    operation_id = "v1CommitSnapshot",
    params(("project_id" = String, Path, description = "The project's id (UUID) or slug")),
    request_body = SnapshotRequest,
    responses(
        (status = 201, body = RevisionBody),
        (status = 400, description = "A path that is invalid or not canonical", body = ErrorBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 402, description = "The project's spend has reached its budget (`billing.budget_exceeded`)", body = ErrorBody),
        (status = 403, description = "Missing `data.runs.write`, or an org quota is used up (`quota.exceeded`, `details {quota, limit, used}`)", body = ErrorBody),
        (status = 404, description = "No such project visible to the caller", body = ErrorBody),
        (status = 412, description = "`base_revision` is not the head", body = ErrorBody),
        (status = 422, description = "Invalid entries or a missing blob", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[post("/projects/{project_id}/workspace/snapshots")]
pub(super) async fn commit_snapshot(
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
