//! The caller's workspace and the sessions working in it.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use projects_app::WorkspaceView;
use projects_ports::Session;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::super::{ErrorBody, V1Auth, V1Result};
use crate::auth::{ReadProjects, ReadRuns, WriteRuns};
use crate::body::{read_query, JsonPayload};
use crate::paging::{page_response, PageQuery};
use crate::{HttpState, JSON_BODY_LIMIT};

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
    pub created_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_used_at: time::OffsetDateTime,
}

impl From<&Session> for SessionBody {
    fn from(s: &Session) -> Self {
        SessionBody {
            session_ref: s.session_ref.clone(),
            session_type: s.session_type.as_str().to_owned(),
            state: s.state.as_str().to_owned(),
            created_at: s.created_at,
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
pub(super) async fn get_workspace(
    auth: V1Auth<ReadProjects>,
    state: web::Data<HttpState>,
    project_id: web::Path<String>,
) -> V1Result<HttpResponse> {
    let principal = auth.principal;
    let project_id = project_id.into_inner();
    let view = state.run(move |app| async move { app.get_workspace(&principal, &project_id).await }).await?;
    Ok(HttpResponse::Ok().json(WorkspaceBody::from(&view)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = v1::OpenSession, example = json!({"session_type": "shell"}))]
pub struct OpenSessionRequest {
    /// `shell` or `browser`.
    #[schema(schema_with = crate::schemas::session_type)]
    pub session_type: String,
}

/// Which sessions (the page is a [`PageQuery`] of the same query string).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionStateQuery {
    /// Only sessions in this state.
    #[param(value_type = Option<String>, pattern = "^(ready|busy|closed)$")]
    pub state: Option<String>,
}

/// List sessions
///
/// The sessions of the caller's workspace, newest first, closed ones included unless `state`
/// says otherwise. Requires `data.runs.read`. A workspace never written to has none (200, `[]`).
#[utoipa::path(
    tag = "v1 workspace",
    operation_id = "v1ListSessions",
    params(("project_id" = String, Path, description = "The project's id (UUID) or slug"), SessionStateQuery, PageQuery),
    responses(
        (status = 200, description = "One page of sessions, newest first", body = [SessionBody],
            headers(("Link" = String, description = "`<…&cursor=…>; rel=\"next\"` when there are more"))),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `data.runs.read`", body = ErrorBody),
        (status = 404, description = "No such project visible to the caller", body = ErrorBody),
        (status = 422, description = "Bad `state`, `limit` or `cursor`", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[get("/projects/{project_id}/workspace/sessions")]
pub(super) async fn list_sessions(
    auth: V1Auth<ReadRuns>,
    state: web::Data<HttpState>,
    project_id: web::Path<String>,
    request: HttpRequest,
) -> V1Result<HttpResponse> {
    let query: SessionStateQuery = read_query(request.query_string())?;
    let page = read_query::<PageQuery>(request.query_string())?.page()?;
    let principal = auth.principal;
    let project_id = project_id.into_inner();
    let sessions = state
        .run(move |app| async move { app.list_sessions(&principal, &project_id, query.state.as_deref(), page).await })
        .await?;
    Ok(page_response(&request, &sessions, SessionBody::from))
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
        (status = 402, description = "The project's spend has reached its budget (`billing.budget_exceeded`)", body = ErrorBody),
        (status = 403, description = "Missing `data.runs.write`", body = ErrorBody),
        (status = 404, description = "No such project visible to the caller", body = ErrorBody),
        (status = 422, description = "Unknown session type", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[post("/projects/{project_id}/workspace/sessions")]
pub(super) async fn open_session(
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
pub(super) async fn touch_session(
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
pub(super) async fn close_session(
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
