//! The bridge from an actix request body to the use cases' byte stream.

use actix_web::http::header;
use actix_web::{web, HttpRequest};
use bytes::Bytes;
use futures::StreamExt;
use projects_ports::ByteStream;

use crate::bodies::{is_stalled, UploadSlot};
use crate::{HttpError, HttpState};

/// A file's content. A declared length over the org's file quota is refused before any byte is
/// read; the use case counts the bytes that do arrive (and refuses past it where it hashes them).
pub(super) fn file_body(
    request: &HttpRequest,
    payload: web::Payload,
    state: &HttpState,
) -> Result<ByteStream, HttpError> {
    let limit = state.app.quota(projects_domain::Quota::FileBytes);
    let declared = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if let (Some(length), Some(limit)) = (declared, limit) {
        if length > limit {
            let exceeded =
                projects_domain::QuotaExceeded { quota: projects_domain::Quota::FileBytes, limit, used: length };
            return Err(projects_app::AppError::QuotaExceeded(exceeded).into());
        }
    }
    streamed_body(request, payload, state)
}

/// A body streamed to a use case, holding an upload slot: an archive's as it is (it may be
/// larger than any one file; each member is counted against the quotas as it is stored), a
/// file's once [`file_body`] has checked its declared length.
pub(super) fn streamed_body(
    request: &HttpRequest,
    payload: web::Payload,
    state: &HttpState,
) -> Result<ByteStream, HttpError> {
    let slot = state.uploads.as_ref().map(|slots| slots.take(request)).transpose()?;
    Ok(forwarded(payload, slot))
}

/// The request body as a stream the use case can read wherever it runs: actix payloads live on
/// their worker thread, so a task there reads it into a small channel (backpressure: 4 chunks).
/// The upload's `slot` is held until the use case drops the stream.
fn forwarded(payload: web::Payload, slot: Option<UploadSlot>) -> ByteStream {
    let (sender, receiver) = tokio::sync::mpsc::channel::<anyhow::Result<Bytes>>(4);
    actix_web::rt::spawn(async move {
        let mut payload = payload;
        while let Some(chunk) = payload.next().await {
            let item = chunk.map_err(|err| match is_stalled(&err) {
                true => anyhow::Error::new(projects_ports::BodyStalled),
                false => anyhow::anyhow!("could not read the body: {err}"),
            });
            let failed = item.is_err();
            if sender.send(item).await.is_err() || failed {
                break;
            }
        }
    });
    futures::stream::unfold((receiver, slot), |(mut receiver, slot)| async move {
        receiver.recv().await.map(|item| (item, (receiver, slot)))
    })
    .boxed()
}
