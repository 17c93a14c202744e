//! The feed of a workspace's new heads, for UIs and orchestrating agents watching a sandbox.
//!
//! Each node keeps, per watched workspace, the newest head position it knows. A commit on this
//! node moves it at once; heads moved through another node are found by polling: one statement
//! per [`App::follow_heads`] tick for all the workspaces this node's watchers follow, whatever
//! their number (nothing is asked while nobody watches). Polling was chosen over LISTEN/NOTIFY
//! because a NOTIFY in every commit takes PostgreSQL's global notification lock at commit time:
//! every workspace write of every org would queue on it, to save a watcher a few hundred
//! milliseconds. A watcher reads what it missed from the history, so nothing is lost between two
//! looks, and a reconnecting one resumes from its `Last-Event-ID`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use futures::stream::BoxStream;
use futures::StreamExt;
use projects_domain::Permission;
use projects_ports::Revision;
use tokio::sync::watch;

use crate::{App, AppError, AuthFailure, Principal, Resource};

/// A watcher reads at most this many revisions from the history at once.
const EVENTS_PER_READ: usize = 100;
/// Events handed to a feed's response and not yet sent.
const EVENTS_IN_FLIGHT: usize = 16;

/// What a watcher is sent.
#[derive(Debug, Clone)]
pub enum HeadEvent {
    /// A revision that became the head (in history order).
    Revision(Revision),
    /// Nothing new for a while: the connection is still there.
    Heartbeat,
}

/// The newest head position known on this node of each watched workspace.
#[derive(Default)]
pub(crate) struct HeadWatch {
    watched: Mutex<HashMap<String, watch::Sender<i64>>>,
}

impl HeadWatch {
    fn subscribe(&self, workspace_ref: &str, head: i64) -> watch::Receiver<i64> {
        let mut watched = self.watched.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let sender = watched.entry(workspace_ref.to_owned()).or_insert_with(|| watch::Sender::new(head));
        sender.send_if_modified(|known| raise(known, head));
        sender.subscribe()
    }

    /// The head of `workspace_ref` is at least `seq` now.
    pub(crate) fn moved(&self, workspace_ref: &str, seq: i64) {
        let watched = self.watched.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(sender) = watched.get(workspace_ref) {
            sender.send_if_modified(|known| raise(known, seq));
        }
    }

    /// The workspaces someone still watches; the others are forgotten.
    fn watched_refs(&self) -> Vec<String> {
        let mut watched = self.watched.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        watched.retain(|_, sender| sender.receiver_count() > 0);
        watched.keys().cloned().collect()
    }
}

fn raise(known: &mut i64, seq: i64) -> bool {
    let higher = seq > *known;
    if higher {
        *known = seq;
    }
    higher
}

/// Where a watcher is.
struct Watcher {
    app: App,
    principal: Principal,
    workspace_ref: String,
    /// The last position sent (or skipped: collected revisions are not sent).
    sent: i64,
    heads: watch::Receiver<i64>,
    pending: std::collections::VecDeque<Revision>,
    heartbeat: Duration,
    /// The feed ends here; a client reconnects with its `Last-Event-ID`.
    ends_at: tokio::time::Instant,
}

