//! Keyset pagination over `(created_at, id)`, newest first. Never OFFSET.

use uuid::Uuid;

use crate::validation::FieldError;
use crate::Timestamp;

/// Where a page starts: strictly after this `(created_at, id)` in newest-first order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: Timestamp,
    pub id: Uuid,
}

impl Cursor {
    /// An opaque, URL-safe token: microseconds since the epoch and the id.
    pub fn encode(&self) -> String {
        let micros = self.created_at.unix_timestamp_nanos() / 1_000;
        format!("{micros}.{}", self.id.simple())
    }

    pub fn decode(token: &str) -> Result<Self, FieldError> {
        let invalid = || FieldError::new("cursor", "is not a cursor this service issued");
        let (micros, id) = token.split_once('.').ok_or_else(invalid)?;
        let micros: i128 = micros.parse().map_err(|_| invalid())?;
        let created_at = Timestamp::from_unix_timestamp_nanos(micros * 1_000).map_err(|_| invalid())?;
        let id = Uuid::try_parse(id).map_err(|_| invalid())?;
        Ok(Self { created_at, id })
    }
}

/// One page's worth of a list request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    pub after: Option<Cursor>,
}

impl PageRequest {
    pub const DEFAULT_LIMIT: u32 = 50;
    pub const MAX_LIMIT: u32 = 200;

    pub fn new(limit: Option<u32>, cursor: Option<&str>) -> Result<Self, FieldError> {
        let limit = limit.unwrap_or(Self::DEFAULT_LIMIT);
        if !(1..=Self::MAX_LIMIT).contains(&limit) {
            return Err(FieldError::new("limit", format!("must be between 1 and {}", Self::MAX_LIMIT)));
        }
        let after = cursor.filter(|c| !c.is_empty()).map(Cursor::decode).transpose()?;
        Ok(Self { limit, after })
    }

    pub fn first(limit: u32) -> Self {
        Self { limit, after: None }
    }

    /// How many rows a store fetches: one more than a page, to learn whether another follows.
    pub fn fetch_limit(&self) -> i64 {
        i64::from(self.limit) + 1
    }

    /// Splits what was fetched with [`PageRequest::fetch_limit`] into this page and the cursor of
    /// the next one (`None` on the last page).
    pub fn split<T>(&self, mut fetched: Vec<T>, cursor_of: impl Fn(&T) -> Cursor) -> (Vec<T>, Option<Cursor>) {
        let has_more = fetched.len() > self.limit as usize;
        fetched.truncate(self.limit as usize);
        let next = if has_more { fetched.last().map(cursor_of) } else { None };
        (fetched, next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn cursors_round_trip_to_the_microsecond() {
        let cursor = Cursor { created_at: datetime!(2024-01-01 00:00:00.123456 UTC), id: Uuid::from_u128(42) };
        assert_eq!(Cursor::decode(&cursor.encode()), Ok(cursor));
        for bad in ["", "x", "1.", ".abc", "12.not-a-uuid", "99999999999999999999999.00000000000000000000000000000000"]
        {
            assert!(Cursor::decode(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn pages_split_off_the_extra_row() {
        let cursor = |n: &u128| Cursor { created_at: Timestamp::UNIX_EPOCH, id: Uuid::from_u128(*n) };
        let page = PageRequest::first(2);
        assert_eq!(page.fetch_limit(), 3);
        assert_eq!(page.split(vec![1, 2, 3], cursor), (vec![1, 2], Some(cursor(&2))));
        assert_eq!(page.split(vec![1, 2], cursor), (vec![1, 2], None), "exactly full is the last page");
        assert_eq!(page.split(Vec::<u128>::new(), cursor), (vec![], None));
    }

    #[test]
    fn limits_are_bounded() {
        assert_eq!(PageRequest::new(None, None).unwrap().limit, 50);
        assert_eq!(PageRequest::new(Some(200), None).unwrap().limit, 200);
        assert_eq!(PageRequest::new(Some(0), None).unwrap_err().field, "limit");
        assert_eq!(PageRequest::new(Some(201), None).unwrap_err().field, "limit");
        assert_eq!(PageRequest::new(None, Some("junk")).unwrap_err().field, "cursor");
        assert_eq!(PageRequest::new(None, Some("")).unwrap().after, None);
    }
}
