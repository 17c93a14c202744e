//! `/v1/projects`.

use actix_web::http::header;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use projects_app::{IdempotencyKey, UsageInput};
use projects_domain::{
    AuditEvent, NewProjectInput, Project, ProjectPatchInput, ProjectStatus, TeamId, UsageRecord, Visibility,
};
use projects_ports::ProjectFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{ErrorBody, V1Auth, V1Result};
use crate::auth::{ManageMembers, ManageProjects, ReadProjects, WriteUsage};
use crate::body::{double_option, page_request, parse_json, parse_json_or_default, read_query, JsonPayload};
use crate::headers::{expected_version, idempotency_key, project_etag};
use crate::{HttpState, JSON_BODY_LIMIT};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_project)
        .service(list_projects)
        .service(get_project)
        .service(update_project)
        .service(delete_project)
        .service(restore_project)
        .service(duplicate_project)
        .service(record_usage)
        .service(list_audit_events);
}

/// Visibility as `/v1` accepts it: `team` and `org` are aliases of `shared`, as real Arkloop
/// clients send them.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = v1::VisibilityInput)]
pub enum VisibilityInput {
    Private,
    Shared,
    Team,
    Org,
}

impl From<VisibilityInput> for Visibility {
    fn from(input: VisibilityInput) -> Self {
        match input {
            VisibilityInput::Private => Visibility::Private,
            VisibilityInput::Shared | VisibilityInput::Team | VisibilityInput::Org => Visibility::Shared,
        }
    }
}

/// Create a project.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = v1::CreateProject, example = json!({"name": "Legal Counsel Project", "description": "...", "visibility": "private"}))]
pub struct CreateProjectRequest {
    /// 1–255 characters, no control characters.
    #[schema(min_length = 1, max_length = 255, pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*$")]
    pub name: String,
    /// Up to 5,000 characters.
    #[schema(max_length = 5000, pattern = "^[^\\x00]*$")]
    pub description: Option<String>,
    /// The team the project belongs to; none means the whole org.
    pub team_id: Option<Uuid>,
    /// `private` (the default unless the caller set another) or `shared`.
    pub visibility: Option<VisibilityInput>,
    /// Lowercase letters, digits and hyphens; derived from the name when absent. Taken → 409.
    #[schema(max_length = 100, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub slug: Option<String>,
}

impl From<CreateProjectRequest> for NewProjectInput {
    fn from(request: CreateProjectRequest) -> Self {
        NewProjectInput {
            name: Some(request.name),
            slug: request.slug,
            description: request.description,
            visibility: request.visibility.map(Into::into),
            team_id: request.team_id.map(TeamId::from_uuid),
            ..NewProjectInput::default()
        }
    }
}

/// A project, as `/v1` shows it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = v1::Project, example = json!({
    "id": "0193a5b0-7e1c-7c3e-9f4a-2b8d6c1e5f70",
    "org_id": "0193a5b0-7e1c-7c3e-9f4a-2b8d6c1e5f71",
    "team_id": null,
    "owner_user_id": "0193a5b0-7e1c-7c3e-9f4a-2b8d6c1e5f72",
    "name": "Legal Counsel Project",
    "slug": "legal-counsel-project",
    "description": "...",
    "visibility": "private",
    "status": "active",
    "created_at": "2024-01-01T00:00:00Z",
    "updated_at": "2024-01-01T00:00:00Z"
}))]
pub struct ProjectBody {
    pub id: Uuid,
    pub org_id: Uuid,
    pub team_id: Option<Uuid>,
    pub owner_user_id: Uuid,
    pub name: String,
    pub slug: String,
    pub description: Option<String>,
    /// `private` or `shared`.
    #[schema(value_type = String, example = "private")]
    pub visibility: &'static str,
    /// `active`, `archived` or `completed`.
    #[schema(value_type = String, example = "active")]
    pub status: &'static str,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: time::OffsetDateTime,
    /// Spend at or over this (a decimal string, like `cost_usd`) stops new sessions and
    /// workspace writes (402); null: no budget.
    #[schema(example = "25")]
    pub budget_usd: Option<String>,
}

