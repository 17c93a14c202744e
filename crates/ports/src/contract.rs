//! The contract every store adapter must honour, as plain async functions over a fresh pair of
//! stores. An adapter runs them all with [`store_contract_tests!`](crate::store_contract_tests).

use std::any::Any;
use std::collections::BTreeSet;
use std::sync::Arc;

use projects_domain::{
    can_view_project, ApiKey, ApiKeyId, ApiKeyToken, AuditEvent, Description, Email, Emoji, Invitation, Metadata,
    NewProject, Org, OrgId, OrgName, PageRequest, Permission, PermissionSet, Project, ProjectAudience, ProjectId,
    ProjectName, ProjectStatus, Prompt, Role, Slug, Tags, Team, TeamId, Timestamp, Usd, User, UserId, UserKind, Viewer,
    Visibility,
};
use time::Duration;
use uuid::Uuid;

use crate::{IdentityStore, ProjectFilter, ProjectKey, ProjectStore, StoreError, UsageStore};

/// A fresh, empty, migrated pair of stores over one database, and whatever keeps it alive.
pub struct Stores {
    pub projects: Arc<dyn ProjectStore>,
    pub identity: Arc<dyn IdentityStore>,
    pub usage: Arc<dyn UsageStore>,
    pub workspaces: Arc<dyn crate::WorkspaceStore>,
    pub guard: Box<dyn Any + Send + Sync>,
}

impl Stores {
    /// Every store served by one adapter, kept alive by `guard` (its database).
    pub fn of<S>(store: S, guard: impl Any + Send + Sync) -> Self
    where
        S: ProjectStore + IdentityStore + UsageStore + crate::WorkspaceStore + 'static,
    {
        let store = Arc::new(store);
        Stores {
            projects: store.clone(),
            identity: store.clone(),
            usage: store.clone(),
            workspaces: store,
            guard: Box::new(guard),
        }
    }
}

/// Expands to one `#[tokio::test]` per contract case, each over a fresh `$fixture().await`.
#[macro_export]
macro_rules! store_contract_tests {
    ($fixture:path) => {
        $crate::store_contract_tests!(@cases $fixture;
            identity_bootstrap_and_authentication,
            identity_org_names_and_emails_are_unique,
            identity_revoked_keys_stop_authenticating,
            identity_reads_are_scoped_by_org,
            identity_teams_and_membership,
            identity_api_keys_are_listed_and_touched,
            identity_members_are_listed_updated_and_removed,
            identity_teams_are_listed_and_members_removed,
            identity_changes_are_audited_with_the_change,
            identity_invitations_are_redeemed_once,
            projects_shares_are_added_and_removed,
            projects_update_is_a_compare_and_swap,
            projects_soft_delete_hides_and_restore_brings_back,
            projects_purge_removes_what_expired,
            projects_list_filters_combine,
            projects_idempotency_claims_are_unique,
            usage_is_exact_and_idempotent,
            audit_events_are_paged_and_filtered,
            workspaces_are_touched_swapped_and_host_sessions,
            workspace_trees_commit_by_compare_and_swap,
            workspace_blobs_are_collected_only_when_unreferenced_and_stale,
            projects_round_trip_every_field,
            projects_derived_slugs_get_suffixes_and_explicit_ones_conflict,
            projects_are_scoped_by_org,
            projects_unknown_team_is_a_missing_reference,
            projects_list_pages_newest_first_without_gaps,
            projects_list_applies_the_visibility_rule,
            quotas_count_what_the_org_holds_and_refuse_past_the_limit,
            quotas_count_stored_bytes_once_per_blob,
            quotas_hold_under_concurrent_writers
        );
    };
    (@cases $fixture:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::contract::$case($fixture().await).await;
            }
        )*
    };
}

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_unix_timestamp(1_700_000_000).unwrap() + Duration::seconds(seconds)
}

fn audit(org_id: OrgId, actor: UserId, action: &str, project_id: Option<ProjectId>) -> AuditEvent {
    AuditEvent {
        id: Uuid::now_v7(),
        org_id,
        actor_user_id: actor,
        action: action.to_owned(),
        project_id,
        target_type: "project",
        target_id: project_id.map_or_else(Uuid::now_v7, |id| id.as_uuid()),
        fields: vec![],
        at: at(100),
    }
}

/// The audit event of an identity change in `org_id` (the actor does not matter to the store).
fn change(org_id: OrgId, action: &str) -> AuditEvent {
    let target_type = match action.split('.').next() {
        Some("api_key") => "api_key",
        Some("team") => "team",
        _ => "member",
    };
    AuditEvent { target_type, ..audit(org_id, UserId::from_uuid(Uuid::now_v7()), action, None) }
}

async fn create(stores: &Stores, project: &Project, slug_is_explicit: bool) -> Result<Project, StoreError> {
    let event = audit(project.org_id, project.owner_user_id, "project.created", Some(project.id));
    stores.projects.create(project, slug_is_explicit, &event, None, None).await
}

async fn add_share(stores: &Stores, org_id: OrgId, project_id: ProjectId, team_id: TeamId) -> Result<(), StoreError> {
    let event = audit(org_id, UserId::from_uuid(Uuid::nil()), "project.shared", Some(project_id));
    stores.projects.add_share(org_id, project_id, team_id, &event).await
}

async fn remove_share(
    stores: &Stores,
    org_id: OrgId,
    project_id: ProjectId,
    team_id: TeamId,
) -> Result<bool, StoreError> {
    let event = audit(org_id, UserId::from_uuid(Uuid::nil()), "project.unshared", Some(project_id));
    stores.projects.remove_share(org_id, project_id, team_id, &event).await
}

async fn list(stores: &Stores, viewer: &Viewer, page: PageRequest) -> Result<crate::ProjectPage, StoreError> {
    stores.projects.list_visible(viewer, &ProjectFilter::default(), page).await
}

fn org(name: &str) -> Org {
    Org { id: OrgId::from_uuid(Uuid::now_v7()), name: OrgName::new(name).unwrap(), created_at: at(0) }
}

fn user(org: &Org, email: &str, role: Role) -> User {
    User {
        id: UserId::from_uuid(Uuid::now_v7()),
        org_id: org.id,
        email: Email::new(email).unwrap(),
        role,
        kind: UserKind::Person,
        name: None,
        default_project_visibility: None,
        active_team_id: None,
        created_at: at(0),
    }
}

fn key_for(user: &User, secret_byte: u8, scopes: PermissionSet) -> (ApiKey, ApiKeyToken) {
    let token = ApiKeyToken::from_secret(&[secret_byte; 32]);
    let mut key_sha256 = [0u8; 32];
    // Any 32 distinct bytes do for the store: it never hashes, it only looks up.
    key_sha256[0] = secret_byte;
    key_sha256[31] = 0x5a;
    let key = ApiKey {
        id: ApiKeyId::from_uuid(Uuid::now_v7()),
        org_id: user.org_id,
        user_id: user.id,
        name: format!("key {secret_byte}"),
        key_prefix: token.prefix().as_str().to_owned(),
        key_sha256,
        scopes,
        created_at: at(1),
        last_used_at: None,
        revoked_at: None,
    };
    (key, token)
}

async fn bootstrap(stores: &Stores, name: &str, secret_byte: u8) -> (Org, User, ApiKey) {
    let org = org(name);
    let owner = user(&org, &format!("owner@{name}.test"), Role::Owner);
    let (key, _) = key_for(&owner, secret_byte, Role::Owner.permissions());
    stores.identity.create_org_with_owner(&org, &owner, &key, &[]).await.unwrap();
    (org, owner, key)
}

async fn member(stores: &Stores, org: &Org, email: &str, role: Role) -> User {
    let member = user(org, email, role);
    stores.identity.create_user(&member, None, &change(member.org_id, "member.added"), None).await.unwrap();
    member
}

async fn team(stores: &Stores, org: &Org, name: &str) -> Team {
    let team = Team { id: TeamId::from_uuid(Uuid::now_v7()), org_id: org.id, name: name.to_owned(), created_at: at(0) };
    stores.identity.create_team(&team, &change(team.org_id, "team.created")).await.unwrap();
    team
}

fn project(owner: &User, name: &str, created_at: Timestamp) -> Project {
    let new = NewProject {
        name: ProjectName::new(name).unwrap(),
        slug: None,
        description: None,
        prompt: None,
        emoji: None,
        visibility: None,
        team_id: None,
        tags: Tags::default(),
        metadata: Metadata::default(),
    };
    new.into_project(ProjectId::from_uuid(Uuid::now_v7()), owner.org_id, owner.id, Visibility::Private, created_at)
}

pub async fn identity_bootstrap_and_authentication(stores: Stores) {
    assert!(!stores.identity.any_org_exists().await.unwrap());
    let (org, owner, key) = bootstrap(&stores, "acme", 1).await;
    assert!(stores.identity.any_org_exists().await.unwrap());

    let found = stores.identity.find_api_key_owner(&key.key_sha256).await.unwrap().unwrap();
    assert_eq!(found.key, key);
    assert_eq!(found.user, owner);
    assert!(found.team_ids.is_empty());
    assert_eq!(stores.identity.find_org_by_name(&org.name).await.unwrap(), Some(org.clone()));

    let mut unknown = key.key_sha256;
    unknown[5] ^= 0xff;
    assert_eq!(stores.identity.find_api_key_owner(&unknown).await.unwrap(), None);

    let viewer = member(&stores, &org, "viewer@acme.test", Role::Viewer).await;
    let scopes = PermissionSet::of(&[Permission::ProjectsRead]);
    let (viewer_key, _) = key_for(&viewer, 2, scopes);
    stores.identity.create_api_key(&viewer_key, &change(viewer_key.org_id, "api_key.created"), None).await.unwrap();
    let found = stores.identity.find_api_key_owner(&viewer_key.key_sha256).await.unwrap().unwrap();
    assert_eq!(found.user.role, Role::Viewer);
    assert_eq!(found.key.scopes, scopes);
}

