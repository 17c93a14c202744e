//! `/v1/me`, `/v1/members`, `/v1/invitations`, `/v1/service-accounts` and `/v1/api-keys`.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use projects_app::Resource;
use projects_domain::{ApiKey, ApiKeyId, KeyFormat, Role, TeamId, User, UserId, UserKind, Visibility};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{ErrorBody, V1Auth, V1Result};
use crate::auth::{Anyone, ManageApiKeys, ManageMembers, ReadTeams};
use crate::body::{double_option, page_request, path_id, read_query, JsonPayload};
use crate::paging::{page_response, PageQuery};
use crate::{HttpState, JSON_BODY_LIMIT};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(get_me)
        .service(update_me)
        .service(add_member)
        .service(list_members)
        .service(change_role)
        .service(remove_member)
        .service(accept_invitation)
        .service(create_service_account)
        .service(list_service_accounts)
        .service(remove_service_account)
        .service(create_api_key)
        .service(list_api_keys)
        .service(revoke_api_key);
}

/// A member's role.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = v1::Role)]
pub enum RoleBody {
    Owner,
    Admin,
    Member,
    Viewer,
}

impl From<RoleBody> for Role {
    fn from(role: RoleBody) -> Self {
        match role {
            RoleBody::Owner => Role::Owner,
            RoleBody::Admin => Role::Admin,
            RoleBody::Member => Role::Member,
            RoleBody::Viewer => Role::Viewer,
        }
    }
}

impl From<Role> for RoleBody {
    fn from(role: Role) -> Self {
        match role {
            Role::Owner => RoleBody::Owner,
            Role::Admin => RoleBody::Admin,
            Role::Member => RoleBody::Member,
            Role::Viewer => RoleBody::Viewer,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = v1::AddMember, example = json!({"email": "ada@example.com", "role": "member"}))]
pub struct AddMemberRequest {
    /// One `@` with something on either side; no spaces or control characters.
    #[schema(max_length = 254, pattern = "^\\s*[^@\\s\\x00-\\x1F\\x7F-\\x9F]+@[^@\\s\\x00-\\x1F\\x7F-\\x9F]+\\s*$")]
    pub email: String,
    pub role: RoleBody,
}

/// A person or a service account.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = v1::MemberKind)]
pub enum MemberKind {
    User,
    ServiceAccount,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = v1::Member)]
pub struct MemberBody {
    pub user_id: Uuid,
    /// A service account's is `sa-<id>@service-accounts.invalid`: it has no mailbox.
    pub email: String,
    pub role: RoleBody,
    pub kind: MemberKind,
    /// A service account's name; null for people.
    pub name: Option<String>,
}

fn member_kind(kind: UserKind) -> MemberKind {
    match kind {
        UserKind::Person => MemberKind::User,
        UserKind::ServiceAccount => MemberKind::ServiceAccount,
    }
}

impl From<&User> for MemberBody {
    fn from(user: &User) -> Self {
        MemberBody {
            user_id: user.id.as_uuid(),
            email: user.email.as_str().to_owned(),
            role: user.role.into(),
            kind: member_kind(user.kind),
            name: user.name.clone(),
        }
    }
}

/// A person just added, with their invitation.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = v1::AddedMember)]
pub struct AddedMemberBody {
    pub user_id: Uuid,
    pub email: String,
    pub role: RoleBody,
    pub kind: MemberKind,
    /// Shown this once: hand it to the person, who redeems it at `POST /v1/invitations/accept`
    /// for a key of their own. Single use, valid 7 days, void when the member is removed.
    pub invite_token: String,
}

/// The caller, as `/v1/me` shows them.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = v1::Me)]
pub struct MeBody {
    pub user_id: Uuid,
    pub org_id: Uuid,
    pub email: String,
    /// The role the credential in use acts with (a token may claim less than the member's).
    pub role: RoleBody,
    /// What the caller may do with the credential in use.
    pub permissions: Vec<&'static str>,
    /// `private`, `shared`, or null when unset.
    #[schema(value_type = Option<String>)]
    pub default_project_visibility: Option<&'static str>,
    pub active_team_id: Option<Uuid>,
}

