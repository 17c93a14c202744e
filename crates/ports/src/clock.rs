use projects_domain::Timestamp;
use uuid::Uuid;

/// The current time, injectable so tests can pin it.
pub trait Clock: Send + Sync {
    /// Now, truncated to whole microseconds (what every store keeps).
    fn now(&self) -> Timestamp;
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let now = Timestamp::now_utc();
        now.replace_nanosecond(now.nanosecond() / 1_000 * 1_000).expect("a truncated nanosecond is in range")
    }
}

/// Fresh identifiers, injectable so tests can pin them.
pub trait Ids: Send + Sync {
    fn new_id(&self) -> Uuid;
}

/// Time-ordered UUIDv7, which keeps index inserts local.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomIds;

impl Ids for RandomIds {
    fn new_id(&self) -> Uuid {
        Uuid::now_v7()
    }
}
