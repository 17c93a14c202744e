//! `/api/v1/api-keys`: Alumia's own keys (`alm_live_…`, `alm_test_…`), managed as Alumia
//! manages them. A key made here works on `/v1` too, as an `ak-` key works here.

use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use projects_app::Resource;
use projects_domain::{ApiKey, ApiKeyId, FieldError, KeyFormat};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::projects::{Deleted, DeletedEnvelope};
use super::{ok, AlumiaAuth, AlumiaResult, ErrorEnvelope};
use crate::auth::ManageApiKeys;
use crate::body::{double_option, path_id, read_query, JsonPayload};
use crate::paging::PageQuery;
use crate::{HttpState, JSON_BODY_LIMIT};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_api_keys).service(create_api_key).service(revoke_api_key);
}

/// Which environment a key is for: the part after `alm_`.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = alumia::KeyEnv)]
pub enum KeyEnv {
    #[default]
    Live,
    Test,
}

impl From<KeyEnv> for KeyFormat {
    fn from(env: KeyEnv) -> Self {
        match env {
            KeyEnv::Live => KeyFormat::AlumiaLive,
            KeyEnv::Test => KeyFormat::AlumiaTest,
        }
    }
}

/// An API key as listed: never the key itself.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = alumia::ApiKey)]
pub struct ApiKeyRecord {
    pub id: Uuid,
    pub name: String,
    /// The key's first characters: 12 of an `alm_` key (`alm_live_3f9`), `ak-` and 8 of an `ak-` one.
    pub prefix: String,
    pub scopes: Vec<&'static str>,
    /// Updated within seconds of use, not on every request.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<time::OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
}

impl From<&ApiKey> for ApiKeyRecord {
    fn from(key: &ApiKey) -> Self {
        ApiKeyRecord {
            id: key.id.as_uuid(),
            name: key.name.clone(),
            prefix: key.key_prefix.clone(),
            scopes: key.scopes.names(),
            last_used_at: key.last_used_at,
            created_at: key.created_at,
        }
    }
}

/// The caller's keys, as Alumia pages its lists (all on one page).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = alumia::ApiKeyPage)]
pub struct ApiKeyPage {
    pub items: Vec<ApiKeyRecord>,
    /// Always null: every key is on this page.
    pub next_cursor: Option<String>,
    pub has_more: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = alumia::ApiKeyList)]
pub struct ApiKeyListEnvelope {
    /// Always `true`.
    pub success: bool,
    pub data: ApiKeyPage,
}

/// List API keys
///
/// The caller's live keys, of both shapes (never the keys themselves). Requires
/// `data.api_keys.manage`.
#[utoipa::path(
    tag = "alumia api keys",
    operation_id = "alumiaListApiKeys",
    params(PageQuery),
    responses(
        (status = 200, description = "The caller's keys", body = ApiKeyListEnvelope),
        (status = 401, description = "No valid key", body = ErrorEnvelope),
        (status = 403, description = "Missing `data.api_keys.manage`", body = ErrorEnvelope),
        (status = 400, description = "Bad `limit` or `cursor`", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[get("/api-keys")]
async fn list_api_keys(
    auth: AlumiaAuth<ManageApiKeys>,
    state: web::Data<HttpState>,
    request: HttpRequest,
) -> AlumiaResult<HttpResponse> {
    let page = read_query::<PageQuery>(request.query_string())?.page()?;
    let principal = auth.principal;
    let keys = state.run(move |app| async move { app.list_api_keys(&principal, false, page).await }).await?;
    let items = keys.items.iter().map(ApiKeyRecord::from).collect();
    let data = ApiKeyPage { items, has_more: keys.next.is_some(), next_cursor: keys.next.map(|c| c.encode()) };
    Ok(HttpResponse::Ok().json(ApiKeyListEnvelope { success: true, data }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = alumia::CreateApiKey, example = json!({"name": "ci", "env": "test"}))]
pub struct CreateApiKeyRequest {
    /// 1–100 characters, no control characters.
    #[schema(
        max_length = 100,
        pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F][^\\x00-\\x1F\\x7F-\\x9F]*$"
    )]
    pub name: String,
    /// Permission names, each held by the caller; default (absent): every permission the caller
    /// has. Not null.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = crate::schemas::permission_names, required = false)]
    pub scopes: Option<Option<Vec<String>>>,
    /// `live` (default) or `test`: the key starts `alm_live_` or `alm_test_`.
    pub env: Option<KeyEnv>,
}