pub async fn identity_org_names_and_emails_are_unique(stores: Stores) {
    let (org, _, _) = bootstrap(&stores, "acme", 1).await;
    let again = self::org("acme");
    let owner = user(&again, "someone@else.test", Role::Owner);
    let (key, _) = key_for(&owner, 2, Role::Owner.permissions());
    let clash = stores.identity.create_org_with_owner(&again, &owner, &key, &[]).await;
    assert!(matches!(clash, Err(StoreError::Conflict { field: "org" })), "{clash:?}");
    // All or nothing: neither the owner nor the key of the refused org exist.
    assert_eq!(stores.identity.find_api_key_owner(&key.key_sha256).await.unwrap(), None);

    let twin = user(&org, "OWNER@acme.test", Role::Member);
    let clash = stores.identity.create_user(&twin, None, &change(twin.org_id, "member.added"), None).await;
    assert!(matches!(clash, Err(StoreError::Conflict { field: "email" })), "{clash:?}");

    // The same email in another org is another person.
    let (other, _, _) = bootstrap(&stores, "globex", 3).await;
    member(&stores, &other, "owner@acme.test", Role::Member).await;
}

pub async fn identity_revoked_keys_stop_authenticating(stores: Stores) {
    let (org, _, key) = bootstrap(&stores, "acme", 1).await;
    let (other_org, _, _) = bootstrap(&stores, "globex", 2).await;
    // Another org cannot revoke it.
    assert!(!stores
        .identity
        .revoke_api_key(other_org.id, key.id, &change(other_org.id, "api_key.revoked"))
        .await
        .unwrap());
    assert!(stores.identity.find_api_key_owner(&key.key_sha256).await.unwrap().is_some());

    assert!(stores.identity.revoke_api_key(org.id, key.id, &change(org.id, "api_key.revoked")).await.unwrap());
    assert_eq!(stores.identity.find_api_key_owner(&key.key_sha256).await.unwrap(), None);
    assert!(!stores.identity.revoke_api_key(org.id, key.id, &change(org.id, "api_key.revoked")).await.unwrap());
}

pub async fn identity_reads_are_scoped_by_org(stores: Stores) {
    let (acme, acme_owner, _) = bootstrap(&stores, "acme", 1).await;
    let (globex, globex_owner, _) = bootstrap(&stores, "globex", 2).await;
    assert_eq!(stores.identity.find_user(acme.id, acme_owner.id).await.unwrap(), Some(acme_owner.clone()));
    assert_eq!(stores.identity.find_user(globex.id, acme_owner.id).await.unwrap(), None);
    assert_eq!(stores.identity.find_user_by_email(globex.id, &acme_owner.email).await.unwrap(), None);
    assert_eq!(
        stores.identity.find_user_by_email(globex.id, &globex_owner.email).await.unwrap(),
        Some(globex_owner.clone())
    );
    // A key cannot be made for a user of another org.
    let (stray, _) = key_for(&User { org_id: globex.id, ..acme_owner.clone() }, 9, PermissionSet::EMPTY);
    let refused = stores.identity.create_api_key(&stray, &change(stray.org_id, "api_key.created"), None).await;
    assert!(matches!(refused, Err(StoreError::MissingReference { field: "user_id" })), "{refused:?}");
}

pub async fn identity_teams_and_membership(stores: Stores) {
    let (acme, owner, key) = bootstrap(&stores, "acme", 1).await;
    let (globex, _, _) = bootstrap(&stores, "globex", 2).await;
    let red = team(&stores, &acme, "red").await;
    let blue = team(&stores, &acme, "blue").await;
    assert_eq!(stores.identity.find_team(acme.id, red.id).await.unwrap(), Some(red.clone()));
    assert_eq!(stores.identity.find_team(globex.id, red.id).await.unwrap(), None);

    stores.identity.add_team_member(acme.id, red.id, owner.id, &change(acme.id, "team.member_added")).await.unwrap();
    stores.identity.add_team_member(acme.id, red.id, owner.id, &change(acme.id, "team.member_added")).await.unwrap();
    stores.identity.add_team_member(acme.id, blue.id, owner.id, &change(acme.id, "team.member_added")).await.unwrap();
    let found = stores.identity.find_api_key_owner(&key.key_sha256).await.unwrap().unwrap();
    let teams: BTreeSet<TeamId> = found.team_ids.into_iter().collect();
    assert_eq!(teams, BTreeSet::from([red.id, blue.id]));

    let refused =
        stores.identity.add_team_member(globex.id, red.id, owner.id, &change(globex.id, "team.member_added")).await;
    assert!(matches!(refused, Err(StoreError::MissingReference { .. })), "{refused:?}");
}

pub async fn projects_round_trip_every_field(stores: Stores) {
    let (acme, owner, _) = bootstrap(&stores, "acme", 1).await;
    let red = team(&stores, &acme, "red").await;
    let mut full = project(&owner, "Legal Counsel Project ✨", at(10));
    full.team_id = Some(red.id);
    full.description = Some(Description::new("Contracts, NDAs — and \"quotes\"").unwrap());
    full.prompt = Some(Prompt::new("You are a careful lawyer.").unwrap());
    full.emoji = Some(Emoji::new("⚖️").unwrap());
    full.visibility = Visibility::Shared;
    full.status = ProjectStatus::Completed;
    full.tags = Tags::new(&["legal", "q3"]).unwrap();
    full.metadata = Metadata::new(serde_json::json!({"budget": 12.5, "nested": {"ok": [1, null]}})).unwrap();
    full.updated_at = at(11);
    full.version = 3;

    let stored = create(&stores, &full, false).await.unwrap();
    assert_eq!(stored, full);
    let by_id = stores.projects.find(acme.id, &ProjectKey::Id(full.id)).await.unwrap().unwrap();
    assert_eq!(by_id.project, full);
    assert!(by_id.shared_team_ids.is_empty());
    let by_slug = stores.projects.find(acme.id, &ProjectKey::Slug(full.slug.clone())).await.unwrap().unwrap();
    assert_eq!(by_slug.project, full);

    let blue = team(&stores, &acme, "blue").await;
    add_share(&stores, acme.id, full.id, blue.id).await.unwrap();
    add_share(&stores, acme.id, full.id, blue.id).await.unwrap();
    let shared = stores.projects.find(acme.id, &ProjectKey::Id(full.id)).await.unwrap().unwrap();
    assert_eq!(shared.shared_team_ids, vec![blue.id]);

    let minimal = project(&owner, "Bare", at(12));
    assert_eq!(create(&stores, &minimal, false).await.unwrap(), minimal);
}

pub async fn projects_derived_slugs_get_suffixes_and_explicit_ones_conflict(stores: Stores) {
    let (acme, owner, _) = bootstrap(&stores, "acme", 1).await;
    let first = create(&stores, &project(&owner, "Q3 launch", at(1)), false).await.unwrap();
    let second = create(&stores, &project(&owner, "Q3 Launch!", at(2)), false).await.unwrap();
    let third = create(&stores, &project(&owner, "q3 launch", at(3)), false).await.unwrap();
    assert_eq!(
        [first.slug.as_str(), second.slug.as_str(), third.slug.as_str()],
        ["q3-launch", "q3-launch-2", "q3-launch-3"]
    );
    // A derived slug that merely starts like another is not a clash.
    let longer = create(&stores, &project(&owner, "Q3 launch party", at(4)), false).await.unwrap();
    assert_eq!(longer.slug.as_str(), "q3-launch-party");

    let mut explicit = project(&owner, "Anything", at(5));
    explicit.slug = Slug::new("q3-launch-2").unwrap();
    let clash = create(&stores, &explicit, true).await;
    assert!(matches!(clash, Err(StoreError::Conflict { field: "slug" })), "{clash:?}");
    assert_eq!(stores.projects.find(acme.id, &ProjectKey::Id(explicit.id)).await.unwrap(), None);

    explicit.slug = Slug::new("custom").unwrap();
    assert_eq!(create(&stores, &explicit, true).await.unwrap().slug.as_str(), "custom");
}

pub async fn projects_are_scoped_by_org(stores: Stores) {
    let (acme, acme_owner, _) = bootstrap(&stores, "acme", 1).await;
    let (globex, globex_owner, _) = bootstrap(&stores, "globex", 2).await;
    let mut open = project(&acme_owner, "Open to the org", at(1));
    open.visibility = Visibility::Shared;
    let open = create(&stores, &open, false).await.unwrap();
    // Slugs are unique per org only.
    let twin = create(&stores, &project(&globex_owner, "Open to the org", at(2)), false).await.unwrap();
    assert_eq!(twin.slug, open.slug);

    assert_eq!(stores.projects.find(globex.id, &ProjectKey::Id(open.id)).await.unwrap(), None);
    let by_slug = stores.projects.find(globex.id, &ProjectKey::Slug(open.slug.clone())).await.unwrap().unwrap();
    assert_eq!(by_slug.project.id, twin.id);

    let globex_viewer = Viewer { org_id: globex.id, user_id: globex_owner.id, role: Role::Owner, team_ids: vec![] };
    let page = list(&stores, &globex_viewer, PageRequest::first(50)).await.unwrap();
    assert_eq!(page.items.iter().map(|p| p.id).collect::<Vec<_>>(), vec![twin.id]);
    let acme_team = team(&stores, &acme, "red").await;
    let refused = add_share(&stores, globex.id, open.id, acme_team.id).await;
    assert!(matches!(refused, Err(StoreError::MissingReference { .. })), "{refused:?}");
}

