use projects_domain::{
    service_account_email, ApiKey, ApiKeyId, ApiKeyToken, Email, Invitation, InvitationToken, KeyFormat, PageRequest,
    Patch, Permission, PermissionSet, Quota, Role, TeamId, User, UserId, UserKind, ValidationErrors, Visibility,
};
use rand::RngCore;
use sha2::{Digest, Sha256};

use projects_ports::{Page, StoreError};

use crate::{short_name, App, AppError, AuthFailure, Principal, Refusal, Resource};

/// A person just added to the org, and the invitation that lets them in (shown this once).
#[derive(Debug)]
pub struct Invited {
    pub user: User,
    pub invite_token: InvitationToken,
}

fn hash_invitation(token: &InvitationToken) -> [u8; 32] {
    Sha256::digest(token.expose().as_bytes()).into()
}

fn owner_only() -> AppError {
    AppError::NotAllowed(Refusal::OwnerRoleNeedsOwner)
}

fn target_type(user: &User) -> &'static str {
    match user.kind {
        UserKind::Person => "member",
        UserKind::ServiceAccount => "service_account",
    }
}

impl App {
    /// Adds a person to the caller's org, with an invitation only they should redeem. Needs
    /// `org.members.manage`; only an owner makes owners.
    pub async fn add_member(&self, principal: &Principal, email: &str, role: Role) -> Result<Invited, AppError> {
        principal.require(Permission::MembersManage)?;
        let email = Email::new(email)?;
        if role == Role::Owner && principal.role() != Role::Owner {
            return Err(owner_only());
        }
        let user = self.new_user(principal.org_id(), &email, role);
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut secret);
        let invite_token = InvitationToken::from_secret(&secret);
        let now = self.clock.now();
        let invitation = Invitation {
            token_sha256: hash_invitation(&invite_token),
            org_id: user.org_id,
            user_id: user.id,
            role,
            created_at: now,
            expires_at: now + Invitation::VALIDITY,
        };
        let audit = self.identity_audit(
            principal.user(),
            "member.added",
            "member",
            user.id.as_uuid(),
            vec![role.as_str().to_owned()],
        );
        match self.identity.create_user(&user, Some(&invitation), &audit, self.quota(Quota::Members)).await {
            Ok(()) => Ok(Invited { user, invite_token }),
            Err(StoreError::Conflict { field }) => Err(AppError::Conflict { resource: Resource::Member, field }),
            Err(other) => Err(other.into()),
        }
    }

    /// Redeems an invitation for the invited member's own first key, with every permission of
    /// their role. Unknown, used, expired or void (member removed) → `InvalidToken`.
    pub async fn accept_invitation(
        &self,
        token: &str,
        key_name: Option<&str>,
    ) -> Result<(User, ApiKeyToken), AppError> {
        let invalid = || AppError::Unauthenticated(AuthFailure::InvalidToken);
        let key_name = short_name("key_name", key_name.unwrap_or("invitation"))?;
        let token = InvitationToken::parse(token).map_err(|_| invalid())?;
        let token_sha256 = hash_invitation(&token);
        let now = self.clock.now();
        let (invitation, user) = self.identity.find_invitation(&token_sha256, now).await?.ok_or_else(invalid)?;
        let (mut key, api_key) = self.new_api_key(&user, &key_name, KeyFormat::Arkloop);
        // Whoever invited saw the token: the key carries no more than the role they invited with,
        // even if the member was promoted before accepting.
        key.scopes = key.scopes.intersection(invitation.role.permissions());
        let audit = self.identity_audit(&user, "api_key.created", "api_key", key.id.as_uuid(), vec![]);
        if !self.identity.redeem_invitation(&token_sha256, now, &key, &audit, self.quota(Quota::ApiKeys)).await? {
            return Err(invalid());
        }
        Ok((user, api_key))
    }

    /// Adds a service account: a non-human member whose keys admins mint. Its role is never
    /// `owner` (422) and never above the caller's (403).
    pub async fn create_service_account(
        &self,
        principal: &Principal,
        name: &str,
        role: Role,
    ) -> Result<User, AppError> {
        principal.require(Permission::MembersManage)?;
        let name = short_name("name", name)?;
        if role == Role::Owner {
            return Err(ValidationErrors::single("role", "a service account cannot be an owner").into());
        }
        if !role.is_at_most(principal.role()) {
            return Err(AppError::NotAllowed(Refusal::RoleAboveYours));
        }
        let id = UserId::from_uuid(self.ids.new_id());
        let account = User {
            id,
            email: service_account_email(id),
            kind: UserKind::ServiceAccount,
            name: Some(name),
            ..self.new_user(principal.org_id(), &service_account_email(id), role)
        };
        let audit = self.identity_audit(
            principal.user(),
            "service_account.created",
            "service_account",
            account.id.as_uuid(),
            vec![role.as_str().to_owned()],
        );
        self.identity.create_user(&account, None, &audit, self.quota(Quota::Members)).await?;
        Ok(account)
    }

    /// One page of the org's service accounts, oldest first.
    pub async fn list_service_accounts(
        &self,
        principal: &Principal,
        page: PageRequest,
    ) -> Result<Page<User>, AppError> {
        principal.require(Permission::MembersManage)?;
        Ok(self.identity.list_members(principal.org_id(), Some(UserKind::ServiceAccount), page).await?)
    }

    /// Removes a service account; its keys stop working with the next request.
    pub async fn remove_service_account(&self, principal: &Principal, user_id: UserId) -> Result<(), AppError> {
        principal.require(Permission::MembersManage)?;
        let account =
            self.identity.find_user(principal.org_id(), user_id).await?.filter(|u| u.kind == UserKind::ServiceAccount);
        let account = account.ok_or(AppError::NotFound(Resource::Member))?;
        self.remove(principal, &account).await
    }

    /// Makes an API key for the caller, or (with `org.members.manage`) for a service account of the
    /// org. Never for another person: a key acts as its user. The scopes must be known permission
    /// names (else 422) held by both the key's user and the caller (else 403). The token is
    /// returned to be shown once, in the shape `format` names.
    pub async fn create_api_key(
        &self,
        principal: &Principal,
        name: &str,
        scopes: &[String],
        for_user: Option<UserId>,
        format: KeyFormat,
    ) -> Result<(ApiKey, ApiKeyToken), AppError> {
        principal.require(Permission::ApiKeysManage)?;
        let for_user = for_user.filter(|id| *id != principal.user_id());
        if for_user.is_some() {
            principal.require(Permission::MembersManage)?;
        }
        let mut errors = ValidationErrors::new();
        let name = errors.check(short_name("name", name));
        let scopes = errors.check(PermissionSet::parse(scopes.iter().map(String::as_str)));
        errors.into_result()?;
        let (name, scopes) = (name.expect("checked"), scopes.expect("checked"));
        let user = match for_user {
            None => principal.user.clone(),
            Some(user_id) => {
                let user = self
                    .identity
                    .find_user(principal.org_id(), user_id)
                    .await?
                    .ok_or_else(|| ValidationErrors::single("user_id", "is not a member of this org"))?;
                if user.kind != UserKind::ServiceAccount {
                    return Err(AppError::NotAllowed(Refusal::KeyForAnotherPerson));
                }
                user
            }
        };
        let allowed = user.role.permissions().intersection(principal.permissions);
        if let Some(beyond) = scopes.iter().find(|scope| !allowed.contains(*scope)) {
            return Err(AppError::Forbidden { missing: beyond });
        }
        let (mut key, token) = self.new_api_key(&user, &name, format);
        key.scopes = scopes;
        let fields = if user.id == principal.user_id() { vec![] } else { vec![user.id.to_string()] };
        let audit = self.identity_audit(principal.user(), "api_key.created", "api_key", key.id.as_uuid(), fields);
        self.identity.create_api_key(&key, &audit, self.quota(Quota::ApiKeys)).await?;
        Ok((key, token))
    }
}

