//! Quota counters on the org's row, written once for both backends.
//!
//! A write that adds takes its share with one conditional `UPDATE orgs SET used = used + n WHERE
//! used + n <= limit`, last in its transaction so that the org's row stays locked only until
//! COMMIT. On PostgreSQL the row lock queues concurrent writers of the org and each re-checks the
//! condition against the committed count; SQLite takes its write lock up front. So the count can
//! never overshoot, and a refusal rolls the whole transaction back: a write refused by its quota
//! has written nothing. A write that removes gives its share back in the same transaction.

use diesel::result::Error as DbError;
use projects_domain::QuotaExceeded;
use projects_ports::StoreError;

/// Why a transaction that takes quota stopped: the database, or a quota (rolled back either way).
#[derive(Debug)]
pub enum TxError {
    Db(DbError),
    Quota(QuotaExceeded),
}

impl From<DbError> for TxError {
    fn from(err: DbError) -> Self {
        TxError::Db(err)
    }
}

impl From<QuotaExceeded> for TxError {
    fn from(exceeded: QuotaExceeded) -> Self {
        TxError::Quota(exceeded)
    }
}

impl TxError {
    /// The store error, with database errors translated by `translate`.
    pub fn into_store(self, translate: impl FnOnce(DbError) -> StoreError) -> StoreError {
        match self {
            TxError::Db(err) => translate(err),
            TxError::Quota(exceeded) => StoreError::QuotaExceeded(exceeded),
        }
    }
}

/// The highest count that still leaves room for `amount` under `limit` (`None`: unlimited).
pub fn ceiling(limit: Option<u64>, amount: i64) -> i64 {
    limit.map_or(i64::MAX, |limit| i64::try_from(limit).unwrap_or(i64::MAX)).saturating_sub(amount)
}

/// The refusal of a write that found `used` of `quota` held.
pub fn exceeded(quota: projects_domain::Quota, limit: Option<u64>, used: i64) -> QuotaExceeded {
    QuotaExceeded { quota, limit: limit.unwrap_or(u64::MAX), used: u64::try_from(used).unwrap_or(0) }
}

/// Takes `$amount` of the org's `$column` counter for `$quota` under `$limit`, or evaluates to
/// `Err(QuotaExceeded)` having written nothing; `?` on it rolls back a transaction whose error
/// type takes a [`QuotaExceeded`] (as [`TxError`] does).
#[doc(hidden)]
#[macro_export]
macro_rules! take_quota {
    ($conn:expr, $org:expr, $column:ident, $quota:expr, $amount:expr, $limit:expr) => {{
        use $crate::schema::orgs;
        let (org, amount, limit): (_, i64, Option<u64>) = ($org, $amount, $limit);
        let taken = $crate::diesel::update(orgs::table)
            .filter(orgs::id.eq(org))
            .filter(orgs::$column.le($crate::quota::ceiling(limit, amount)))
            .set(orgs::$column.eq(orgs::$column + amount))
            .execute(&mut *$conn)
            .await?;
        if taken == 0 {
            let used: i64 = orgs::table.filter(orgs::id.eq(org)).select(orgs::$column).first(&mut *$conn).await?;
            Err($crate::quota::exceeded($quota, limit, used))
        } else {
            Ok(())
        }
    }};
}

/// Gives `$amount` of the org's `$column` counter back (`$amount` may be 0).
#[doc(hidden)]
#[macro_export]
macro_rules! release_quota {
    ($conn:expr, $org:expr, $column:ident, $amount:expr) => {{
        use $crate::schema::orgs;
        let amount: i64 = $amount;
        if amount > 0 {
            $crate::diesel::update(orgs::table)
                .filter(orgs::id.eq($org))
                .set(orgs::$column.eq(orgs::$column - amount))
                .execute(&mut *$conn)
                .await?;
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ceiling_leaves_room_for_the_amount_and_never_overflows() {
        assert_eq!(ceiling(Some(10), 1), 9);
        assert_eq!(ceiling(Some(10), 10), 0);
        assert_eq!(ceiling(Some(10), 11), -1, "more than the whole limit at once: refused even when empty");
        assert_eq!(ceiling(None, 5), i64::MAX - 5);
        assert_eq!(ceiling(Some(u64::MAX), 1), i64::MAX - 1);
    }
}