/// A key just made: the only time `key` is shown.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = alumia::CreatedApiKey)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub record: ApiKeyRecord,
    /// The key itself: shown this once, never again.
    pub key: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = alumia::CreatedApiKeyResponse)]
pub struct CreatedApiKeyEnvelope {
    /// Always `true`.
    pub success: bool,
    pub data: CreatedApiKey,
}

/// Create an API key
///
/// An `alm_live_…` or `alm_test_…` key of the caller, shown once. Requires
/// `data.api_keys.manage`; an unknown scope → 400, one the caller does not hold → 403.
#[utoipa::path(
    tag = "alumia api keys",
    operation_id = "alumiaCreateApiKey",
    request_body = CreateApiKeyRequest,
    responses(
        (status = 201, description = "Created", body = CreatedApiKeyEnvelope),
        (status = 400, description = "A bad name, env or scope", body = ErrorEnvelope),
        (status = 401, description = "No valid key", body = ErrorEnvelope),
        (status = 403, description = "Missing `data.api_keys.manage`, or a scope the caller does not hold, or an org quota is used up (`quota.exceeded`, `details {quota, limit, used}`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[post("/api-keys")]
async fn create_api_key(
    auth: AlumiaAuth<ManageApiKeys>,
    state: web::Data<HttpState>,
    payload: JsonPayload,
) -> AlumiaResult<HttpResponse> {
    let request: CreateApiKeyRequest = payload.read(JSON_BODY_LIMIT).await?;
    let principal = auth.principal;
    let scopes = match request.scopes {
        None => principal.permissions.names().into_iter().map(str::to_owned).collect(),
        Some(Some(scopes)) => scopes,
        Some(None) => return Err(FieldError::new("scopes", "must be a list of permission names, not null").into()),
    };
    let format = KeyFormat::from(request.env.unwrap_or_default());
    let (key, token) = state
        .run(move |app| async move { app.create_api_key(&principal, &request.name, &scopes, None, format).await })
        .await?;
    let data = CreatedApiKey { record: ApiKeyRecord::from(&key), key: token.expose().to_owned() };
    Ok(HttpResponse::Created().json(ok(data)))
}

/// Revoke an API key
///
/// One of the caller's keys; it is refused from the very next request, on every node. Requires
/// `data.api_keys.manage`.
#[utoipa::path(
    tag = "alumia api keys",
    operation_id = "alumiaRevokeApiKey",
    params(("id" = Uuid, Path, description = "The key's id")),
    responses(
        (status = 200, description = "Revoked", body = DeletedEnvelope),
        (status = 401, description = "No valid key", body = ErrorEnvelope),
        (status = 403, description = "Missing `data.api_keys.manage`", body = ErrorEnvelope),
        (status = 404, description = "No such live key of the caller", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[delete("/api-keys/{id}")]
async fn revoke_api_key(
    auth: AlumiaAuth<ManageApiKeys>,
    state: web::Data<HttpState>,
    id: web::Path<String>,
) -> AlumiaResult<HttpResponse> {
    let key_id: ApiKeyId = path_id(&id, Resource::ApiKey)?;
    let principal = auth.principal;
    state.run(move |app| async move { app.revoke_api_key(&principal, key_id).await }).await?;
    Ok(HttpResponse::Ok().json(DeletedEnvelope { success: true, data: Deleted { deleted: true } }))
}
