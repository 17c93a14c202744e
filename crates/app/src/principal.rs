use projects_domain::{ApiKeyId, OrgId, Permission, PermissionSet, Role, TeamId, User, UserId, Viewer};

use crate::AppError;

/// Who is calling, and what they may do: their role's permissions, narrowed by the scopes of the
/// credential they used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user: User,
    /// The role the credential acts with: the member's, or lower when a token claims less.
    pub role: Role,
    pub permissions: PermissionSet,
    pub team_ids: Vec<TeamId>,
    /// The API key the caller authenticated with; `None` for a JWT.
    pub api_key_id: Option<ApiKeyId>,
}

impl Principal {
    pub fn org_id(&self) -> OrgId {
        self.user.org_id
    }

    pub fn user(&self) -> &User {
        &self.user
    }

    /// Whether the caller runs the org (owner or admin).
    pub fn runs_the_org(&self) -> bool {
        matches!(self.role, Role::Owner | Role::Admin)
    }

    pub fn user_id(&self) -> UserId {
        self.user.id
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// `Forbidden` unless the principal holds `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), AppError> {
        if self.permissions.contains(permission) {
            Ok(())
        } else {
            Err(AppError::Forbidden { missing: permission })
        }
    }

    pub fn viewer(&self) -> Viewer {
        Viewer { org_id: self.user.org_id, user_id: self.user.id, role: self.role, team_ids: self.team_ids.clone() }
    }
}
