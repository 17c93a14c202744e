//! Authenticated callers kept in memory, so that a request with a known credential reads nothing
//! from the database to learn who is calling.
//!
//! What may be kept is bounded by three rules, so that no node ever honours a credential longer
//! than the store does:
//! - an entry lives at most the TTL;
//! - every change to who may do what in an org (a key revoked, a member removed or given another
//!   role, team membership changed, preferences changed) forgets that org's entries: at once on
//!   the node that made it, and on the others when the change feed tells them;
//! - while the change feed is down nothing is read from or kept in the cache (fail closed), and
//!   when it comes back everything is forgotten, since changes meanwhile went untold.
//!
//! A lookup that missed and read the store may keep what it read only if nothing was forgotten
//! since it looked: the epoch it was handed must still be current. Otherwise a read that raced a
//! revocation could put back what the revocation removed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;
use std::time::{Duration, Instant};

use projects_domain::{ApiKeyId, OrgId, PermissionSet, TeamId, User, UserId};
use projects_ports::IdentityChanges;

/// What a credential was looked up by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Credential {
    /// An API key, by the SHA-256 it is stored under.
    ApiKey([u8; 32]),
    /// A JWT's member: the token itself is verified on every request, the member is what is kept.
    Member(OrgId, UserId),
}

/// What the store said of a credential's holder.
#[derive(Debug, Clone)]
pub(crate) struct Holder {
    pub user: User,
    pub team_ids: Vec<TeamId>,
    /// For an API key: its id and scopes.
    pub key: Option<(ApiKeyId, PermissionSet)>,
}

/// The answer of [`PrincipalCache::lookup`].
pub(crate) enum Lookup {
    Hit(Holder),
    /// Not kept: read the store, then offer the answer with this ticket.
    Miss(Ticket),
    /// The cache cannot be trusted now: read the store and keep nothing.
    Bypass,
}

/// The epoch a missed lookup saw.
pub(crate) struct Ticket(u64);

struct Entry {
    holder: Holder,
    kept_at: Instant,
}

struct State {
    /// Whether the change feed is up (always, for a store that serves one process).
    feed_up: bool,
    /// Bumped by everything that forgets.
    epoch: u64,
    entries: HashMap<Credential, Entry>,
}

pub struct PrincipalCache {
    ttl: Duration,
    capacity: usize,
    state: RwLock<State>,
    hits: AtomicU64,
    misses: AtomicU64,
    feed_connects: AtomicU64,
}

/// How the cache has been doing since start, for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrincipalCacheStats {
    pub feed_up: bool,
    pub feed_connects: u64,
    pub hits: u64,
    pub misses: u64,
    pub entries: usize,
}

impl PrincipalCache {
    /// Entries at most: past it, expired ones go first and then everything (a burst of new
    /// credentials costs lookups, never memory).
    pub const CAPACITY: usize = 100_000;

    /// A cache whose entries live `ttl` (zero: nothing is kept), with the feed down until told.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            capacity: Self::CAPACITY,
            state: RwLock::new(State { feed_up: false, epoch: 0, entries: HashMap::new() }),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            feed_connects: AtomicU64::new(0),
        }
    }

    pub(crate) fn lookup(&self, credential: &Credential) -> Lookup {
        let Ok(state) = self.state.read() else { return Lookup::Bypass };
        if !state.feed_up || self.ttl.is_zero() {
            return Lookup::Bypass;
        }
        match state.entries.get(credential) {
            Some(entry) if entry.kept_at.elapsed() < self.ttl => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                Lookup::Hit(entry.holder.clone())
            }
            _ => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                Lookup::Miss(Ticket(state.epoch))
            }
        }
    }

    /// Keeps what a missed lookup read, unless something was forgotten since.
    pub(crate) fn keep(&self, credential: Credential, ticket: Ticket, holder: Holder) {
        let Ok(mut state) = self.state.write() else { return };
        if !state.feed_up || state.epoch != ticket.0 {
            return;
        }
        if state.entries.len() >= self.capacity {
            let ttl = self.ttl;
            state.entries.retain(|_, entry| entry.kept_at.elapsed() < ttl);
            if state.entries.len() >= self.capacity {
                state.entries.clear();
            }
        }
        state.entries.insert(credential, Entry { holder, kept_at: Instant::now() });
    }

    fn forget(&self, which: impl Fn(&Entry) -> bool, feed_up: Option<bool>) {
        let Ok(mut state) = self.state.write() else { return };
        state.epoch += 1;
        state.entries.retain(|_, entry| !which(entry));
        if let Some(up) = feed_up {
            state.feed_up = up;
        }
    }

    pub fn stats(&self) -> PrincipalCacheStats {
        let (feed_up, entries) = self.state.read().map_or((false, 0), |state| (state.feed_up, state.entries.len()));
        PrincipalCacheStats {
            feed_up,
            feed_connects: self.feed_connects.load(Ordering::Relaxed),
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries,
        }
    }
}

