//! The feed of identity changes over PostgreSQL LISTEN/NOTIFY: one dedicated connection listens
//! on [`IDENTITY_CHANNEL`] and hands each org id to an [`IdentityChanges`] listener. A changing
//! transaction sends its notification as it commits (see the identity store), so a node hears of a
//! revocation a few milliseconds after it holds.
//!
//! The listener is told the feed is down whenever it may miss a notification: when the connection
//! drops or errs, and when a heartbeat is not answered in time (a silently cut network). It is
//! told the feed is up only once `LISTEN` is in force again, and nothing committed while it was
//! down can be told afterwards, so a listener must treat "up" as "forget everything".

use std::sync::Arc;
use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use futures::StreamExt;
use projects_domain::OrgId;
use projects_ports::IdentityChanges;

use crate::errors::IDENTITY_CHANNEL;

/// How the feed watches its connection.
#[derive(Debug, Clone)]
pub struct FeedSettings {
    /// A heartbeat statement is sent after this long without a notification…
    pub heartbeat: Duration,
    /// …and the feed counts as down when it is not answered within this long.
    pub heartbeat_timeout: Duration,
    /// Waits between reconnection attempts: doubling from the first to at most the second.
    pub retry: (Duration, Duration),
}

impl Default for FeedSettings {
    fn default() -> Self {
        Self {
            heartbeat: Duration::from_secs(1),
            heartbeat_timeout: Duration::from_secs(2),
            retry: (Duration::from_millis(100), Duration::from_secs(5)),
        }
    }
}

/// Follows the identity changes of the database at `url` for as long as the task runs,
/// reconnecting when the connection is lost.
pub async fn follow_identity_changes(url: String, listener: Arc<dyn IdentityChanges>, settings: FeedSettings) {
    let mut wait = settings.retry.0;
    loop {
        match listen(&url).await {
            Ok(mut conn) => {
                wait = settings.retry.0;
                listener.feed_up();
                let lost = relay(&mut conn, listener.as_ref(), &settings).await;
                listener.feed_down();
                tracing::warn!(error = %lost, "the identity change feed is down; credentials are not cached until it is back");
            }
            Err(err) => {
                tracing::warn!(error = %err, retry_in = ?wait, "could not listen for identity changes");
            }
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(settings.retry.1);
    }
}

async fn listen(url: &str) -> anyhow::Result<AsyncPgConnection> {
    let mut conn = AsyncPgConnection::establish(url).await?;
    conn.batch_execute(&format!("SET application_name = 'projects-identity-feed'; LISTEN {IDENTITY_CHANNEL}")).await?;
    Ok(conn)
}

/// Hands notifications on until the connection fails; returns why it stopped.
async fn relay(conn: &mut AsyncPgConnection, listener: &dyn IdentityChanges, settings: &FeedSettings) -> anyhow::Error {
    loop {
        {
            // The stream only reads what the connection's driver already queued: dropping it
            // for a heartbeat loses nothing.
            let mut notifications = std::pin::pin!(conn.notifications_stream());
            loop {
                match tokio::time::timeout(settings.heartbeat, notifications.next()).await {
                    Ok(Some(Ok(notification))) => match uuid::Uuid::parse_str(&notification.payload) {
                        Ok(org) => listener.org_changed(OrgId::from_uuid(org)),
                        Err(_) => tracing::warn!(payload = %notification.payload, "an identity change names no org"),
                    },
                    Ok(Some(Err(err))) => return err.into(),
                    Ok(None) => return anyhow::anyhow!("the connection closed"),
                    Err(_quiet) => break,
                }
            }
        }
        let heartbeat = diesel::sql_query("SELECT 1").execute(conn);
        match tokio::time::timeout(settings.heartbeat_timeout, heartbeat).await {
            Ok(Ok(_)) => {}
            Ok(Err(err)) => return err.into(),
            Err(_) => return anyhow::anyhow!("no answer to a heartbeat within {:?}", settings.heartbeat_timeout),
        }
    }
}
