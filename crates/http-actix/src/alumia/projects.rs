//! `/api/v1/projects`.

use actix_web::http::header;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use projects_app::{IdempotencyKey, ProjectDetails};
use projects_domain::{
    without_nul, FieldError, NewProjectInput, Project, ProjectPatchInput, ProjectStatus, TeamId, Visibility,
};
use projects_ports::ProjectFilter;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{ok, AlumiaAuth, AlumiaResult, ErrorEnvelope};
use crate::auth::{ManageProjects, ReadProjects};
use crate::body::{double_option, page_request, parse_json, parse_json_or_default, read_query, JsonPayload};
use crate::headers::{expected_version, idempotency_key, project_etag};
use crate::v1::projects::DuplicateProjectRequest;
use crate::{HttpState, JSON_BODY_LIMIT};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_projects)
        .service(create_project)
        .service(get_project)
        .service(update_project)
        .service(delete_project)
        .service(duplicate_project);
}

/// Visibility as Alumia names it: `team` (everyone in the workspace) or `private` (creator only).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = alumia::Visibility)]
pub enum AlumiaVisibility {
    Team,
    Private,
}

impl From<AlumiaVisibility> for Visibility {
    fn from(visibility: AlumiaVisibility) -> Self {
        match visibility {
            AlumiaVisibility::Team => Visibility::Shared,
            AlumiaVisibility::Private => Visibility::Private,
        }
    }
}

impl From<Visibility> for AlumiaVisibility {
    fn from(visibility: Visibility) -> Self {
        match visibility {
            Visibility::Shared => AlumiaVisibility::Team,
            Visibility::Private => AlumiaVisibility::Private,
        }
    }
}

/// A project's status.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = alumia::Status)]
pub enum AlumiaStatus {
    Active,
    Archived,
    Completed,
}

impl From<AlumiaStatus> for ProjectStatus {
    fn from(status: AlumiaStatus) -> Self {
        match status {
            AlumiaStatus::Active => ProjectStatus::Active,
            AlumiaStatus::Archived => ProjectStatus::Archived,
            AlumiaStatus::Completed => ProjectStatus::Completed,
        }
    }
}

impl From<ProjectStatus> for AlumiaStatus {
    fn from(status: ProjectStatus) -> Self {
        match status {
            ProjectStatus::Active => AlumiaStatus::Active,
            ProjectStatus::Archived => AlumiaStatus::Archived,
            ProjectStatus::Completed => AlumiaStatus::Completed,
        }
    }
}

/// The project record.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = alumia::Project)]
pub struct ProjectRecordBody {
    pub id: Uuid,
    pub org_id: Uuid,
    /// The project's primary workspace (team); null when it belongs to the whole org.
    pub workspace_id: Option<Uuid>,
    /// Its creator.
    pub user_id: Uuid,
    pub name: String,
    pub slug: String,
    pub description: Option<String>,
    pub prompt: Option<String>,
    pub emoji: Option<String>,
    pub visibility: AlumiaVisibility,
    pub status: AlumiaStatus,
    pub tags: Vec<String>,
    #[schema(schema_with = crate::schemas::object)]
    pub metadata: Value,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: time::OffsetDateTime,
    /// Spend at or over this (a decimal string) stops new sessions and workspace writes
    /// (`PAYMENT_REQUIRED`); null: no budget.
    #[schema(example = "25")]
    pub budget_usd: Option<String>,
}

