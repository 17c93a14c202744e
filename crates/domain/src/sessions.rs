//! Workspace vocabulary beyond the tree: how a workspace is named, where its objects live in the
//! blob store, and the kinds and states of the sessions that work in it.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::ids::{OrgId, ProjectId, UserId};
use crate::validation::FieldError;

/// `wsref_` + 32 hex of SHA-256 over org, user and project: the same caller always gets the same
/// workspace of a project, on every node, without a lookup.
pub fn workspace_ref(org_id: OrgId, user_id: UserId, project_id: ProjectId) -> String {
    let digest = Sha256::digest(format!("{org_id}:{user_id}:{project_id}"));
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("wsref_{hex}")
}

/// Where a workspace's objects live in the blob store (Arkloop's layout).
pub mod layout {
    /// Everything of one workspace, for removing it whole.
    pub fn workspace_prefix(workspace_ref: &str) -> String {
        format!("workspaces/{workspace_ref}")
    }

    /// File content, stored once per workspace under its SHA-256.
    pub fn blob_key(workspace_ref: &str, sha256: &str) -> String {
        format!("workspaces/{workspace_ref}/blobs/{sha256}")
    }

    /// One revision's manifest.
    pub fn manifest_key(workspace_ref: &str, revision: &str) -> String {
        format!("workspaces/{workspace_ref}/manifests/{revision}.json")
    }

    /// An upload being hashed, before it is filed under its SHA-256.
    pub fn upload_key(workspace_ref: &str, upload_id: &str) -> String {
        format!("workspaces/{workspace_ref}/uploads/{upload_id}")
    }
}

/// What kind of process a session is; each has its own ref prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionType {
    Shell,
    Browser,
}

impl SessionType {
    pub const fn as_str(self) -> &'static str {
        match self {
            SessionType::Shell => "shell",
            SessionType::Browser => "browser",
        }
    }

    /// `shref_` or `brref_`, then 32 lowercase hex digits.
    pub const fn ref_prefix(self) -> &'static str {
        match self {
            SessionType::Shell => "shref_",
            SessionType::Browser => "brref_",
        }
    }

    /// The session ref made of a 128-bit id.
    pub fn session_ref(self, id: uuid::Uuid) -> String {
        format!("{}{}", self.ref_prefix(), id.simple())
    }
}

impl fmt::Display for SessionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SessionType {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "shell" => Ok(SessionType::Shell),
            "browser" => Ok(SessionType::Browser),
            _ => Err(FieldError::new("session_type", "must be shell or browser")),
        }
    }
}

/// Whether `raw` has the shape of a session ref this service hands out; anything else names no
/// session, and is never looked up.
pub fn is_session_ref(raw: &str) -> bool {
    [SessionType::Shell, SessionType::Browser]
        .iter()
        .any(|kind| raw.strip_prefix(kind.ref_prefix()).is_some_and(|hex| crate::is_lower_hex(hex, 32)))
}

/// Where a session is in its life. A caller sets `ready` or `busy`; closing makes it `closed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionState {
    Ready,
    Busy,
    Closed,
}

impl SessionState {
    pub const fn as_str(self) -> &'static str {
        match self {
            SessionState::Ready => "ready",
            SessionState::Busy => "busy",
            SessionState::Closed => "closed",
        }
    }

    /// A state a caller may set (`ready` or `busy`).
    pub fn settable(raw: &str) -> Result<Self, FieldError> {
        match raw {
            "ready" => Ok(SessionState::Ready),
            "busy" => Ok(SessionState::Busy),
            _ => Err(FieldError::new("state", "must be ready or busy")),
        }
    }
}

impl fmt::Display for SessionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SessionState {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "closed" => Ok(SessionState::Closed),
            other => SessionState::settable(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn workspace_refs_are_stable_and_distinct() {
        let (org, user, project) = (
            OrgId::from_uuid(Uuid::from_u128(1)),
            UserId::from_uuid(Uuid::from_u128(2)),
            ProjectId::from_uuid(Uuid::from_u128(3)),
        );
        let one = workspace_ref(org, user, project);
        assert_eq!(one, workspace_ref(org, user, project));
        assert!(one.starts_with("wsref_") && one.len() == 38 && crate::is_lower_hex(&one[6..], 32), "{one}");
        assert_ne!(one, workspace_ref(org, UserId::from_uuid(Uuid::from_u128(4)), project));
    }

    #[test]
    fn session_refs_and_states() {
        let id = Uuid::from_u128(0xab);
        let shell = SessionType::Shell.session_ref(id);
        assert!(is_session_ref(&shell) && shell.starts_with("shref_"));
        assert!(is_session_ref(&SessionType::Browser.session_ref(id)));
        for bad in ["shref_", "shref_XYZ", "xxref_0000000000000000000000000000abcd", "shref_\\0"] {
            assert!(!is_session_ref(bad), "{bad:?}");
        }
        assert_eq!("browser".parse::<SessionType>(), Ok(SessionType::Browser));
        assert!("tty".parse::<SessionType>().is_err());
        assert!(SessionState::settable("closed").is_err());
        assert_eq!("closed".parse::<SessionState>(), Ok(SessionState::Closed));
    }
}
