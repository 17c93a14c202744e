//! `/v1/projects`.

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use projects_domain::{NewProjectInput, PageRequest, Project, ProjectStatus, TeamId, Visibility};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{ErrorBody, V1Auth, V1Result};
use crate::auth::{ManageProjects, ReadProjects};
use crate::body::{read_json, read_query};
use crate::{HttpState, JSON_BODY_LIMIT};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_project)
        .service(list_projects)
        .service(get_project);
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
            VisibilityInput::Shared | VisibilityInput::Team | VisibilityInput::Org => {
                Visibility::Shared
            }
        }
    }
}

/// Create a project.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = v1::CreateProject, example = json!({"name": "Legal Counsel Project", "description": "...", "visibility": "private"}))]
pub struct CreateProjectRequest {
    /// 1–255 characters.
    #[schema(min_length = 1, max_length = 255)]
    pub name: String,
    /// Up to 5,000 characters.
    #[schema(max_length = 5000)]
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
        }
    }
}

fn status_name(status: ProjectStatus) -> &'static str {
    status.as_str()
}

fn etag(project: &Project) -> header::EntityTag {
    header::EntityTag::new_strong(format!(
        "{}-{}",
        project.id.as_uuid().simple(),
        project.version
    ))
}

/// Create a project
///
/// Requires `data.projects.manage`. The caller becomes the owner. Honours nothing but the listed
/// fields: any other field is a 422.
#[utoipa::path(
    tag = "v1 projects",
    operation_id = "v1CreateProject",
    request_body = CreateProjectRequest,
    responses(
        (status = 201, description = "Created", body = ProjectBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `data.projects.manage`", body = ErrorBody),
        (status = 409, description = "Explicit slug already taken (`projects.conflict`)", body = ErrorBody),
        (status = 413, description = "Body over 1 MiB", body = ErrorBody),
        (status = 422, description = "Invalid body (`validation.error`, `details` names each field)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/projects")]
async fn create_project(
    auth: V1Auth<ManageProjects>,
    state: web::Data<HttpState>,
    payload: web::Payload,
) -> V1Result<HttpResponse> {
    let request: CreateProjectRequest = read_json(payload, JSON_BODY_LIMIT).await?;
    let principal = auth.principal;
    let project = state
        .run(move |app| async move {
            app.create_project(&principal, request.into(), Visibility::Private)
                .await
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/projects/{}", project.id)))
        .insert_header(header::ETag(etag(&project)))
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
    pub cursor: Option<String>,
}

impl ListProjectsQuery {
    fn page(&self) -> Result<PageRequest, projects_domain::FieldError> {
        let limit = self
            .limit
            .as_deref()
            .map(|raw| {
                raw.parse::<u32>().map_err(|_| {
                    projects_domain::FieldError::new(
                        "limit",
                        format!(
                            "must be an integer between 1 and {}",
                            PageRequest::MAX_LIMIT
                        ),
                    )
                })
            })
            .transpose()?;
        PageRequest::new(limit, self.cursor.as_deref())
    }
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
    security(("bearer" = []))
)]
#[get("/projects")]
async fn list_projects(
    auth: V1Auth<ReadProjects>,
    state: web::Data<HttpState>,
    request: HttpRequest,
) -> V1Result<HttpResponse> {
    let query: ListProjectsQuery = read_query(request.query_string())?;
    let page = query.page()?;
    let principal = auth.principal;
    let page_result = state
        .run(move |app| async move { app.list_projects(&principal, page).await })
        .await?;
    let mut response = HttpResponse::Ok();
    if let Some(next) = page_result.next {
        let link = format!(
            "</v1/projects?limit={}&cursor={}>; rel=\"next\"",
            page.limit,
            next.encode()
        );
        response.insert_header((header::LINK, link));
    }
    Ok(response.json(
        page_result
            .items
            .iter()
            .map(ProjectBody::from)
            .collect::<Vec<_>>(),
    ))
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
    security(("bearer" = []))
)]
#[get("/projects/{project_id}")]
async fn get_project(
    auth: V1Auth<ReadProjects>,
    state: web::Data<HttpState>,
    project_id: web::Path<String>,
) -> V1Result<HttpResponse> {
    let principal = auth.principal;
    let id_or_slug = project_id.into_inner();
    let stored = state
        .run(move |app| async move { app.get_project(&principal, &id_or_slug).await })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(header::ETag(etag(&stored.project)))
        .json(ProjectBody::from(&stored.project)))
}
