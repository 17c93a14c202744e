//! The change feed of the caller's workspace as Server-Sent Events.

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use bytes::Bytes;
use futures::StreamExt;
use projects_app::HeadEvent;
use serde::Deserialize;
use utoipa::IntoParams;

use super::super::{ErrorBody, V1Auth, V1Result};
use super::history::RevisionItem;
use crate::auth::ReadRuns;
use crate::body::read_query;
use crate::HttpState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Send the heads after this revision first (default: only heads made from now on).
    /// `Last-Event-ID` wins over it.
    pub since: Option<String>,
}

/// One event of the feed, in the `text/event-stream` framing.
fn frame(event: HeadEvent) -> Bytes {
    match event {
        HeadEvent::Revision(revision) => {
            let data = serde_json::to_string(&RevisionItem::from(&revision)).unwrap_or_else(|_| "{}".to_owned());
            Bytes::from(format!("id: {}\nevent: revision\ndata: {data}\n\n", revision.revision))
        }
        HeadEvent::Heartbeat => Bytes::from_static(b": heartbeat\n\n"),
    }
}

/// Watch the workspace's new heads
///
/// `text/event-stream`: an event `revision` (`id` = the revision; data as a history item:
/// `{revision, base_revision, files_changed, …}`) for each new head in history order, whether it
/// was made through this node or another; a comment heartbeat every 15 s without news. Resume
/// with `Last-Event-ID` (or `?since=`) to be sent what was missed first. The feed ends when the
/// caller's key is revoked. Requires `data.projects.read` and `data.runs.read`.
#[utoipa::path(
    tag = "v1 workspace",
    operation_id = "v1WatchWorkspace",
    params(
        ("project_id" = String, Path, description = "The project's id (UUID) or slug"),
        EventsQuery,
        ("Last-Event-ID" = Option<String>, Header, nullable = false, description = "The last revision seen: the feed resumes after it"),
    ),
    responses(
        (status = 200, description = "The feed", content_type = "text/event-stream", body = String),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Missing `data.projects.read` or `data.runs.read`", body = ErrorBody),
        (status = 404, description = "No such project, or `since` names no revision (`workspace_revisions.not_found`)", body = ErrorBody),
    ),
    security(("bearer" = []), ("jwt" = []))
)]
#[get("/projects/{project_id}/workspace/events")]
pub(super) async fn watch_workspace(
    auth: V1Auth<ReadRuns>,
    state: web::Data<HttpState>,
    request: HttpRequest,
    project_id: web::Path<String>,
) -> V1Result<HttpResponse> {
    let query: EventsQuery = read_query(request.query_string())?;
    let last_seen = request.headers().get("Last-Event-ID").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let since = last_seen.filter(|id| !id.trim().is_empty()).or(query.since);
    let principal = auth.principal;
    let project_id = project_id.into_inner();
    let events =
        state.run(move |app| async move { app.watch_heads(&principal, &project_id, since.as_deref()).await }).await?;
    // The feed stops at its first error (a revoked key): there is no status left to send.
    let frames = events
        .take_while(|event| futures::future::ready(event.is_ok()))
        .filter_map(|event| async move { event.ok().map(|event| Ok::<_, actix_web::Error>(frame(event))) });
    let opening = futures::stream::once(async { Ok(Bytes::from_static(b"retry: 1000\n: watching\n\n")) });
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(opening.chain(frames)))
}