fn me_body(user: &User, role: Role, permissions: projects_domain::PermissionSet) -> MeBody {
    MeBody {
        user_id: user.id.as_uuid(),
        org_id: user.org_id.as_uuid(),
        email: user.email.as_str().to_owned(),
        role: role.into(),
        permissions: permissions.names(),
        default_project_visibility: user.default_project_visibility.map(Visibility::as_str),
        active_team_id: user.active_team_id.map(|t| t.as_uuid()),
    }
}

/// Who am I
///
/// Any authenticated caller.
#[utoipa::path(
    tag = "v1 identity",
    operation_id = "v1GetMe",
    responses((status = 200, body = MeBody), (status = 401, description = "No or bad credentials", body = ErrorBody)),
    security(("bearer" = []), ("jwt" = []))
)]
#[get("/me")]
async fn get_me(auth: V1Auth<Anyone>) -> V1Result<HttpResponse> {
    Ok(HttpResponse::Ok().json(me_body(&auth.principal.user, auth.principal.role, auth.principal.permissions)))
}

/// Visibility as a preference: `private` or `shared`.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = v1::VisibilityPreference)]
pub enum VisibilityPreference {
    Private,
    Shared,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = v1::UpdateMe, example = json!({"default_project_visibility": "shared"}))]
pub struct UpdateMeRequest {
    /// Visibility of new projects when a create names none; null clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<VisibilityPreference>)]
    pub default_project_visibility: Option<Option<VisibilityPreference>>,
    /// One of the caller's teams, or null.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub active_team_id: Option<Option<Uuid>>,
}

