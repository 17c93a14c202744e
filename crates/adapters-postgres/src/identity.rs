use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use projects_adapters_sql::types::{DbId, DbInstant, ToDb};
use projects_domain::{
    ApiKey, ApiKeyId, AuditEvent, Email, Invitation, Org, OrgId, OrgName, Role, Team, TeamId, Timestamp, User, UserId,
};
use projects_ports::{ApiKeyOwner, IdentityStore, StoreError};

use crate::errors::{constraint_error, db_error};
use crate::rows::{ApiKeyRow, AuditEventRow, OrgRow, TeamRow, UserRow};
use crate::schema::{api_keys, audit_events, invitations, orgs, team_members, teams, users};
use crate::PostgresStore;

const ORG_CONSTRAINTS: &[(&str, &str)] = &[("orgs_name_key", "org"), ("users_org_email_live_key", "email")];
const USER_CONSTRAINTS: &[(&str, &str)] = &[("users_org_email_live_key", "email"), ("users_org_id_fkey", "org_id")];
const KEY_CONSTRAINTS: &[(&str, &str)] = &[("api_keys_user_fkey", "user_id"), ("api_keys_key_sha256_key", "key")];
const TEAM_CONSTRAINTS: &[(&str, &str)] = &[("teams_org_name_key", "name"), ("teams_org_id_fkey", "org_id")];
const MEMBER_CONSTRAINTS: &[(&str, &str)] =
    &[("team_members_team_fkey", "team_id"), ("team_members_user_fkey", "user_id")];

fn audit_row(event: &AuditEvent) -> AuditEventRow {
    AuditEventRow::of(event)
}

fn decode_user(row: UserRow) -> Result<User, StoreError> {
    Ok(row.decode()?)
}