impl App {
    /// Sets the caller's own preferences. The active team must be one of the caller's teams.
    pub async fn update_me(
        &self,
        principal: &Principal,
        default_project_visibility: Patch<Visibility>,
        active_team_id: Patch<TeamId>,
    ) -> Result<User, AppError> {
        let mut user = principal.user.clone();
        if let Some(visibility) = default_project_visibility {
            user.default_project_visibility = visibility;
        }
        if let Some(team_id) = active_team_id {
            if let Some(team_id) = team_id {
                if !principal.team_ids.contains(&team_id) {
                    return Err(ValidationErrors::single("active_team_id", "is not one of your teams").into());
                }
            }
            user.active_team_id = team_id;
        }
        if !self.after_identity_change(user.org_id, self.identity.update_preferences(&user).await)? {
            return Err(AppError::NotFound(Resource::Member));
        }
        Ok(user)
    }

    /// One page of the org's members, service accounts included, oldest first. Needs
    /// `org.teams.read`.
    pub async fn list_members(&self, principal: &Principal, page: PageRequest) -> Result<Page<User>, AppError> {
        principal.require(Permission::TeamsRead)?;
        Ok(self.identity.list_members(principal.org_id(), None, page).await?)
    }

    /// A member of the caller's org that the caller may manage: not themselves, and an owner only
    /// when the caller is one.
    async fn managed_member(&self, principal: &Principal, user_id: UserId) -> Result<User, AppError> {
        principal.require(Permission::MembersManage)?;
        if user_id == principal.user_id() {
            return Err(ValidationErrors::single("user_id", "you cannot change your own membership").into());
        }
        let member =
            self.identity.find_user(principal.org_id(), user_id).await?.ok_or(AppError::NotFound(Resource::Member))?;
        if member.role == Role::Owner && principal.role() != Role::Owner {
            return Err(owner_only());
        }
        Ok(member)
    }

