//! Orgs, their members, roles and the role → permission table.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ids::{ApiKeyId, OrgId, TeamId, UserId};
use crate::project::Visibility;
use crate::validation::FieldError;
use crate::Timestamp;

/// A dotted permission name, as Arkloop spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    ProjectsRead,
    ProjectsManage,
    RunsRead,
    RunsWrite,
    UsageRead,
    UsageWrite,
    ApiKeysManage,
    TeamsRead,
    TeamsManage,
    MembersManage,
}

impl Permission {
    pub const ALL: [Permission; 10] = [
        Permission::ProjectsRead,
        Permission::ProjectsManage,
        Permission::RunsRead,
        Permission::RunsWrite,
        Permission::UsageRead,
        Permission::UsageWrite,
        Permission::ApiKeysManage,
        Permission::TeamsRead,
        Permission::TeamsManage,
        Permission::MembersManage,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Permission::ProjectsRead => "data.projects.read",
            Permission::ProjectsManage => "data.projects.manage",
            Permission::RunsRead => "data.runs.read",
            Permission::RunsWrite => "data.runs.write",
            Permission::UsageRead => "data.usage.read",
            Permission::UsageWrite => "data.usage.write",
            Permission::ApiKeysManage => "data.api_keys.manage",
            Permission::TeamsRead => "org.teams.read",
            Permission::TeamsManage => "org.teams.manage",
            Permission::MembersManage => "org.members.manage",
        }
    }

    const fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Permission {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Permission::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| FieldError::new("scopes", format!("unknown scope `{s}`")))
    }
}

/// A set of permissions (a role's grant, an API key's scopes, or their intersection).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PermissionSet(u16);

impl PermissionSet {
    pub const EMPTY: PermissionSet = PermissionSet(0);

    pub const fn of(permissions: &[Permission]) -> Self {
        let mut bits = 0;
        let mut i = 0;
        while i < permissions.len() {
            bits |= permissions[i].bit();
            i += 1;
        }
        PermissionSet(bits)
    }

    pub const fn all() -> Self {
        Self::of(&Permission::ALL)
    }

    pub const fn contains(self, permission: Permission) -> bool {
        self.0 & permission.bit() != 0
    }

    pub const fn intersection(self, other: PermissionSet) -> Self {
        PermissionSet(self.0 & other.0)
    }

    pub const fn is_subset_of(self, other: PermissionSet) -> bool {
        self.0 & !other.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL.into_iter().filter(move |p| self.contains(*p))
    }

    /// Parses scope names; an unknown name is a validation error naming it.
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, FieldError> {
        let mut set = PermissionSet::EMPTY;
        for name in names {
            set.0 |= name.parse::<Permission>()?.bit();
        }
        Ok(set)
    }

    pub fn names(self) -> Vec<&'static str> {
        self.iter().map(Permission::as_str).collect()
    }
}

impl fmt::Debug for PermissionSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter().map(Permission::as_str)).finish()
    }
}

/// A member's role in their org.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Admin,
    Member,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Member, Role::Viewer];

    /// The one role → permission table of the service.
    pub const fn permissions(self) -> PermissionSet {
        use Permission::*;
        match self {
            Role::Owner | Role::Admin => PermissionSet::all(),
            Role::Member => PermissionSet::of(&[
                ProjectsRead,
                ProjectsManage,
                RunsRead,
                RunsWrite,
                UsageRead,
                UsageWrite,
                ApiKeysManage,
                TeamsRead,
            ]),
            Role::Viewer => PermissionSet::of(&[ProjectsRead, RunsRead, UsageRead, ApiKeysManage, TeamsRead]),
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Viewer => "viewer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| FieldError::new("role", "must be one of owner, admin, member, viewer"))
    }
}

/// An org's display name: 1–100 characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrgName(String);

impl OrgName {
    pub const MAX_CHARS: usize = 100;

    pub fn new(raw: &str) -> Result<Self, FieldError> {
        let trimmed = raw.trim();
        let chars = trimmed.chars().count();
        if chars == 0 {
            return Err(FieldError::new("org", "must not be empty"));
        }
        if chars > Self::MAX_CHARS {
            return Err(FieldError::new("org", format!("must be at most {} characters", Self::MAX_CHARS)));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address, lower-cased; only its shape is checked (one `@`, something either side).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub const MAX_CHARS: usize = 254;

    pub fn new(raw: &str) -> Result<Self, FieldError> {
        let email = raw.trim().to_lowercase();
        let valid_shape = match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.is_empty()
                    && !domain.contains('@')
                    && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            }
            None => false,
        };
        if !valid_shape {
            return Err(FieldError::new("email", "must be an email address"));
        }
        if email.chars().count() > Self::MAX_CHARS {
            return Err(FieldError::new("email", format!("must be at most {} characters", Self::MAX_CHARS)));
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    pub id: OrgId,
    pub name: OrgName,
    pub created_at: Timestamp,
}

/// Whether a member is a person or automation. Only a person receives invitations; only a service
/// account has keys minted for it by somebody else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserKind {
    Person,
    ServiceAccount,
}

impl UserKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            UserKind::Person => "user",
            UserKind::ServiceAccount => "service_account",
        }
    }
}