pub async fn projects_unknown_team_is_a_missing_reference(stores: Stores) {
    let (_, owner, _) = bootstrap(&stores, "acme", 1).await;
    let (globex, _, _) = bootstrap(&stores, "globex", 2).await;
    let foreign_team = team(&stores, &globex, "theirs").await;
    let mut stray = project(&owner, "Stray", at(1));
    stray.team_id = Some(foreign_team.id);
    let refused = create(&stores, &stray, false).await;
    assert!(matches!(refused, Err(StoreError::MissingReference { field: "team_id" })), "{refused:?}");
}

pub async fn projects_list_pages_newest_first_without_gaps(stores: Stores) {
    let (acme, owner, _) = bootstrap(&stores, "acme", 1).await;
    let mut expected = Vec::new();
    for i in 0..23 {
        // Pairs share a timestamp, so the id must break ties.
        let created = create(&stores, &project(&owner, &format!("p{i}"), at(i / 2)), false).await.unwrap();
        expected.push(created.id);
    }
    expected.sort_by_key(|id| std::cmp::Reverse(*id));
    let viewer = Viewer { org_id: acme.id, user_id: owner.id, role: Role::Owner, team_ids: vec![] };

    let mut seen = Vec::new();
    let mut page = PageRequest::first(5);
    loop {
        let result = list(&stores, &viewer, page).await.unwrap();
        assert!(result.items.len() <= 5);
        seen.extend(result.items.iter().map(|p| p.id));
        match result.next {
            Some(next) => page = PageRequest { limit: 5, after: Some(next) },
            None => break,
        }
    }
    // Ids are time-ordered and timestamps ascend with them, so newest first is descending ids.
    assert_eq!(seen, expected);

    let exact = list(&stores, &viewer, PageRequest::first(23)).await.unwrap();
    assert_eq!(exact.items.len(), 23);
    assert_eq!(exact.next, None, "no next page when the last one is exactly full");
}

pub async fn projects_list_applies_the_visibility_rule(stores: Stores) {
    let (acme, owner, _) = bootstrap(&stores, "acme", 1).await;
    let alice = member(&stores, &acme, "alice@acme.test", Role::Member).await;
    let bob = member(&stores, &acme, "bob@acme.test", Role::Viewer).await;
    let admin = member(&stores, &acme, "admin@acme.test", Role::Admin).await;
    let red = team(&stores, &acme, "red").await;
    let blue = team(&stores, &acme, "blue").await;
    stores.identity.add_team_member(acme.id, red.id, alice.id, &change(acme.id, "team.member_added")).await.unwrap();
    stores.identity.add_team_member(acme.id, blue.id, bob.id, &change(acme.id, "team.member_added")).await.unwrap();
    // Another org's project must never show up, whatever its visibility.
    let (_, stranger, _) = bootstrap(&stores, "globex", 2).await;
    let mut foreign = project(&stranger, "foreign", at(0));
    foreign.visibility = Visibility::Shared;
    create(&stores, &foreign, false).await.unwrap();

    // Every combination of creator, visibility, team and share.
    let mut audiences: Vec<(ProjectId, ProjectAudience)> = Vec::new();
    let mut n = 0;
    for creator in [&owner, &alice, &bob, &admin] {
        for visibility in [Visibility::Private, Visibility::Shared] {
            for team_id in [None, Some(red.id), Some(blue.id)] {
                for share in [None, Some(red.id), Some(blue.id)] {
                    n += 1;
                    let mut p = project(creator, &format!("p{n}"), at(n));
                    p.visibility = visibility;
                    p.team_id = team_id;
                    let p = create(&stores, &p, false).await.unwrap();
                    if let Some(share) = share {
                        add_share(&stores, acme.id, p.id, share).await.unwrap();
                    }
                    audiences.push((p.id, ProjectAudience::of(&p, share.into_iter().collect())));
                }
            }
        }
    }

    let viewers = [
        (owner.id, Role::Owner, vec![]),
        (alice.id, Role::Member, vec![red.id]),
        (bob.id, Role::Viewer, vec![blue.id]),
        (admin.id, Role::Admin, vec![]),
        (admin.id, Role::Admin, vec![red.id, blue.id]),
    ];
    for (user_id, role, team_ids) in viewers {
        let viewer = Viewer { org_id: acme.id, user_id, role, team_ids };
        let page = list(&stores, &viewer, PageRequest::first(200)).await.unwrap();
        assert_eq!(page.next, None);
        let listed: BTreeSet<ProjectId> = page.items.iter().map(|p| p.id).collect();
        let expected: BTreeSet<ProjectId> =
            audiences.iter().filter(|(_, audience)| can_view_project(&viewer, audience)).map(|(id, _)| *id).collect();
        assert!(!expected.is_empty());
        assert_eq!(listed, expected, "{viewer:?} sees exactly what the rule allows");
    }
}

pub async fn identity_api_keys_are_listed_and_touched(stores: Stores) {
    let (acme, owner, owner_key) = bootstrap(&stores, "acme", 1).await;
    let (globex, _, _) = bootstrap(&stores, "globex", 2).await;
    let alice = member(&stores, &acme, "alice@acme.test", Role::Member).await;
    let (mut alice_key, _) = key_for(&alice, 3, PermissionSet::of(&[Permission::ProjectsRead]));
    alice_key.created_at = at(2);
    stores.identity.create_api_key(&alice_key, &change(alice_key.org_id, "api_key.created"), None).await.unwrap();
    let (mut revoked, _) = key_for(&alice, 4, PermissionSet::EMPTY);
    revoked.created_at = at(3);
    stores.identity.create_api_key(&revoked, &change(revoked.org_id, "api_key.created"), None).await.unwrap();
    stores.identity.revoke_api_key(acme.id, revoked.id, &change(acme.id, "api_key.revoked")).await.unwrap();

    let all = stores.identity.list_api_keys(acme.id, None, PageRequest::first(50)).await.unwrap();
    assert_eq!(all.items, vec![alice_key.clone(), owner_key.clone()], "newest first, revoked left out");
    assert_eq!(all.next, None);
    let first = stores.identity.list_api_keys(acme.id, None, PageRequest::first(1)).await.unwrap();
    assert_eq!(first.items, vec![alice_key.clone()]);
    let rest = PageRequest { limit: 1, after: first.next };
    let second = stores.identity.list_api_keys(acme.id, None, rest).await.unwrap();
    assert_eq!((second.items, second.next), (vec![owner_key.clone()], None), "the next page, and the last");
    let alices = stores.identity.list_api_keys(acme.id, Some(alice.id), PageRequest::first(50)).await.unwrap();
    assert_eq!(alices.items, vec![alice_key.clone()]);
    assert!(stores
        .identity
        .list_api_keys(globex.id, Some(owner.id), PageRequest::first(50))
        .await
        .unwrap()
        .items
        .is_empty());

    stores.identity.touch_api_keys(&[(alice_key.id, at(7)), (owner_key.id, at(8))]).await.unwrap();
    stores.identity.touch_api_keys(&[]).await.unwrap();
    let found = stores.identity.find_api_key_owner(&alice_key.key_sha256).await.unwrap().unwrap();
    assert_eq!(found.key.last_used_at, Some(at(7)));
    let found = stores.identity.find_api_key_owner(&owner_key.key_sha256).await.unwrap().unwrap();
    assert_eq!(found.key.last_used_at, Some(at(8)));
}

pub async fn identity_members_are_listed_updated_and_removed(stores: Stores) {
    let (acme, owner, _) = bootstrap(&stores, "acme", 1).await;
    let (globex, _, _) = bootstrap(&stores, "globex", 2).await;
    let red = team(&stores, &acme, "red").await;
    let mut alice = member(&stores, &acme, "alice@acme.test", Role::Member).await;
    let (alice_key, _) = key_for(&alice, 3, Role::Member.permissions());
    stores.identity.create_api_key(&alice_key, &change(alice_key.org_id, "api_key.created"), None).await.unwrap();
    let members = |kind, page| stores.identity.list_members(acme.id, kind, page);
    assert_eq!(members(None, PageRequest::first(50)).await.unwrap().items, vec![owner.clone(), alice.clone()]);
    let first = members(None, PageRequest::first(1)).await.unwrap();
    assert_eq!(first.items, vec![owner.clone()], "oldest first");
    let second = members(None, PageRequest { limit: 1, after: first.next }).await.unwrap();
    assert_eq!((second.items, second.next), (vec![alice.clone()], None));
    assert!(members(Some(UserKind::ServiceAccount), PageRequest::first(50)).await.unwrap().items.is_empty());

    let promoted = change(acme.id, "member.role_changed");
    assert!(stores.identity.change_role(acme.id, alice.id, Role::Member, Role::Admin, &promoted).await.unwrap());
    alice.role = Role::Admin;
    alice.default_project_visibility = Some(Visibility::Shared);
    alice.active_team_id = Some(red.id);
    assert!(stores.identity.update_preferences(&alice).await.unwrap());
    assert_eq!(stores.identity.find_user(acme.id, alice.id).await.unwrap(), Some(alice.clone()));
    // Preferences never carry a role with them.
    assert!(stores.identity.update_preferences(&User { role: Role::Viewer, ..alice.clone() }).await.unwrap());
    assert_eq!(stores.identity.find_user(acme.id, alice.id).await.unwrap(), Some(alice.clone()));
    // Another org cannot touch her.
    let stray = User { org_id: globex.id, role: Role::Viewer, ..alice.clone() };
    assert!(!stores.identity.update_preferences(&stray).await.unwrap());
    let demote = change(globex.id, "member.role_changed");
    assert!(!stores.identity.change_role(globex.id, alice.id, Role::Admin, Role::Viewer, &demote).await.unwrap());
    assert!(!stores.identity.remove_member(globex.id, alice.id, &change(globex.id, "member.removed")).await.unwrap());
    assert_eq!(stores.identity.find_user(acme.id, alice.id).await.unwrap(), Some(alice.clone()));

    assert!(stores.identity.remove_member(acme.id, alice.id, &change(acme.id, "member.removed")).await.unwrap());
    assert!(!stores.identity.remove_member(acme.id, alice.id, &change(acme.id, "member.removed")).await.unwrap());
    assert_eq!(stores.identity.find_user(acme.id, alice.id).await.unwrap(), None);
    assert_eq!(stores.identity.find_api_key_owner(&alice_key.key_sha256).await.unwrap(), None);
    assert_eq!(
        stores.identity.list_members(acme.id, None, PageRequest::first(50)).await.unwrap().items,
        vec![owner.clone()]
    );
    assert!(!stores.identity.update_preferences(&alice).await.unwrap(), "a removed member stays removed");
    // Her email can join again, as a new user.
    member(&stores, &acme, "alice@acme.test", Role::Viewer).await;
}

