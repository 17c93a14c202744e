//! Quotas: how much of each thing an org may hold, so that one tenant cannot exhaust what all
//! share. The rule is here; keeping the count exact under concurrent writers is the stores' part
//! (each write that adds takes its share in the same transaction, or refuses).

use std::fmt;

/// What an org's quota counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quota {
    /// Live (not deleted) projects.
    Projects,
    /// Current members, people and service accounts.
    Members,
    /// Live API keys.
    ApiKeys,
    /// Bytes of file content held in the blob store, over all the org's workspaces.
    StorageBytes,
    /// Files and directories in one workspace's head tree.
    WorkspaceEntries,
    /// Bytes of one file.
    FileBytes,
}

impl Quota {
    pub const ALL: [Quota; 6] = [
        Quota::Projects,
        Quota::Members,
        Quota::ApiKeys,
        Quota::StorageBytes,
        Quota::WorkspaceEntries,
        Quota::FileBytes,
    ];

    /// The name callers see in `details.quota`.
    pub fn as_str(self) -> &'static str {
        match self {
            Quota::Projects => "projects",
            Quota::Members => "members",
            Quota::ApiKeys => "api_keys",
            Quota::StorageBytes => "storage_bytes",
            Quota::WorkspaceEntries => "workspace_entries",
            Quota::FileBytes => "file_bytes",
        }
    }

    /// The limit an org has unless configured otherwise: generous, there to stop runaways.
    pub fn default_limit(self) -> u64 {
        match self {
            Quota::Projects => 100_000,
            Quota::Members => 10_000,
            Quota::ApiKeys => 10_000,
            Quota::StorageBytes => 1 << 40,
            Quota::WorkspaceEntries => 5_000_000,
            Quota::FileBytes => 5 << 30,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Quota {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A write that would take `quota` past its `limit`; `used` is what the org holds now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaExceeded {
    pub quota: Quota,
    pub limit: u64,
    pub used: u64,
}

impl fmt::Display for QuotaExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the org's {} quota is {} and {} are used", self.quota, self.limit, self.used)
    }
}

/// The limits of every quota; `None` is unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quotas {
    limits: [Option<u64>; 6],
}

impl Default for Quotas {
    fn default() -> Self {
        Self { limits: Quota::ALL.map(|quota| Some(quota.default_limit())) }
    }
}

impl Quotas {
    pub const UNLIMITED: Quotas = Quotas { limits: [None; 6] };

    /// Sets one limit; 0 means unlimited (as the configuration says it).
    pub fn with(mut self, quota: Quota, limit: u64) -> Self {
        self.limits[quota.index()] = (limit > 0).then_some(limit);
        self
    }

    pub fn limit(&self, quota: Quota) -> Option<u64> {
        self.limits[quota.index()]
    }

    /// Whether holding `used_after` of `quota` is allowed; `used_before` is what is held now.
    /// Shrinking is always allowed, even when over a limit lowered since.
    pub fn check(&self, quota: Quota, used_before: u64, used_after: u64) -> Result<(), QuotaExceeded> {
        match self.limit(quota) {
            Some(limit) if used_after > limit && used_after > used_before => {
                Err(QuotaExceeded { quota, limit, used: used_before })
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_refuses_growth_past_it_but_never_shrinking() {
        let quotas = Quotas::UNLIMITED.with(Quota::WorkspaceEntries, 10);
        assert_eq!(quotas.check(Quota::WorkspaceEntries, 9, 10), Ok(()));
        assert_eq!(
            quotas.check(Quota::WorkspaceEntries, 10, 11),
            Err(QuotaExceeded { quota: Quota::WorkspaceEntries, limit: 10, used: 10 })
        );
        assert_eq!(quotas.check(Quota::WorkspaceEntries, 20, 15), Ok(()), "shrinking below a lowered limit");
        assert_eq!(quotas.check(Quota::Projects, 0, u64::MAX), Ok(()), "unlimited");
    }

    #[test]
    fn zero_is_unlimited_and_the_defaults_are_the_documented_ones() {
        assert_eq!(Quotas::default().with(Quota::Members, 0).limit(Quota::Members), None);
        assert_eq!(Quotas::default().limit(Quota::StorageBytes), Some(1_099_511_627_776));
        assert_eq!(Quotas::default().limit(Quota::FileBytes), Some(5 * 1024 * 1024 * 1024));
        let names: Vec<&str> = Quota::ALL.iter().map(|q| q.as_str()).collect();
        assert_eq!(names, ["projects", "members", "api_keys", "storage_bytes", "workspace_entries", "file_bytes"]);
    }
}
