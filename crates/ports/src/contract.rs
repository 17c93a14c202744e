//! The contract every store adapter must honour, as plain async functions over a fresh pair of
//! stores. An adapter runs them all with [`store_contract_tests!`](crate::store_contract_tests).

use std::any::Any;
use std::collections::BTreeSet;
use std::sync::Arc;

use projects_domain::{
    can_view_project, ApiKey, ApiKeyId, ApiKeyToken, Description, Email, Emoji, Metadata, Org,
    OrgId, OrgName, PageRequest, Permission, PermissionSet, Project, ProjectAudience, ProjectId,
    ProjectName, ProjectStatus, Prompt, Role, Slug, Tags, Team, TeamId, Timestamp, User, UserId,
    Viewer, Visibility,
};
use time::Duration;
use uuid::Uuid;

use crate::{IdentityStore, ProjectKey, ProjectStore, StoreError};

/// A fresh, empty, migrated pair of stores over one database, and whatever keeps it alive.
pub struct Stores {
    pub projects: Arc<dyn ProjectStore>,
    pub identity: Arc<dyn IdentityStore>,
    pub guard: Box<dyn Any + Send + Sync>,
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
            projects_shares_are_added_and_removed,
            projects_round_trip_every_field,
            projects_derived_slugs_get_suffixes_and_explicit_ones_conflict,
            projects_are_scoped_by_org,
            projects_unknown_team_is_a_missing_reference,
            projects_list_pages_newest_first_without_gaps,
            projects_list_applies_the_visibility_rule
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

fn org(name: &str) -> Org {
    Org {
        id: OrgId::from_uuid(Uuid::now_v7()),
        name: OrgName::new(name).unwrap(),
        created_at: at(0),
    }
}

fn user(org: &Org, email: &str, role: Role) -> User {
    User {
        id: UserId::from_uuid(Uuid::now_v7()),
        org_id: org.id,
        email: Email::new(email).unwrap(),
        role,
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
    stores
        .identity
        .create_org_with_owner(&org, &owner, &key)
        .await
        .unwrap();
    (org, owner, key)
}

async fn member(stores: &Stores, org: &Org, email: &str, role: Role) -> User {
    let member = user(org, email, role);
    stores.identity.create_user(&member).await.unwrap();
    member
}

async fn team(stores: &Stores, org: &Org, name: &str) -> Team {
    let team = Team {
        id: TeamId::from_uuid(Uuid::now_v7()),
        org_id: org.id,
        name: name.to_owned(),
        created_at: at(0),
    };
    stores.identity.create_team(&team).await.unwrap();
    team
}

fn project(owner: &User, name: &str, created_at: Timestamp) -> Project {
    let name = ProjectName::new(name).unwrap();
    Project {
        id: ProjectId::from_uuid(Uuid::now_v7()),
        org_id: owner.org_id,
        team_id: None,
        owner_user_id: owner.id,
        slug: Slug::derive_from(&name),
        name,
        description: None,
        prompt: None,
        emoji: None,
        visibility: Visibility::Private,
        status: ProjectStatus::Active,
        tags: Tags::default(),
        metadata: Metadata::default(),
        created_at,
        updated_at: created_at,
        deleted_at: None,
        version: 1,
    }
}

pub async fn identity_bootstrap_and_authentication(stores: Stores) {
    assert!(!stores.identity.any_org_exists().await.unwrap());
    let (org, owner, key) = bootstrap(&stores, "acme", 1).await;
    assert!(stores.identity.any_org_exists().await.unwrap());

    let found = stores
        .identity
        .find_api_key_owner(&key.key_sha256)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.key, key);
    assert_eq!(found.user, owner);
    assert!(found.team_ids.is_empty());
    assert_eq!(
        stores.identity.find_org_by_name(&org.name).await.unwrap(),
        Some(org.clone())
    );

    let mut unknown = key.key_sha256;
    unknown[5] ^= 0xff;
    assert_eq!(
        stores.identity.find_api_key_owner(&unknown).await.unwrap(),
        None
    );

    let viewer = member(&stores, &org, "viewer@acme.test", Role::Viewer).await;
    let scopes = PermissionSet::of(&[Permission::ProjectsRead]);
    let (viewer_key, _) = key_for(&viewer, 2, scopes);
    stores.identity.create_api_key(&viewer_key).await.unwrap();
    let found = stores
        .identity
        .find_api_key_owner(&viewer_key.key_sha256)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.user.role, Role::Viewer);
    assert_eq!(found.key.scopes, scopes);
}