impl FromStr for UserKind {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "user" => Ok(UserKind::Person),
            "service_account" => Ok(UserKind::ServiceAccount),
            _ => Err(FieldError::new("kind", "must be user or service_account")),
        }
    }
}

/// The address a service account is known by. Service accounts have no mailbox; like Google
/// Cloud's, they still have an email-shaped identity, unique in the org, under a reserved domain
/// (RFC 2606 `.invalid`) that no person can receive mail at.
pub fn service_account_email(id: UserId) -> Email {
    Email(format!("sa-{}@service-accounts.invalid", id.as_uuid().simple()))
}

impl Role {
    /// Whether `self` grants nothing beyond `other` (owner ≥ admin ≥ member ≥ viewer).
    pub const fn is_at_most(self, other: Role) -> bool {
        self.rank() <= other.rank()
    }

    const fn rank(self) -> u8 {
        match self {
            Role::Owner => 3,
            Role::Admin => 2,
            Role::Member => 1,
            Role::Viewer => 0,
        }
    }
}

/// A member of one org: a person or a service account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub org_id: OrgId,
    pub email: Email,
    pub role: Role,
    pub kind: UserKind,
    /// A service account's display name; people are known by their email.
    pub name: Option<String>,
    pub default_project_visibility: Option<Visibility>,
    pub active_team_id: Option<TeamId>,
    pub created_at: Timestamp,
}

/// A group of users in an org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    pub id: TeamId,
    pub org_id: OrgId,
    pub name: String,
    pub created_at: Timestamp,
}

/// An invitation as stored: its hash, never the token. It names the member it lets in, and dies
/// when used, when it expires, or when that member is removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub token_sha256: [u8; 32],
    pub org_id: OrgId,
    pub user_id: UserId,
    /// The role the member was invited with: their first key never carries more, whatever their
    /// role has become by the time they accept (the inviter has seen the token).
    pub role: Role,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

impl Invitation {
    /// How long an invitation can be redeemed.
    pub const VALIDITY: time::Duration = time::Duration::days(7);
}

/// An API key as stored: its hash, never the key itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub name: String,
    pub key_prefix: String,
    pub key_sha256: [u8; 32],
    pub scopes: PermissionSet,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_names_round_trip() {
        for permission in Permission::ALL {
            assert_eq!(permission.as_str().parse::<Permission>(), Ok(permission));
        }
        assert!("data.projects.delete".parse::<Permission>().is_err());
    }

    #[test]
    fn role_permission_table() {
        use Permission::*;
        // role × permission, every cell explicit.
        let table: [(Permission, [bool; 4]); 10] = [
            //               owner  admin  member viewer
            (ProjectsRead, [true, true, true, true]),
            (ProjectsManage, [true, true, true, false]),
            (RunsRead, [true, true, true, true]),
            (RunsWrite, [true, true, true, false]),
            (UsageRead, [true, true, true, true]),
            (UsageWrite, [true, true, true, false]),
            (ApiKeysManage, [true, true, true, true]),
            (TeamsRead, [true, true, true, true]),
            (TeamsManage, [true, true, false, false]),
            (MembersManage, [true, true, false, false]),
        ];
        for (permission, expected) in table {
            for (role, allowed) in Role::ALL.into_iter().zip(expected) {
                assert_eq!(role.permissions().contains(permission), allowed, "{role} / {permission}");
            }
        }
    }

    #[test]
    fn permission_set_parses_and_intersects() {
        let scopes = PermissionSet::parse(["data.projects.read", "org.teams.manage"]).unwrap();
        let effective = scopes.intersection(Role::Member.permissions());
        assert_eq!(effective.names(), vec!["data.projects.read"]);
        assert!(scopes.intersection(Role::Member.permissions()).is_subset_of(scopes));
        assert!(!scopes.is_subset_of(Role::Member.permissions()));
        let err = PermissionSet::parse(["data.projects.read", "nope"]).unwrap_err();
        assert_eq!(err.message, "unknown scope `nope`");
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(Email::new(" Ada@Example.COM ").unwrap().as_str(), "ada@example.com");
        for bad in ["", "ada", "@example.com", "ada@", "a b@example.com", "a@b@c"] {
            assert!(Email::new(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn org_names_are_trimmed_and_bounded() {
        assert_eq!(OrgName::new("  Acme ").unwrap().as_str(), "Acme");
        assert!(OrgName::new("   ").is_err());
        assert!(OrgName::new(&"x".repeat(101)).is_err());
        assert!(OrgName::new(&"é".repeat(100)).is_ok());
    }
}
