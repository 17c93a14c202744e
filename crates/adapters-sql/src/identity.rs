//! The identity store, written once: [`identity_store!`](crate::identity_store) expands it for a
//! backend (see [`usage_store!`](crate::usage_store) for why a macro).

/// Implements `IdentityStore` for `$store` (which has `async fn conn(&self)` handing out a
/// `$conn` of backend `$backend`), naming constraints through `$dialect` and running writes in
/// `$conn`'s `$tx` transactions (SQLite: `immediate_transaction`, which takes the write lock up
/// front instead of failing to upgrade a read lock).
#[macro_export]
macro_rules! identity_store {
    ($store:ty, $dialect:ty, $backend:ty, $conn:ty, $tx:ident) => {
        const _: () = {
            use projects_domain::{
                ApiKey, ApiKeyId, AuditEvent, Cursor, Email, Invitation, Org, OrgId, OrgName, PageRequest, Quota, Role,
                Team, TeamId, Timestamp, User, UserId, UserKind,
            };
            use projects_ports::{ApiKeyOwner, IdentityStore, Page, StoreError};
            use $crate::diesel::prelude::*;
            #[allow(unused_imports)] // `transaction` is a trait method; SQLite's `immediate_transaction` is not
            use $crate::diesel_async::AsyncConnection as _;
            use $crate::diesel_async::RunQueryDsl;
            use $crate::errors::{constraint_error, db_error, Constraint};
            use $crate::quota::TxError;
            use $crate::rows::{ApiKeyRow, AuditEventRow, OrgRow, TeamRow, UserRow};
            use $crate::schema::{api_keys, audit_events, invitations, orgs, team_members, teams, users};
            use $crate::types::{DbId, DbInstant, ToDb};

            /// Writes the audit event of a change that changed `rows`: a change that did nothing
            /// records nothing.
            async fn record_if(
                conn: &mut $conn,
                rows: usize,
                audit: &AuditEventRow,
            ) -> Result<bool, $crate::diesel::result::Error> {
                if rows > 0 {
                    $crate::diesel::insert_into(audit_events::table).values(audit).execute(conn).await?;
                }
                Ok(rows > 0)
            }

            /// [`record_if`] for a change to who may do what in `org_id`: also tells the other
            /// nodes, in the same transaction, so they hear of it exactly when it commits.
            async fn record_identity_change_if(
                conn: &mut $conn,
                rows: usize,
                audit: &AuditEventRow,
                org_id: OrgId,
            ) -> Result<bool, $crate::diesel::result::Error> {
                if rows > 0 {
                    announce_identity_change(conn, org_id).await?;
                }
                record_if(conn, rows, audit).await
            }

            async fn announce_identity_change(
                conn: &mut $conn,
                org_id: OrgId,
            ) -> Result<(), $crate::diesel::result::Error> {
                if let Some(statement) = <$dialect as $crate::errors::Dialect>::IDENTITY_CHANGED {
                    $crate::diesel::sql_query(statement)
                        .bind::<$crate::diesel::sql_types::Text, _>(org_id.to_string())
                        .execute(conn)
                        .await?;
                }
                Ok(())
            }

            /// Which live keys to revoke.
            enum KeysOf {
                Key(ApiKeyId),
                Member(UserId),
            }

            /// Revokes the live keys `which` selects at `at`, giving their places in the quota
            /// back; returns how many.
            async fn revoke_keys(
                conn: &mut $conn,
                org_id: OrgId,
                which: KeysOf,
                at: DbInstant,
            ) -> Result<usize, $crate::diesel::result::Error> {
                let live = diesel::update(api_keys::table)
                    .filter(api_keys::org_id.eq(org_id.db()))
                    .filter(api_keys::revoked_at.is_null())
                    .into_boxed();
                let selected = match which {
                    KeysOf::Key(key_id) => live.filter(api_keys::id.eq(key_id.db())),
                    KeysOf::Member(user_id) => live.filter(api_keys::user_id.eq(user_id.db())),
                };
                let revoked = selected.set(api_keys::revoked_at.eq(at)).execute(conn).await?;
                $crate::release_quota!(conn, org_id.db(), api_keys_used, i64::try_from(revoked).unwrap_or(i64::MAX));
                Ok(revoked)
            }

            const ORG_CONSTRAINTS: &[(Constraint, &str)] =
                &[(Constraint::OrgName, "org"), (Constraint::UserEmail, "email")];
            const USER_CONSTRAINTS: &[(Constraint, &str)] =
                &[(Constraint::UserEmail, "email"), (Constraint::UserOrg, "org_id")];
            const KEY_CONSTRAINTS: &[(Constraint, &str)] =
                &[(Constraint::ApiKeyUser, "user_id"), (Constraint::ApiKeyHash, "key")];
            const TEAM_CONSTRAINTS: &[(Constraint, &str)] =
                &[(Constraint::TeamName, "name"), (Constraint::TeamOrg, "org_id")];
            const MEMBER_CONSTRAINTS: &[(Constraint, &str)] =
                &[(Constraint::TeamMemberTeam, "team_id"), (Constraint::TeamMemberUser, "user_id")];

            fn audit_row(event: &AuditEvent) -> AuditEventRow {
                AuditEventRow::of(event)
            }

            fn user(row: UserRow) -> Result<User, StoreError> {
                Ok(row.decode()?)
            }

            impl $store {
                /// The member of `org_id` that `query` selects, unless they left the org.
                async fn find_live_user(
                    &self,
                    org_id: OrgId,
                    query: users::BoxedQuery<'_, $backend>,
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
                    row.map(user).transpose()
                }
            }

            #[$crate::async_trait::async_trait]
            impl IdentityStore for $store {
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
                    conn.$tx::<_, diesel::result::Error, _>(async |conn| {
                        diesel::insert_into(orgs::table).values(&org).execute(conn).await?;
                        // Its first member and their first key count from the start.
                        diesel::update(orgs::table)
                            .filter(orgs::id.eq(org.id))
                            .set((orgs::members_used.eq(1), orgs::api_keys_used.eq(1)))
                            .execute(conn)
                            .await?;
                        diesel::insert_into(users::table).values(&owner).execute(conn).await?;
                        diesel::insert_into(api_keys::table).values(&key).execute(conn).await?;
                        // One by one: SQLite has no DEFAULT keyword for a batch with absent values.
                        for event in &audit {
                            diesel::insert_into(audit_events::table).values(event).execute(conn).await?;
                        }
                        Ok(())
                    })
                    .await
                    .map_err(|e| constraint_error::<$dialect>(e, ORG_CONSTRAINTS, "org_id"))
                }

                async fn any_org_exists(&self) -> Result<bool, StoreError> {
                    let mut conn = self.conn().await?;
                    diesel::select(diesel::dsl::exists(orgs::table.select(orgs::id)))
                        .get_result(&mut conn)
                        .await
                        .map_err(db_error)
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
                    new_user: &User,
                    invitation: Option<&Invitation>,
                    audit: &AuditEvent,
                    quota: Option<u64>,
                ) -> Result<(), StoreError> {
                    let row = UserRow::of(new_user);
                    let audit = audit_row(audit);
                    let mut conn = self.conn().await?;
                    conn.$tx::<_, TxError, _>(async |conn| {
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
                        // Last: the org's row stays locked only until COMMIT.
                        $crate::take_quota!(conn, row.org_id, members_used, Quota::Members, 1, quota)?;
                        Ok(())
                    })
                    .await
                    .map_err(|e: TxError| e.into_store(|e| constraint_error::<$dialect>(e, USER_CONSTRAINTS, "org_id")))
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
                        .select((
                            (invitations::created_at, invitations::expires_at, invitations::role),
                            UserRow::as_select(),
                        ))
                        .first(&mut conn)
                        .await
                        .optional()
                        .map_err(db_error)?;
                    let Some(((created_at, expires_at, role), member)) = row else {
                        return Ok(None);
                    };
                    let member = user(member)?;
                    let role = role.parse().map_err(|e| anyhow::anyhow!("stored invitation role is invalid: {e}"))?;
                    let invitation = Invitation {
                        token_sha256: *token_sha256,
                        org_id: member.org_id,
                        user_id: member.id,
                        role,
                        created_at: created_at.0,
                        expires_at: expires_at.0,
                    };
                    Ok(Some((invitation, member)))
                }

                async fn redeem_invitation(
                    &self,
                    token_sha256: &[u8; 32],
                    now: Timestamp,
                    key: &ApiKey,
                    audit: &AuditEvent,
                    quota: Option<u64>,
                ) -> Result<bool, StoreError> {
                    let key = ApiKeyRow::of(key);
                    let audit = audit_row(audit);
                    let now = now.db();
                    let mut conn = self.conn().await?;
                    conn.$tx::<_, TxError, _>(async |conn| {
                        let live_member = users::table
                            .filter(users::org_id.eq(&key.org_id))
                            .filter(users::id.eq(&key.user_id))
                            .filter(users::removed_at.is_null())
                            .select(users::id);
                        let used = diesel::update(invitations::table)
                            .filter(invitations::token_sha256.eq(token_sha256.as_slice()))
                            .filter(invitations::org_id.eq(&key.org_id))
                            .filter(invitations::user_id.eq_any(live_member))
                            .filter(invitations::used_at.is_null())
                            .filter(invitations::expires_at.gt(now))
                            .set(invitations::used_at.eq(now))
                            .execute(conn)
                            .await?;
                        if used == 0 {
                            return Ok(false);
                        }
                        $crate::take_quota!(conn, key.org_id, api_keys_used, Quota::ApiKeys, 1, quota)?;
                        diesel::insert_into(api_keys::table).values(&key).execute(conn).await?;
                        diesel::insert_into(audit_events::table).values(&audit).execute(conn).await?;
                        Ok(true)
                    })
                    .await
                    .map_err(|e: TxError| e.into_store(|e| constraint_error::<$dialect>(e, KEY_CONSTRAINTS, "user_id")))
                }

                async fn find_user_by_email(&self, org_id: OrgId, email: &Email) -> Result<Option<User>, StoreError> {
                    self.find_live_user(org_id, users::table.filter(users::email.eq(email.as_str())).into_boxed()).await
                }

                async fn find_user(&self, org_id: OrgId, user_id: UserId) -> Result<Option<User>, StoreError> {
                    self.find_live_user(org_id, users::table.filter(users::id.eq(user_id.db())).into_boxed()).await
                }

                async fn create_api_key(
                    &self,
                    key: &ApiKey,
                    audit: &AuditEvent,
                    quota: Option<u64>,
                ) -> Result<(), StoreError> {
                    let row = ApiKeyRow::of(key);
                    let audit = audit_row(audit);
                    let mut conn = self.conn().await?;
                    conn.$tx::<_, TxError, _>(async |conn| {
                        $crate::take_quota!(conn, row.org_id, api_keys_used, Quota::ApiKeys, 1, quota)?;
                        diesel::insert_into(api_keys::table).values(&row).execute(conn).await?;
                        diesel::insert_into(audit_events::table).values(&audit).execute(conn).await?;
                        Ok(())
                    })
                    .await
                    .map_err(|e: TxError| e.into_store(|e| constraint_error::<$dialect>(e, KEY_CONSTRAINTS, "user_id")))
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
                    let Some((key, owner)) = found else {
                        return Ok(None);
                    };
                    let owner = user(owner)?;
                    // On the same connection: this runs for every request made with an API key.
                    Ok(Some(ApiKeyOwner {
                        key: key.decode()?,
                        team_ids: team_ids(&mut conn, owner.org_id, owner.id).await?,
                        user: owner,
                    }))
                }

                async fn revoke_api_key(
                    &self,
                    org_id: OrgId,
                    key_id: ApiKeyId,
                    audit: &AuditEvent,
                ) -> Result<bool, StoreError> {
                    let audit = audit_row(audit);
                    let mut conn = self.conn().await?;
                    conn.$tx::<_, diesel::result::Error, _>(async |conn| {
                        let revoked = revoke_keys(conn, org_id, KeysOf::Key(key_id), audit.created_at).await?;
                        record_identity_change_if(conn, revoked, &audit, org_id).await
                    })
                    .await
                    .map_err(db_error)
                }

                async fn list_api_keys(
                    &self,
                    org_id: OrgId,
                    user_id: Option<UserId>,
                    page: PageRequest,
                ) -> Result<Page<ApiKey>, StoreError> {
                    let mut conn = self.conn().await?;
                    let mut query = api_keys::table
                        .filter(api_keys::org_id.eq(org_id.db()))
                        .filter(api_keys::revoked_at.is_null())
                        .order((api_keys::created_at.desc(), api_keys::id.desc()))
                        .limit(page.fetch_limit())
                        .select(ApiKeyRow::as_select())
                        .into_boxed();
                    if let Some(user_id) = user_id {
                        query = query.filter(api_keys::user_id.eq(user_id.db()));
                    }
                    $crate::after_cursor!(query, page, api_keys::created_at, api_keys::id, newest_first);
                    let rows: Vec<ApiKeyRow> = query.load(&mut conn).await.map_err(db_error)?;
                    let keys = rows.into_iter().map(|r| r.decode()).collect::<Result<Vec<ApiKey>, _>>()?;
                    let (items, next) =
                        page.split(keys, |key| Cursor { created_at: key.created_at, id: key.id.as_uuid() });
                    Ok(Page { items, next })
                }

                async fn touch_api_keys(&self, used: &[(ApiKeyId, Timestamp)]) -> Result<(), StoreError> {
                    let used: Vec<(DbId, DbInstant)> = used.iter().map(|(id, at)| (id.db(), at.db())).collect();
                    let mut conn = self.conn().await?;
                    // One write transaction for the whole batch: SQLite has a single writer.
                    conn.$tx::<_, diesel::result::Error, _>(async |conn| {
                        for (key_id, at) in &used {
                            diesel::update(api_keys::table.find(key_id))
                                .set(api_keys::last_used_at.eq(at))
                                .execute(conn)
                                .await?;
                        }
                        Ok(())
                    })
                    .await
                    .map_err(db_error)
                }

                async fn list_members(
                    &self,
                    org_id: OrgId,
                    kind: Option<UserKind>,
                    page: PageRequest,
                ) -> Result<Page<User>, StoreError> {
                    let mut conn = self.conn().await?;
                    let mut query = users::table
                        .filter(users::org_id.eq(org_id.db()))
                        .filter(users::removed_at.is_null())
                        .order((users::created_at, users::id))
                        .limit(page.fetch_limit())
                        .select(UserRow::as_select())
                        .into_boxed();
                    if let Some(kind) = kind {
                        query = query.filter(users::kind.eq(kind.as_str()));
                    }
                    $crate::after_cursor!(query, page, users::created_at, users::id, oldest_first);
                    let rows: Vec<UserRow> = query.load(&mut conn).await.map_err(db_error)?;
                    let members = rows.into_iter().map(user).collect::<Result<Vec<User>, _>>()?;
                    let (items, next) =
                        page.split(members, |m| Cursor { created_at: m.created_at, id: m.id.as_uuid() });
                    Ok(Page { items, next })
                }

                async fn update_preferences(&self, member: &User) -> Result<bool, StoreError> {
                    let row = UserRow::of(member);
                    let mut conn = self.conn().await?;
                    conn.$tx::<_, diesel::result::Error, _>(async |conn| {
                        let updated = diesel::update(users::table)
                            .filter(users::org_id.eq(&row.org_id))
                            .filter(users::id.eq(&row.id))
                            .filter(users::removed_at.is_null())
                            .set((
                                users::default_project_visibility.eq(&row.default_project_visibility),
                                users::active_team_id.eq(&row.active_team_id),
                            ))
                            .execute(conn)
                            .await?;
                        if updated > 0 {
                            announce_identity_change(conn, member.org_id).await?;
                        }
                        Ok(updated > 0)
                    })
                    .await
                    .map_err(db_error)
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
                    conn.$tx::<_, diesel::result::Error, _>(async |conn| {
                        let updated = diesel::update(users::table)
                            .filter(users::org_id.eq(org_id.db()))
                            .filter(users::id.eq(user_id.db()))
                            .filter(users::removed_at.is_null())
                            .filter(users::role.eq(from.as_str()))
                            .set(users::role.eq(to.as_str()))
                            .execute(conn)
                            .await?;
                        record_identity_change_if(conn, updated, &audit, org_id).await
                    })
                    .await
                    .map_err(db_error)
                }

                async fn remove_member(
                    &self,
                    org_id: OrgId,
                    user_id: UserId,
                    audit: &AuditEvent,
                ) -> Result<bool, StoreError> {
                    let audit = audit_row(audit);
                    let mut conn = self.conn().await?;
                    conn.$tx::<_, diesel::result::Error, _>(async |conn| {
                        let removed = diesel::update(users::table)
                            .filter(users::org_id.eq(org_id.db()))
                            .filter(users::id.eq(user_id.db()))
                            .filter(users::removed_at.is_null())
                            .set(users::removed_at.eq(audit.created_at))
                            .execute(conn)
                            .await?;
                        if removed > 0 {
                            // Their keys die with their membership, and stop counting.
                            revoke_keys(conn, org_id, KeysOf::Member(user_id), audit.created_at).await?;
                            $crate::release_quota!(conn, org_id.db(), members_used, 1);
                        }
                        record_identity_change_if(conn, removed, &audit, org_id).await
                    })
                    .await
                    .map_err(db_error)
                }

                async fn create_team(&self, team: &Team, audit: &AuditEvent) -> Result<(), StoreError> {
                    let row = TeamRow::of(team);
                    let audit = audit_row(audit);
                    let mut conn = self.conn().await?;
                    conn.$tx::<_, diesel::result::Error, _>(async |conn| {
                        diesel::insert_into(teams::table).values(&row).execute(conn).await?;
                        diesel::insert_into(audit_events::table).values(&audit).execute(conn).await?;
                        Ok(())
                    })
                    .await
                    .map_err(|e| constraint_error::<$dialect>(e, TEAM_CONSTRAINTS, "org_id"))
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
                    Ok(row.map(TeamRow::decode))
                }

                async fn list_teams(&self, org_id: OrgId, page: PageRequest) -> Result<Page<Team>, StoreError> {
                    let mut conn = self.conn().await?;
                    let mut query = teams::table
                        .filter(teams::org_id.eq(org_id.db()))
                        .order((teams::created_at, teams::id))
                        .limit(page.fetch_limit())
                        .select(TeamRow::as_select())
                        .into_boxed();
                    $crate::after_cursor!(query, page, teams::created_at, teams::id, oldest_first);
                    let rows: Vec<TeamRow> = query.load(&mut conn).await.map_err(db_error)?;
                    let teams: Vec<Team> = rows.into_iter().map(|r| r.decode()).collect();
                    let (items, next) = page.split(teams, |t| Cursor { created_at: t.created_at, id: t.id.as_uuid() });
                    Ok(Page { items, next })
                }

                async fn find_teams(&self, org_id: OrgId, team_ids: &[TeamId]) -> Result<Vec<Team>, StoreError> {
                    let mut conn = self.conn().await?;
                    let ids: Vec<DbId> = team_ids.iter().map(|id| id.db()).collect();
                    let rows: Vec<TeamRow> = teams::table
                        .filter(teams::org_id.eq(org_id.db()))
                        .filter(teams::id.eq_any(ids))
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
                    conn.$tx::<_, diesel::result::Error, _>(async |conn| {
                        let removed = diesel::delete(team_members::table)
                            .filter(team_members::org_id.eq(org_id.db()))
                            .filter(team_members::team_id.eq(team_id.db()))
                            .filter(team_members::user_id.eq(user_id.db()))
                            .execute(conn)
                            .await?;
                        record_identity_change_if(conn, removed, &audit, org_id).await
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
                    conn.$tx::<_, diesel::result::Error, _>(async |conn| {
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
                        record_identity_change_if(conn, added, &audit, org_id).await?;
                        Ok(())
                    })
                    .await
                    .map_err(|e| constraint_error::<$dialect>(e, MEMBER_CONSTRAINTS, "team_id"))
                }
            }

            /// The teams a user is in, ordered by id.
            async fn team_ids(conn: &mut $conn, org_id: OrgId, user_id: UserId) -> Result<Vec<TeamId>, StoreError> {
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
        };
    };
}
