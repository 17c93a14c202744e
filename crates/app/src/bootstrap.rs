use projects_domain::{
    ApiKey, ApiKeyId, ApiKeyToken, Email, KeyFormat, Org, OrgId, OrgName, Role, User, UserId, UserKind,
};
use projects_ports::StoreError;
use rand::RngCore;

use crate::auth::hash_api_key;
use crate::{App, AppError, Refusal};

/// The outcome of a bootstrap: the org, its owner, and a fresh key shown this once.
#[derive(Debug)]
pub struct Bootstrapped {
    pub org_id: OrgId,
    pub user_id: UserId,
    pub api_key: ApiKeyToken,
    /// False when the org existed and only a new key (and perhaps a new owner) was made.
    pub created_org: bool,
}

impl App {
    /// Makes an org with `email` as its owner and returns a new owner key. When the org exists,
    /// makes another key for that owner (adding them as an owner first if they are not a member).
    pub async fn bootstrap(&self, org_name: &str, email: &str) -> Result<Bootstrapped, AppError> {
        let name = OrgName::new(org_name)?;
        let email = Email::new(email)?;
        if let Some(org) = self.identity.find_org_by_name(&name).await? {
            return self.new_owner_key(org, &email).await;
        }
        let now = self.clock.now();
        let org = Org { id: OrgId::from_uuid(self.ids.new_id()), name, created_at: now };
        let owner = self.new_user(org.id, &email, Role::Owner);
        let (key, token) = self.new_api_key(&owner, "bootstrap", KeyFormat::Arkloop);
        // Made from the server's own command line: the new owner is the actor.
        let audit = [
            self.identity_audit(&owner, "member.added", "member", owner.id.as_uuid(), vec!["owner".into()]),
            self.identity_audit(&owner, "api_key.created", "api_key", key.id.as_uuid(), vec![]),
        ];
        match self.identity.create_org_with_owner(&org, &owner, &key, &audit).await {
            Ok(()) => Ok(Bootstrapped { org_id: org.id, user_id: owner.id, api_key: token, created_org: true }),
            // Another process made the same org a moment ago: join it instead.
            Err(StoreError::Conflict { field: "org" }) => {
                let org =
                    self.identity.find_org_by_name(&org.name).await?.ok_or_else(|| {
                        AppError::Unexpected(anyhow::anyhow!("org vanished right after a name clash"))
                    })?;
                self.new_owner_key(org, &email).await
            }
            Err(other) => Err(other.into()),
        }
    }

    /// Bootstraps `org_name` only when the database has no org at all (a first start).
    pub async fn bootstrap_if_empty(&self, org_name: &str, email: &str) -> Result<Option<Bootstrapped>, AppError> {
        if self.identity.any_org_exists().await? {
            return Ok(None);
        }
        self.bootstrap(org_name, email).await.map(Some)
    }

    async fn new_owner_key(&self, org: Org, email: &Email) -> Result<Bootstrapped, AppError> {
        let owner = match self.identity.find_user_by_email(org.id, email).await? {
            // The command makes owner keys: it never hands out anyone else's.
            Some(user) if user.role != Role::Owner || user.kind != UserKind::Person => {
                return Err(AppError::NotAllowed(Refusal::KeyForAnotherPerson));
            }
            Some(user) => user,
            None => {
                let user = self.new_user(org.id, email, Role::Owner);
                // Made from the server's own command line: the new owner is the actor.
                let audit =
                    self.identity_audit(&user, "member.added", "member", user.id.as_uuid(), vec!["owner".into()]);
                // The operator's own doing: quotas bind the org's callers, not its operator.
                self.identity.create_user(&user, None, &audit, None).await?;
                user
            }
        };
        let (key, token) = self.new_api_key(&owner, "bootstrap", KeyFormat::Arkloop);
        let audit = self.identity_audit(&owner, "api_key.created", "api_key", key.id.as_uuid(), vec![]);
        self.identity.create_api_key(&key, &audit, None).await?;
        Ok(Bootstrapped { org_id: org.id, user_id: owner.id, api_key: token, created_org: false })
    }

    pub(crate) fn new_user(&self, org_id: OrgId, email: &Email, role: Role) -> User {
        User {
            id: UserId::from_uuid(self.ids.new_id()),
            org_id,
            email: email.clone(),
            role,
            kind: UserKind::Person,
            name: None,
            default_project_visibility: None,
            active_team_id: None,
            created_at: self.clock.now(),
        }
    }

    /// A new key with every permission of the user's role; the token is returned to be shown once.
    pub(crate) fn new_api_key(&self, user: &User, name: &str, format: KeyFormat) -> (ApiKey, ApiKeyToken) {
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut secret);
        let token = ApiKeyToken::of_format(format, &secret);
        let key = ApiKey {
            id: ApiKeyId::from_uuid(self.ids.new_id()),
            org_id: user.org_id,
            user_id: user.id,
            name: name.to_owned(),
            key_prefix: token.prefix().as_str().to_owned(),
            key_sha256: hash_api_key(&token),
            scopes: user.role.permissions(),
            created_at: self.clock.now(),
            last_used_at: None,
            revoked_at: None,
        };
        (key, token)
    }
}
