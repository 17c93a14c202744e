//! Rate limits per caller: a token bucket (governor's GCRA) per bearer token, or per client IP
//! when a request carries none, on `/v1` and `/api/v1`. Over it: 429 with `Retry-After`; while
//! limits are on, every answer says where the caller stands (`RateLimit-Limit`, the burst;
//! `RateLimit-Remaining`; `RateLimit-Reset`, seconds until the bucket is full again).
//!
//! Buckets live in this process: each node limits on its own, so N nodes behind a balancer allow
//! up to N times the rate. That keeps the limiter off the database (no round trip per request);
//! see the README. Tokens are not kept: a bucket is found by a keyed hash of the token, and
//! buckets idle long enough to be full again are dropped every minute, so memory follows the
//! callers of the last minute.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue, AUTHORIZATION};
use actix_web::middleware::Next;
use actix_web::web;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::{Quota, RateLimiter};

use crate::error::{render, HttpError};
use crate::HttpState;

/// How fast each caller may go: `per_sec` sustained, `burst` at once; 0 for either turns limits
/// off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    pub per_sec: u32,
    pub burst: u32,
}

impl RateLimits {
    pub const OFF: RateLimits = RateLimits { per_sec: 0, burst: 0 };
}

/// Who a bucket belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Caller {
    /// A keyed hash of the bearer token (so no token is kept in memory).
    Token(u64),
    Address(IpAddr),
}

type Buckets = RateLimiter<
    Caller,
    governor::state::keyed::DefaultKeyedStateStore<Caller>,
    DefaultClock,
    StateInformationMiddleware,
>;

pub(crate) struct Limiter {
    buckets: Buckets,
    hasher: RandomState,
    per_sec: u32,
    burst: u32,
}

impl Limiter {
    /// `None` when the limits are off.
    pub(crate) fn new(limits: RateLimits) -> Option<Self> {
        let (per_sec, burst) = (NonZeroU32::new(limits.per_sec)?, NonZeroU32::new(limits.burst)?);
        let buckets = RateLimiter::keyed(Quota::per_second(per_sec).allow_burst(burst))
            .with_middleware::<StateInformationMiddleware>();
        Some(Self { buckets, hasher: RandomState::new(), per_sec: per_sec.get(), burst: burst.get() })
    }

    /// The token as authentication reads it, so that spelling the header another way (`bearer`,
    /// more spaces) finds the same bucket; without a well-formed one, the client's address.
    fn caller(&self, request: &ServiceRequest) -> Caller {
        match crate::auth::bearer_token(request.headers().get(AUTHORIZATION)) {
            Ok(token) => Caller::Token(self.hasher.hash_one(token.as_bytes())),
            Err(_) => Caller::Address(request.peer_addr().map_or(IpAddr::from([0, 0, 0, 0]), |peer| peer.ip())),
        }
    }

    /// Seconds until a bucket holding `remaining` is full again.
    fn seconds_to_full(&self, remaining: u32) -> u64 {
        u64::from(self.burst - remaining.min(self.burst)).div_ceil(u64::from(self.per_sec))
    }

    /// Drops the buckets that are full again (their callers went quiet).
    pub(crate) fn forget_quiet_callers(&self) {
        self.buckets.retain_recent();
        self.buckets.shrink_to_fit();
    }
}

/// Starts dropping quiet callers' buckets every minute, for as long as the limiter lives.
pub(crate) fn keep_tidy(limiter: &Arc<Limiter>, core: &tokio::runtime::Handle) {
    let limiter = Arc::downgrade(limiter);
    core.spawn(async move {
        let mut ticks = tokio::time::interval(Duration::from_secs(60));
        ticks.tick().await;
        loop {
            ticks.tick().await;
            match limiter.upgrade() {
                Some(limiter) => limiter.forget_quiet_callers(),
                None => return,
            }
        }
    });
}

const LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
const REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
const RESET: HeaderName = HeaderName::from_static("ratelimit-reset");

/// The middleware: counts the request against its caller's bucket, answers 429 when it is empty,
/// and puts the caller's standing on the answer.
pub(crate) async fn limited(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let limiter = request.app_data::<web::Data<HttpState>>().and_then(|state| state.limiter.clone());
    let path = request.path();
    let Some(limiter) = limiter.filter(|_| path.starts_with("/v1/") || path.starts_with("/api/")) else {
        return next.call(request).await.map(ServiceResponse::map_into_left_body);
    };
    let standing = match limiter.buckets.check_key(&limiter.caller(&request)) {
        Ok(snapshot) => snapshot.remaining_burst_capacity(),
        Err(denied) => {
            let wait = denied.wait_time_from(limiter.buckets.clock().now());
            let retry_after = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let err = HttpError::RateLimited { retry_after_secs: retry_after.max(1) };
            let trace_id = crate::trace::current_trace_id();
            let mut response = if request.path().starts_with("/api/") {
                render::<crate::alumia::Alumia>(&err, &trace_id)
            } else {
                render::<crate::v1::V1>(&err, &trace_id)
            };
            stand(response.headers_mut(), &limiter, 0);
            return Ok(request.into_response(response).map_into_right_body());
        }
    };
    let mut response = next.call(request).await?;
    stand(response.headers_mut(), &limiter, standing);
    Ok(response.map_into_left_body())
}

fn stand(headers: &mut actix_web::http::header::HeaderMap, limiter: &Limiter, remaining: u32) {
    headers.insert(LIMIT, HeaderValue::from(limiter.burst));
    headers.insert(REMAINING, HeaderValue::from(remaining));
    headers.insert(RESET, HeaderValue::from(limiter.seconds_to_full(remaining)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_when_either_number_is_zero() {
        assert!(Limiter::new(RateLimits::OFF).is_none());
        assert!(Limiter::new(RateLimits { per_sec: 5, burst: 0 }).is_none());
        assert!(Limiter::new(RateLimits { per_sec: 0, burst: 5 }).is_none());
    }

    #[test]
    fn a_bucket_takes_its_burst_then_refuses_and_others_are_unaffected() {
        let limiter = Limiter::new(RateLimits { per_sec: 1, burst: 3 }).unwrap();
        let (me, other) = (Caller::Token(1), Caller::Token(2));
        let remaining: Vec<u32> =
            (0..3).map(|_| limiter.buckets.check_key(&me).unwrap().remaining_burst_capacity()).collect();
        assert_eq!(remaining, [2, 1, 0]);
        assert!(limiter.buckets.check_key(&me).is_err());
        assert_eq!(limiter.buckets.check_key(&other).unwrap().remaining_burst_capacity(), 2);
        assert_eq!(limiter.seconds_to_full(0), 3);
        assert_eq!(limiter.seconds_to_full(3), 0);
    }
}