impl From<&Project> for ProjectRecordBody {
    fn from(project: &Project) -> Self {
        ProjectRecordBody {
            id: project.id.as_uuid(),
            org_id: project.org_id.as_uuid(),
            workspace_id: project.team_id.map(|t| t.as_uuid()),
            user_id: project.owner_user_id.as_uuid(),
            name: project.name.as_str().to_owned(),
            slug: project.slug.as_str().to_owned(),
            description: project.description.as_ref().map(|d| d.as_str().to_owned()),
            prompt: project.prompt.as_ref().map(|p| p.as_str().to_owned()),
            emoji: project.emoji.as_ref().map(|e| e.as_str().to_owned()),
            visibility: project.visibility.into(),
            status: project.status.into(),
            tags: project.tags.as_slice().to_vec(),
            metadata: project.metadata.to_value(),
            created_at: project.created_at,
            updated_at: project.updated_at,
            budget_usd: project.budget.map(|budget| budget.to_string()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = alumia::WorkspaceRef)]
pub struct WorkspaceRef {
    pub id: Uuid,
    pub name: String,
}

/// The record plus spend and the workspaces it is shared into.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = alumia::ProjectDetails)]
pub struct ProjectDetailsBody {
    #[serde(flatten)]
    pub record: ProjectRecordBody,
    /// Total usage cost in US dollars, written from the exact stored decimal.
    #[schema(value_type = f64, example = 12.5)]
    pub spend: Box<RawValue>,
    /// Workspaces this project is linked into beyond its primary one.
    pub shared_workspaces: Vec<WorkspaceRef>,
}

impl From<&ProjectDetails> for ProjectDetailsBody {
    fn from(details: &ProjectDetails) -> Self {
        ProjectDetailsBody {
            record: ProjectRecordBody::from(&details.stored.project),
            spend: RawValue::from_string(details.spend.to_string()).expect("a decimal is a JSON number"),
            shared_workspaces: details
                .shared_teams
                .iter()
                .map(|t| WorkspaceRef { id: t.id.as_uuid(), name: t.name.clone() })
                .collect(),
        }
    }
}

/// One page of projects, as the real Alumia API pages its lists.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = alumia::ProjectPage)]
pub struct ProjectPage {
    pub items: Vec<ProjectRecordBody>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
    pub has_more: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = alumia::ProjectList)]
pub struct ProjectListBody {
    /// Always `true`.
    pub success: bool,
    pub data: ProjectPage,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = alumia::ProjectResponse)]
pub struct ProjectEnvelope {
    /// Always `true`.
    pub success: bool,
    pub data: ProjectRecordBody,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = alumia::ProjectDetailsResponse)]
pub struct ProjectDetailsEnvelope {
    /// Always `true`.
    pub success: bool,
    pub data: ProjectDetailsBody,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = alumia::Deleted)]
pub struct Deleted {
    pub deleted: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = alumia::DeletedResponse, example = json!({"success": true, "data": {"deleted": true}}))]
