//! Signed links to one file at one revision: a URL that needs no Authorization header (for
//! `<img src>` and hand-offs to other services), dead at its expiry, when the key that made it is
//! revoked (or the member who made it leaves), or when its project is deleted.
//!
//! A link is `<claims>.<mac>`, both base64url: the claims say whose file it is and until when, the
//! mac is HMAC-SHA256 over the claims with the server's link secret. Nothing is stored per link,
//! so any node with the same secret serves it; the revision is pinned when the link is made, so a
//! link always shows what its maker saw.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use projects_domain::{ApiKeyId, ByteRange, OrgId, Permission, ProjectId, Timestamp, UserId, WorkspacePath};
use projects_ports::{ProjectKey, RevisionKey};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::{App, AppError, AuthFailure, FileRead, Principal, Resource};

/// The longest a link may live.
pub const MAX_LINK_SECS: u64 = 86_400;

/// The secret links are signed with. Every node serving the same links needs the same one.
#[derive(Clone)]
pub struct LinkSecret([u8; 32]);

impl LinkSecret {
    /// A secret derived from configured text (a dedicated secret, or the JWT secret).
    pub fn derive(text: &str) -> Self {
        use sha2::Digest;
        Self(Sha256::new().chain_update(b"projects file links\0").chain_update(text.as_bytes()).finalize().into())
    }

    /// A fresh random secret: links made with it die with the process.
    pub fn random() -> Self {
        Self(rand::random())
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes a key of any length.
        Hmac::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!("HMAC accepts 32-byte keys"))
    }
}

impl std::fmt::Debug for LinkSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkSecret(…)")
    }
}

/// What a link names and who vouches for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Claims {
    org: OrgId,
    user: UserId,
    /// The API key that made it; `None` for a link made with a JWT (the member vouches).
    key: Option<ApiKeyId>,
    project: ProjectId,
    workspace: String,
    path: String,
    revision: String,
    /// Unix seconds.
    expires: i64,
}

/// A link as made: its token (the last segment of its URL) and when it dies.
#[derive(Debug, Clone)]
pub struct FileLink {
    pub token: String,
    pub expires_at: Timestamp,
}

fn sign(secret: &LinkSecret, claims: &Claims) -> String {
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
    let mut mac = secret.mac();
    mac.update(body.as_bytes());
    format!("{body}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

/// The claims of a token this secret signed, whatever their expiry; `None` for anything else.
fn verify(secret: &LinkSecret, token: &str) -> Option<Claims> {
    let (body, tag) = token.split_once('.')?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    let mut mac = secret.mac();
    mac.update(body.as_bytes());
    // `verify_slice` compares in constant time.
    mac.verify_slice(&tag).ok()?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).ok()?).ok()
}

impl App {
    /// Whether what vouched for `user` earlier still does: the key `key` is live and still
    /// theirs, or (for a token without a key) they are still a member of `org`.
    pub(crate) async fn still_vouched_for(
        &self,
        org: projects_domain::OrgId,
        user: projects_domain::UserId,
        key: Option<projects_domain::ApiKeyId>,
    ) -> Result<bool, AppError> {
        Ok(match key {
            Some(key) => self.identity.find_api_key(org, key).await?.is_some_and(|k| k.user_id == user),
            None => self.identity.find_user(org, user).await?.is_some(),
        })
    }