pub async fn identity_org_names_and_emails_are_unique(stores: Stores) {
    let (org, _, _) = bootstrap(&stores, "acme", 1).await;
    let again = self::org("acme");
    let owner = user(&again, "someone@else.test", Role::Owner);
    let (key, _) = key_for(&owner, 2, Role::Owner.permissions());
    let clash = stores
        .identity
        .create_org_with_owner(&again, &owner, &key)
        .await;
    assert!(
        matches!(clash, Err(StoreError::Conflict { field: "org" })),
        "{clash:?}"
    );
    // All or nothing: neither the owner nor the key of the refused org exist.
    assert_eq!(
        stores
            .identity
            .find_api_key_owner(&key.key_sha256)
            .await
            .unwrap(),
        None
    );

    let twin = user(&org, "OWNER@acme.test", Role::Member);
    let clash = stores.identity.create_user(&twin).await;
    assert!(
        matches!(clash, Err(StoreError::Conflict { field: "email" })),
        "{clash:?}"
    );

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
        .revoke_api_key(other_org.id, key.id, at(5))
        .await
        .unwrap());
    assert!(stores
        .identity
        .find_api_key_owner(&key.key_sha256)
        .await
        .unwrap()
        .is_some());

    assert!(stores
        .identity
        .revoke_api_key(org.id, key.id, at(5))
        .await
        .unwrap());
    assert_eq!(
        stores
            .identity
            .find_api_key_owner(&key.key_sha256)
            .await
            .unwrap(),
        None
    );
    assert!(!stores
        .identity
        .revoke_api_key(org.id, key.id, at(6))
        .await
        .unwrap());
}

pub async fn identity_reads_are_scoped_by_org(stores: Stores) {
    let (acme, acme_owner, _) = bootstrap(&stores, "acme", 1).await;
    let (globex, globex_owner, _) = bootstrap(&stores, "globex", 2).await;
    assert_eq!(
        stores
            .identity
            .find_user(acme.id, acme_owner.id)
            .await
            .unwrap(),
        Some(acme_owner.clone())
    );
    assert_eq!(
        stores
            .identity
            .find_user(globex.id, acme_owner.id)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        stores
            .identity
            .find_user_by_email(globex.id, &acme_owner.email)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        stores
            .identity
            .find_user_by_email(globex.id, &globex_owner.email)
            .await
            .unwrap(),
        Some(globex_owner.clone())
    );
    // A key cannot be made for a user of another org.
    let (stray, _) = key_for(
        &User {
            org_id: globex.id,
            ..acme_owner.clone()
        },
        9,
        PermissionSet::EMPTY,
    );
    let refused = stores.identity.create_api_key(&stray).await;
    assert!(
        matches!(
            refused,
            Err(StoreError::MissingReference { field: "user_id" })
        ),
        "{refused:?}"
    );
}

