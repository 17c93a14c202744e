use async_trait::async_trait;
use projects_domain::{
    ApiKey, ApiKeyId, AuditEvent, Email, Invitation, Org, OrgId, OrgName, PageRequest, Role, Team, TeamId, Timestamp,
    User, UserId, UserKind,
};

use crate::{Page, Reachable, StoreError};

/// Who an API key belongs to, as needed to authenticate one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyOwner {
    pub key: ApiKey,
    pub user: User,
    /// The teams the user belongs to.
    pub team_ids: Vec<TeamId>,
}

/// Where news of changes to who may do what arrives: a feed of the orgs whose members, roles,
/// teams or keys changed (PostgreSQL: LISTEN/NOTIFY sent in the changing transaction). Whoever
/// keeps credentials in memory listens here, and must not trust them while the feed is down.
pub trait IdentityChanges: Send + Sync {
    /// The feed is up: every change committed from now on will be told.
    fn feed_up(&self);
    /// The feed is down: changes may be committed untold until it is up again.
    fn feed_down(&self);
    /// The members, roles, teams or API keys of `org_id` changed.
    fn org_changed(&self, org_id: OrgId);
}

/// Orgs, their members, teams and API keys. Every read is scoped by org, except the lookups of an
/// API key or an invitation by its hash, which is how the org is found in the first place. Every
/// change to who may do what is written with its audit event, in one transaction, which also
/// tells [`IdentityChanges`] listeners on other nodes when the backend has a way to.
#[async_trait]
pub trait IdentityStore: Reachable {
    /// Creates an org, its first owner and that owner's first key, with their audit events, all or
    /// nothing. `Conflict { field: "org" }` when an org of that name exists.
    async fn create_org_with_owner(
        &self,
        org: &Org,
        owner: &User,
        key: &ApiKey,
        audit: &[AuditEvent],
    ) -> Result<(), StoreError>;

    /// Whether any org exists at all (an empty database is bootstrapped at start).
    async fn any_org_exists(&self) -> Result<bool, StoreError>;

    async fn find_org_by_name(&self, name: &OrgName) -> Result<Option<Org>, StoreError>;

    /// Adds a member (with the invitation that lets them in, for a person).
    /// `Conflict { field: "email" }` when the org already has a member with that email;
    /// `QuotaExceeded` when it has `quota` members already (`None`: unlimited).
    async fn create_user(
        &self,
        user: &User,
        invitation: Option<&Invitation>,
        audit: &AuditEvent,
        quota: Option<u64>,
    ) -> Result<(), StoreError>;

    /// The live invitation with this SHA-256 (unused, unexpired at `now`, its member still in the
    /// org), with that member as they are now.
    async fn find_invitation(
        &self,
        token_sha256: &[u8; 32],
        now: Timestamp,
    ) -> Result<Option<(Invitation, User)>, StoreError>;

    /// Uses up the invitation and creates the member's key, all or nothing. False (and nothing
    /// written) when the invitation is no longer live, e.g. a concurrent redemption won;
    /// `QuotaExceeded` (nothing written) when the org holds `quota` live keys already.
    async fn redeem_invitation(
        &self,
        token_sha256: &[u8; 32],
        now: Timestamp,
        key: &ApiKey,
        audit: &AuditEvent,
        quota: Option<u64>,
    ) -> Result<bool, StoreError>;

    async fn find_user_by_email(&self, org_id: OrgId, email: &Email) -> Result<Option<User>, StoreError>;

    async fn find_user(&self, org_id: OrgId, user_id: UserId) -> Result<Option<User>, StoreError>;

    /// `MissingReference { field: "user_id" }` when the user is not in the key's org;
    /// `QuotaExceeded` when the org holds `quota` live keys already (`None`: unlimited).
    async fn create_api_key(&self, key: &ApiKey, audit: &AuditEvent, quota: Option<u64>) -> Result<(), StoreError>;

    /// The live (not revoked) key with this SHA-256, with its owner. Keys of users who left the
    /// org are not live.
    async fn find_api_key_owner(&self, key_sha256: &[u8; 32]) -> Result<Option<ApiKeyOwner>, StoreError>;

    /// Marks a key revoked; it stops authenticating at once. False when there was no live key.
    async fn revoke_api_key(&self, org_id: OrgId, key_id: ApiKeyId, audit: &AuditEvent) -> Result<bool, StoreError>;

    /// One live key of the org, or None.
    async fn find_api_key(&self, org_id: OrgId, key_id: ApiKeyId) -> Result<Option<ApiKey>, StoreError>;

    /// One page of the org's keys, newest first; only `user_id`'s when given. Revoked keys are
    /// left out.
    async fn list_api_keys(
        &self,
        org_id: OrgId,
        user_id: Option<UserId>,
        page: PageRequest,
    ) -> Result<Page<ApiKey>, StoreError>;

    /// Records when keys were last used (batched by the caller, off the request path).
    async fn touch_api_keys(&self, used: &[(ApiKeyId, Timestamp)]) -> Result<(), StoreError>;

    /// One page of the org's current members, oldest first; only those of `kind` when given.
    async fn list_members(
        &self,
        org_id: OrgId,
        kind: Option<UserKind>,
        page: PageRequest,
    ) -> Result<Page<User>, StoreError>;

    /// Saves a member's own preferences (`default_project_visibility`, `active_team_id`), and
    /// nothing else. False when they are not a current member.
    async fn update_preferences(&self, user: &User) -> Result<bool, StoreError>;

    /// Moves a member from role `from` to `to`, with its audit event. False (nothing written) when
    /// they are not a current member or no longer hold `from`: a check made on `from` still holds.
    async fn change_role(
        &self,
        org_id: OrgId,
        user_id: UserId,
        from: Role,
        to: Role,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;

    /// Removes a member: their keys (revoked with them) and invitations stop working at once and their email is free
    /// again. Their projects stay. False when they were not a current member.
    async fn remove_member(&self, org_id: OrgId, user_id: UserId, audit: &AuditEvent) -> Result<bool, StoreError>;

    /// `Conflict { field: "name" }` when the org has a team of that name.
    async fn create_team(&self, team: &Team, audit: &AuditEvent) -> Result<(), StoreError>;

    /// One page of the org's teams, oldest first.
    async fn list_teams(&self, org_id: OrgId, page: PageRequest) -> Result<Page<Team>, StoreError>;

    /// The org's teams among `team_ids`, by name.
    async fn find_teams(&self, org_id: OrgId, team_ids: &[TeamId]) -> Result<Vec<Team>, StoreError>;

    /// The teams a member belongs to.
    async fn team_ids_of(&self, org_id: OrgId, user_id: UserId) -> Result<Vec<TeamId>, StoreError>;

    /// False when the user was not in the team.
    async fn remove_team_member(
        &self,
        org_id: OrgId,
        team_id: TeamId,
        user_id: UserId,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;

    async fn find_team(&self, org_id: OrgId, team_id: TeamId) -> Result<Option<Team>, StoreError>;

    /// Adds a member to a team (a no-op when already a member). `MissingReference` when either
    /// is not in the org.
    async fn add_team_member(
        &self,
        org_id: OrgId,
        team_id: TeamId,
        user_id: UserId,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;
}