impl From<&Project> for ProjectBody {
    fn from(project: &Project) -> Self {
        ProjectBody {
            id: project.id.as_uuid(),
            org_id: project.org_id.as_uuid(),
            team_id: project.team_id.map(|t| t.as_uuid()),
            owner_user_id: project.owner_user_id.as_uuid(),
            name: project.name.as_str().to_owned(),
            slug: project.slug.as_str().to_owned(),
            description: project.description.as_ref().map(|d| d.as_str().to_owned()),
            visibility: project.visibility.as_str(),
            status: status_name(project.status),
            created_at: project.created_at,
            updated_at: project.updated_at,
            budget_usd: project.budget.map(|budget| budget.to_string()),
        }
    }
}

fn status_name(status: ProjectStatus) -> &'static str {
    status.as_str()
}

/// Create a project
///
/// Requires `data.projects.manage`. The caller becomes the owner. Honours nothing but the listed
/// fields: any other field is a 422.
#[utoipa::path(
    tag = "v1 projects",
    operation_id = "v1CreateProject",
    request_body = CreateProjectRequest,
    params(("Idempotency-Key" = Option<String>, Header, nullable = false, min_length = 1, max_length = 255, pattern = "^[\\x21-\\x7E]+$", description = "Repeat the same request with the same key within 24 h to get the first project back")),
    responses(
        (status = 201, description = "Created", body = ProjectBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `data.projects.manage`, or an org quota is used up (`quota.exceeded`, `details {quota, limit, used}`)", body = ErrorBody),
        (status = 409, description = "Explicit slug already taken, or `Idempotency-Key` reused with another body (`projects.conflict`)", body = ErrorBody),
        (status = 413, description = "Body over 1 MiB", body = ErrorBody),
        (status = 422, description = "Invalid body (`validation.error`, `details` names each field)", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[post("/projects")]
async fn create_project(
    auth: V1Auth<ManageProjects>,
    state: web::Data<HttpState>,
    http: HttpRequest,
    payload: JsonPayload,
) -> V1Result<HttpResponse> {
    let body = payload.read_bytes(JSON_BODY_LIMIT).await?;
    let request: CreateProjectRequest = parse_json(&body)?;
    let idempotency = idempotency_key(&http)?.map(|key| IdempotencyKey {
        scope: "v1.projects.create",
        key,
        request_body: body.to_vec(),
    });
    let principal = auth.principal;
    let project = state
        .run(move |app| async move {
            app.create_project(&principal, request.into(), Visibility::Private, idempotency).await
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/projects/{}", project.id)))
        .insert_header(header::ETag(project_etag(&project)))
        .json(ProjectBody::from(&project)))
}

/// Paging of `GET /v1/projects`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListProjectsQuery {
    /// Page size, 1–200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// Where to continue: the `cursor` of the previous page's `Link: rel="next"`.
    #[param(pattern = "^([0-9]{1,17}\\.[0-9a-f]{32})?$")]
    pub cursor: Option<String>,
}

/// List projects
///
/// The projects of the caller's org that the caller may see, newest first, as a bare array.
/// Requires `data.projects.read`. When there are more, a `Link: <…>; rel="next"` header points
/// at the next page.
#[utoipa::path(
    tag = "v1 projects",
    operation_id = "v1ListProjects",
    params(ListProjectsQuery),
    responses(
        (status = 200, description = "One page of visible projects", body = [ProjectBody],
            headers(("Link" = String, description = "`</v1/projects?limit=…&cursor=…>; rel=\"next\"` when there are more"))),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `data.projects.read`", body = ErrorBody),
        (status = 422, description = "Bad `limit` or `cursor`", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[get("/projects")]
async fn list_projects(
    auth: V1Auth<ReadProjects>,
    state: web::Data<HttpState>,
    request: HttpRequest,
) -> V1Result<HttpResponse> {
    let query: ListProjectsQuery = read_query(request.query_string())?;
    let page = page_request(query.limit.as_deref(), query.cursor.as_deref())?;
    let principal = auth.principal;
    let page_result = state
        .run(move |app| async move { app.list_projects(&principal, &ProjectFilter::default(), page).await })
        .await?;
    let mut response = HttpResponse::Ok();
    if let Some(next) = page_result.next {
        let link = format!("</v1/projects?limit={}&cursor={}>; rel=\"next\"", page.limit, next.encode());
        response.insert_header((header::LINK, link));
    }
    Ok(response.json(page_result.items.iter().map(ProjectBody::from).collect::<Vec<_>>()))
}

/// Get a project
///
/// By id or slug. Requires `data.projects.read`. A project that does not exist, was deleted,
/// belongs to another org or is not visible to the caller is the same 404.
#[utoipa::path(
    tag = "v1 projects",
    operation_id = "v1GetProject",
    params(("project_id" = String, Path, description = "The project's id (UUID) or slug")),
    responses(
        (status = 200, description = "The project", body = ProjectBody,
            headers(("ETag" = String, description = "Changes whenever the project does"))),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `data.projects.read`", body = ErrorBody),
        (status = 404, description = "No such project visible to the caller (`projects.not_found`)", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[get("/projects/{project_id}")]
async fn get_project(
    auth: V1Auth<ReadProjects>,
    state: web::Data<HttpState>,
    project_id: web::Path<String>,
) -> V1Result<HttpResponse> {
    let principal = auth.principal;
    let id_or_slug = project_id.into_inner();
    let stored = state.run(move |app| async move { app.get_project(&principal, &id_or_slug).await }).await?;
    Ok(HttpResponse::Ok()
        .insert_header(header::ETag(project_etag(&stored.project)))
        .json(ProjectBody::from(&stored.project)))
}

/// Change a project: any subset of the fields.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = v1::UpdateProject, example = json!({"name": "Renamed", "status": "archived"}))]
pub struct UpdateProjectRequest {
    /// 1–255 characters, no control characters. Renaming keeps the slug.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, required = false, min_length = 1, max_length = 255, pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*$")]
    pub name: Option<Option<String>>,
    /// A new slug; taken → 409.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, required = false, max_length = 100, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub slug: Option<Option<String>>,
    /// Up to 5,000 characters; null clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 5000, pattern = "^[^\\x00]*$")]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = VisibilityInput, required = false)]
    pub visibility: Option<Option<VisibilityInput>>,
    /// `active`, `archived` or `completed`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = StatusInput, required = false)]
    pub status: Option<Option<StatusInput>>,
    /// The spend budget in dollars (`"25"`, `"0.5"`), or null for none; org owners and admins
    /// only (403 otherwise).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, pattern = "^[0-9]{1,9}(\\.[0-9]{1,9})?$", example = "25")]
    pub budget_usd: Option<Option<String>>,
}

/// A project's status, as input.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = v1::Status)]
pub enum StatusInput {
    Active,
    Archived,
    Completed,
}

impl From<StatusInput> for ProjectStatus {
    fn from(status: StatusInput) -> Self {
        match status {
            StatusInput::Active => ProjectStatus::Active,
            StatusInput::Archived => ProjectStatus::Archived,
            StatusInput::Completed => ProjectStatus::Completed,
        }
    }
}

impl From<UpdateProjectRequest> for ProjectPatchInput {
    fn from(request: UpdateProjectRequest) -> Self {
        ProjectPatchInput {
            name: request.name,
            slug: request.slug,
            description: request.description,
            visibility: request.visibility.map(|v| v.map(Into::into)),
            status: request.status.map(|s| s.map(Into::into)),
            budget_usd: request.budget_usd,
            ..ProjectPatchInput::default()
        }
    }
}

/// Update a project
///
/// Requires `data.projects.manage` and that the caller can see the project. With `If-Match`
/// (an `ETag` from a read), a stale version is refused with 412 instead of overwritten.
#[utoipa::path(
    tag = "v1 projects",
    operation_id = "v1UpdateProject",
    params(
        ("project_id" = String, Path, description = "The project's id (UUID) or slug"),
        ("If-Match" = Option<String>, Header, nullable = false, description = "The ETag last read"),
    ),
    request_body = UpdateProjectRequest,
    responses(
        (status = 200, description = "The updated project", body = ProjectBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `data.projects.manage`", body = ErrorBody),
        (status = 404, description = "No such project visible to the caller", body = ErrorBody),
        (status = 409, description = "Slug taken (`projects.conflict`)", body = ErrorBody),
        (status = 412, description = "Stale `If-Match` (`projects.precondition_failed`)", body = ErrorBody),
        (status = 422, description = "Invalid body", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[patch("/projects/{project_id}")]
async fn update_project(
    auth: V1Auth<ManageProjects>,
    state: web::Data<HttpState>,
    http: HttpRequest,
    project_id: web::Path<String>,
    payload: JsonPayload,
) -> V1Result<HttpResponse> {
    let request: UpdateProjectRequest = payload.read(JSON_BODY_LIMIT).await?;
    let project_id = project_id.into_inner();
    let expected = expected_version(http.headers(), &project_id);
    let principal = auth.principal;
    let project = state
        .run(move |app| async move { app.update_project(&principal, &project_id, request.into(), expected).await })
        .await?;
    Ok(HttpResponse::Ok().insert_header(header::ETag(project_etag(&project))).json(ProjectBody::from(&project)))
}

/// Delete a project
///
/// Soft delete, with its workspaces, sessions and owned records, in one transaction. Its owner,
/// or an org owner or admin, may delete it; it can be restored within the retention window.
#[utoipa::path(
    tag = "v1 projects",
    operation_id = "v1DeleteProject",
    params(("project_id" = String, Path, description = "The project's id (UUID) or slug")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `data.projects.manage`, or neither its owner nor an admin", body = ErrorBody),
        (status = 404, description = "No such project visible to the caller", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[delete("/projects/{project_id}")]
async fn delete_project(
    auth: V1Auth<ManageProjects>,
    state: web::Data<HttpState>,
    project_id: web::Path<String>,
) -> V1Result<HttpResponse> {
    let principal = auth.principal;
    let project_id = project_id.into_inner();
    state.run(move |app| async move { app.delete_project(&principal, &project_id).await }).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Restore a deleted project
///
/// Within the retention window (30 days by default). A live project is returned unchanged. If its
/// slug was taken meanwhile, it gets a fresh suffixed one.
#[utoipa::path(
    tag = "v1 projects",
    operation_id = "v1RestoreProject",
    params(("project_id" = String, Path, description = "The project's id (UUID)")),
    responses(
        (status = 200, description = "The restored project", body = ProjectBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `data.projects.manage`, or neither its owner nor an admin, or an org quota is used up (`quota.exceeded`, `details {quota, limit, used}`)", body = ErrorBody),
        (status = 404, description = "No such project, or deleted too long ago", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[post("/projects/{project_id}/restore")]
async fn restore_project(
    auth: V1Auth<ManageProjects>,
    state: web::Data<HttpState>,
    project_id: web::Path<String>,
) -> V1Result<HttpResponse> {
    let principal = auth.principal;
    let project_id = project_id.into_inner();
    let project = state.run(move |app| async move { app.restore_project(&principal, &project_id).await }).await?;
    Ok(HttpResponse::Ok().insert_header(header::ETag(project_etag(&project))).json(ProjectBody::from(&project)))
}

/// Duplicate a project (on both surfaces).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = DuplicateProject, example = json!({"name": "Legal Counsel Project, take two"}))]
pub struct DuplicateProjectRequest {
    /// 1–255 characters, no control characters; `<source name> (copy)` when absent.
    #[schema(min_length = 1, max_length = 255, pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*$")]
    pub name: Option<String>,
}

/// Duplicate a project
///
/// A new project with the source's fields (description, prompt, emoji, visibility, team, tags,
/// metadata), named `name` or `<name> (copy)`, with a slug of its own. The caller's workspace of
/// the copy starts at the tree of the caller's workspace of the source, its blobs copied inside
/// the blob store (no file bytes pass through the service). Requires `data.projects.manage` and
/// `data.runs.read`. The body may be empty.
#[utoipa::path(
    tag = "v1 projects",
    operation_id = "v1DuplicateProject",
    request_body(content = Option<DuplicateProjectRequest>, content_type = "application/json"),
    params(("project_id" = String, Path, description = "The project's id (UUID) or slug")),
    responses(
        (status = 201, description = "The new project", body = ProjectBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing a scope, or an org quota is used up (`quota.exceeded`, `details {quota, limit, used}`)", body = ErrorBody),
        (status = 404, description = "No such project visible to the caller", body = ErrorBody),
        (status = 413, description = "Body over 1 MiB", body = ErrorBody),
        (status = 422, description = "Invalid body (`validation.error`, `details` names each field)", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[post("/projects/{project_id}/duplicate")]
async fn duplicate_project(
    auth: V1Auth<ManageProjects>,
    state: web::Data<HttpState>,
    project_id: web::Path<String>,
    payload: JsonPayload,
) -> V1Result<HttpResponse> {
    let body = payload.read_bytes(JSON_BODY_LIMIT).await?;
    let request: DuplicateProjectRequest = parse_json_or_default(&body)?;
    let principal = auth.principal;
    let project_id = project_id.into_inner();
    let project = state
        .run(move |app| async move {
            app.duplicate_project(&principal, &project_id, request.name, Visibility::Private).await
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/projects/{}", project.id)))
        .insert_header(header::ETag(project_etag(&project)))
        .json(ProjectBody::from(&project)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = v1::RecordUsage, example = json!({"cost_usd": "0.0125", "model": "gpt-4o-mini", "input_tokens": 1200, "output_tokens": 300}))]
pub struct RecordUsageRequest {
    /// An exact decimal string in US dollars, at most 9 fractional digits.
    #[schema(example = "0.0125", pattern = "^[0-9]{1,9}(\\.[0-9]{1,9})?$")]
    pub cost_usd: String,
    /// 1–100 characters, no control characters.
    #[schema(
        max_length = 100,
        pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F][^\\x00-\\x1F\\x7F-\\x9F]*$"
    )]
    pub model: String,
    #[schema(minimum = 0)]
    #[serde(deserialize_with = "crate::body::whole_number")]
    pub input_tokens: i64,
    #[schema(minimum = 0)]
    #[serde(deserialize_with = "crate::body::whole_number")]
    pub output_tokens: i64,
    /// When the usage happened; now when absent.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub occurred_at: Option<time::OffsetDateTime>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = v1::Usage)]
pub struct UsageBody {
    pub id: Uuid,
    pub project_id: Uuid,
    #[schema(example = "0.0125")]
    pub cost_usd: String,
    pub model: String,
    pub input_tokens: i64,
    pub output_tokens: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: time::OffsetDateTime,
}

impl From<&UsageRecord> for UsageBody {
    fn from(usage: &UsageRecord) -> Self {
        UsageBody {
            id: usage.id,
            project_id: usage.project_id.as_uuid(),
            cost_usd: usage.cost.to_string(),
            model: usage.model.clone(),
            input_tokens: usage.input_tokens,
            output_tokens: usage.output_tokens,
            occurred_at: usage.occurred_at,
        }
    }
}

/// Record usage
///
/// Charges a model call to a project (requires `data.usage.write`). With `Idempotency-Key`, the
/// same report again returns the first record; another report under the key is a 409.
#[utoipa::path(
    tag = "v1 projects",
    operation_id = "v1RecordUsage",
    params(
        ("project_id" = String, Path, description = "The project's id (UUID) or slug"),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, min_length = 1, max_length = 255, pattern = "^[\\x21-\\x7E]+$", description = "Makes retries safe"),
    ),
    request_body = RecordUsageRequest,
    responses(
        (status = 201, description = "Recorded (or the first record again)", body = UsageBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `data.usage.write`", body = ErrorBody),
        (status = 404, description = "No such project visible to the caller", body = ErrorBody),
        (status = 409, description = "`Idempotency-Key` reused with another report", body = ErrorBody),
        (status = 422, description = "Invalid body", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[post("/projects/{project_id}/usage")]
async fn record_usage(
    auth: V1Auth<WriteUsage>,
    state: web::Data<HttpState>,
    http: HttpRequest,
    project_id: web::Path<String>,
    payload: JsonPayload,
) -> V1Result<HttpResponse> {
    let request: RecordUsageRequest = payload.read(JSON_BODY_LIMIT).await?;
    let key = idempotency_key(&http)?;
    let input = UsageInput {
        cost_usd: request.cost_usd,
        model: request.model,
        input_tokens: request.input_tokens,
        output_tokens: request.output_tokens,
        occurred_at: request.occurred_at,
    };
    let principal = auth.principal;
    let project_id = project_id.into_inner();
    let (usage, _) =
        state.run(move |app| async move { app.record_usage(&principal, &project_id, input, key).await }).await?;
    Ok(HttpResponse::Created().json(UsageBody::from(&usage)))
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = v1::AuditEvent)]
pub struct AuditEventBody {
    pub id: Uuid,
    pub actor_user_id: Uuid,
    /// `project.created`, `project.updated`, `project.deleted`, `project.restored`,
    /// `project.shared`, `project.unshared`, `member.added`, `member.role_changed`,
    /// `member.removed`, `service_account.created`, `service_account.removed`, `api_key.created`,
    /// `api_key.revoked`, `team.created`, `team.member_added`, `team.member_removed`.
    pub action: String,
    pub project_id: Option<Uuid>,
    /// `project`, `member`, `service_account`, `api_key` or `team`.
    pub target_type: &'static str,
    /// The id of the target (for `team.member_*`, the team).
    pub target_id: Uuid,
    /// What the change set: field names for projects; for shares the team id; for
    /// `team.member_*` the user id; for role changes the old and new role; for a key made for or
    /// revoked from someone other than the actor, their user id.
    pub fields: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
}

impl From<&AuditEvent> for AuditEventBody {
    fn from(event: &AuditEvent) -> Self {
        AuditEventBody {
            id: event.id,
            actor_user_id: event.actor_user_id.as_uuid(),
            action: event.action.clone(),
            project_id: event.project_id.map(|p| p.as_uuid()),
            target_type: event.target_type,
            target_id: event.target_id,
            fields: event.fields.clone(),
            created_at: event.at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListAuditEventsQuery {
    /// Only this project's events.
    #[param(value_type = Option<Uuid>)]
    pub project_id: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// From the previous page's `Link: rel="next"`.
    #[param(pattern = "^([0-9]{1,17}\\.[0-9a-f]{32})?$")]
    pub cursor: Option<String>,
}

/// List audit events
///
/// Who changed what, newest first (admins: `org.members.manage`). Next page in `Link`.
#[utoipa::path(
    tag = "v1 projects",
    operation_id = "v1ListAuditEvents",
    params(ListAuditEventsQuery),
    responses(
        (status = 200, description = "One page of events", body = [AuditEventBody]),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `org.members.manage`", body = ErrorBody),
        (status = 422, description = "Bad `project_id`, `limit` or `cursor`", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[get("/audit-events")]
async fn list_audit_events(
    auth: V1Auth<ManageMembers>,
    state: web::Data<HttpState>,
    request: HttpRequest,
) -> V1Result<HttpResponse> {
    let query: ListAuditEventsQuery = read_query(request.query_string())?;
    let page = page_request(query.limit.as_deref(), query.cursor.as_deref())?;
    let principal = auth.principal;
    let project = query.project_id.clone();
    let events =
        state.run(move |app| async move { app.list_audit_events(&principal, project.as_deref(), page).await }).await?;
    let mut response = HttpResponse::Ok();
    if let Some(next) = events.next {
        let project = query.project_id.map(|p| format!("&project_id={p}")).unwrap_or_default();
        let link = format!("</v1/audit-events?limit={}&cursor={}{project}>; rel=\"next\"", page.limit, next.encode());
        response.insert_header((header::LINK, link));
    }
    Ok(response.json(events.items.iter().map(AuditEventBody::from).collect::<Vec<_>>()))
}
