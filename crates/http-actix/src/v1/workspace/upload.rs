//! The bridge from an actix request body to the use cases' byte stream.

use actix_web::http::header;
use actix_web::{web, HttpRequest};
use bytes::Bytes;
use futures::StreamExt;
use projects_ports::ByteStream;

use crate::HttpError;

/// A file's content. A declared length over the org's file quota is refused before any byte is
/// read; the use case counts the bytes that do arrive (and refuses past it where it hashes them).
pub(super) fn file_body(
    request: &HttpRequest,
    payload: web::Payload,
    limit: Option<u64>,
) -> Result<ByteStream, HttpError> {
    let declared = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if let (Some(length), Some(limit)) = (declared, limit) {
        if length > limit {
            let exceeded =
                projects_domain::QuotaExceeded { quota: projects_domain::Quota::FileBytes, limit, used: length };
            return Err(projects_app::AppError::QuotaExceeded(exceeded).into());
        }
    }
    Ok(forwarded(payload))
}

/// The request body as a stream the use case can read wherever it runs: actix payloads live on
/// their worker thread, so a task there reads it into a small channel (backpressure: 4 chunks).
fn forwarded(payload: web::Payload) -> ByteStream {
    let (sender, receiver) = tokio::sync::mpsc::channel::<anyhow::Result<Bytes>>(4);
    actix_web::rt::spawn(async move {
        let mut payload = payload;
        while let Some(chunk) = payload.next().await {
            let item = chunk.map_err(|err| anyhow::anyhow!("could not read the body: {err}"));
            let failed = item.is_err();
            if sender.send(item).await.is_err() || failed {
                break;
            }
        }
    });
    futures::stream::unfold(receiver, |mut receiver| async move { receiver.recv().await.map(|item| (item, receiver)) })
        .boxed()
}
