use projects_domain::{
    ApiKey, ApiKeyId, ApiKeyToken, Email, Patch, Permission, PermissionSet, Role, TeamId, User, UserId,
    ValidationErrors, Visibility,
};

use projects_ports::StoreError;

use crate::{short_name, App, AppError, Principal, Resource};

impl App {
    /// Adds a member to the caller's org. Needs `org.members.manage`; only an owner makes owners.
    pub async fn add_member(&self, principal: &Principal, email: &str, role: Role) -> Result<User, AppError> {
        principal.require(Permission::MembersManage)?;
        let email = Email::new(email)?;
        if role == Role::Owner && principal.role() != Role::Owner {
            return Err(AppError::Forbidden { missing: Permission::MembersManage });
        }
        let user = self.new_user(principal.org_id(), &email, role);
        match self.identity.create_user(&user).await {
            Ok(()) => Ok(user),
            Err(StoreError::Conflict { field }) => Err(AppError::Conflict { resource: Resource::Member, field }),
            Err(other) => Err(other.into()),
        }
    }

    /// Makes an API key for the caller, or (with `org.members.manage`) for another member. The
    /// scopes must be known permission names (else 422) held by both the key's user and the caller
    /// (else 403). The token is returned to be shown once.
    pub async fn create_api_key(
        &self,
        principal: &Principal,
        name: &str,
        scopes: &[String],
        for_user: Option<UserId>,
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
            Some(user_id) => self
                .identity
                .find_user(principal.org_id(), user_id)
                .await?
                .ok_or_else(|| ValidationErrors::single("user_id", "is not a member of this org"))?,
        };
        let allowed = user.role.permissions().intersection(principal.permissions);
        if let Some(beyond) = scopes.iter().find(|scope| !allowed.contains(*scope)) {
            return Err(AppError::Forbidden { missing: beyond });
        }
        let (mut key, token) = self.new_api_key(&user, &name);
        key.scopes = scopes;
        self.identity.create_api_key(&key).await?;
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
        if !self.identity.update_member(&user).await? {
            return Err(AppError::NotFound(Resource::Member));
        }
        Ok(user)
    }

    /// The org's members. Needs `org.teams.read`.
    pub async fn list_members(&self, principal: &Principal) -> Result<Vec<User>, AppError> {
        principal.require(Permission::TeamsRead)?;
        Ok(self.identity.list_members(principal.org_id()).await?)
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
            return Err(AppError::Forbidden { missing: Permission::MembersManage });
        }
        Ok(member)
    }

    /// Changes a member's role; only an owner grants or takes away the owner role.
    pub async fn change_role(&self, principal: &Principal, user_id: UserId, role: Role) -> Result<User, AppError> {
        let mut member = self.managed_member(principal, user_id).await?;
        if role == Role::Owner && principal.role() != Role::Owner {
            return Err(AppError::Forbidden { missing: Permission::MembersManage });
        }
        member.role = role;
        if !self.identity.update_member(&member).await? {
            return Err(AppError::NotFound(Resource::Member));
        }
        Ok(member)
    }

    /// Removes a member; their keys and tokens stop working with the next request.
    pub async fn remove_member(&self, principal: &Principal, user_id: UserId) -> Result<(), AppError> {
        let member = self.managed_member(principal, user_id).await?;
        if !self.identity.remove_member(principal.org_id(), member.id, self.clock.now()).await? {
            return Err(AppError::NotFound(Resource::Member));
        }
        Ok(())
    }

    /// The caller's own keys, or with `all` (needs `org.members.manage`) the org's.
    pub async fn list_api_keys(&self, principal: &Principal, all: bool) -> Result<Vec<ApiKey>, AppError> {
        principal.require(Permission::ApiKeysManage)?;
        let owner = if all {
            principal.require(Permission::MembersManage)?;
            None
        } else {
            Some(principal.user_id())
        };
        Ok(self.identity.list_api_keys(principal.org_id(), owner).await?)
    }

    /// Revokes one of the caller's keys (any of the org's with `org.members.manage`). It stops
    /// working with the next request.
    pub async fn revoke_api_key(&self, principal: &Principal, key_id: ApiKeyId) -> Result<(), AppError> {
        principal.require(Permission::ApiKeysManage)?;
        let may_revoke_any = principal.permissions.contains(Permission::MembersManage);
        if !may_revoke_any {
            let own = self.identity.list_api_keys(principal.org_id(), Some(principal.user_id())).await?;
            if !own.iter().any(|key| key.id == key_id) {
                return Err(AppError::NotFound(Resource::ApiKey));
            }
        }
        if !self.identity.revoke_api_key(principal.org_id(), key_id, self.clock.now()).await? {
            return Err(AppError::NotFound(Resource::ApiKey));
        }
        Ok(())
    }
}
