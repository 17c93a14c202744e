use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use projects_domain::{ApiKeyToken, Email, OrgId, OrgName, Role, UserId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::principal_cache::{Credential, Holder, Lookup};
use crate::{App, AppError, AuthFailure, Principal, Resource};

/// What is stored for an API key: the SHA-256 of the whole key.
pub fn hash_api_key(key: &ApiKeyToken) -> [u8; 32] {
    Sha256::digest(key.expose().as_bytes()).into()
}

/// Verification of JWT bearer tokens: HS256 with the server's secret (which also signs the tokens
/// of `server token`), and RS256 or EdDSA with a public key, each only when configured. The
/// header's `alg` picks the key; a token signed any other way is refused.
pub struct JwtKeys {
    signing: Option<EncodingKey>,
    verifiers: Vec<(DecodingKey, Validation)>,
}

impl JwtKeys {
    pub fn hs256(secret: &[u8]) -> Self {
        let verifier = (DecodingKey::from_secret(secret), Self::validation(Algorithm::HS256));
        Self { signing: Some(EncodingKey::from_secret(secret)), verifiers: vec![verifier] }
    }

    /// No keys at all: every token is refused until one is added.
    pub fn none() -> Self {
        Self { signing: None, verifiers: Vec::new() }
    }

    /// Also accepts tokens signed by the private half of `pem` (a PEM public key): RS256 for an
    /// RSA key, EdDSA for an Ed25519 one.
    pub fn with_public_key_pem(mut self, pem: &[u8]) -> anyhow::Result<Self> {
        let verifier = match (DecodingKey::from_rsa_pem(pem), DecodingKey::from_ed_pem(pem)) {
            (Ok(rsa), _) => (rsa, Self::validation(Algorithm::RS256)),
            (_, Ok(ed25519)) => (ed25519, Self::validation(Algorithm::EdDSA)),
            (Err(rsa), Err(ed25519)) => {
                anyhow::bail!("not a PEM RSA or Ed25519 public key (as RSA: {rsa}; as Ed25519: {ed25519})")
            }
        };
        self.verifiers.push(verifier);
        Ok(self)
    }

    /// One algorithm, `exp` and `sub` required, `nbf` checked when present, 30 s of clock
    /// leeway: built once, read per request.
    fn validation(algorithm: Algorithm) -> Validation {
        let mut validation = Validation::new(algorithm);
        validation.leeway = JWT_LEEWAY_SECS as u64;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation
    }

    fn verify(&self, token: &str) -> Result<Claims, AuthFailure> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthFailure::InvalidToken)?;
        let (key, validation) = self
            .verifiers
            .iter()
            .find(|(_, validation)| validation.algorithms == [header.alg])
            .ok_or(AuthFailure::InvalidToken)?;
        jsonwebtoken::decode::<Claims>(token, key, validation).map(|data| data.claims).map_err(|err| match err.kind() {
            ErrorKind::ExpiredSignature => AuthFailure::TokenExpired,
            _ => AuthFailure::InvalidToken,
        })
    }
}

/// How far the clocks of a token's issuer and this service may disagree.
const JWT_LEEWAY_SECS: i64 = 30;

/// The claims this service reads: `sub` (user id), `org` (or `account`), `role`, `exp`, `iat`.
/// Dates may be fractional seconds and roles may carry Arkloop's `account_` prefix, as the real
/// Arkloop mints them.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    org: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    account: Option<Uuid>,
    #[serde(deserialize_with = "claimed_role")]
    role: Role,
    #[serde(deserialize_with = "numeric_date")]
    exp: i64,
    #[serde(default, deserialize_with = "numeric_date")]
    iat: i64,
}

/// A JWT NumericDate: seconds since the epoch, whole or not (RFC 7519 allows both).
fn numeric_date<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    let seconds = f64::deserialize(deserializer)?;
    if !seconds.is_finite() || seconds.abs() > 1e15 {
        return Err(serde::de::Error::custom("a date out of range"));
    }
    Ok(seconds.floor() as i64)
}

/// Our role names, and Arkloop's `account_admin` / `account_member` for the same roles.
fn claimed_role<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Role, D::Error> {
    let name = String::deserialize(deserializer)?;
    let ours = name.strip_prefix("account_").filter(|r| matches!(*r, "admin" | "member")).unwrap_or(&name);
    Role::deserialize(serde::de::value::StrDeserializer::<D::Error>::new(ours))
}

fn unauthenticated(failure: AuthFailure) -> AppError {
    AppError::Unauthenticated(failure)
}

impl App {
    /// Identifies the caller from a bearer token: an API key (`ak-…`, `alm_…`) or a JWT. The key or
    /// member is read from the store unless the principal cache holds it, which it only does while
    /// every change to it is heard of (see [`crate::PrincipalCache`]): a revocation or removal
    /// holds from the next request on the node that made it, and within milliseconds on others.
    pub async fn authenticate(&self, bearer_token: &str) -> Result<Principal, AppError> {
        if ApiKeyToken::is_key_shaped(bearer_token) {
            self.authenticate_api_key(bearer_token).await
        } else {
            self.authenticate_jwt(bearer_token).await
        }
    }