impl IdentityChanges for PrincipalCache {
    fn feed_up(&self) {
        self.feed_connects.fetch_add(1, Ordering::Relaxed);
        self.forget(|_| true, Some(true));
    }

    fn feed_down(&self) {
        self.forget(|_| true, Some(false));
    }

    fn org_changed(&self, org_id: OrgId) {
        self.forget(|entry| entry.holder.user.org_id == org_id, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use projects_domain::{Email, Role, UserKind};

    fn holder(org: OrgId) -> Holder {
        let user = User {
            id: UserId::from_uuid(uuid::Uuid::new_v4()),
            org_id: org,
            email: Email::new("a@example.com").unwrap(),
            role: Role::Member,
            kind: UserKind::Person,
            name: None,
            default_project_visibility: None,
            active_team_id: None,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
        };
        Holder { user, team_ids: Vec::new(), key: None }
    }

    fn miss(cache: &PrincipalCache, credential: &Credential) -> Ticket {
        match cache.lookup(credential) {
            Lookup::Miss(ticket) => ticket,
            Lookup::Hit(_) => panic!("a hit"),
            Lookup::Bypass => panic!("bypassed"),
        }
    }

    fn is_hit(cache: &PrincipalCache, credential: &Credential) -> bool {
        matches!(cache.lookup(credential), Lookup::Hit(_))
    }

    #[test]
    fn nothing_is_kept_or_read_while_the_feed_is_down() {
        let cache = PrincipalCache::new(Duration::from_secs(60));
        let org = OrgId::from_uuid(uuid::Uuid::new_v4());
        let credential = Credential::ApiKey([1; 32]);
        assert!(matches!(cache.lookup(&credential), Lookup::Bypass), "down until told");
        cache.feed_up();
        let ticket = miss(&cache, &credential);
        cache.keep(credential.clone(), ticket, holder(org));
        assert!(is_hit(&cache, &credential));
        cache.feed_down();
        assert!(matches!(cache.lookup(&credential), Lookup::Bypass));
        cache.feed_up();
        let _ = miss(&cache, &credential);
    }

    #[test]
    fn a_change_forgets_its_org_only_and_a_racing_read_keeps_nothing() {
        let cache = PrincipalCache::new(Duration::from_secs(60));
        cache.feed_up();
        let (org, other_org) = (OrgId::from_uuid(uuid::Uuid::new_v4()), OrgId::from_uuid(uuid::Uuid::new_v4()));
        let (mine, theirs) = (Credential::ApiKey([1; 32]), Credential::ApiKey([2; 32]));
        for (credential, org) in [(&mine, org), (&theirs, other_org)] {
            let ticket = miss(&cache, credential);
            cache.keep(credential.clone(), ticket, holder(org));
        }
        cache.org_changed(org);
        assert!(!is_hit(&cache, &mine));
        assert!(is_hit(&cache, &theirs), "another org's entries stay");

        // A lookup that read the store before a change and offers its answer after it.
        let stale = miss(&cache, &mine);
        cache.org_changed(org);
        cache.keep(mine.clone(), stale, holder(org));
        assert!(!is_hit(&cache, &mine), "what raced a change is not kept");
    }

    #[test]
    fn entries_expire_and_a_zero_ttl_keeps_nothing() {
        let cache = PrincipalCache::new(Duration::from_millis(20));
        cache.feed_up();
        let credential =
            Credential::Member(OrgId::from_uuid(uuid::Uuid::new_v4()), UserId::from_uuid(uuid::Uuid::new_v4()));
        let ticket = miss(&cache, &credential);
        cache.keep(credential.clone(), ticket, holder(OrgId::from_uuid(uuid::Uuid::new_v4())));
        std::thread::sleep(Duration::from_millis(30));
        let _ = miss(&cache, &credential);

        let off = PrincipalCache::new(Duration::ZERO);
        off.feed_up();
        assert!(matches!(off.lookup(&credential), Lookup::Bypass));
    }
}
