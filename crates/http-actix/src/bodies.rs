//! Request bodies that cannot hold the server hostage: a body that sends nothing for the idle
//! timeout is cut (408), and each caller has a bounded number of uploads in flight (429).
//!
//! actix reads request heads with its own timeout, but once a handler reads a body it waits as
//! long as the client likes: 500 clients sending a byte a minute would hold 500 uploads (and
//! their blob-store multipart uploads) open for ever. The timer runs only while the server waits
//! for the client, so a slow blob store never counts against the client.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header::{AUTHORIZATION, CONTENT_LENGTH, TRANSFER_ENCODING};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpRequest};
use futures::StreamExt;

use crate::{HttpError, HttpState};

/// How long a body may pause, and how many uploads a caller may have in flight; `None`: no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BodyLimits {
    pub idle_timeout: Option<Duration>,
    pub uploads_per_caller: Option<NonZeroUsize>,
}

/// Whether a payload error is the idle timeout's doing.
pub(crate) fn is_stalled(err: &PayloadError) -> bool {
    matches!(err, PayloadError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut)
}

/// Wraps the body of every request that has one in the idle timeout.
pub(crate) async fn cut_idle_bodies(
    mut request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let idle = request.app_data::<web::Data<HttpState>>().and_then(|state| state.body_limits.idle_timeout);
    let has_body = request.headers().contains_key(CONTENT_LENGTH) || request.headers().contains_key(TRANSFER_ENCODING);
    if let Some(idle) = idle.filter(|_| has_body) {
        let payload = request.take_payload();
        request.set_payload(idle_limited(payload, idle));
    }
    next.call(request).await
}

/// `payload`, ending with a `TimedOut` error when the client sends nothing for `idle`.
fn idle_limited(payload: Payload, idle: Duration) -> Payload {
    let chunks = futures::stream::unfold(Some(payload), move |payload| async move {
        let mut payload = payload?;
        match tokio::time::timeout(idle, payload.next()).await {
            Ok(Some(chunk)) => Some((chunk, Some(payload))),
            Ok(None) => None,
            Err(_) => {
                let stalled = std::io::Error::new(std::io::ErrorKind::TimedOut, "the body sent nothing for too long");
                Some((Err(PayloadError::Io(stalled)), None))
            }
        }
    });
    Payload::Stream { payload: Box::pin(chunks) }
}

/// The uploads each caller (a keyed hash of their bearer token) has in flight.
pub(crate) struct UploadSlots {
    per_caller: usize,
    hasher: RandomState,
    in_flight: Mutex<HashMap<u64, usize>>,
}

/// One upload's place; it is given back when dropped (the upload finished, failed or was cut).
pub(crate) struct UploadSlot {
    slots: Arc<UploadSlots>,
    caller: u64,
}

impl UploadSlots {
    pub(crate) fn new(per_caller: NonZeroUsize) -> Self {
        Self { per_caller: per_caller.get(), hasher: RandomState::new(), in_flight: Mutex::default() }
    }

    /// A place for one more upload of `request`'s caller, or 429 when they have all theirs.
    pub(crate) fn take(self: &Arc<Self>, request: &HttpRequest) -> Result<UploadSlot, HttpError> {
        let token = crate::auth::bearer_token(request.headers().get(AUTHORIZATION)).unwrap_or_default();
        let caller = self.hasher.hash_one(token.as_bytes());
        let mut in_flight = self.in_flight.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let taken = in_flight.entry(caller).or_default();
        if *taken >= self.per_caller {
            return Err(HttpError::TooManyUploads { limit: self.per_caller });
        }
        *taken += 1;
        Ok(UploadSlot { slots: self.clone(), caller })
    }
}

impl Drop for UploadSlot {
    fn drop(&mut self) {
        let mut in_flight = self.slots.in_flight.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(taken) = in_flight.get_mut(&self.caller) {
            *taken -= 1;
            if *taken == 0 {
                in_flight.remove(&self.caller);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_gets_its_slots_back_when_uploads_end_and_others_have_their_own() {
        let slots = Arc::new(UploadSlots::new(NonZeroUsize::new(2).unwrap()));
        let as_caller = |token: &str| {
            actix_web::test::TestRequest::default()
                .insert_header((AUTHORIZATION, format!("Bearer {token}")))
                .to_http_request()
        };
        let (mine, theirs) = (as_caller("ak-mine"), as_caller("ak-theirs"));
        let first = slots.take(&mine).unwrap();
        let _second = slots.take(&mine).unwrap();
        assert!(matches!(slots.take(&mine), Err(HttpError::TooManyUploads { limit: 2 })));
        let _other = slots.take(&theirs).expect("another caller is not held up");
        drop(first);
        let _third = slots.take(&mine).expect("a finished upload frees its place");
    }
}