    /// Makes a link to the file at `raw_path` of the caller's workspace, at `revision` or the head
    /// as it is now, living `expires_in_secs` (1 to [`MAX_LINK_SECS`]). Needs what reading it needs.
    pub async fn create_file_link(
        &self,
        principal: &Principal,
        id_or_slug: &str,
        raw_path: &str,
        revision: Option<&str>,
        expires_in_secs: u64,
    ) -> Result<FileLink, AppError> {
        principal.require(Permission::ProjectsRead)?;
        principal.require(Permission::RunsRead)?;
        if !(1..=MAX_LINK_SECS).contains(&expires_in_secs) {
            let message = format!("must be between 1 and {MAX_LINK_SECS}");
            return Err(projects_domain::FieldError::new("expires_in_secs", message).into());
        }
        let path = crate::workspaces::file_path(raw_path)?;
        let (project, workspace) = self.my_workspace(principal, id_or_slug).await?;
        let not_found = || AppError::NotFound(Resource::WorkspaceFile);
        let seq = self.tree_at(&workspace, revision).await?.ok_or_else(not_found)?;
        // Pinned: the link shows this revision whatever is written after.
        let pinned = self
            .workspaces
            .find_revision(&workspace.workspace_ref, RevisionKey::Seq(seq))
            .await?
            .ok_or_else(not_found)?;
        self.file_entry(&workspace, seq, &path).await?;
        let expires_at = self.clock.now() + time::Duration::seconds(expires_in_secs as i64);
        let claims = Claims {
            org: principal.org_id(),
            user: principal.user_id(),
            key: principal.api_key_id,
            project: project.id,
            workspace: workspace.workspace_ref,
            path: path.as_str().to_owned(),
            revision: pinned.revision,
            expires: expires_at.unix_timestamp(),
        };
        Ok(FileLink { token: sign(&self.link_secret, &claims), expires_at })
    }

    /// The file a link names, if the link is genuine and alive: unexpired, its key (or its maker's
    /// membership) live, its project not deleted. Anything else is `InvalidToken`.
    pub async fn read_file_link(&self, token: &str, range: Option<ByteRange>) -> Result<FileRead, AppError> {
        let invalid = || AppError::Unauthenticated(AuthFailure::InvalidToken);
        let claims = verify(&self.link_secret, token).ok_or_else(invalid)?;
        if claims.expires <= self.clock.now().unix_timestamp() {
            return Err(invalid());
        }
        let vouched = self.still_vouched_for(claims.org, claims.user, claims.key).await?;
        let project = self.projects.find(claims.org, &ProjectKey::Id(claims.project)).await?;
        if !vouched || project.is_none() {
            return Err(invalid());
        }
        let workspace = self
            .workspaces
            .find_workspace(claims.org, &claims.workspace)
            .await?
            .filter(|w| w.project_id == claims.project)
            .ok_or_else(invalid)?;
        let revision = self
            .workspaces
            .find_revision(&workspace.workspace_ref, RevisionKey::Id(&claims.revision))
            .await?
            .ok_or(AppError::NotFound(Resource::Revision))?;
        let path = WorkspacePath::parse(&claims.path).map_err(|_| invalid())?;
        self.read_entry(&workspace, revision.seq, &path, range, &[]).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn claims() -> Claims {
        Claims {
            org: OrgId::from_uuid(Uuid::from_u128(1)),
            user: UserId::from_uuid(Uuid::from_u128(2)),
            key: Some(ApiKeyId::from_uuid(Uuid::from_u128(3))),
            project: ProjectId::from_uuid(Uuid::from_u128(4)),
            workspace: "wsref_0".into(),
            path: "/a.png".into(),
            revision: "r".into(),
            expires: 1_700_000_000,
        }
    }

    #[test]
    fn a_token_verifies_with_its_secret_only_and_never_once_altered() {
        let secret = LinkSecret::derive("s3cret");
        let token = sign(&secret, &claims());
        assert_eq!(verify(&secret, &token), Some(claims()));
        assert_eq!(verify(&LinkSecret::derive("other"), &token), None, "another secret");
        assert_eq!(verify(&LinkSecret::random(), &token), None);
        let (body, tag) = token.split_once('.').unwrap();
        let forged = Claims { path: "/secret.txt".into(), ..claims() };
        let forged_body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        assert_eq!(verify(&secret, &format!("{forged_body}.{tag}")), None, "claims changed");
        let mut flipped = tag.to_owned().into_bytes();
        flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
        assert_eq!(verify(&secret, &format!("{body}.{}", String::from_utf8(flipped).unwrap())), None);
        for junk in ["", ".", "a.b", body, &format!("{body}."), "!!.??"] {
            assert_eq!(verify(&secret, junk), None, "{junk:?}");
        }
    }
}
