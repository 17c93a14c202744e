//! Garbage collection: old revisions go once retention lets them, then blobs no entry version
//! references and nobody vouched for within the grace period, then temporary uploads a process
//! that died mid-upload left behind.
//!
//! Why a concurrent write can never lose its blob: every write registers (or touches) the blob's
//! row before it files the object or commits a reference to it, and the commit touches it again
//! in its own transaction, failing if the row is gone. The collector only claims rows untouched
//! for the grace period and unreferenced, holds them while it deletes their objects, and deletes
//! the rows in the same transaction. A writer racing it waits on the row, then finds it gone:
//! an upload files the object again, a commit that only named it is refused (422), never
//! acknowledged without its content.

use futures::{FutureExt, StreamExt, TryStreamExt};
use projects_domain::layout::{blob_key, workspace_prefix};
use projects_ports::DeleteBlobs;

use crate::workspaces::unavailable;
use crate::{App, AppError};

/// What one pass removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GcReport {
    pub revisions_removed: u64,
    pub blobs_removed: u64,
    pub uploads_removed: u64,
}

/// How long things are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// A blob nothing references is kept this long after a write last named it.
    pub blob_grace: time::Duration,
    /// The newest this many revisions of each workspace are kept (the head always)…
    pub keep_revisions: u64,
    /// …and so is every revision younger than this.
    pub keep_revisions_for: time::Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Self { blob_grace: time::Duration::hours(1), keep_revisions: 100, keep_revisions_for: time::Duration::days(7) }
    }
}

/// A temporary upload is only ever left behind by a process that died mid-upload (every other
/// path removes it), so it is swept only once older than this, or the grace period if longer: an
/// upload still streaming in (a big file on a slow link) is never taken from under its writer.
const STALE_UPLOAD: time::Duration = time::Duration::hours(24);

/// Workspaces visited per store call, and blobs claimed per transaction.
const BATCH: usize = 500;
/// Blob deletions in flight at once.
const PARALLEL_DELETES: usize = 16;

impl App {
    /// One pass of the collector over every workspace.
    pub async fn collect_garbage(&self) -> Result<GcReport, AppError> {
        let now = self.clock.now();
        let retention = self.retention_of_trees;
        let mut report = GcReport::default();
        let mut after: Option<String> = None;
        loop {
            let page = self.workspaces.workspaces_after(after.as_deref(), BATCH).await?;
            for workspace in &page {
                if let Some(head) = workspace.head_seq {
                    let by_count = head.saturating_sub(i64::try_from(retention.keep_revisions).unwrap_or(i64::MAX)) + 1;
                    let by_age = self
                        .workspaces
                        .oldest_revision_since(&workspace.workspace_ref, now - retention.keep_revisions_for)
                        .await?
                        .unwrap_or(head + 1);
                    let keep_from = by_count.min(by_age).clamp(1, head);
                    if keep_from > 1 {
                        report.revisions_removed +=
                            self.workspaces.expire_revisions(&workspace.workspace_ref, keep_from).await?;
                    }
                }
                let stale = now - retention.blob_grace.max(STALE_UPLOAD);
                report.uploads_removed += self.sweep_uploads(&workspace.workspace_ref, stale).await?;
            }
            if page.len() < BATCH {
                break;
            }
            after = page.last().map(|w| w.workspace_ref.clone());
        }
        let blobs = self.blobs.clone();
        let delete: Box<DeleteBlobs> = Box::new(move |batch| {
            let blobs = blobs.clone();
            async move {
                futures::stream::iter(batch)
                    .map(|(workspace_ref, sha256)| {
                        let blobs = blobs.clone();
                        async move { blobs.delete(&blob_key(&workspace_ref, &sha256)).await }
                    })
                    .buffer_unordered(PARALLEL_DELETES)
                    .try_collect::<Vec<()>>()
                    .await
                    .map(drop)
            }
            .boxed()
        });
        loop {
            let collected = self.workspaces.collect_blobs(now - retention.blob_grace, BATCH, delete.as_ref()).await?;
            report.blobs_removed += collected;
            if collected < BATCH as u64 {
                break;
            }
        }
        if report != GcReport::default() {
            tracing::info!(?report, "garbage collected");
        }
        Ok(report)
    }

    /// Removes the temporary uploads of a workspace older than `before`: a live upload is younger.
    async fn sweep_uploads(&self, workspace_ref: &str, before: time::OffsetDateTime) -> Result<u64, AppError> {
        let prefix = format!("{}/uploads", workspace_prefix(workspace_ref));
        let stale: Vec<String> = self
            .blobs
            .list(&prefix)
            .await
            .map_err(unavailable)?
            .into_iter()
            .filter(|object| object.last_modified < before)
            .map(|object| object.key)
            .collect();
        for key in &stale {
            self.blobs.delete(key).await.map_err(unavailable)?;
        }
        Ok(stale.len() as u64)
    }
}