    async fn authenticate_api_key(&self, bearer_token: &str) -> Result<Principal, AppError> {
        let key = ApiKeyToken::parse(bearer_token).map_err(|_| unauthenticated(AuthFailure::InvalidApiKey))?;
        let hash = hash_api_key(&key);
        let holder = self
            .holder_of(Credential::ApiKey(hash), async {
                let Some(owner) = self.identity.find_api_key_owner(&hash).await? else { return Ok(None) };
                // The lookup was by hash already; this keeps the final comparison free of timing signal.
                if !bool::from(owner.key.key_sha256.ct_eq(&hash)) {
                    return Ok(None);
                }
                Ok(Some(Holder {
                    user: owner.user,
                    team_ids: owner.team_ids,
                    key: Some((owner.key.id, owner.key.scopes)),
                }))
            })
            .await?;
        let (holder, (key_id, scopes)) = holder
            .and_then(|holder| holder.key.map(|key| (holder, key)))
            .ok_or(unauthenticated(AuthFailure::InvalidApiKey))?;
        self.key_usage.record(key_id, self.clock.now());
        Ok(Principal {
            role: holder.user.role,
            permissions: holder.user.role.permissions().intersection(scopes),
            user: holder.user,
            team_ids: holder.team_ids,
            api_key_id: Some(key_id),
        })
    }

    async fn authenticate_jwt(&self, bearer_token: &str) -> Result<Principal, AppError> {
        let keys = self.jwt.as_ref().ok_or(unauthenticated(AuthFailure::InvalidToken))?;
        let claims = keys.verify(bearer_token).map_err(unauthenticated)?;
        // Issued later than now (beyond the clock leeway): no issuer whose clock is trusted made it.
        if claims.iat > self.clock.now().unix_timestamp() + JWT_LEEWAY_SECS {
            return Err(unauthenticated(AuthFailure::InvalidToken));
        }
        let org_id = claims.org.or(claims.account).ok_or(unauthenticated(AuthFailure::InvalidToken))?;
        let (org_id, user_id) = (OrgId::from_uuid(org_id), UserId::from_uuid(claims.sub));
        // The member must still be in that org: a token outlives nothing it was minted for.
        let holder = self
            .holder_of(Credential::Member(org_id, user_id), async {
                let Some(user) = self.identity.find_user(org_id, user_id).await? else { return Ok(None) };
                let team_ids = self.identity.team_ids_of(user.org_id, user.id).await?;
                Ok(Some(Holder { user, team_ids, key: None }))
            })
            .await?
            .ok_or(unauthenticated(AuthFailure::InvalidToken))?;
        let Holder { user, team_ids, .. } = holder;
        Ok(Principal {
            // A token never grants more than its claimed role, nor more than the member has now:
            // in permissions, and in what the role itself decides (owner rules, team rules).
            role: if claims.role.is_at_most(user.role) { claims.role } else { user.role },
            permissions: user.role.permissions().intersection(claims.role.permissions()),
            user,
            team_ids,
            api_key_id: None,
        })
    }

    /// The holder of `credential`: from the cache when it has it, else from `read` (kept when
    /// nothing changed meanwhile). `None`: no such live credential.
    async fn holder_of(
        &self,
        credential: Credential,
        read: impl std::future::Future<Output = Result<Option<Holder>, AppError>>,
    ) -> Result<Option<Holder>, AppError> {
        let lookup = self.principals.lookup(&credential);
        let ticket = match lookup {
            Lookup::Hit(holder) => return Ok(Some(holder)),
            Lookup::Miss(ticket) => Some(ticket),
            Lookup::Bypass => None,
        };
        let holder = read.await?;
        if let (Some(ticket), Some(holder)) = (ticket, &holder) {
            self.principals.keep(credential, ticket, holder.clone());
        }
        Ok(holder)
    }

    /// A JWT for the owner `email` of org `org_name`, valid for `ttl` (for `server token`).
    pub async fn mint_token(&self, org_name: &str, email: &str, ttl: time::Duration) -> Result<String, AppError> {
        let signing = self
            .jwt
            .as_ref()
            .and_then(|keys| keys.signing.as_ref())
            .ok_or_else(|| AppError::Unexpected(anyhow::anyhow!("no JWT secret is configured")))?;
        let org = self
            .identity
            .find_org_by_name(&OrgName::new(org_name)?)
            .await?
            .ok_or(AppError::NotFound(Resource::Member))?;
        let user = self
            .identity
            .find_user_by_email(org.id, &Email::new(email)?)
            .await?
            .ok_or(AppError::NotFound(Resource::Member))?;
        let now = self.clock.now();
        let claims = Claims {
            sub: user.id.as_uuid(),
            org: Some(org.id.as_uuid()),
            account: None,
            role: user.role,
            iat: now.unix_timestamp(),
            exp: (now + ttl).unix_timestamp(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, signing)
            .map_err(|err| AppError::Unexpected(err.into()))
    }

    /// Writes the `last_used_at` of every key and workspace used since the last flush; returns
    /// how many.
    pub async fn flush_last_used(&self) -> Result<usize, AppError> {
        let keys = self.key_usage.take();
        if !keys.is_empty() {
            self.identity.touch_api_keys(&keys).await?;
        }
        let workspaces = self.workspace_usage.take();
        if !workspaces.is_empty() {
            self.workspaces.touch_workspaces(&workspaces).await?;
        }
        Ok(keys.len() + workspaces.len())
    }
}
