//! `/v1/teams` and sharing projects into teams.

use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use projects_app::Resource;
use projects_domain::{Team, TeamId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{ErrorBody, V1Auth, V1Result};
use crate::auth::{ManageProjects, ManageTeams, ReadTeams};
use crate::body::JsonPayload;
use crate::body::{path_id, read_query};
use crate::paging::{page_response, PageQuery};
use crate::{HttpState, JSON_BODY_LIMIT};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_team)
        .service(list_teams)
        .service(add_team_member)
        .service(remove_team_member)
        .service(share_project)
        .service(unshare_project);
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = v1::CreateTeam, example = json!({"name": "Legal"}))]
pub struct CreateTeamRequest {
    /// 1–100 characters (no control characters), unique in the org.
    #[schema(
        max_length = 100,
        pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F][^\\x00-\\x1F\\x7F-\\x9F]*$"
    )]
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = v1::Team)]
pub struct TeamBody {
    pub id: Uuid,
    pub name: String,
}

impl From<&Team> for TeamBody {
    fn from(team: &Team) -> Self {
        TeamBody { id: team.id.as_uuid(), name: team.name.clone() }
    }
}

/// Create a team
///
/// Requires `org.teams.manage`.
#[utoipa::path(
    tag = "v1 teams",
    operation_id = "v1CreateTeam",
    request_body = CreateTeamRequest,
    responses(
        (status = 201, body = TeamBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `org.teams.manage`", body = ErrorBody),
        (status = 409, description = "Name taken (`teams.conflict`)", body = ErrorBody),
        (status = 422, description = "Invalid body", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[post("/teams")]
async fn create_team(
    auth: V1Auth<ManageTeams>,
    state: web::Data<HttpState>,
    payload: JsonPayload,
) -> V1Result<HttpResponse> {
    let request: CreateTeamRequest = payload.read(JSON_BODY_LIMIT).await?;
    let principal = auth.principal;
    let team = state.run(move |app| async move { app.create_team(&principal, &request.name).await }).await?;
    Ok(HttpResponse::Created().json(TeamBody::from(&team)))
}

/// List teams
///
/// Requires `org.teams.read`.
#[utoipa::path(
    tag = "v1 teams",
    operation_id = "v1ListTeams",
    params(PageQuery),
    responses(
        (status = 200, description = "One page of teams, oldest first", body = [TeamBody], headers(("Link" = String, description = "`<…&cursor=…>; rel=\"next\"` when there are more"))),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `org.teams.read`", body = ErrorBody),
        (status = 422, description = "Bad `limit` or `cursor`", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[get("/teams")]
async fn list_teams(
    auth: V1Auth<ReadTeams>,
    state: web::Data<HttpState>,
    request: HttpRequest,
) -> V1Result<HttpResponse> {
    let page = read_query::<PageQuery>(request.query_string())?.page()?;
    let principal = auth.principal;
    let teams = state.run(move |app| async move { app.list_teams(&principal, page).await }).await?;
    Ok(page_response(&request, &teams, TeamBody::from))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = v1::AddTeamMember)]
pub struct AddTeamMemberRequest {
    pub user_id: Uuid,
}

/// Add a member to a team
///
/// Requires `org.teams.manage`. Adding someone twice is not an error.
#[utoipa::path(
    tag = "v1 teams",
    operation_id = "v1AddTeamMember",
    params(("team_id" = uuid::Uuid, Path, description = "The team's id")),
    request_body = AddTeamMemberRequest,
    responses(
        (status = 204, description = "A member of the team"),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `org.teams.manage`", body = ErrorBody),
        (status = 404, description = "No such team (`teams.not_found`)", body = ErrorBody),
        (status = 422, description = "Invalid body or not a member of the org", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[post("/teams/{team_id}/members")]
async fn add_team_member(
    auth: V1Auth<ManageTeams>,
    state: web::Data<HttpState>,
    team_id: web::Path<String>,
    payload: JsonPayload,
) -> V1Result<HttpResponse> {
    let request: AddTeamMemberRequest = payload.read(JSON_BODY_LIMIT).await?;
    let team_id: TeamId = path_id(&team_id, Resource::Team)?;
    let user_id = UserId::from_uuid(request.user_id);
    let principal = auth.principal;
    state.run(move |app| async move { app.add_team_member(&principal, team_id, user_id).await }).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Remove a member from a team
///
/// Requires `org.teams.manage`.
#[utoipa::path(
    tag = "v1 teams",
    operation_id = "v1RemoveTeamMember",
    params(("team_id" = uuid::Uuid, Path, description = "The team's id"), ("user_id" = uuid::Uuid, Path, description = "The member's id")),
    responses(
        (status = 204, description = "No longer in the team"),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `org.teams.manage`", body = ErrorBody),
        (status = 404, description = "No such team, or not in it", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[delete("/teams/{team_id}/members/{user_id}")]
async fn remove_team_member(
    auth: V1Auth<ManageTeams>,
    state: web::Data<HttpState>,
    path: web::Path<(String, String)>,
) -> V1Result<HttpResponse> {
    let (team_id, user_id) = path.into_inner();
    let team_id: TeamId = path_id(&team_id, Resource::Team)?;
    let user_id: UserId = path_id(&user_id, Resource::Member)?;
    let principal = auth.principal;
    state.run(move |app| async move { app.remove_team_member(&principal, team_id, user_id).await }).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = v1::ShareProject)]
pub struct ShareRequest {
    pub team_id: Uuid,
}

/// Share a project into a team
///
/// Requires `data.projects.manage`, and the project must be the caller's unless they are an org
/// owner or admin. The team's members can then see it (if it is `shared`).
#[utoipa::path(
    tag = "v1 projects",
    operation_id = "v1ShareProject",
    params(("project_id" = String, Path, description = "The project's id or slug")),
    request_body = ShareRequest,
    responses(
        (status = 204, description = "Shared"),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `data.projects.manage`, or not the caller's project", body = ErrorBody),
        (status = 404, description = "No such project visible to the caller (`projects.not_found`)", body = ErrorBody),
        (status = 422, description = "Invalid body or unknown team", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[post("/projects/{project_id}/shares")]
async fn share_project(
    auth: V1Auth<ManageProjects>,
    state: web::Data<HttpState>,
    project_id: web::Path<String>,
    payload: JsonPayload,
) -> V1Result<HttpResponse> {
    let request: ShareRequest = payload.read(JSON_BODY_LIMIT).await?;
    let team_id = TeamId::from_uuid(request.team_id);
    let principal = auth.principal;
    let project_id = project_id.into_inner();
    state.run(move |app| async move { app.share_project(&principal, &project_id, team_id).await }).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Stop sharing a project into a team
#[utoipa::path(
    tag = "v1 projects",
    operation_id = "v1UnshareProject",
    params(("project_id" = String, Path, description = "The project's id or slug"), ("team_id" = uuid::Uuid, Path, description = "The team's id")),
    responses(
        (status = 204, description = "No longer shared there"),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `data.projects.manage`, or not the caller's project", body = ErrorBody),
        (status = 404, description = "No such project, or not shared into that team", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[delete("/projects/{project_id}/shares/{team_id}")]
async fn unshare_project(
    auth: V1Auth<ManageProjects>,
    state: web::Data<HttpState>,
    path: web::Path<(String, String)>,
) -> V1Result<HttpResponse> {
    let (project_id, team_id) = path.into_inner();
    let team_id: TeamId = path_id(&team_id, Resource::Team)?;
    let principal = auth.principal;
    state.run(move |app| async move { app.unshare_project(&principal, &project_id, team_id).await }).await?;
    Ok(HttpResponse::NoContent().finish())
}