impl PostgresStore {
    /// The member of `org_id` that `query` selects, unless they left the org.
    async fn find_live_user(
        &self,
        org_id: OrgId,
        query: users::BoxedQuery<'_, diesel::pg::Pg>,
    ) -> Result<Option<User>, StoreError> {
        let mut conn = self.conn().await?;
        let row: Option<UserRow> = query
            .filter(users::org_id.eq(org_id.db()))
            .filter(users::removed_at.is_null())
            .select(UserRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(db_error)?;
        row.map(decode_user).transpose()
    }
}

#[async_trait]
impl IdentityStore for PostgresStore {
    async fn create_org_with_owner(
        &self,
        org: &Org,
        owner: &User,
        key: &ApiKey,
        audit: &[AuditEvent],
    ) -> Result<(), StoreError> {
        let org = OrgRow::of(org);
        let owner = UserRow::of(owner);
        let key = ApiKeyRow::of(key);
        let audit: Vec<AuditEventRow> = audit.iter().map(audit_row).collect();
        let mut conn = self.conn().await?;
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            diesel::insert_into(orgs::table).values(&org).execute(conn).await?;
            diesel::insert_into(users::table).values(&owner).execute(conn).await?;
            diesel::insert_into(api_keys::table).values(&key).execute(conn).await?;
            diesel::insert_into(audit_events::table).values(&audit).execute(conn).await?;
            Ok(())
        })
        .await
        .map_err(|e| constraint_error(e, ORG_CONSTRAINTS))
    }

    async fn any_org_exists(&self) -> Result<bool, StoreError> {
        let mut conn = self.conn().await?;
        diesel::select(diesel::dsl::exists(orgs::table.select(orgs::id))).get_result(&mut conn).await.map_err(db_error)
    }

    async fn find_org_by_name(&self, name: &OrgName) -> Result<Option<Org>, StoreError> {
        let mut conn = self.conn().await?;
        let row: Option<OrgRow> = orgs::table
            .filter(orgs::name.eq(name.as_str()))
            .select(OrgRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(db_error)?;
        Ok(row.map(|r| r.decode()).transpose()?)
    }

    async fn create_user(
        &self,
        user: &User,
        invitation: Option<&Invitation>,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let row = UserRow::of(user);
        let audit = audit_row(audit);
        let mut conn = self.conn().await?;
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            diesel::insert_into(users::table).values(&row).execute(conn).await?;
            if let Some(invitation) = invitation {
                diesel::insert_into(invitations::table)
                    .values((
                        invitations::token_sha256.eq(invitation.token_sha256.as_slice()),
                        invitations::org_id.eq(invitation.org_id.db()),
                        invitations::user_id.eq(invitation.user_id.db()),
                        invitations::created_at.eq(invitation.created_at.db()),
                        invitations::expires_at.eq(invitation.expires_at.db()),
                        invitations::role.eq(invitation.role.as_str()),
                    ))
                    .execute(conn)
                    .await?;
            }
            diesel::insert_into(audit_events::table).values(&audit).execute(conn).await?;
            Ok(())
        })
        .await
        .map_err(|e| constraint_error(e, USER_CONSTRAINTS))
    }

    async fn find_invitation(
        &self,
        token_sha256: &[u8; 32],
        now: Timestamp,
    ) -> Result<Option<(Invitation, User)>, StoreError> {
        let mut conn = self.conn().await?;
        let row: Option<((DbInstant, DbInstant, String), UserRow)> = invitations::table
            .inner_join(users::table)
            .filter(invitations::token_sha256.eq(token_sha256.as_slice()))
            .filter(invitations::used_at.is_null())
            .filter(invitations::expires_at.gt(now.db()))
            .filter(users::removed_at.is_null())
            .select(((invitations::created_at, invitations::expires_at, invitations::role), UserRow::as_select()))
            .first(&mut conn)
            .await
            .optional()
            .map_err(db_error)?;
        let Some(((created_at, expires_at, role), user)) = row else {
            return Ok(None);
        };
        let user = decode_user(user)?;
        let role = role.parse().map_err(|e| anyhow::anyhow!("stored invitation role is invalid: {e}"))?;
        let invitation = Invitation {
            token_sha256: *token_sha256,
            org_id: user.org_id,
            user_id: user.id,
            role,
            created_at: created_at.0,
            expires_at: expires_at.0,
        };
        Ok(Some((invitation, user)))
    }

    async fn redeem_invitation(
        &self,
        token_sha256: &[u8; 32],
        now: Timestamp,
        key: &ApiKey,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let key = ApiKeyRow::of(key);
        let audit = audit_row(audit);
        let mut conn = self.conn().await?;
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            let live_member = users::table
                .filter(users::org_id.eq(key.org_id))
                .filter(users::id.eq(key.user_id))
                .filter(users::removed_at.is_null())
                .select(users::id);
            let used = diesel::update(invitations::table)
                .filter(invitations::token_sha256.eq(token_sha256.as_slice()))
                .filter(invitations::org_id.eq(key.org_id))
                .filter(invitations::user_id.eq_any(live_member))
                .filter(invitations::used_at.is_null())
                .filter(invitations::expires_at.gt(now.db()))
                .set(invitations::used_at.eq(now.db()))
                .execute(conn)
                .await?;
            if used == 0 {
                return Ok(false);
            }
            diesel::insert_into(api_keys::table).values(&key).execute(conn).await?;
            diesel::insert_into(audit_events::table).values(&audit).execute(conn).await?;
            Ok(true)
        })
        .await
        .map_err(|e| constraint_error(e, KEY_CONSTRAINTS))
    }

    async fn find_user_by_email(&self, org_id: OrgId, email: &Email) -> Result<Option<User>, StoreError> {
        self.find_live_user(org_id, users::table.filter(users::email.eq(email.as_str())).into_boxed()).await
    }

    async fn find_user(&self, org_id: OrgId, user_id: UserId) -> Result<Option<User>, StoreError> {
        self.find_live_user(org_id, users::table.filter(users::id.eq(user_id.db())).into_boxed()).await
    }

    async fn create_api_key(&self, key: &ApiKey, audit: &AuditEvent) -> Result<(), StoreError> {
        let row = ApiKeyRow::of(key);
        let audit = audit_row(audit);
        let mut conn = self.conn().await?;
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            diesel::insert_into(api_keys::table).values(&row).execute(conn).await?;
            diesel::insert_into(audit_events::table).values(&audit).execute(conn).await?;
            Ok(())
        })
        .await
        .map_err(|e| constraint_error(e, KEY_CONSTRAINTS))
    }

    async fn find_api_key(&self, org_id: OrgId, key_id: ApiKeyId) -> Result<Option<ApiKey>, StoreError> {
        let mut conn = self.conn().await?;
        let row: Option<ApiKeyRow> = api_keys::table
            .filter(api_keys::org_id.eq(org_id.db()))
            .filter(api_keys::id.eq(key_id.db()))
            .filter(api_keys::revoked_at.is_null())
            .select(ApiKeyRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(db_error)?;
        Ok(row.map(|r| r.decode()).transpose()?)
    }

    async fn find_api_key_owner(&self, key_sha256: &[u8; 32]) -> Result<Option<ApiKeyOwner>, StoreError> {
        let mut conn = self.conn().await?;
        let found: Option<(ApiKeyRow, UserRow)> = api_keys::table
            .inner_join(users::table)
            .filter(api_keys::key_sha256.eq(key_sha256.as_slice()))
            .filter(api_keys::revoked_at.is_null())
            .filter(users::removed_at.is_null())
            .select((ApiKeyRow::as_select(), UserRow::as_select()))
            .first(&mut conn)
            .await
            .optional()
            .map_err(db_error)?;
        let Some((key, user)) = found else {
            return Ok(None);
        };
        let user = decode_user(user)?;
        // On the same connection: this runs for every request made with an API key.
        Ok(Some(ApiKeyOwner { key: key.decode()?, team_ids: team_ids(&mut conn, user.org_id, user.id).await?, user }))
    }

    async fn revoke_api_key(&self, org_id: OrgId, key_id: ApiKeyId, audit: &AuditEvent) -> Result<bool, StoreError> {
        let audit = audit_row(audit);
        let mut conn = self.conn().await?;
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            let revoked = diesel::update(api_keys::table)
                .filter(api_keys::org_id.eq(org_id.db()))
                .filter(api_keys::id.eq(key_id.db()))
                .filter(api_keys::revoked_at.is_null())
                .set(api_keys::revoked_at.eq(audit.created_at))
                .execute(conn)
                .await?;
            if revoked > 0 {
                diesel::insert_into(audit_events::table).values(&audit).execute(conn).await?;
            }
            Ok(revoked > 0)
        })
        .await
        .map_err(db_error)
    }

    async fn list_api_keys(&self, org_id: OrgId, user_id: Option<UserId>) -> Result<Vec<ApiKey>, StoreError> {
        let mut conn = self.conn().await?;
        let mut query = api_keys::table
            .filter(api_keys::org_id.eq(org_id.db()))
            .filter(api_keys::revoked_at.is_null())
            .order((api_keys::created_at.desc(), api_keys::id.desc()))
            .select(ApiKeyRow::as_select())
            .into_boxed();
        if let Some(user_id) = user_id {
            query = query.filter(api_keys::user_id.eq(user_id.db()));
        }
        let rows: Vec<ApiKeyRow> = query.load(&mut conn).await.map_err(db_error)?;
        Ok(rows.into_iter().map(|r| r.decode()).collect::<anyhow::Result<_>>()?)
    }

    async fn touch_api_keys(&self, used: &[(ApiKeyId, Timestamp)]) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        for (key_id, at) in used {
            diesel::update(api_keys::table.find(key_id.db()))
                .set(api_keys::last_used_at.eq(at.db()))
                .execute(&mut conn)
                .await
                .map_err(db_error)?;
        }
        Ok(())
    }

    async fn list_members(&self, org_id: OrgId) -> Result<Vec<User>, StoreError> {
        let mut conn = self.conn().await?;
        let rows: Vec<UserRow> = users::table
            .filter(users::org_id.eq(org_id.db()))
            .filter(users::removed_at.is_null())
            .order((users::created_at, users::id))
            .select(UserRow::as_select())
            .load(&mut conn)
            .await
            .map_err(db_error)?;
        rows.into_iter().map(decode_user).collect()
    }

    async fn update_preferences(&self, user: &User) -> Result<bool, StoreError> {
        let row = UserRow::of(user);
        let mut conn = self.conn().await?;
        let updated = diesel::update(users::table)
            .filter(users::org_id.eq(row.org_id))
            .filter(users::id.eq(row.id))
            .filter(users::removed_at.is_null())
            .set((
                users::default_project_visibility.eq(&row.default_project_visibility),
                users::active_team_id.eq(row.active_team_id),
            ))
            .execute(&mut conn)
            .await
            .map_err(db_error)?;
        Ok(updated > 0)
    }

    async fn change_role(
        &self,
        org_id: OrgId,
        user_id: UserId,
        from: Role,
        to: Role,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let audit = audit_row(audit);
        let mut conn = self.conn().await?;
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            let updated = diesel::update(users::table)
                .filter(users::org_id.eq(org_id.db()))
                .filter(users::id.eq(user_id.db()))
                .filter(users::removed_at.is_null())
                .filter(users::role.eq(from.as_str()))
                .set(users::role.eq(to.as_str()))
                .execute(conn)
                .await?;
            if updated > 0 {
                diesel::insert_into(audit_events::table).values(&audit).execute(conn).await?;
            }
            Ok(updated > 0)
        })
        .await
        .map_err(db_error)
    }

    async fn remove_member(&self, org_id: OrgId, user_id: UserId, audit: &AuditEvent) -> Result<bool, StoreError> {
        let audit = audit_row(audit);
        let mut conn = self.conn().await?;
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            let removed = diesel::update(users::table)
                .filter(users::org_id.eq(org_id.db()))
                .filter(users::id.eq(user_id.db()))
                .filter(users::removed_at.is_null())
                .set(users::removed_at.eq(audit.created_at))
                .execute(conn)
                .await?;
            if removed > 0 {
                diesel::insert_into(audit_events::table).values(&audit).execute(conn).await?;
            }
            Ok(removed > 0)
        })
        .await
        .map_err(db_error)
    }

    async fn create_team(&self, team: &Team, audit: &AuditEvent) -> Result<(), StoreError> {
        let row = TeamRow::of(team);
        let audit = audit_row(audit);
        let mut conn = self.conn().await?;
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            diesel::insert_into(teams::table).values(&row).execute(conn).await?;
            diesel::insert_into(audit_events::table).values(&audit).execute(conn).await?;
            Ok(())
        })
        .await
        .map_err(|e| constraint_error(e, TEAM_CONSTRAINTS))
    }

    async fn find_team(&self, org_id: OrgId, team_id: TeamId) -> Result<Option<Team>, StoreError> {
        let mut conn = self.conn().await?;
        let row: Option<TeamRow> = teams::table
            .filter(teams::org_id.eq(org_id.db()))
            .filter(teams::id.eq(team_id.db()))
            .select(TeamRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(db_error)?;
        Ok(row.map(|r| r.decode()))
    }

    async fn list_teams(&self, org_id: OrgId) -> Result<Vec<Team>, StoreError> {
        let mut conn = self.conn().await?;
        let rows: Vec<TeamRow> = teams::table
            .filter(teams::org_id.eq(org_id.db()))
            .order((teams::name, teams::id))
            .select(TeamRow::as_select())
            .load(&mut conn)
            .await
            .map_err(db_error)?;
        Ok(rows.into_iter().map(|r| r.decode()).collect())
    }

    async fn team_ids_of(&self, org_id: OrgId, user_id: UserId) -> Result<Vec<TeamId>, StoreError> {
        team_ids(&mut *self.conn().await?, org_id, user_id).await
    }

    async fn remove_team_member(
        &self,
        org_id: OrgId,
        team_id: TeamId,
        user_id: UserId,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let audit = audit_row(audit);
        let mut conn = self.conn().await?;
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            let removed = diesel::delete(team_members::table)
                .filter(team_members::org_id.eq(org_id.db()))
                .filter(team_members::team_id.eq(team_id.db()))
                .filter(team_members::user_id.eq(user_id.db()))
                .execute(conn)
                .await?;
            if removed > 0 {
                diesel::insert_into(audit_events::table).values(&audit).execute(conn).await?;
            }
            Ok(removed > 0)
        })
        .await
        .map_err(db_error)
    }

    async fn add_team_member(
        &self,
        org_id: OrgId,
        team_id: TeamId,
        user_id: UserId,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let audit = audit_row(audit);
        let mut conn = self.conn().await?;
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            let added = diesel::insert_into(team_members::table)
                .values((
                    team_members::org_id.eq(org_id.db()),
                    team_members::team_id.eq(team_id.db()),
                    team_members::user_id.eq(user_id.db()),
                    team_members::created_at.eq(audit.created_at),
                ))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
            if added > 0 {
                diesel::insert_into(audit_events::table).values(&audit).execute(conn).await?;
            }
            Ok(())
        })
        .await
        .map_err(|e| constraint_error(e, MEMBER_CONSTRAINTS))
    }
}

/// The teams a user is in, ordered by id.
async fn team_ids(conn: &mut AsyncPgConnection, org_id: OrgId, user_id: UserId) -> Result<Vec<TeamId>, StoreError> {
    let team_ids: Vec<DbId> = team_members::table
        .filter(team_members::org_id.eq(org_id.db()))
        .filter(team_members::user_id.eq(user_id.db()))
        .order(team_members::team_id)
        .select(team_members::team_id)
        .load(conn)
        .await
        .map_err(db_error)?;
    Ok(team_ids.into_iter().map(TeamId::from).collect())
}
