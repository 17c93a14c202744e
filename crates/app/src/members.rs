use projects_domain::{
    ApiKey, ApiKeyToken, Email, FieldError, Permission, PermissionSet, Role, User, UserId,
    ValidationErrors,
};

use projects_ports::StoreError;

use crate::{App, AppError, Principal, Resource};

/// A key's display name: 1–100 characters.
fn key_name(raw: &str) -> Result<String, FieldError> {
    let name = raw.trim();
    match name.chars().count() {
        0 => Err(FieldError::new("name", "must not be empty")),
        1..=100 => Ok(name.to_owned()),
        _ => Err(FieldError::new("name", "must be at most 100 characters")),
    }
}

impl App {
    /// Adds a member to the caller's org. Needs `org.members.manage`; only an owner makes owners.
    pub async fn add_member(
        &self,
        principal: &Principal,
        email: &str,
        role: Role,
    ) -> Result<User, AppError> {
        principal.require(Permission::MembersManage)?;
        let email = Email::new(email)?;
        if role == Role::Owner && principal.role() != Role::Owner {
            return Err(AppError::Forbidden {
                missing: Permission::MembersManage,
            });
        }
        let user = self.new_user(principal.org_id(), &email, role);
        match self.identity.create_user(&user).await {
            Ok(()) => Ok(user),
            Err(StoreError::Conflict { field }) => Err(AppError::Conflict {
                resource: Resource::Member,
                field,
            }),
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
        let name = errors.check(key_name(name));
        let scopes = errors.check(PermissionSet::parse(scopes.iter().map(String::as_str)));
        errors.into_result()?;
        let (name, scopes) = (name.expect("checked"), scopes.expect("checked"));
        let user = match for_user {
            None => principal.user.clone(),
            Some(user_id) => self
                .identity
                .find_user(principal.org_id(), user_id)
                .await?
                .ok_or_else(|| {
                    ValidationErrors::single("user_id", "is not a member of this org")
                })?,
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