impl App {
    /// The new heads of the caller's workspace after revision `since` (by default, after the
    /// current head), as they land: through this node at once, through another within a tick of
    /// [`App::follow_heads`]. After a while without news a heartbeat is sent, and the caller is
    /// checked again: a revoked key ends the feed. A feed lasts a bounded time (an hour by
    /// default), so that no connection outlives what a load balancer or a key rotation allows.
    pub async fn watch_heads(
        &self,
        principal: &Principal,
        id_or_slug: &str,
        since: Option<&str>,
    ) -> Result<BoxStream<'static, Result<HeadEvent, AppError>>, AppError> {
        principal.require(Permission::ProjectsRead)?;
        principal.require(Permission::RunsRead)?;
        let (_, workspace) = self.my_workspace(principal, id_or_slug).await?;
        let head = workspace.head_seq.unwrap_or(0);
        let sent = match since {
            None => head,
            Some(revision) => self.tree_at(&workspace, Some(revision)).await?.unwrap_or(0),
        };
        let watcher = Watcher {
            app: self.clone(),
            principal: principal.clone(),
            heads: self.heads.subscribe(&workspace.workspace_ref, head),
            workspace_ref: workspace.workspace_ref,
            sent,
            pending: Default::default(),
            heartbeat: self.feed_heartbeat.0,
            ends_at: tokio::time::Instant::now() + self.feed_heartbeat.1,
        };
        // The watcher runs on this runtime, and its events are handed over: a request's stream
        // is polled (and dropped, mid-query when the client hangs up) wherever the server polls
        // it, and a store's query must not be cut there.
        let (events, received) = tokio::sync::mpsc::channel(EVENTS_IN_FLIGHT);
        tokio::spawn(watcher.run(events));
        Ok(futures::stream::unfold(received, |mut received| async move {
            received.recv().await.map(|event| (event, received))
        })
        .boxed())
    }

    /// Learns of heads moved through other nodes for as long as it runs: every `interval`, one
    /// look at the heads of every watched workspace.
    pub async fn follow_heads(&self, interval: Duration) {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let refs = self.heads.watched_refs();
            if refs.is_empty() {
                continue;
            }
            match self.workspaces.head_seqs(&refs).await {
                Ok(heads) => heads.into_iter().for_each(|(workspace_ref, seq)| self.heads.moved(&workspace_ref, seq)),
                Err(err) => tracing::warn!(error = %err, "could not look at the heads of watched workspaces"),
            }
        }
    }

    /// Whether the caller may still read: a key revoked (or, for a token, its member removed)
    /// since the feed began ends it.
    async fn still_allowed(&self, principal: &Principal) -> Result<(), AppError> {
        match self.still_vouched_for(principal.org_id(), principal.user_id(), principal.api_key_id).await? {
            true => Ok(()),
            false => Err(AppError::Unauthenticated(AuthFailure::InvalidToken)),
        }
    }
}

impl Watcher {
    /// Sends events until the feed ends or nobody reads it any more.
    async fn run(mut self, events: tokio::sync::mpsc::Sender<Result<HeadEvent, AppError>>) {
        loop {
            let next = tokio::select! {
                next = self.next() => next,
                () = events.closed() => return,
            };
            let last = !matches!(next, Ok(Some(_)));
            let Some(event) = next.transpose() else { return };
            if events.send(event).await.is_err() || last {
                return;
            }
        }
    }

    /// The next event; `None` once the feed has lasted its time.
    async fn next(&mut self) -> Result<Option<HeadEvent>, AppError> {
        loop {
            if let Some(revision) = self.pending.pop_front() {
                return Ok(Some(HeadEvent::Revision(revision)));
            }
            let head = *self.heads.borrow_and_update();
            if head > self.sent {
                self.read_history(head).await?;
                continue;
            }
            let now = tokio::time::Instant::now();
            if now >= self.ends_at {
                return Ok(None);
            }
            let wait = self.heartbeat.min(self.ends_at - now);
            match tokio::time::timeout(wait, self.heads.changed()).await {
                Ok(Ok(())) => continue,
                Ok(Err(_closed)) => return Err(AppError::NotFound(Resource::Project)),
                Err(_quiet) if tokio::time::Instant::now() >= self.ends_at => return Ok(None),
                Err(_quiet) => {
                    self.app.still_allowed(&self.principal).await?;
                    return Ok(Some(HeadEvent::Heartbeat));
                }
            }
        }
    }

    /// Queues the revisions after the last one sent, up to `head`, a bounded batch at a time.
    async fn read_history(&mut self, head: i64) -> Result<(), AppError> {
        let upto = head.min(self.sent + EVENTS_PER_READ as i64);
        let store = &self.app.workspaces;
        let mut batch = store.list_revisions(&self.workspace_ref, Some(upto + 1), EVENTS_PER_READ).await?;
        batch.retain(|revision| revision.seq > self.sent);
        batch.reverse();
        // Revisions collected meanwhile are skipped: there is nothing left of them to show.
        self.sent = upto;
        self.pending.extend(batch);
        Ok(())
    }
}