pub async fn identity_teams_and_membership(stores: Stores) {
    let (acme, owner, key) = bootstrap(&stores, "acme", 1).await;
    let (globex, _, _) = bootstrap(&stores, "globex", 2).await;
    let red = team(&stores, &acme, "red").await;
    let blue = team(&stores, &acme, "blue").await;
    assert_eq!(
        stores.identity.find_team(acme.id, red.id).await.unwrap(),
        Some(red.clone())
    );
    assert_eq!(
        stores.identity.find_team(globex.id, red.id).await.unwrap(),
        None
    );

    stores
        .identity
        .add_team_member(acme.id, red.id, owner.id)
        .await
        .unwrap();
    stores
        .identity
        .add_team_member(acme.id, red.id, owner.id)
        .await
        .unwrap();
    stores
        .identity
        .add_team_member(acme.id, blue.id, owner.id)
        .await
        .unwrap();
    let found = stores
        .identity
        .find_api_key_owner(&key.key_sha256)
        .await
        .unwrap()
        .unwrap();
    let teams: BTreeSet<TeamId> = found.team_ids.into_iter().collect();
    assert_eq!(teams, BTreeSet::from([red.id, blue.id]));

    let refused = stores
        .identity
        .add_team_member(globex.id, red.id, owner.id)
        .await;
    assert!(
        matches!(refused, Err(StoreError::MissingReference { .. })),
        "{refused:?}"
    );
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
    full.metadata =
        Metadata::new(serde_json::json!({"budget": 12.5, "nested": {"ok": [1, null]}})).unwrap();
    full.updated_at = at(11);
    full.version = 3;

    let stored = stores.projects.create(&full, false).await.unwrap();
    assert_eq!(stored, full);
    let by_id = stores
        .projects
        .find(acme.id, &ProjectKey::Id(full.id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_id.project, full);
    assert!(by_id.shared_team_ids.is_empty());
    let by_slug = stores
        .projects
        .find(acme.id, &ProjectKey::Slug(full.slug.clone()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_slug.project, full);

    let blue = team(&stores, &acme, "blue").await;
    stores
        .projects
        .add_share(acme.id, full.id, blue.id)
        .await
        .unwrap();
    stores
        .projects
        .add_share(acme.id, full.id, blue.id)
        .await
        .unwrap();
    let shared = stores
        .projects
        .find(acme.id, &ProjectKey::Id(full.id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(shared.shared_team_ids, vec![blue.id]);

    let minimal = project(&owner, "Bare", at(12));
    assert_eq!(
        stores.projects.create(&minimal, false).await.unwrap(),
        minimal
    );
}

pub async fn projects_derived_slugs_get_suffixes_and_explicit_ones_conflict(stores: Stores) {
    let (acme, owner, _) = bootstrap(&stores, "acme", 1).await;
    let first = stores
        .projects
        .create(&project(&owner, "Q3 launch", at(1)), false)
        .await
        .unwrap();
    let second = stores
        .projects
        .create(&project(&owner, "Q3 Launch!", at(2)), false)
        .await
        .unwrap();
    let third = stores
        .projects
        .create(&project(&owner, "q3 launch", at(3)), false)
        .await
        .unwrap();
    assert_eq!(
        [
            first.slug.as_str(),
            second.slug.as_str(),
            third.slug.as_str()
        ],
        ["q3-launch", "q3-launch-2", "q3-launch-3"]
    );
    // A derived slug that merely starts like another is not a clash.
    let longer = stores
        .projects
        .create(&project(&owner, "Q3 launch party", at(4)), false)
        .await
        .unwrap();
    assert_eq!(longer.slug.as_str(), "q3-launch-party");

    let mut explicit = project(&owner, "Anything", at(5));
    explicit.slug = Slug::new("q3-launch-2").unwrap();
    let clash = stores.projects.create(&explicit, true).await;
    assert!(
        matches!(clash, Err(StoreError::Conflict { field: "slug" })),
        "{clash:?}"
    );
    assert_eq!(
        stores
            .projects
            .find(acme.id, &ProjectKey::Id(explicit.id))
            .await
            .unwrap(),
        None
    );

    explicit.slug = Slug::new("custom").unwrap();
    assert_eq!(
        stores
            .projects
            .create(&explicit, true)
            .await
            .unwrap()
            .slug
            .as_str(),
        "custom"
    );
}

pub async fn projects_are_scoped_by_org(stores: Stores) {
    let (acme, acme_owner, _) = bootstrap(&stores, "acme", 1).await;
    let (globex, globex_owner, _) = bootstrap(&stores, "globex", 2).await;
    let mut open = project(&acme_owner, "Open to the org", at(1));
    open.visibility = Visibility::Shared;
    let open = stores.projects.create(&open, false).await.unwrap();
    // Slugs are unique per org only.
    let twin = stores
        .projects
        .create(&project(&globex_owner, "Open to the org", at(2)), false)
        .await
        .unwrap();
    assert_eq!(twin.slug, open.slug);

    assert_eq!(
        stores
            .projects
            .find(globex.id, &ProjectKey::Id(open.id))
            .await
            .unwrap(),
        None
    );
    let by_slug = stores
        .projects
        .find(globex.id, &ProjectKey::Slug(open.slug.clone()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_slug.project.id, twin.id);

    let globex_viewer = Viewer {
        org_id: globex.id,
        user_id: globex_owner.id,
        role: Role::Owner,
        team_ids: vec![],
    };
    let page = stores
        .projects
        .list_visible(&globex_viewer, PageRequest::first(50))
        .await
        .unwrap();
    assert_eq!(
        page.items.iter().map(|p| p.id).collect::<Vec<_>>(),
        vec![twin.id]
    );
    let acme_team = team(&stores, &acme, "red").await;
    let refused = stores
        .projects
        .add_share(globex.id, open.id, acme_team.id)
        .await;
    assert!(
        matches!(refused, Err(StoreError::MissingReference { .. })),
        "{refused:?}"
    );
}

pub async fn projects_unknown_team_is_a_missing_reference(stores: Stores) {
    let (_, owner, _) = bootstrap(&stores, "acme", 1).await;
    let (globex, _, _) = bootstrap(&stores, "globex", 2).await;
    let foreign_team = team(&stores, &globex, "theirs").await;
    let mut stray = project(&owner, "Stray", at(1));
    stray.team_id = Some(foreign_team.id);
    let refused = stores.projects.create(&stray, false).await;
    assert!(
        matches!(
            refused,
            Err(StoreError::MissingReference { field: "team_id" })
        ),
        "{refused:?}"
    );
}

pub async fn projects_list_pages_newest_first_without_gaps(stores: Stores) {
    let (acme, owner, _) = bootstrap(&stores, "acme", 1).await;
    let mut expected = Vec::new();
    for i in 0..23 {
        // Pairs share a timestamp, so the id must break ties.
        let created = stores
            .projects
            .create(&project(&owner, &format!("p{i}"), at(i / 2)), false)
            .await
            .unwrap();
        expected.push(created.id);
    }
    expected.sort_by_key(|id| std::cmp::Reverse(*id));
    let viewer = Viewer {
        org_id: acme.id,
        user_id: owner.id,
        role: Role::Owner,
        team_ids: vec![],
    };

    let mut seen = Vec::new();
    let mut page = PageRequest::first(5);
    loop {
        let result = stores.projects.list_visible(&viewer, page).await.unwrap();
        assert!(result.items.len() <= 5);
        seen.extend(result.items.iter().map(|p| p.id));
        match result.next {
            Some(next) => {
                page = PageRequest {
                    limit: 5,
                    after: Some(next),
                }
            }
            None => break,
        }
    }
    // Ids are time-ordered and timestamps ascend with them, so newest first is descending ids.
    assert_eq!(seen, expected);

    let exact = stores
        .projects
        .list_visible(&viewer, PageRequest::first(23))
        .await
        .unwrap();
    assert_eq!(exact.items.len(), 23);
    assert_eq!(
        exact.next, None,
        "no next page when the last one is exactly full"
    );
}

pub async fn projects_list_applies_the_visibility_rule(stores: Stores) {
    let (acme, owner, _) = bootstrap(&stores, "acme", 1).await;
    let alice = member(&stores, &acme, "alice@acme.test", Role::Member).await;
    let bob = member(&stores, &acme, "bob@acme.test", Role::Viewer).await;
    let admin = member(&stores, &acme, "admin@acme.test", Role::Admin).await;
    let red = team(&stores, &acme, "red").await;
    let blue = team(&stores, &acme, "blue").await;
    stores
        .identity
        .add_team_member(acme.id, red.id, alice.id)
        .await
        .unwrap();
    stores
        .identity
        .add_team_member(acme.id, blue.id, bob.id)
        .await
        .unwrap();
    // Another org's project must never show up, whatever its visibility.
    let (_, stranger, _) = bootstrap(&stores, "globex", 2).await;
    let mut foreign = project(&stranger, "foreign", at(0));
    foreign.visibility = Visibility::Shared;
    stores.projects.create(&foreign, false).await.unwrap();

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
                    let p = stores.projects.create(&p, false).await.unwrap();
                    if let Some(share) = share {
                        stores
                            .projects
                            .add_share(acme.id, p.id, share)
                            .await
                            .unwrap();
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
        let viewer = Viewer {
            org_id: acme.id,
            user_id,
            role,
            team_ids,
        };
        let page = stores
            .projects
            .list_visible(&viewer, PageRequest::first(200))
            .await
            .unwrap();
        assert_eq!(page.next, None);
        let listed: BTreeSet<ProjectId> = page.items.iter().map(|p| p.id).collect();
        let expected: BTreeSet<ProjectId> = audiences
            .iter()
            .filter(|(_, audience)| can_view_project(&viewer, audience))
            .map(|(id, _)| *id)
            .collect();
        assert!(!expected.is_empty());
        assert_eq!(
            listed, expected,
            "{viewer:?} sees exactly what the rule allows"
        );
    }
}

pub async fn identity_api_keys_are_listed_and_touched(stores: Stores) {
    let (acme, owner, owner_key) = bootstrap(&stores, "acme", 1).await;
    let (globex, _, _) = bootstrap(&stores, "globex", 2).await;
    let alice = member(&stores, &acme, "alice@acme.test", Role::Member).await;
    let (mut alice_key, _) = key_for(&alice, 3, PermissionSet::of(&[Permission::ProjectsRead]));
    alice_key.created_at = at(2);
    stores.identity.create_api_key(&alice_key).await.unwrap();
    let (mut revoked, _) = key_for(&alice, 4, PermissionSet::EMPTY);
    revoked.created_at = at(3);
    stores.identity.create_api_key(&revoked).await.unwrap();
    stores
        .identity
        .revoke_api_key(acme.id, revoked.id, at(4))
        .await
        .unwrap();

    let all = stores.identity.list_api_keys(acme.id, None).await.unwrap();
    assert_eq!(
        all,
        vec![alice_key.clone(), owner_key.clone()],
        "newest first, revoked left out"
    );
    let alices = stores
        .identity
        .list_api_keys(acme.id, Some(alice.id))
        .await
        .unwrap();
    assert_eq!(alices, vec![alice_key.clone()]);
    assert!(stores
        .identity
        .list_api_keys(globex.id, Some(owner.id))
        .await
        .unwrap()
        .is_empty());

    stores
        .identity
        .touch_api_keys(&[(alice_key.id, at(7)), (owner_key.id, at(8))])
        .await
        .unwrap();
    stores.identity.touch_api_keys(&[]).await.unwrap();
    let found = stores
        .identity
        .find_api_key_owner(&alice_key.key_sha256)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.key.last_used_at, Some(at(7)));
    let found = stores
        .identity
        .find_api_key_owner(&owner_key.key_sha256)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.key.last_used_at, Some(at(8)));
}

pub async fn identity_members_are_listed_updated_and_removed(stores: Stores) {
    let (acme, owner, _) = bootstrap(&stores, "acme", 1).await;
    let (globex, _, _) = bootstrap(&stores, "globex", 2).await;
    let red = team(&stores, &acme, "red").await;
    let mut alice = member(&stores, &acme, "alice@acme.test", Role::Member).await;
    let (alice_key, _) = key_for(&alice, 3, Role::Member.permissions());
    stores.identity.create_api_key(&alice_key).await.unwrap();
    assert_eq!(
        stores.identity.list_members(acme.id).await.unwrap(),
        vec![owner.clone(), alice.clone()]
    );

    alice.role = Role::Admin;
    alice.default_project_visibility = Some(Visibility::Shared);
    alice.active_team_id = Some(red.id);
    assert!(stores.identity.update_member(&alice).await.unwrap());
    assert_eq!(
        stores.identity.find_user(acme.id, alice.id).await.unwrap(),
        Some(alice.clone())
    );
    // Another org cannot touch her.
    let stray = User {
        org_id: globex.id,
        role: Role::Viewer,
        ..alice.clone()
    };
    assert!(!stores.identity.update_member(&stray).await.unwrap());
    assert!(!stores
        .identity
        .remove_member(globex.id, alice.id, at(5))
        .await
        .unwrap());
    assert_eq!(
        stores.identity.find_user(acme.id, alice.id).await.unwrap(),
        Some(alice.clone())
    );

    assert!(stores
        .identity
        .remove_member(acme.id, alice.id, at(5))
        .await
        .unwrap());
    assert!(!stores
        .identity
        .remove_member(acme.id, alice.id, at(6))
        .await
        .unwrap());
    assert_eq!(
        stores.identity.find_user(acme.id, alice.id).await.unwrap(),
        None
    );
    assert_eq!(
        stores
            .identity
            .find_api_key_owner(&alice_key.key_sha256)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        stores.identity.list_members(acme.id).await.unwrap(),
        vec![owner.clone()]
    );
    assert!(
        !stores.identity.update_member(&alice).await.unwrap(),
        "a removed member stays removed"
    );
    // Her email can join again, as a new user.
    member(&stores, &acme, "alice@acme.test", Role::Viewer).await;
}

pub async fn identity_teams_are_listed_and_members_removed(stores: Stores) {
    let (acme, owner, key) = bootstrap(&stores, "acme", 1).await;
    let (globex, _, _) = bootstrap(&stores, "globex", 2).await;
    let red = team(&stores, &acme, "red").await;
    let blue = team(&stores, &acme, "blue").await;
    team(&stores, &globex, "red").await;
    let twin = Team {
        id: TeamId::from_uuid(Uuid::now_v7()),
        ..red.clone()
    };
    let clash = stores.identity.create_team(&twin).await;
    assert!(
        matches!(clash, Err(StoreError::Conflict { field: "name" })),
        "{clash:?}"
    );
    assert_eq!(
        stores.identity.list_teams(acme.id).await.unwrap(),
        vec![blue.clone(), red.clone()]
    );

    stores
        .identity
        .add_team_member(acme.id, red.id, owner.id)
        .await
        .unwrap();
    assert!(!stores
        .identity
        .remove_team_member(globex.id, red.id, owner.id)
        .await
        .unwrap());
    assert_eq!(
        stores
            .identity
            .team_ids_of(acme.id, owner.id)
            .await
            .unwrap(),
        vec![red.id]
    );
    assert!(stores
        .identity
        .team_ids_of(globex.id, owner.id)
        .await
        .unwrap()
        .is_empty());
    assert!(stores
        .identity
        .remove_team_member(acme.id, red.id, owner.id)
        .await
        .unwrap());
    assert!(!stores
        .identity
        .remove_team_member(acme.id, red.id, owner.id)
        .await
        .unwrap());
    let found = stores
        .identity
        .find_api_key_owner(&key.key_sha256)
        .await
        .unwrap()
        .unwrap();
    assert!(found.team_ids.is_empty());
}

pub async fn projects_shares_are_added_and_removed(stores: Stores) {
    let (acme, owner, _) = bootstrap(&stores, "acme", 1).await;
    let (globex, _, _) = bootstrap(&stores, "globex", 2).await;
    let red = team(&stores, &acme, "red").await;
    let p = stores
        .projects
        .create(&project(&owner, "Shared", at(1)), false)
        .await
        .unwrap();
    stores
        .projects
        .add_share(acme.id, p.id, red.id)
        .await
        .unwrap();
    assert!(!stores
        .projects
        .remove_share(globex.id, p.id, red.id)
        .await
        .unwrap());
    assert!(stores
        .projects
        .remove_share(acme.id, p.id, red.id)
        .await
        .unwrap());
    assert!(!stores
        .projects
        .remove_share(acme.id, p.id, red.id)
        .await
        .unwrap());
    let found = stores
        .projects
        .find(acme.id, &ProjectKey::Id(p.id))
        .await
        .unwrap()
        .unwrap();
    assert!(found.shared_team_ids.is_empty());
}