pub async fn identity_teams_are_listed_and_members_removed(stores: Stores) {
    let (acme, owner, key) = bootstrap(&stores, "acme", 1).await;
    let (globex, _, _) = bootstrap(&stores, "globex", 2).await;
    let red = team(&stores, &acme, "red").await;
    let blue = team(&stores, &acme, "blue").await;
    team(&stores, &globex, "red").await;
    let twin = Team { id: TeamId::from_uuid(Uuid::now_v7()), ..red.clone() };
    let clash = stores.identity.create_team(&twin, &change(twin.org_id, "team.created")).await;
    assert!(matches!(clash, Err(StoreError::Conflict { field: "name" })), "{clash:?}");
    let listed = stores.identity.list_teams(acme.id, PageRequest::first(50)).await.unwrap();
    assert_eq!(listed.items, vec![red.clone(), blue.clone()], "oldest first");
    let first = stores.identity.list_teams(acme.id, PageRequest::first(1)).await.unwrap();
    let second = stores.identity.list_teams(acme.id, PageRequest { limit: 1, after: first.next }).await.unwrap();
    assert_eq!((first.items, second.items, second.next), (vec![red.clone()], vec![blue.clone()], None));
    let found =
        stores.identity.find_teams(acme.id, &[red.id, blue.id, TeamId::from_uuid(Uuid::now_v7())]).await.unwrap();
    assert_eq!(found, vec![blue.clone(), red.clone()], "by name, unknown ids left out");
    assert!(stores.identity.find_teams(globex.id, &[red.id]).await.unwrap().is_empty(), "another org's are not found");

    stores.identity.add_team_member(acme.id, red.id, owner.id, &change(acme.id, "team.member_added")).await.unwrap();
    assert!(!stores
        .identity
        .remove_team_member(globex.id, red.id, owner.id, &change(globex.id, "team.member_removed"))
        .await
        .unwrap());
    assert_eq!(stores.identity.team_ids_of(acme.id, owner.id).await.unwrap(), vec![red.id]);
    assert!(stores.identity.team_ids_of(globex.id, owner.id).await.unwrap().is_empty());
    assert!(stores
        .identity
        .remove_team_member(acme.id, red.id, owner.id, &change(acme.id, "team.member_removed"))
        .await
        .unwrap());
    assert!(!stores
        .identity
        .remove_team_member(acme.id, red.id, owner.id, &change(acme.id, "team.member_removed"))
        .await
        .unwrap());
    let found = stores.identity.find_api_key_owner(&key.key_sha256).await.unwrap().unwrap();
    assert!(found.team_ids.is_empty());
}

pub async fn projects_shares_are_added_and_removed(stores: Stores) {
    let (acme, owner, _) = bootstrap(&stores, "acme", 1).await;
    let (globex, _, _) = bootstrap(&stores, "globex", 2).await;
    let red = team(&stores, &acme, "red").await;
    let p = create(&stores, &project(&owner, "Shared", at(1)), false).await.unwrap();
    add_share(&stores, acme.id, p.id, red.id).await.unwrap();
    assert!(!remove_share(&stores, globex.id, p.id, red.id).await.unwrap());
    assert!(remove_share(&stores, acme.id, p.id, red.id).await.unwrap());
    assert!(!remove_share(&stores, acme.id, p.id, red.id).await.unwrap());
    let found = stores.projects.find(acme.id, &ProjectKey::Id(p.id)).await.unwrap().unwrap();
    assert!(found.shared_team_ids.is_empty());
}

pub async fn projects_update_is_a_compare_and_swap(stores: Stores) {
    let (acme, owner, _) = bootstrap(&stores, "acme", 1).await;
    let original = create(&stores, &project(&owner, "Draft", at(1)), false).await.unwrap();
    let other = create(&stores, &project(&owner, "Taken", at(2)), false).await.unwrap();
    let mut next = original.clone();
    next.name = ProjectName::new("Final").unwrap();
    next.tags = Tags::new(&["done"]).unwrap();
    next.status = ProjectStatus::Archived;
    next.updated_at = at(5);
    next.version = original.version + 1;
    let event = audit(acme.id, owner.id, "project.updated", Some(original.id));
    assert!(stores.projects.update(&next, &event).await.unwrap());
    let found = stores.projects.find(acme.id, &ProjectKey::Id(original.id)).await.unwrap().unwrap();
    assert_eq!(found.project, next);
    // The same version again is stale.
    assert!(!stores.projects.update(&next, &event).await.unwrap());
    let mut clash = next.clone();
    clash.slug = other.slug.clone();
    clash.version += 1;
    let refused = stores.projects.update(&clash, &event).await;
    assert!(matches!(refused, Err(StoreError::Conflict { field: "slug" })), "{refused:?}");
    // Another org's view of it does not exist.
    let (globex, _, _) = bootstrap(&stores, "globex", 2).await;
    let mut foreign = next.clone();
    foreign.org_id = globex.id;
    foreign.version += 1;
    assert!(!stores.projects.update(&foreign, &event).await.unwrap());
}

pub async fn projects_soft_delete_hides_and_restore_brings_back(stores: Stores) {
    let (acme, owner, _) = bootstrap(&stores, "acme", 1).await;
    let (globex, _, _) = bootstrap(&stores, "globex", 2).await;
    let gone = create(&stores, &project(&owner, "Gone", at(1)), false).await.unwrap();
    let event = audit(acme.id, owner.id, "project.deleted", Some(gone.id));
    assert!(!stores.projects.soft_delete(globex.id, gone.id, at(5), &event).await.unwrap());
    assert!(stores.projects.soft_delete(acme.id, gone.id, at(5), &event).await.unwrap());
    assert!(!stores.projects.soft_delete(acme.id, gone.id, at(6), &event).await.unwrap());
    assert_eq!(stores.projects.find(acme.id, &ProjectKey::Id(gone.id)).await.unwrap(), None);
    assert_eq!(stores.projects.find(acme.id, &ProjectKey::Slug(gone.slug.clone())).await.unwrap(), None);
    let viewer = Viewer { org_id: acme.id, user_id: owner.id, role: Role::Owner, team_ids: vec![] };
    assert!(list(&stores, &viewer, PageRequest::first(10)).await.unwrap().items.is_empty());
    let deleted = stores.projects.find_deleted(acme.id, gone.id).await.unwrap().unwrap();
    assert_eq!(deleted.deleted_at, Some(at(5)));
    assert_eq!(stores.projects.find_deleted(globex.id, gone.id).await.unwrap(), None);

    // Its slug is free again meanwhile.
    let heir = create(&stores, &project(&owner, "Gone", at(6)), false).await.unwrap();
    assert_eq!(heir.slug, gone.slug);

    let mut back = deleted.clone();
    back.deleted_at = None;
    back.updated_at = at(7);
    back.version = deleted.version + 1;
    let event = audit(acme.id, owner.id, "project.restored", Some(gone.id));
    let restored = stores.projects.restore(&back, &event, None).await.unwrap().unwrap();
    assert_eq!(restored.slug.as_str(), "gone-2", "a fresh suffix rather than a failure");
    assert_eq!(restored.deleted_at, None);
    assert_eq!(restored.version, back.version);
    assert!(stores.projects.find(acme.id, &ProjectKey::Id(gone.id)).await.unwrap().is_some());
    assert_eq!(stores.projects.restore(&back, &event, None).await.unwrap(), None, "only deleted projects restore");
}