/// Update my preferences
///
/// Any authenticated caller; absent fields are left alone, null clears.
#[utoipa::path(
    tag = "v1 identity",
    operation_id = "v1UpdateMe",
    request_body = UpdateMeRequest,
    responses(
        (status = 200, body = MeBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 422, description = "Invalid body, or a team the caller is not in", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[patch("/me")]
async fn update_me(auth: V1Auth<Anyone>, state: web::Data<HttpState>, payload: JsonPayload) -> V1Result<HttpResponse> {
    let request: UpdateMeRequest = payload.read(JSON_BODY_LIMIT).await?;
    let principal = auth.principal;
    let (role, permissions) = (principal.role, principal.permissions);
    let visibility = request.default_project_visibility.map(|v| {
        v.map(|v| match v {
            VisibilityPreference::Private => Visibility::Private,
            VisibilityPreference::Shared => Visibility::Shared,
        })
    });
    let team = request.active_team_id.map(|t| t.map(TeamId::from_uuid));
    let user = state.run(move |app| async move { app.update_me(&principal, visibility, team).await }).await?;
    Ok(HttpResponse::Ok().json(me_body(&user, role, permissions)))
}

/// List members
///
/// Requires `org.teams.read`.
#[utoipa::path(
    tag = "v1 identity",
    operation_id = "v1ListMembers",
    params(PageQuery),
    responses(
        (status = 200, description = "One page of members, oldest first", body = [MemberBody], headers(("Link" = String, description = "`<…&cursor=…>; rel=\"next\"` when there are more"))),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `org.teams.read`", body = ErrorBody),
        (status = 422, description = "Bad `limit` or `cursor`", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[get("/members")]
async fn list_members(
    auth: V1Auth<ReadTeams>,
    state: web::Data<HttpState>,
    request: HttpRequest,
) -> V1Result<HttpResponse> {
    let page = read_query::<PageQuery>(request.query_string())?.page()?;
    let principal = auth.principal;
    let members = state.run(move |app| async move { app.list_members(&principal, page).await }).await?;
    Ok(page_response(&request, &members, MemberBody::from))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = v1::ChangeRole)]
pub struct ChangeRoleRequest {
    pub role: RoleBody,
}

/// Change a member's role
///
/// Requires `org.members.manage`; only an owner grants or removes the owner role; nobody changes
/// their own.
#[utoipa::path(
    tag = "v1 identity",
    operation_id = "v1ChangeRole",
    params(("user_id" = uuid::Uuid, Path, description = "The member's id")),
    request_body = ChangeRoleRequest,
    responses(
        (status = 200, body = MemberBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `org.members.manage`, or owner rules", body = ErrorBody),
        (status = 404, description = "No such member (`members.not_found`)", body = ErrorBody),
        (status = 422, description = "Invalid body, or the caller themselves", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[patch("/members/{user_id}")]
async fn change_role(
    auth: V1Auth<ManageMembers>,
    state: web::Data<HttpState>,
    user_id: web::Path<String>,
    payload: JsonPayload,
) -> V1Result<HttpResponse> {
    let request: ChangeRoleRequest = payload.read(JSON_BODY_LIMIT).await?;
    let user_id: UserId = path_id(&user_id, Resource::Member)?;
    let principal = auth.principal;
    let user =
        state.run(move |app| async move { app.change_role(&principal, user_id, request.role.into()).await }).await?;
    Ok(HttpResponse::Ok().json(MemberBody::from(&user)))
}

/// Remove a member
///
/// Requires `org.members.manage`. Their keys and tokens stop working with the next request.
#[utoipa::path(
    tag = "v1 identity",
    operation_id = "v1RemoveMember",
    params(("user_id" = uuid::Uuid, Path, description = "The member's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `org.members.manage`, or an owner removed by a non-owner", body = ErrorBody),
        (status = 404, description = "No such member (`members.not_found`)", body = ErrorBody),
        (status = 422, description = "The caller themselves", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[delete("/members/{user_id}")]
async fn remove_member(
    auth: V1Auth<ManageMembers>,
    state: web::Data<HttpState>,
    user_id: web::Path<String>,
) -> V1Result<HttpResponse> {
    let user_id: UserId = path_id(&user_id, Resource::Member)?;
    let principal = auth.principal;
    state.run(move |app| async move { app.remove_member(&principal, user_id).await }).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Add a member
///
/// Requires `org.members.manage`; only an owner can make another owner. The answer carries the
/// person's invitation (`invite_token`): nobody but them should ever hold their key.
#[utoipa::path(
    tag = "v1 identity",
    operation_id = "v1AddMember",
    request_body = AddMemberRequest,
    responses(
        (status = 201, description = "Added", body = AddedMemberBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `org.members.manage`, or an owner made by a non-owner, or an org quota is used up (`quota.exceeded`, `details {quota, limit, used}`)", body = ErrorBody),
        (status = 409, description = "Already a member (`members.conflict`)", body = ErrorBody),
        (status = 422, description = "Invalid body", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[post("/members")]
async fn add_member(
    auth: V1Auth<ManageMembers>,
    state: web::Data<HttpState>,
    payload: JsonPayload,
) -> V1Result<HttpResponse> {
    let request: AddMemberRequest = payload.read(JSON_BODY_LIMIT).await?;
    let principal = auth.principal;
    let invited = state
        .run(move |app| async move { app.add_member(&principal, &request.email, request.role.into()).await })
        .await?;
    let user = &invited.user;
    Ok(HttpResponse::Created().json(AddedMemberBody {
        user_id: user.id.as_uuid(),
        email: user.email.as_str().to_owned(),
        role: user.role.into(),
        kind: member_kind(user.kind),
        invite_token: invited.invite_token.expose().to_owned(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = v1::AcceptInvitation, example = json!({"token": "inv-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}))]
pub struct AcceptInvitationRequest {
    /// The `invite_token` the member was given.
    #[schema(max_length = 100)]
    pub token: String,
    /// A name for the key (default `invitation`); 1–100 characters, no control characters.
    #[schema(
        max_length = 100,
        pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F][^\\x00-\\x1F\\x7F-\\x9F]*$"
    )]
    pub key_name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = v1::AcceptedInvitation)]
pub struct AcceptedInvitationBody {
    pub user_id: Uuid,
    pub org_id: Uuid,
    /// The member's own key, with every permission of their role: shown this once.
    pub api_key: String,
}

/// Accept an invitation
///
/// No `Authorization`: the token is the credential. Answers the invited member's first key of
/// their own. A used, expired, unknown or void token → 401 `auth.invalid_token`.
#[utoipa::path(
    tag = "v1 identity",
    operation_id = "v1AcceptInvitation",
    request_body = AcceptInvitationRequest,
    responses(
        (status = 201, description = "Redeemed", body = AcceptedInvitationBody),
        (status = 401, description = "Used, expired, unknown or void token", body = ErrorBody),
        (status = 403, description = "The org's API key quota is used up (`quota.exceeded`, `details {quota, limit, used}`)", body = ErrorBody),
        (status = 422, description = "Invalid body", body = ErrorBody),
    ),
    security(())
)]
#[post("/invitations/accept")]
async fn accept_invitation(state: web::Data<HttpState>, payload: JsonPayload) -> V1Result<HttpResponse> {
    let request: AcceptInvitationRequest = payload.read(JSON_BODY_LIMIT).await?;
    let (user, key) = state
        .run(move |app| async move { app.accept_invitation(&request.token, request.key_name.as_deref()).await })
        .await?;
    Ok(HttpResponse::Created().json(AcceptedInvitationBody {
        user_id: user.id.as_uuid(),
        org_id: user.org_id.as_uuid(),
        api_key: key.expose().to_owned(),
    }))
}

/// A role a service account may have: never `owner`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = v1::CreateServiceAccount, example = json!({"name": "ci-bot", "role": "member"}))]
pub struct CreateServiceAccountRequest {
    /// 1–100 characters, no control characters.
    #[schema(
        max_length = 100,
        pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F][^\\x00-\\x1F\\x7F-\\x9F]*$"
    )]
    pub name: String,
    /// At most the caller's own (else 403); never `owner` (422).
    pub role: ServiceAccountRole,
}

/// The roles a service account may have.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = v1::ServiceAccountRole)]
pub enum ServiceAccountRole {
    Admin,
    Member,
    Viewer,
}

impl From<ServiceAccountRole> for Role {
    fn from(role: ServiceAccountRole) -> Self {
        match role {
            ServiceAccountRole::Admin => Role::Admin,
            ServiceAccountRole::Member => Role::Member,
            ServiceAccountRole::Viewer => Role::Viewer,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = v1::ServiceAccount)]
pub struct ServiceAccountBody {
    pub user_id: Uuid,
    pub name: String,
    pub role: RoleBody,
    pub kind: MemberKind,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
}

impl From<&User> for ServiceAccountBody {
    fn from(user: &User) -> Self {
        ServiceAccountBody {
            user_id: user.id.as_uuid(),
            name: user.name.clone().unwrap_or_default(),
            role: user.role.into(),
            kind: member_kind(user.kind),
            created_at: user.created_at,
        }
    }
}

/// Create a service account
///
/// Requires `org.members.manage`. A non-human member for automation: admins mint its keys with
/// `POST /v1/api-keys {"user_id": …}`. It outlives whoever made it.
#[utoipa::path(
    tag = "v1 identity",
    operation_id = "v1CreateServiceAccount",
    request_body = CreateServiceAccountRequest,
    responses(
        (status = 201, description = "Created", body = ServiceAccountBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `org.members.manage`, or a role above the caller's, or an org quota is used up (`quota.exceeded`, `details {quota, limit, used}`)", body = ErrorBody),
        (status = 422, description = "Invalid body, or the owner role", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[post("/service-accounts")]
async fn create_service_account(
    auth: V1Auth<ManageMembers>,
    state: web::Data<HttpState>,
    payload: JsonPayload,
) -> V1Result<HttpResponse> {
    let request: CreateServiceAccountRequest = payload.read(JSON_BODY_LIMIT).await?;
    let principal = auth.principal;
    let account = state
        .run(move |app| async move { app.create_service_account(&principal, &request.name, request.role.into()).await })
        .await?;
    Ok(HttpResponse::Created().json(ServiceAccountBody::from(&account)))
}

/// List service accounts
///
/// Requires `org.members.manage`.
#[utoipa::path(
    tag = "v1 identity",
    operation_id = "v1ListServiceAccounts",
    params(PageQuery),
    responses(
        (status = 200, description = "One page of service accounts, oldest first", body = [ServiceAccountBody], headers(("Link" = String, description = "`<…&cursor=…>; rel=\"next\"` when there are more"))),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `org.members.manage`", body = ErrorBody),
        (status = 422, description = "Bad `limit` or `cursor`", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[get("/service-accounts")]
async fn list_service_accounts(
    auth: V1Auth<ManageMembers>,
    state: web::Data<HttpState>,
    request: HttpRequest,
) -> V1Result<HttpResponse> {
    let page = read_query::<PageQuery>(request.query_string())?.page()?;
    let principal = auth.principal;
    let accounts = state.run(move |app| async move { app.list_service_accounts(&principal, page).await }).await?;
    Ok(page_response(&request, &accounts, ServiceAccountBody::from))
}

/// Remove a service account
///
/// Requires `org.members.manage`. Its keys stop working with the next request. A person's id → 404.
#[utoipa::path(
    tag = "v1 identity",
    operation_id = "v1RemoveServiceAccount",
    params(("user_id" = uuid::Uuid, Path, description = "The service account's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `org.members.manage`", body = ErrorBody),
        (status = 404, description = "No such service account (`members.not_found`)", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[delete("/service-accounts/{user_id}")]
async fn remove_service_account(
    auth: V1Auth<ManageMembers>,
    state: web::Data<HttpState>,
    user_id: web::Path<String>,
) -> V1Result<HttpResponse> {
    let user_id: UserId = path_id(&user_id, Resource::Member)?;
    let principal = auth.principal;
    state.run(move |app| async move { app.remove_service_account(&principal, user_id).await }).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = v1::CreateApiKey, example = json!({"name": "ci", "scopes": ["data.projects.read"]}))]
pub struct CreateApiKeyRequest {
    /// 1–100 characters, no control characters.
    #[schema(
        max_length = 100,
        pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F][^\\x00-\\x1F\\x7F-\\x9F]*$"
    )]
    pub name: String,
    /// Permission names; each must be held by the key's user and by the caller.
    #[schema(schema_with = crate::schemas::permission_names)]
    pub scopes: Vec<String>,
    /// The caller (when absent) or a service account of the org (needs `org.members.manage`).
    /// Another person's id → 403: a key acts as its own user.
    pub user_id: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = v1::CreatedApiKey)]
pub struct CreatedApiKeyBody {
    pub id: Uuid,
    pub name: String,
    /// The key itself: shown this once, never again.
    pub key: String,
    pub key_prefix: String,
    pub scopes: Vec<&'static str>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
}

/// Create an API key
///
/// Requires `data.api_keys.manage`. Unknown scope → 422; a scope beyond the key user's role or the
/// caller's own permissions → 403. The response is the only time `key` is shown.
#[utoipa::path(
    tag = "v1 identity",
    operation_id = "v1CreateApiKey",
    request_body = CreateApiKeyRequest,
    responses(
        (status = 201, description = "Created", body = CreatedApiKeyBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing permission, a scope beyond the role, or another person's `user_id`, or an org quota is used up (`quota.exceeded`, `details {quota, limit, used}`)", body = ErrorBody),
        (status = 422, description = "Invalid body or unknown scope", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[post("/api-keys")]
async fn create_api_key(
    auth: V1Auth<ManageApiKeys>,
    state: web::Data<HttpState>,
    payload: JsonPayload,
) -> V1Result<HttpResponse> {
    let request: CreateApiKeyRequest = payload.read(JSON_BODY_LIMIT).await?;
    let principal = auth.principal;
    let (key, token) = state
        .run(move |app| async move {
            let for_user = request.user_id.map(UserId::from_uuid);
            app.create_api_key(&principal, &request.name, &request.scopes, for_user, KeyFormat::Arkloop).await
        })
        .await?;
    Ok(HttpResponse::Created().json(CreatedApiKeyBody {
        id: key.id.as_uuid(),
        name: key.name,
        key: token.expose().to_owned(),
        key_prefix: key.key_prefix,
        scopes: key.scopes.names(),
        created_at: key.created_at,
    }))
}

/// An API key as listed: never the key itself.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = v1::ApiKey)]
pub struct ApiKeyBody {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub key_prefix: String,
    pub scopes: Vec<&'static str>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    /// Updated within seconds of use, not on every request.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<time::OffsetDateTime>,
}

impl From<&ApiKey> for ApiKeyBody {
    fn from(key: &ApiKey) -> Self {
        ApiKeyBody {
            id: key.id.as_uuid(),
            user_id: key.user_id.as_uuid(),
            name: key.name.clone(),
            key_prefix: key.key_prefix.clone(),
            scopes: key.scopes.names(),
            created_at: key.created_at,
            last_used_at: key.last_used_at,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListApiKeysQuery {
    /// `true`: every key of the org (needs `org.members.manage`).
    #[param(value_type = Option<bool>)]
    pub all: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// Where to continue: the `cursor` of the previous page's `Link: rel="next"`.
    #[param(pattern = "^([0-9]{1,17}\\.[0-9a-f]{32})?$")]
    pub cursor: Option<String>,
}

/// List API keys
///
/// The caller's own live keys (never the keys themselves); `?all=true` lists the org's.
#[utoipa::path(
    tag = "v1 identity",
    operation_id = "v1ListApiKeys",
    params(ListApiKeysQuery),
    responses(
        (status = 200, description = "One page of keys, newest first", body = [ApiKeyBody], headers(("Link" = String, description = "`<…&cursor=…>; rel=\"next\"` when there are more"))),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `data.api_keys.manage` (or `org.members.manage` for `all`)", body = ErrorBody),
        (status = 422, description = "`all` is not true or false, or a bad `limit` or `cursor`", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[get("/api-keys")]
async fn list_api_keys(
    auth: V1Auth<ManageApiKeys>,
    state: web::Data<HttpState>,
    request: HttpRequest,
) -> V1Result<HttpResponse> {
    let query: ListApiKeysQuery = read_query(request.query_string())?;
    let all = match query.all.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(projects_domain::FieldError::new("all", "must be true or false").into()),
    };
    let page = page_request(query.limit.as_deref(), query.cursor.as_deref())?;
    let principal = auth.principal;
    let keys = state.run(move |app| async move { app.list_api_keys(&principal, all, page).await }).await?;
    Ok(page_response(&request, &keys, ApiKeyBody::from))
}

/// Revoke an API key
///
/// The caller's own (any of the org's with `org.members.manage`). It gets 401
/// `auth.invalid_api_key` from the very next request, on every node.
#[utoipa::path(
    tag = "v1 identity",
    operation_id = "v1RevokeApiKey",
    params(("key_id" = uuid::Uuid, Path, description = "The key's id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `data.api_keys.manage`", body = ErrorBody),
        (status = 404, description = "No such live key of the caller (`api_keys.not_found`)", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[delete("/api-keys/{key_id}")]
async fn revoke_api_key(
    auth: V1Auth<ManageApiKeys>,
    state: web::Data<HttpState>,
    key_id: web::Path<String>,
) -> V1Result<HttpResponse> {
    let key_id: ApiKeyId = path_id(&key_id, Resource::ApiKey)?;
    let principal = auth.principal;
    state.run(move |app| async move { app.revoke_api_key(&principal, key_id).await }).await?;
    Ok(HttpResponse::NoContent().finish())
}