pub struct DeletedEnvelope {
    pub success: bool,
    pub data: Deleted,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ListProjectsQuery {
    /// Only projects of this workspace (team), including those shared into it.
    #[param(value_type = Option<Uuid>)]
    pub workspace_id: Option<String>,
    /// `active`, `archived` or `completed`.
    #[param(value_type = Option<AlumiaStatus>)]
    pub status: Option<String>,
    /// Only projects with this tag (no NUL).
    #[param(pattern = "^[^\\x00]*$")]
    pub tag: Option<String>,
    /// Case-insensitive text in the name or description (no NUL).
    #[param(pattern = "^[^\\x00]*$")]
    pub q: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// `data.nextCursor` of the previous page.
    #[param(pattern = "^([0-9]{1,17}\\.[0-9a-f]{32})?$")]
    pub cursor: Option<String>,
}

impl ListProjectsQuery {
    fn filter(&self) -> Result<ProjectFilter, FieldError> {
        let team_id = self
            .workspace_id
            .as_deref()
            .map(|raw| {
                Uuid::try_parse(raw)
                    .map(TeamId::from_uuid)
                    .map_err(|_| FieldError::new("workspaceId", "must be a workspace id"))
            })
            .transpose()?;
        let status = self.status.as_deref().map(str::parse::<ProjectStatus>).transpose()?;
        let nonblank = |field, s: &Option<String>| -> Result<Option<String>, FieldError> {
            let text = s.as_deref().map(str::trim).filter(|s| !s.is_empty());
            Ok(text.map(|text| without_nul(field, text)).transpose()?.map(str::to_owned))
        };
        Ok(ProjectFilter { team_id, status, tag: nonblank("tag", &self.tag)?, text: nonblank("q", &self.q)? })
    }
}

/// List projects
///
/// Non-deleted projects of the caller's org that the caller may see (workspace and visibility),
/// newest first. Requires `data.projects.read`.
#[utoipa::path(
    tag = "alumia projects",
    operation_id = "alumiaListProjects",
    params(ListProjectsQuery),
    responses(
        (status = 200, description = "One page", body = ProjectListBody),
        (status = 400, description = "Bad filter, `limit` or `cursor`", body = ErrorEnvelope),
        (status = 401, description = "No valid key", body = ErrorEnvelope),
        (status = 403, description = "Missing `data.projects.read`", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[get("/projects")]
async fn list_projects(
    auth: AlumiaAuth<ReadProjects>,
    state: web::Data<HttpState>,
    request: HttpRequest,
) -> AlumiaResult<HttpResponse> {
    let query: ListProjectsQuery = read_query(request.query_string())?;
    let filter = query.filter()?;
    let page = page_request(query.limit.as_deref(), query.cursor.as_deref())?;
    let principal = auth.principal;
    let result = state.run(move |app| async move { app.list_projects(&principal, &filter, page).await }).await?;
    let data = ProjectPage {
        items: result.items.iter().map(ProjectRecordBody::from).collect(),
        has_more: result.next.is_some(),
        next_cursor: result.next.map(|c| c.encode()),
    };
    Ok(HttpResponse::Ok().json(ProjectListBody { success: true, data }))
}

/// Create a project.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = alumia::CreateProject, example = json!({"name": "Q3 launch", "visibility": "team"}))]
pub struct CreateProjectRequest {
    /// 1–255 characters, no control characters. If omitted, a name is generated from the description.
    #[schema(min_length = 1, max_length = 255, pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*$")]
    pub name: Option<String>,
    /// Up to 5,000 characters. One of name and description is required.
    #[schema(max_length = 5000, pattern = "^[^\\x00]*$")]
    pub description: Option<String>,
    /// Project-wide system prompt, up to 12,000 characters.
    #[schema(max_length = 12000, pattern = "^[^\\x00]*$")]
    pub prompt: Option<String>,
    /// Up to 16 characters.
    #[schema(max_length = 16, pattern = "^[^\\x00]*$")]
    pub emoji: Option<String>,
    /// Defaults to the user's `defaultProjectVisibility`, then `team`.
    pub visibility: Option<AlumiaVisibility>,
    /// The workspace (team) to link it to; defaults to the caller's active one.
    pub workspace_id: Option<Uuid>,
    /// Up to 30 tags of up to 80 characters.
    #[schema(schema_with = crate::schemas::tags_or_null)]
    pub tags: Option<Vec<String>>,
    /// A JSON object of at most 32 KB and 12 levels.
    #[schema(schema_with = crate::schemas::object_or_null)]
    pub metadata: Option<Value>,
    /// Derived from the name when absent; taken → 409.
    #[schema(max_length = 100, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub slug: Option<String>,
}

/// Create a project
///
/// Requires `data.projects.manage`. When only a description is given, the name is generated
/// (by the configured LLM, else from the description; `Untitled project` when that fails).
#[utoipa::path(
    tag = "alumia projects",
    operation_id = "alumiaCreateProject",
    params(("Idempotency-Key" = Option<String>, Header, nullable = false, min_length = 1, max_length = 255, pattern = "^[\\x21-\\x7E]+$", description = "Repeat the same request with the same key within 24 h to get the first project back")),
    request_body = CreateProjectRequest,
    responses(
        (status = 201, description = "Created", body = ProjectEnvelope),
        (status = 400, description = "Missing name and description, an oversized field, bad visibility, metadata too large or deep", body = ErrorEnvelope),
        (status = 401, description = "No valid key", body = ErrorEnvelope),
        (status = 403, description = "Missing `data.projects.manage`, or an org quota is used up (`quota.exceeded`, `details {quota, limit, used}`)", body = ErrorEnvelope),
        (status = 409, description = "Slug taken, or `Idempotency-Key` reused with another body", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[post("/projects")]
async fn create_project(
    auth: AlumiaAuth<ManageProjects>,
    state: web::Data<HttpState>,
    http: HttpRequest,
    payload: JsonPayload,
) -> AlumiaResult<HttpResponse> {
    let body = payload.read_bytes(JSON_BODY_LIMIT).await?;
    let request: CreateProjectRequest = parse_json(&body)?;
    let idempotency = idempotency_key(&http)?.map(|key| IdempotencyKey {
        scope: "api.projects.create",
        key,
        request_body: body.to_vec(),
    });
    let principal = auth.principal;
    let input = NewProjectInput {
        name: request.name,
        slug: request.slug,
        description: request.description,
        prompt: request.prompt,
        emoji: request.emoji,
        visibility: request.visibility.map(Into::into),
        team_id: request.workspace_id.map(TeamId::from_uuid).or(principal.user.active_team_id),
        tags: request.tags,
        metadata: request.metadata,
    };
    let project = state
        .run(move |app| async move { app.create_project(&principal, input, Visibility::Shared, idempotency).await })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/projects/{}", project.id)))
        .insert_header(header::ETag(project_etag(&project)))
        .json(ok(ProjectRecordBody::from(&project))))
}

/// Duplicate a project
///
/// A new project with the source's fields, named `name` or `<name> (copy)`, with a slug of its
/// own; the caller's workspace of the copy starts at the tree of the caller's workspace of the
/// source (blobs copied inside the blob store). Requires `data.projects.manage` and
/// `data.runs.read`. The body may be empty.
#[utoipa::path(
    tag = "alumia projects",
    operation_id = "alumiaDuplicateProject",
    params(("id" = String, Path, description = "The project's UUID or slug")),
    request_body(content = Option<DuplicateProjectRequest>, content_type = "application/json"),
    responses(
        (status = 201, description = "The new project", body = ProjectEnvelope),
        (status = 400, description = "A bad name", body = ErrorEnvelope),
        (status = 401, description = "No valid key", body = ErrorEnvelope),
        (status = 403, description = "Missing a scope, or an org quota is used up (`quota.exceeded`, `details {quota, limit, used}`)", body = ErrorEnvelope),
        (status = 404, description = "Missing, deleted, or invisible to the caller", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[post("/projects/{id}/duplicate")]
async fn duplicate_project(
    auth: AlumiaAuth<ManageProjects>,
    state: web::Data<HttpState>,
    id: web::Path<String>,
    payload: JsonPayload,
) -> AlumiaResult<HttpResponse> {
    let body = payload.read_bytes(JSON_BODY_LIMIT).await?;
    let request: DuplicateProjectRequest = parse_json_or_default(&body)?;
    let principal = auth.principal;
    let id = id.into_inner();
    let project = state
        .run(move |app| async move { app.duplicate_project(&principal, &id, request.name, Visibility::Shared).await })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/projects/{}", project.id)))
        .insert_header(header::ETag(project_etag(&project)))
        .json(ok(ProjectRecordBody::from(&project))))
}

/// Get a project
///
/// By UUID or slug: the record plus `spend` and `sharedWorkspaces`. Requires `data.projects.read`.
#[utoipa::path(
    tag = "alumia projects",
    operation_id = "alumiaGetProject",
    params(("id" = String, Path, description = "The project's UUID or slug")),
    responses(
        (status = 200, description = "The project", body = ProjectDetailsEnvelope),
        (status = 401, description = "No valid key", body = ErrorEnvelope),
        (status = 403, description = "Missing `data.projects.read`", body = ErrorEnvelope),
        (status = 404, description = "Missing, deleted, or invisible to the caller", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[get("/projects/{id}")]
async fn get_project(
    auth: AlumiaAuth<ReadProjects>,
    state: web::Data<HttpState>,
    id: web::Path<String>,
) -> AlumiaResult<HttpResponse> {
    let principal = auth.principal;
    let id = id.into_inner();
    let details = state.run(move |app| async move { app.get_project_details(&principal, &id).await }).await?;
    Ok(HttpResponse::Ok()
        .insert_header(header::ETag(project_etag(&details.stored.project)))
        .json(ok(ProjectDetailsBody::from(&details))))
}

/// Update project fields: any subset.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = alumia::UpdateProject, example = json!({"status": "archived", "tags": ["q3"]}))]
pub struct UpdateProjectRequest {
    /// 1–255 characters, no control characters.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, required = false, min_length = 1, max_length = 255, pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*$")]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, required = false, max_length = 100, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub slug: Option<Option<String>>,
    /// Up to 5,000 characters; null clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 5000, pattern = "^[^\\x00]*$")]
    pub description: Option<Option<String>>,
    /// Up to 12,000 characters; null clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 12000, pattern = "^[^\\x00]*$")]
    pub prompt: Option<Option<String>>,
    /// Up to 16 characters; null clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 16, pattern = "^[^\\x00]*$")]
    pub emoji: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = AlumiaStatus, required = false)]
    pub status: Option<Option<AlumiaStatus>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = AlumiaVisibility, required = false)]
    pub visibility: Option<Option<AlumiaVisibility>>,
    /// Replaces every tag.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = crate::schemas::tags, required = false)]
    pub tags: Option<Option<Vec<String>>>,
    /// Replaces the whole object.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = crate::schemas::object, required = false)]
    pub metadata: Option<Option<Value>>,
    /// The spend budget in dollars (`"25"`, `"0.5"`), or null for none; org owners and admins
    /// only (403 otherwise).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, pattern = "^[0-9]{1,9}(\\.[0-9]{1,9})?$", example = "25")]
    pub budget_usd: Option<Option<String>>,
}

impl From<UpdateProjectRequest> for ProjectPatchInput {
    fn from(request: UpdateProjectRequest) -> Self {
        ProjectPatchInput {
            name: request.name,
            slug: request.slug,
            description: request.description,
            prompt: request.prompt,
            emoji: request.emoji,
            status: request.status.map(|s| s.map(Into::into)),
            visibility: request.visibility.map(|v| v.map(Into::into)),
            tags: request.tags,
            metadata: request.metadata,
            budget_usd: request.budget_usd,
        }
    }
}

/// Update a project
///
/// Any subset of the fields, with the limits of create. Renaming keeps the id, the files and the
/// slug (change the slug explicitly). `If-Match` with the `ETag` of a read refuses stale writes.
#[utoipa::path(
    tag = "alumia projects",
    operation_id = "alumiaUpdateProject",
    params(
        ("id" = String, Path, description = "The project's UUID or slug"),
        ("If-Match" = Option<String>, Header, nullable = false, description = "The ETag last read"),
    ),
    request_body = UpdateProjectRequest,
    responses(
        (status = 200, description = "The updated record", body = ProjectEnvelope),
        (status = 400, description = "Invalid field", body = ErrorEnvelope),
        (status = 401, description = "No valid key", body = ErrorEnvelope),
        (status = 403, description = "Missing `data.projects.manage`", body = ErrorEnvelope),
        (status = 404, description = "Missing, deleted, or invisible to the caller", body = ErrorEnvelope),
        (status = 409, description = "Slug taken", body = ErrorEnvelope),
        (status = 412, description = "Stale `If-Match`", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[patch("/projects/{id}")]
async fn update_project(
    auth: AlumiaAuth<ManageProjects>,
    state: web::Data<HttpState>,
    http: HttpRequest,
    id: web::Path<String>,
    payload: JsonPayload,
) -> AlumiaResult<HttpResponse> {
    let request: UpdateProjectRequest = payload.read(JSON_BODY_LIMIT).await?;
    let id = id.into_inner();
    let expected = expected_version(http.headers(), &id);
    let principal = auth.principal;
    let project = state
        .run(move |app| async move { app.update_project(&principal, &id, request.into(), expected).await })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(header::ETag(project_etag(&project)))
        .json(ok(ProjectRecordBody::from(&project))))
}

/// Delete a project
///
/// Soft-deletes the project, its folder tree and project-owned records, in one transaction.
#[utoipa::path(
    tag = "alumia projects",
    operation_id = "alumiaDeleteProject",
    params(("id" = String, Path, description = "The project's UUID or slug")),
    responses(
        (status = 200, description = "Deleted", body = DeletedEnvelope),
        (status = 401, description = "No valid key", body = ErrorEnvelope),
        (status = 403, description = "Missing `data.projects.manage`, or neither its creator nor an admin", body = ErrorEnvelope),
        (status = 404, description = "Missing, deleted, or invisible to the caller", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[delete("/projects/{id}")]
async fn delete_project(
    auth: AlumiaAuth<ManageProjects>,
    state: web::Data<HttpState>,
    id: web::Path<String>,
) -> AlumiaResult<HttpResponse> {
    let principal = auth.principal;
    let id = id.into_inner();
    state.run(move |app| async move { app.delete_project(&principal, &id).await }).await?;
    Ok(HttpResponse::Ok().json(DeletedEnvelope { success: true, data: Deleted { deleted: true } }))
}