pub async fn projects_purge_removes_what_expired(stores: Stores) {
    let (acme, owner, _) = bootstrap(&stores, "acme", 1).await;
    let old = create(&stores, &project(&owner, "Old", at(1)), false).await.unwrap();
    let recent = create(&stores, &project(&owner, "Recent", at(2)), false).await.unwrap();
    let kept = create(&stores, &project(&owner, "Kept", at(3)), false).await.unwrap();
    let red = team(&stores, &acme, "red").await;
    add_share(&stores, acme.id, old.id, red.id).await.unwrap();
    stores.usage.record_usage(&usage(&old, "0.5", 1), None).await.unwrap();
    let workspace = crate::Workspace {
        workspace_ref: "wsref_old".into(),
        org_id: acme.id,
        project_id: old.id,
        user_id: owner.id,
        head_revision: None,
        head_seq: None,
        created_at: at(4),
        last_used_at: at(4),
    };
    stores.workspaces.touch_workspace(&workspace).await.unwrap();
    let session = crate::Session {
        session_ref: "shref_old".into(),
        workspace_ref: "wsref_old".into(),
        org_id: acme.id,
        session_type: projects_domain::SessionType::Shell,
        state: projects_domain::SessionState::Ready,
        created_at: at(4),
        last_used_at: at(4),
        closed_at: None,
    };
    stores.workspaces.open_session(&session).await.unwrap();
    for (project, deleted_at) in [(&old, at(10)), (&recent, at(20))] {
        let event = audit(acme.id, owner.id, "project.deleted", Some(project.id));
        stores.projects.soft_delete(acme.id, project.id, deleted_at, &event).await.unwrap();
    }

    // Deleting a project ends the sessions of its workspaces, in the same transaction.
    assert_eq!(stores.workspaces.live_session(acme.id, "wsref_old", at(0)).await.unwrap(), None);
    let purged = stores.projects.purge_deleted(at(15)).await.unwrap();
    let expected =
        crate::PurgedProject { org_id: acme.id, project_id: old.id, workspace_refs: vec!["wsref_old".into()] };
    assert_eq!(purged, vec![expected]);
    assert_eq!(stores.workspaces.find_workspace(acme.id, "wsref_old").await.unwrap(), None);
    assert_eq!(stores.projects.find_deleted(acme.id, old.id).await.unwrap(), None);
    assert!(stores.projects.find_deleted(acme.id, recent.id).await.unwrap().is_some());
    assert!(stores.projects.find(acme.id, &ProjectKey::Id(kept.id)).await.unwrap().is_some());
    assert_eq!(stores.usage.project_spend(acme.id, old.id).await.unwrap(), Usd::ZERO);
    assert!(stores.projects.purge_deleted(at(15)).await.unwrap().is_empty());
}

pub async fn projects_list_filters_combine(stores: Stores) {
    let (acme, owner, _) = bootstrap(&stores, "acme", 1).await;
    let red = team(&stores, &acme, "red").await;
    let blue = team(&stores, &acme, "blue").await;
    let mut a = project(&owner, "Alpha launch", at(1));
    a.team_id = Some(red.id);
    a.tags = Tags::new(&["launch", "q3"]).unwrap();
    let a = create(&stores, &a, false).await.unwrap();
    let mut b = project(&owner, "Beta", at(2));
    b.description = Some(Description::new("The 100% LAUNCH_plan").unwrap());
    b.status = ProjectStatus::Archived;
    b.team_id = Some(blue.id);
    let b = create(&stores, &b, false).await.unwrap();
    add_share(&stores, acme.id, b.id, red.id).await.unwrap();
    let c = create(&stores, &project(&owner, "Gamma", at(3)), false).await.unwrap();

    let viewer = Viewer { org_id: acme.id, user_id: owner.id, role: Role::Owner, team_ids: vec![] };
    let ids = |filter: ProjectFilter| {
        let stores = &stores;
        let viewer = &viewer;
        async move {
            let page = stores.projects.list_visible(viewer, &filter, PageRequest::first(50)).await.unwrap();
            page.items.iter().map(|p| p.id).collect::<Vec<_>>()
        }
    };
    assert_eq!(ids(ProjectFilter::default()).await, vec![c.id, b.id, a.id]);
    assert_eq!(
        ids(ProjectFilter { team_id: Some(red.id), ..Default::default() }).await,
        vec![b.id, a.id],
        "own team or shared into it"
    );
    assert_eq!(ids(ProjectFilter { team_id: Some(blue.id), ..Default::default() }).await, vec![b.id]);
    assert_eq!(ids(ProjectFilter { status: Some(ProjectStatus::Archived), ..Default::default() }).await, vec![b.id]);
    assert_eq!(ids(ProjectFilter { tag: Some("q3".into()), ..Default::default() }).await, vec![a.id]);
    assert_eq!(ids(ProjectFilter { tag: Some("q".into()), ..Default::default() }).await, Vec::<ProjectId>::new());
    assert_eq!(ids(ProjectFilter { text: Some("launch".into()), ..Default::default() }).await, vec![b.id, a.id]);
    assert_eq!(ids(ProjectFilter { text: Some("100%".into()), ..Default::default() }).await, vec![b.id]);
    assert_eq!(
        ids(ProjectFilter { text: Some("_".into()), ..Default::default() }).await,
        vec![b.id],
        "wildcards are literal"
    );
    assert_eq!(
        ids(ProjectFilter { text: Some("launch".into()), status: Some(ProjectStatus::Active), ..Default::default() })
            .await,
        vec![a.id]
    );
}

pub async fn projects_idempotency_claims_are_unique(stores: Stores) {
    let (acme, owner, _) = bootstrap(&stores, "acme", 1).await;
    let claim = crate::IdempotencyClaim {
        scope: "v1.projects.create",
        key: "retry-1".into(),
        request_sha256: [7; 32],
        at: at(10),
        expired_before: at(0),
    };
    let first = project(&owner, "Once", at(10));
    let event = audit(acme.id, owner.id, "project.created", Some(first.id));
    stores.projects.create(&first, false, &event, Some(&claim), None).await.unwrap();
    let second = project(&owner, "Once", at(11));
    let refused = stores.projects.create(&second, false, &event, Some(&claim), None).await;
    assert!(matches!(refused, Err(StoreError::Conflict { field: "idempotency_key" })), "{refused:?}");
    assert_eq!(stores.projects.find(acme.id, &ProjectKey::Id(second.id)).await.unwrap(), None, "nothing written");
    let found =
        stores.projects.find_idempotent_create(acme.id, "v1.projects.create", "retry-1", at(0)).await.unwrap().unwrap();
    assert_eq!((found.request_sha256, found.project_id), ([7; 32], first.id));
    assert_eq!(
        stores.projects.find_idempotent_create(acme.id, "v1.projects.create", "retry-1", at(11)).await.unwrap(),
        None
    );
    assert_eq!(
        stores.projects.find_idempotent_create(acme.id, "api.projects.create", "retry-1", at(0)).await.unwrap(),
        None
    );
    // Past its 24 hours the key is free again.
    let later = crate::IdempotencyClaim { at: at(200), expired_before: at(100), ..claim.clone() };
    let event = audit(acme.id, owner.id, "project.created", Some(second.id));
    stores.projects.create(&second, false, &event, Some(&later), None).await.unwrap();
    let found = stores
        .projects
        .find_idempotent_create(acme.id, "v1.projects.create", "retry-1", at(100))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.project_id, second.id);
}

fn usage(project: &Project, cost: &str, n: i64) -> projects_domain::UsageRecord {
    projects_domain::UsageRecord {
        id: Uuid::now_v7(),
        org_id: project.org_id,
        project_id: project.id,
        cost: cost.parse().unwrap(),
        model: "gpt-test".into(),
        input_tokens: 10 * n,
        output_tokens: n,
        occurred_at: at(n),
        created_at: at(n),
    }
}

pub async fn usage_is_exact_and_idempotent(stores: Stores) {
    let (acme, owner, _) = bootstrap(&stores, "acme", 1).await;
    let (globex, _, _) = bootstrap(&stores, "globex", 2).await;
    let p = create(&stores, &project(&owner, "Spender", at(1)), false).await.unwrap();
    for n in 0..10 {
        stores.usage.record_usage(&usage(&p, "0.1", n), None).await.unwrap();
    }
    assert_eq!(stores.usage.project_spend(acme.id, p.id).await.unwrap().to_string(), "1");
    assert_eq!(stores.usage.project_spend(globex.id, p.id).await.unwrap(), Usd::ZERO);

    let first = usage(&p, "0.0125", 11);
    let recorded = stores.usage.record_usage(&first, Some(("k1", [1; 32]))).await.unwrap();
    assert_eq!(recorded, crate::UsageRecorded::Created(first.clone()));
    let again = usage(&p, "0.0125", 12);
    let replayed = stores.usage.record_usage(&again, Some(("k1", [1; 32]))).await.unwrap();
    assert_eq!(replayed, crate::UsageRecorded::Replayed(first.clone()));
    let other_body = stores.usage.record_usage(&again, Some(("k1", [2; 32]))).await;
    assert!(matches!(other_body, Err(StoreError::Conflict { field: "idempotency_key" })), "{other_body:?}");
    assert_eq!(stores.usage.project_spend(acme.id, p.id).await.unwrap().to_string(), "1.0125");

    let mut foreign = usage(&p, "1", 13);
    foreign.org_id = globex.id;
    let refused = stores.usage.record_usage(&foreign, None).await;
    assert!(matches!(refused, Err(StoreError::MissingReference { field: "project_id" })), "{refused:?}");
    let event = audit(acme.id, owner.id, "project.deleted", Some(p.id));
    stores.projects.soft_delete(acme.id, p.id, at(20), &event).await.unwrap();
    let refused = stores.usage.record_usage(&usage(&p, "1", 14), None).await;
    assert!(matches!(refused, Err(StoreError::MissingReference { field: "project_id" })), "{refused:?}");
}

