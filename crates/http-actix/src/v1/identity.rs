//! `/v1/members` and `/v1/api-keys`.

use actix_web::{post, web, HttpResponse};
use projects_domain::{Role, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{ErrorBody, V1Auth, V1Result};
use crate::auth::{ManageApiKeys, ManageMembers};
use crate::body::read_json;
use crate::{HttpState, JSON_BODY_LIMIT};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(add_member).service(create_api_key);
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
    pub email: String,
    pub role: RoleBody,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = v1::Member)]
pub struct MemberBody {
    pub user_id: Uuid,
    pub email: String,
    pub role: RoleBody,
}

/// Add a member
///
/// Requires `org.members.manage`; only an owner can make another owner.
#[utoipa::path(
    tag = "v1 identity",
    operation_id = "v1AddMember",
    request_body = AddMemberRequest,
    responses(
        (status = 201, description = "Added", body = MemberBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `org.members.manage`", body = ErrorBody),
        (status = 409, description = "Already a member (`members.conflict`)", body = ErrorBody),
        (status = 422, description = "Invalid body", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/members")]
async fn add_member(
    auth: V1Auth<ManageMembers>,
    state: web::Data<HttpState>,
    payload: web::Payload,
) -> V1Result<HttpResponse> {
    let request: AddMemberRequest = read_json(payload, JSON_BODY_LIMIT).await?;
    let principal = auth.principal;
    let user = state
        .run(move |app| async move {
            app.add_member(&principal, &request.email, request.role.into())
                .await
        })
        .await?;
    Ok(HttpResponse::Created().json(MemberBody {
        user_id: user.id.as_uuid(),
        email: user.email.as_str().to_owned(),
        role: user.role.into(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = v1::CreateApiKey, example = json!({"name": "ci", "scopes": ["data.projects.read"]}))]
pub struct CreateApiKeyRequest {
    /// 1–100 characters.
    pub name: String,
    /// Permission names; each must be held by the key's user and by the caller.
    pub scopes: Vec<String>,
    /// Another member of the org (needs `org.members.manage`); the caller when absent.
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
        (status = 403, description = "Missing permission, or a scope beyond the role", body = ErrorBody),
        (status = 422, description = "Invalid body or unknown scope", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/api-keys")]
async fn create_api_key(
    auth: V1Auth<ManageApiKeys>,
    state: web::Data<HttpState>,
    payload: web::Payload,
) -> V1Result<HttpResponse> {
    let request: CreateApiKeyRequest = read_json(payload, JSON_BODY_LIMIT).await?;
    let principal = auth.principal;
    let (key, token) = state
        .run(move |app| async move {
            let for_user = request.user_id.map(UserId::from_uuid);
            app.create_api_key(&principal, &request.name, &request.scopes, for_user)
                .await
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
