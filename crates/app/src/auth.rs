use projects_domain::{ApiKeyToken, API_KEY_PREFIX};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{App, AppError, AuthFailure, Principal};

/// What is stored for an API key: the SHA-256 of the whole key.
pub fn hash_api_key(key: &ApiKeyToken) -> [u8; 32] {
    Sha256::digest(key.expose().as_bytes()).into()
}

impl App {
    /// Identifies the caller from a bearer token.
    pub async fn authenticate(&self, bearer_token: &str) -> Result<Principal, AppError> {
        if !bearer_token.starts_with(API_KEY_PREFIX) {
            // Only API keys are issued so far; anything else is an unusable token.
            return Err(AppError::Unauthenticated(AuthFailure::InvalidToken));
        }
        let key = ApiKeyToken::parse(bearer_token)
            .map_err(|_| AppError::Unauthenticated(AuthFailure::InvalidApiKey))?;
        let hash = hash_api_key(&key);
        let owner = self
            .identity
            .find_api_key_owner(&hash)
            .await?
            .ok_or(AppError::Unauthenticated(AuthFailure::InvalidApiKey))?;
        // The lookup was by hash already; this keeps the final comparison free of timing signal.
        if !bool::from(owner.key.key_sha256.ct_eq(&hash)) {
            return Err(AppError::Unauthenticated(AuthFailure::InvalidApiKey));
        }
        Ok(Principal {
            permissions: owner.user.role.permissions().intersection(owner.key.scopes),
            user: owner.user,
            team_ids: owner.team_ids,
        })
    }
}