pub async fn identity_changes_are_audited_with_the_change(stores: Stores) {
    let (acme, owner, _) = bootstrap(&stores, "acme", 1).await;
    let bob = member(&stores, &acme, "bob@acme.test", Role::Member).await;
    let red = team(&stores, &acme, "red").await;
    let added = change(acme.id, "team.member_added");
    stores.identity.add_team_member(acme.id, red.id, bob.id, &added).await.unwrap();
    // Adding again changes nothing, so it records nothing.
    stores.identity.add_team_member(acme.id, red.id, bob.id, &change(acme.id, "team.member_added")).await.unwrap();
    let (key, _) = key_for(&bob, 7, Role::Member.permissions());
    let created = change(acme.id, "api_key.created");
    stores.identity.create_api_key(&key, &created, None).await.unwrap();
    let revoked = change(acme.id, "api_key.revoked");
    assert!(stores.identity.revoke_api_key(acme.id, key.id, &revoked).await.unwrap());
    assert!(!stores.identity.revoke_api_key(acme.id, key.id, &change(acme.id, "api_key.revoked")).await.unwrap());
    let promoted = change(acme.id, "member.role_changed");
    assert!(stores.identity.change_role(acme.id, bob.id, Role::Member, Role::Admin, &promoted).await.unwrap());
    // From a role they no longer hold: refused, and nothing recorded.
    let stale = change(acme.id, "member.role_changed");
    assert!(!stores.identity.change_role(acme.id, bob.id, Role::Member, Role::Viewer, &stale).await.unwrap());
    assert_eq!(stores.identity.find_user(acme.id, bob.id).await.unwrap().map(|u| u.role), Some(Role::Admin));
    let removed = change(acme.id, "member.removed");
    assert!(stores.identity.remove_member(acme.id, bob.id, &removed).await.unwrap());
    // A refused change writes no event: the email is taken.
    let twin = user(&acme, "owner@acme.test", Role::Viewer);
    assert!(stores.identity.create_user(&twin, None, &change(acme.id, "member.added"), None).await.is_err());
    let events = stores.usage.list_audit_events(acme.id, None, PageRequest::first(50)).await.unwrap().items;
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "member.removed",
            "member.role_changed",
            "api_key.revoked",
            "api_key.created",
            "team.member_added",
            "team.created",
            "member.added"
        ],
        "one event per change that happened, newest first"
    );
    assert_eq!(events[2], revoked);
    assert_eq!(events[4], added);
    assert!(events.iter().all(|e| e.project_id.is_none()));
    let _ = owner;
}

pub async fn identity_invitations_are_redeemed_once(stores: Stores) {
    let (acme, _, _) = bootstrap(&stores, "acme", 1).await;
    let invite = |user: &User, byte: u8, expires_at| Invitation {
        token_sha256: [byte; 32],
        org_id: user.org_id,
        user_id: user.id,
        role: user.role,
        created_at: at(0),
        expires_at,
    };
    let ada = user(&acme, "ada@acme.test", Role::Member);
    stores
        .identity
        .create_user(&ada, Some(&invite(&ada, 0x11, at(1000))), &change(acme.id, "member.added"), None)
        .await
        .unwrap();
    let found = stores.identity.find_invitation(&[0x11; 32], at(10)).await.unwrap();
    assert_eq!(found, Some((invite(&ada, 0x11, at(1000)), ada.clone())));
    assert_eq!(stores.identity.find_invitation(&[0x11; 32], at(1000)).await.unwrap(), None, "expired");
    assert_eq!(stores.identity.find_invitation(&[0x12; 32], at(10)).await.unwrap(), None, "unknown");
    let (key, _) = key_for(&ada, 8, Role::Member.permissions());
    assert!(!stores
        .identity
        .redeem_invitation(&[0x11; 32], at(1000), &key, &change(acme.id, "api_key.created"), None)
        .await
        .unwrap());
    assert!(stores.identity.find_api_key_owner(&key.key_sha256).await.unwrap().is_none(), "nothing written");
    assert!(stores
        .identity
        .redeem_invitation(&[0x11; 32], at(10), &key, &change(acme.id, "api_key.created"), None)
        .await
        .unwrap());
    assert_eq!(stores.identity.find_api_key_owner(&key.key_sha256).await.unwrap().map(|o| o.user), Some(ada.clone()));
    let (again, _) = key_for(&ada, 9, Role::Member.permissions());
    assert!(
        !stores
            .identity
            .redeem_invitation(&[0x11; 32], at(11), &again, &change(acme.id, "api_key.created"), None)
            .await
            .unwrap(),
        "single use"
    );
    assert_eq!(stores.identity.find_invitation(&[0x11; 32], at(11)).await.unwrap(), None);

    let bea = user(&acme, "bea@acme.test", Role::Viewer);
    stores
        .identity
        .create_user(&bea, Some(&invite(&bea, 0x21, at(1000))), &change(acme.id, "member.added"), None)
        .await
        .unwrap();
    assert!(stores.identity.remove_member(acme.id, bea.id, &change(acme.id, "member.removed")).await.unwrap());
    assert_eq!(stores.identity.find_invitation(&[0x21; 32], at(10)).await.unwrap(), None, "void once removed");
    let (key, _) = key_for(&bea, 10, Role::Viewer.permissions());
    assert!(!stores
        .identity
        .redeem_invitation(&[0x21; 32], at(10), &key, &change(acme.id, "api_key.created"), None)
        .await
        .unwrap());
}

pub async fn audit_events_are_paged_and_filtered(stores: Stores) {
    let (acme, owner, _) = bootstrap(&stores, "acme", 1).await;
    let (globex, _, _) = bootstrap(&stores, "globex", 2).await;
    let mut created = Vec::new();
    for i in 0..5 {
        let mut p = project(&owner, &format!("p{i}"), at(i));
        p.created_at = at(i);
        let mut event = audit(acme.id, owner.id, "project.created", Some(p.id));
        event.at = at(i);
        event.fields = vec!["name".into(), "slug".into()];
        stores.projects.create(&p, false, &event, None, None).await.unwrap();
        created.push((p.id, event));
    }
    let first = stores.usage.list_audit_events(acme.id, None, PageRequest::first(3)).await.unwrap();
    assert_eq!(first.items.len(), 3);
    assert_eq!(first.items[0], created[4].1, "newest first, every field kept");
    let rest =
        stores.usage.list_audit_events(acme.id, None, PageRequest { limit: 3, after: first.next }).await.unwrap();
    assert_eq!(rest.items.len(), 2);
    assert_eq!(rest.next, None);
    let one = stores.usage.list_audit_events(acme.id, Some(created[2].0), PageRequest::first(10)).await.unwrap();
    assert_eq!(one.items, vec![created[2].1.clone()]);
    assert!(stores.usage.list_audit_events(globex.id, None, PageRequest::first(10)).await.unwrap().items.is_empty());
}