    /// Changes a member's role; only an owner grants or takes away the owner role, and a service
    /// account is never an owner.
    pub async fn change_role(&self, principal: &Principal, user_id: UserId, role: Role) -> Result<User, AppError> {
        let mut member = self.managed_member(principal, user_id).await?;
        if role == Role::Owner && principal.role() != Role::Owner {
            return Err(owner_only());
        }
        if role == Role::Owner && member.kind == UserKind::ServiceAccount {
            return Err(ValidationErrors::single("role", "a service account cannot be an owner").into());
        }
        if member.role == role {
            return Ok(member);
        }
        let fields = vec![member.role.as_str().to_owned(), role.as_str().to_owned()];
        let audit = self.identity_audit(
            principal.user(),
            "member.role_changed",
            target_type(&member),
            member.id.as_uuid(),
            fields,
        );
        // Only from the role the checks above saw: a promotion racing this change wins, and
        // this one is refused rather than undoing it.
        if !self.after_identity_change(
            principal.org_id(),
            self.identity.change_role(principal.org_id(), member.id, member.role, role, &audit).await,
        )? {
            return Err(AppError::PreconditionFailed(Resource::Member));
        }
        member.role = role;
        Ok(member)
    }

    /// Removes a member; their keys, tokens and invitation stop working with the next request.
    pub async fn remove_member(&self, principal: &Principal, user_id: UserId) -> Result<(), AppError> {
        let member = self.managed_member(principal, user_id).await?;
        self.remove(principal, &member).await
    }

    async fn remove(&self, principal: &Principal, member: &User) -> Result<(), AppError> {
        if member.id == principal.user_id() {
            return Err(ValidationErrors::single("user_id", "you cannot change your own membership").into());
        }
        let action = match member.kind {
            UserKind::Person => "member.removed",
            UserKind::ServiceAccount => "service_account.removed",
        };
        let audit = self.identity_audit(principal.user(), action, target_type(member), member.id.as_uuid(), vec![]);
        if !self.after_identity_change(
            principal.org_id(),
            self.identity.remove_member(principal.org_id(), member.id, &audit).await,
        )? {
            return Err(AppError::NotFound(Resource::Member));
        }
        Ok(())
    }

    /// One page of the caller's own keys, or with `all` (needs `org.members.manage`) the org's,
    /// newest first.
    pub async fn list_api_keys(
        &self,
        principal: &Principal,
        all: bool,
        page: PageRequest,
    ) -> Result<Page<ApiKey>, AppError> {
        principal.require(Permission::ApiKeysManage)?;
        let owner = if all {
            principal.require(Permission::MembersManage)?;
            None
        } else {
            Some(principal.user_id())
        };
        Ok(self.identity.list_api_keys(principal.org_id(), owner, page).await?)
    }

    /// Revokes one of the caller's keys (any of the org's with `org.members.manage`). It stops
    /// working with the next request.
    pub async fn revoke_api_key(&self, principal: &Principal, key_id: ApiKeyId) -> Result<(), AppError> {
        principal.require(Permission::ApiKeysManage)?;
        let key = self.identity.find_api_key(principal.org_id(), key_id).await?;
        let may_revoke_any = principal.permissions.contains(Permission::MembersManage);
        let key = key
            .filter(|key| may_revoke_any || key.user_id == principal.user_id())
            .ok_or(AppError::NotFound(Resource::ApiKey))?;
        if key.user_id != principal.user_id() && principal.role() != Role::Owner {
            let holder = self.identity.find_user(principal.org_id(), key.user_id).await?;
            if holder.is_some_and(|holder| holder.role == Role::Owner) {
                return Err(owner_only());
            }
        }
        let audit = self.identity_audit(
            principal.user(),
            "api_key.revoked",
            "api_key",
            key.id.as_uuid(),
            vec![key.user_id.to_string()],
        );
        if !self.after_identity_change(
            principal.org_id(),
            self.identity.revoke_api_key(principal.org_id(), key_id, &audit).await,
        )? {
            return Err(AppError::NotFound(Resource::ApiKey));
        }
        Ok(())
    }
}