pub async fn workspaces_are_touched_swapped_and_host_sessions(stores: Stores) {
    use crate::{Session, Workspace};
    let (acme, owner, _) = bootstrap(&stores, "acme", 1).await;
    let (globex, _, _) = bootstrap(&stores, "globex", 2).await;
    let p = create(&stores, &project(&owner, "Work", at(1)), false).await.unwrap();
    let workspace = Workspace {
        workspace_ref: "wsref_0123456789abcdef0123456789abcdef".into(),
        org_id: acme.id,
        project_id: p.id,
        user_id: owner.id,
        head_revision: None,
        head_seq: None,
        created_at: at(2),
        last_used_at: at(2),
    };
    let made = stores.workspaces.touch_workspace(&workspace).await.unwrap();
    assert_eq!(made, workspace);
    let later = Workspace { last_used_at: at(5), created_at: at(5), ..workspace.clone() };
    let touched = stores.workspaces.touch_workspace(&later).await.unwrap();
    assert_eq!((touched.created_at, touched.last_used_at), (at(2), at(5)), "made once, then only bumped");
    let stray = Workspace {
        workspace_ref: "wsref_other".into(),
        project_id: ProjectId::from_uuid(Uuid::now_v7()),
        ..workspace.clone()
    };
    let refused = stores.workspaces.touch_workspace(&stray).await;
    assert!(matches!(refused, Err(StoreError::MissingReference { .. })), "{refused:?}");

    let wsref = workspace.workspace_ref.as_str();
    assert_eq!(stores.workspaces.find_workspace(acme.id, wsref).await.unwrap(), Some(touched));
    assert_eq!(stores.workspaces.find_workspace(globex.id, wsref).await.unwrap(), None);

    // Batched use moves `last_used_at` forward only.
    stores.workspaces.touch_workspaces(&[(wsref.to_owned(), at(8))]).await.unwrap();
    stores.workspaces.touch_workspaces(&[(wsref.to_owned(), at(6)), ("wsref_gone".to_owned(), at(9))]).await.unwrap();
    let touched = stores.workspaces.find_workspace(acme.id, wsref).await.unwrap().unwrap();
    assert_eq!(touched.last_used_at, at(8));

    // The project with its shares and the user's workspace, in one lookup; nobody else's.
    let team = team(&stores, &acme, "red").await;
    add_share(&stores, acme.id, p.id, team.id).await.unwrap();
    let (found, mine) =
        stores.projects.find_with_workspace(acme.id, &ProjectKey::Id(p.id), owner.id).await.unwrap().unwrap();
    assert_eq!((found.project.id, found.shared_team_ids), (p.id, vec![team.id]));
    assert_eq!(mine, Some(touched.clone()));
    let someone = member(&stores, &acme, "someone@acme.test", Role::Member).await;
    let (_, theirs) = stores
        .projects
        .find_with_workspace(acme.id, &ProjectKey::Slug(p.slug.clone()), someone.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(theirs, None);
    assert!(stores.projects.find_with_workspace(globex.id, &ProjectKey::Id(p.id), owner.id).await.unwrap().is_none());

    let session = Session {
        session_ref: "shref_0123456789abcdef0123456789abcdef".into(),
        workspace_ref: wsref.into(),
        org_id: acme.id,
        session_type: projects_domain::SessionType::Shell,
        state: projects_domain::SessionState::Ready,
        created_at: at(10),
        last_used_at: at(10),
        closed_at: None,
    };
    stores.workspaces.open_session(&session).await.unwrap();
    assert_eq!(stores.workspaces.live_session(acme.id, wsref, at(9)).await.unwrap(), Some(session.clone()));
    assert_eq!(stores.workspaces.live_session(acme.id, wsref, at(11)).await.unwrap(), None, "too long unused");
    let busy = stores
        .workspaces
        .touch_session(acme.id, wsref, &session.session_ref, Some(projects_domain::SessionState::Busy), at(20))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((busy.state.as_str(), busy.last_used_at), ("busy", at(20)));
    let beat =
        stores.workspaces.touch_session(acme.id, wsref, &session.session_ref, None, at(21)).await.unwrap().unwrap();
    assert_eq!((beat.state.as_str(), beat.last_used_at), ("busy", at(21)));
    assert_eq!(
        stores.workspaces.touch_session(globex.id, wsref, &session.session_ref, None, at(22)).await.unwrap(),
        None
    );
    let closed = stores.workspaces.close_session(acme.id, wsref, &session.session_ref, at(30)).await.unwrap().unwrap();
    assert_eq!((closed.state.as_str(), closed.closed_at), ("closed", Some(at(30))));
    assert_eq!(stores.workspaces.close_session(acme.id, wsref, &session.session_ref, at(31)).await.unwrap(), None);
    assert_eq!(stores.workspaces.live_session(acme.id, wsref, at(0)).await.unwrap(), None);

    // Listed newest first, by state, in pages; ties in time broken by the ref's digits.
    let twin = |prefix: &str, digit: char, created: i64| Session {
        session_ref: format!("{prefix}{}", digit.to_string().repeat(32)),
        created_at: at(created),
        last_used_at: at(created),
        ..session.clone()
    };
    let (a, b, c) = (twin("brref_", 'a', 40), twin("shref_", '1', 40), twin("shref_", 'f', 50));
    for open in [&a, &b, &c] {
        stores.workspaces.open_session(open).await.unwrap();
    }
    let list = |state, page| stores.workspaces.list_sessions(acme.id, wsref, state, page);
    let refs = |page: &crate::Page<Session>| page.items.iter().map(|s| s.session_ref.clone()).collect::<Vec<_>>();
    let all = list(None, PageRequest::first(50)).await.unwrap();
    assert_eq!(refs(&all), [c.session_ref.as_str(), &a.session_ref, &b.session_ref, &session.session_ref]);
    let mut walked = Vec::new();
    let mut page = PageRequest::first(1);
    loop {
        let got = list(None, page).await.unwrap();
        walked.extend(refs(&got));
        match got.next {
            Some(next) => page = PageRequest { limit: 1, after: Some(next) },
            None => break,
        }
    }
    assert_eq!(walked, refs(&all), "the pages walk the whole list once");
    let closed = list(Some(projects_domain::SessionState::Closed), PageRequest::first(50)).await.unwrap();
    assert_eq!(refs(&closed), [session.session_ref.as_str()]);
    assert!(stores
        .workspaces
        .list_sessions(globex.id, wsref, None, PageRequest::first(50))
        .await
        .unwrap()
        .items
        .is_empty());
}

/// A workspace ready for tree writes, with blob `sha` of 3 bytes registered at `at(1)`.
async fn tree_workspace(stores: &Stores, sha: &str) -> crate::Workspace {
    let (acme, owner, _) = bootstrap(stores, "acme", 1).await;
    let p = create(stores, &project(&owner, "Tree", at(1)), false).await.unwrap();
    let workspace = crate::Workspace {
        workspace_ref: "wsref_tree".into(),
        org_id: acme.id,
        project_id: p.id,
        user_id: owner.id,
        head_revision: None,
        head_seq: None,
        created_at: at(1),
        last_used_at: at(1),
    };
    let made = stores.workspaces.touch_workspace(&workspace).await.unwrap();
    stores.workspaces.register_blobs(&made, &[(sha.to_owned(), 3)], at(1), None).await.unwrap();
    made
}

fn tree_revision(workspace: &crate::Workspace, seq: i64, edit: &projects_domain::TreeEdit) -> crate::Revision {
    crate::Revision {
        workspace_ref: workspace.workspace_ref.clone(),
        seq,
        revision: format!("r{seq}"),
        base_revision: workspace.head_revision.clone(),
        author_user_id: Some(workspace.user_id),
        message: None,
        files_changed: edit.files_changed,
        stats: edit.stats,
        created_at: at(seq * 10),
    }
}

fn put_file(path: &str, sha: &str) -> projects_domain::TreeChange {
    let path = projects_domain::WorkspacePath::parse(path).unwrap();
    projects_domain::TreeChange::Put(projects_domain::TreeEntry::file(path, sha.to_owned(), 3, 1, None))
}

pub async fn workspace_trees_commit_by_compare_and_swap(stores: Stores) {
    use crate::CommitOutcome;
    use projects_domain::{plan_changes, HeadView, WorkspacePath};
    let sha = "ab".repeat(32);
    let workspace = tree_workspace(&stores, &sha).await;
    let wsref = workspace.workspace_ref.as_str();
    let first = plan_changes(HeadView::default(), &[put_file("/src/a.rs", &sha)]).unwrap();
    let r1 = tree_revision(&workspace, 1, &first);
    assert_eq!(stores.workspaces.commit_revision(&workspace, &r1, &first).await.unwrap(), CommitOutcome::Committed);
    assert_eq!(
        stores.workspaces.commit_revision(&workspace, &r1, &first).await.unwrap(),
        CommitOutcome::HeadMoved,
        "the same base twice: the second finds the head moved and writes nothing"
    );
    let head = stores.workspaces.find_workspace(workspace.org_id, wsref).await.unwrap().unwrap();
    assert_eq!((head.head_seq, head.head_revision.as_deref()), (Some(1), Some("r1")));

    let unknown = "cd".repeat(32);
    let orphan = plan_changes(HeadView::default(), &[put_file("/b.rs", &unknown)]).unwrap();
    let refused = stores.workspaces.commit_revision(&head, &tree_revision(&head, 2, &orphan), &orphan).await.unwrap();
    assert_eq!(refused, CommitOutcome::MissingBlobs(vec![unknown]));
    let still = stores.workspaces.find_workspace(workspace.org_id, wsref).await.unwrap().unwrap();
    assert_eq!(still.head_seq, Some(1), "a refused commit leaves the head");

    let root = WorkspacePath::root();
    let src = WorkspacePath::parse("/src").unwrap();
    let view = HeadView {
        entries: stores.workspaces.entries_under(wsref, 1, &root, None, None).await.unwrap(),
        child_counts: stores
            .workspaces
            .child_counts(wsref, 1, &[root.clone(), src.clone()], 10)
            .await
            .unwrap()
            .into_iter()
            .collect(),
        stats: first.stats,
    };
    let second =
        plan_changes(view, &[projects_domain::TreeChange::Delete(src.clone()), put_file("/top", &sha)]).unwrap();
    let r2 = tree_revision(&head, 2, &second);
    assert_eq!(stores.workspaces.commit_revision(&head, &r2, &second).await.unwrap(), CommitOutcome::Committed);

    let names =
        |entries: Vec<projects_domain::TreeEntry>| entries.into_iter().map(|e| e.path.to_string()).collect::<Vec<_>>();
    assert_eq!(names(stores.workspaces.children(wsref, 1, &root, None, 10).await.unwrap()), ["/src"]);
    assert_eq!(names(stores.workspaces.children(wsref, 2, &root, None, 10).await.unwrap()), ["/top"]);
    assert_eq!(
        names(stores.workspaces.entries_under(wsref, 1, &root, None, None).await.unwrap()),
        ["/src", "/src/a.rs"]
    );
    let versions = stores.workspaces.versions_between(wsref, 1, 2, &root, None, false, None).await.unwrap();
    let changed: Vec<(String, i64, Option<i64>)> =
        versions.into_iter().map(|v| (v.entry.path.to_string(), v.valid_from, v.valid_to)).collect();
    assert_eq!(changed, [("/src/a.rs".to_owned(), 1, Some(2)), ("/top".to_owned(), 2, None)]);
    let listed = stores.workspaces.list_revisions(wsref, None, 10).await.unwrap();
    assert_eq!(listed.iter().map(|r| r.revision.as_str()).collect::<Vec<_>>(), ["r2", "r1"]);
    assert_eq!(stores.workspaces.find_revision(wsref, crate::RevisionKey::Id("r1")).await.unwrap(), Some(r1));
    assert_eq!(stores.workspaces.oldest_revision_since(wsref, at(15)).await.unwrap(), Some(2));

    assert_eq!(stores.workspaces.expire_revisions(wsref, 2).await.unwrap(), 1);
    assert_eq!(stores.workspaces.find_revision(wsref, crate::RevisionKey::Id("r1")).await.unwrap(), None);
    assert_eq!(names(stores.workspaces.entries_under(wsref, 2, &root, None, None).await.unwrap()), ["/top"]);
}

pub async fn workspace_blobs_are_collected_only_when_unreferenced_and_stale(stores: Stores) {
    use projects_domain::{plan_changes, HeadView};
    let kept = "ab".repeat(32);
    let workspace = tree_workspace(&stores, &kept).await;
    let wsref = workspace.workspace_ref.clone();
    let loose = "ef".repeat(32);
    let fresh = "12".repeat(32);
    stores.workspaces.register_blobs(&workspace, &[(loose.clone(), 3)], at(1), None).await.unwrap();
    stores.workspaces.register_blobs(&workspace, &[(fresh.clone(), 3)], at(50), None).await.unwrap();
    let edit = plan_changes(HeadView::default(), &[put_file("/kept", &kept)]).unwrap();
    let r1 = tree_revision(&workspace, 1, &edit);
    stores.workspaces.commit_revision(&workspace, &r1, &edit).await.unwrap();

    let deleted = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = deleted.clone();
    let delete: Box<crate::DeleteBlobs> = Box::new(move |batch| {
        seen.lock().unwrap().extend(batch);
        Box::pin(async { Ok(()) })
    });
    assert_eq!(stores.workspaces.collect_blobs(at(20), 100, delete.as_ref()).await.unwrap(), 1);
    assert_eq!(*deleted.lock().unwrap(), [(wsref.clone(), loose.clone())], "only the stale, unreferenced one");
    let present = stores.workspaces.touch_blobs(&wsref, &[kept.clone(), loose, fresh.clone()], at(60)).await.unwrap();
    let mut present: Vec<String> = present.into_iter().map(|(sha, _)| sha).collect();
    present.sort();
    assert_eq!(present, [fresh, kept]);

    let failing: Box<crate::DeleteBlobs> = Box::new(|_| Box::pin(async { Err(anyhow::anyhow!("store down")) }));
    stores.workspaces.register_blobs(&workspace, &[("34".repeat(32), 3)], at(1), None).await.unwrap();
    assert!(stores.workspaces.collect_blobs(at(20), 100, failing.as_ref()).await.is_err());
    let kept_row = stores.workspaces.touch_blobs(&wsref, &["34".repeat(32)], at(61)).await.unwrap();
    assert_eq!(kept_row.len(), 1, "a failed deletion keeps the row, so the next pass tries again");
}

fn refused_by(outcome: Result<impl std::fmt::Debug, StoreError>, quota: projects_domain::Quota, used: u64) {
    match outcome {
        Err(StoreError::QuotaExceeded(exceeded)) => {
            assert_eq!((exceeded.quota, exceeded.used), (quota, used), "{exceeded}");
        }
        other => panic!("expected the {quota} quota to refuse, got {other:?}"),
    }
}

pub async fn quotas_count_what_the_org_holds_and_refuse_past_the_limit(stores: Stores) {
    use projects_domain::Quota;
    let (acme, owner, _) = bootstrap(&stores, "acme", 1).await;
    let event = || audit(acme.id, owner.id, "project.created", None);

    // Projects: live ones count; deleting gives the place back, restoring takes it again.
    let first = project(&owner, "One", at(1));
    stores.projects.create(&first, false, &event(), None, Some(2)).await.unwrap();
    stores.projects.create(&project(&owner, "Two", at(2)), false, &event(), None, Some(2)).await.unwrap();
    let third = project(&owner, "Three", at(3));
    refused_by(stores.projects.create(&third, false, &event(), None, Some(2)).await, Quota::Projects, 2);
    assert_eq!(stores.projects.find(acme.id, &ProjectKey::Id(third.id)).await.unwrap(), None, "nothing written");
    assert!(stores.projects.soft_delete(acme.id, first.id, at(4), &event()).await.unwrap());
    stores.projects.create(&third, false, &event(), None, Some(2)).await.unwrap();
    let back = Project { version: first.version + 1, ..first.clone() };
    refused_by(stores.projects.restore(&back, &event(), Some(2)).await, Quota::Projects, 2);
    assert_eq!(stores.projects.find_deleted(acme.id, first.id).await.unwrap().map(|p| p.id), Some(first.id));
    assert!(stores.projects.restore(&back, &event(), Some(3)).await.unwrap().is_some());

    // Members: the owner is the first; removing one frees a place.
    let ada = member(&stores, &acme, "ada@acme.test", Role::Member).await;
    let bea = user(&acme, "bea@acme.test", Role::Member);
    refused_by(
        stores.identity.create_user(&bea, None, &change(acme.id, "member.added"), Some(2)).await,
        Quota::Members,
        2,
    );
    assert_eq!(stores.identity.find_user(acme.id, bea.id).await.unwrap(), None, "nothing written");

    // API keys: the owner's first counts; revoking one, or removing its member, frees places.
    let (ada_key, _) = key_for(&ada, 2, Role::Member.permissions());
    stores.identity.create_api_key(&ada_key, &change(acme.id, "api_key.created"), Some(2)).await.unwrap();
    let (spare, _) = key_for(&ada, 3, Role::Member.permissions());
    refused_by(
        stores.identity.create_api_key(&spare, &change(acme.id, "api_key.created"), Some(2)).await,
        Quota::ApiKeys,
        2,
    );
    assert_eq!(stores.identity.find_api_key_owner(&spare.key_sha256).await.unwrap(), None, "nothing written");
    assert!(stores.identity.remove_member(acme.id, ada.id, &change(acme.id, "member.removed")).await.unwrap());
    stores.identity.create_user(&bea, None, &change(acme.id, "member.added"), Some(2)).await.unwrap();
    let (bea_key, _) = key_for(&bea, 4, Role::Member.permissions());
    stores.identity.create_api_key(&bea_key, &change(acme.id, "api_key.created"), Some(2)).await.unwrap();
    assert!(stores.identity.revoke_api_key(acme.id, bea_key.id, &change(acme.id, "api_key.revoked")).await.unwrap());
    stores.identity.create_api_key(&spare_of(&bea, 5), &change(acme.id, "api_key.created"), Some(2)).await.unwrap();

    // Another org's counts are its own.
    let (globex, globex_owner, _) = bootstrap(&stores, "globex", 9).await;
    let theirs = audit(globex.id, globex_owner.id, "project.created", None);
    stores.projects.create(&project(&globex_owner, "Theirs", at(1)), false, &theirs, None, Some(1)).await.unwrap();
}

fn spare_of(user: &User, secret_byte: u8) -> ApiKey {
    key_for(user, secret_byte, Role::Member.permissions()).0
}

pub async fn quotas_count_stored_bytes_once_per_blob(stores: Stores) {
    use projects_domain::Quota;
    let sha = |b: &str| b.repeat(32);
    let workspace = tree_workspace(&stores, &sha("aa")).await; // 3 bytes held
    stores.workspaces.register_blobs(&workspace, &[(sha("aa"), 3)], at(2), Some(10)).await.unwrap();
    stores.workspaces.register_blobs(&workspace, &[(sha("bb"), 7)], at(2), Some(10)).await.unwrap();
    refused_by(
        stores.workspaces.register_blobs(&workspace, &[(sha("cc"), 1)], at(2), Some(10)).await,
        Quota::StorageBytes,
        10,
    );
    assert!(stores.workspaces.touch_blobs(&workspace.workspace_ref, &[sha("cc")], at(3)).await.unwrap().is_empty());
    // Collecting gives the bytes back (nothing references these blobs).
    let delete: Box<crate::DeleteBlobs> = Box::new(|_| Box::pin(async { Ok(()) }));
    assert_eq!(stores.workspaces.collect_blobs(at(100), 100, delete.as_ref()).await.unwrap(), 2);
    stores.workspaces.register_blobs(&workspace, &[(sha("cc"), 10)], at(200), Some(10)).await.unwrap();
}

pub async fn quotas_hold_under_concurrent_writers(stores: Stores) {
    let (acme, owner, _) = bootstrap(&stores, "acme", 1).await;
    let stores = Arc::new(stores);
    let writers = (0..20).map(|i| {
        let (stores, owner) = (stores.clone(), owner.clone());
        async move {
            let event = audit(owner.org_id, owner.id, "project.created", None);
            let p = project(&owner, &format!("Racer {i}"), at(i));
            let project = stores.projects.create(&p, false, &event, None, Some(5)).await;
            let acme = Org { id: owner.org_id, ..org("acme") };
            let member = user(&acme, &format!("racer{i}@acme.test"), Role::Member);
            let joined =
                stores.identity.create_user(&member, None, &change(owner.org_id, "member.added"), Some(6)).await;
            let refused_by_quota = |outcome: &Result<_, StoreError>| match outcome {
                Ok(_) => false,
                Err(StoreError::QuotaExceeded(_)) => true,
                Err(other) => panic!("a writer failed for another reason: {other:?}"),
            };
            (!refused_by_quota(&project.map(drop)), !refused_by_quota(&joined))
        }
    });
    // Interleaved on one task, each on its own pooled connection: the database sees them at once.
    let outcomes: Vec<(bool, bool)> = futures::future::join_all(writers).await;
    assert_eq!(outcomes.iter().filter(|(created, _)| *created).count(), 5, "exactly the quota's worth of projects");
    assert_eq!(outcomes.iter().filter(|(_, joined)| *joined).count(), 5, "the owner and five members");
    let viewer = Viewer { org_id: acme.id, user_id: owner.id, role: Role::Owner, team_ids: vec![] };
    assert_eq!(list(&stores, &viewer, PageRequest::first(100)).await.unwrap().items.len(), 5, "and no more stored");
}
