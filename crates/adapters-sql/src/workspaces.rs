//! The workspace store, written once: [`workspace_store!`](crate::workspace_store) expands it for
//! a backend (see [`usage_store!`](crate::usage_store) for why a macro). The tree queries are the
//! same on both backends; what differs is the transaction kind and how the collector claims rows.

use diesel::dsl::auto_type;
use diesel::prelude::*;
use projects_domain::WorkspacePath;

use crate::schema::workspace_entries;

/// Rows per statement when a revision ends or adds many (well under both backends' bind limits).
pub const ROWS_PER_STATEMENT: usize = 500;

/// The versions visible in revision `seq`. The `+ 0` keeps the revision columns out of index
/// choice: these queries are served by the path or parent indexes, and a planner misled by stale
/// statistics into scanning every version born before `seq` (SQLite with STAT4 did, at a million
/// rows: 160 ms for a listing) cannot be.
#[auto_type]
pub fn visible_at(seq: i64) -> _ {
    (workspace_entries::valid_from + 0i64)
        .le(seq)
        .and(workspace_entries::valid_to.is_null().or((workspace_entries::valid_to + 0i64).gt(seq)))
}

/// The paths strictly below `dir`, as a byte range: `/src/` up to `/src0` (`0` follows `/`).
pub fn below(dir: &WorkspacePath) -> (String, String) {
    let from = if dir.is_root() { "/".to_owned() } else { format!("{}/", dir.as_str()) };
    let until = format!("{}0", &from[..from.len() - 1]);
    (from, until)
}

/// Implements `WorkspaceStore` for `$store` (which has `async fn conn(&self)`), naming
/// constraints through `$dialect`.
#[macro_export]
macro_rules! workspace_store {
    ($store:ty, $dialect:ty, $tx:ident, claim = { $($claim:tt)* }, insert_entries = $insert_entries:path) => {
        const _: () = {
            use std::collections::HashSet;

            use projects_domain::{
                Cursor, EntryVersion, OrgId, PageRequest, SessionState, Timestamp, TreeEdit, TreeEntry, WorkspacePath,
            };
            use projects_ports::{
                ChildPosition, CommitOutcome, DeleteBlobs, Page, Revision, RevisionKey, Session, StoreError, Workspace,
                WorkspaceStore,
            };
            use $crate::diesel::prelude::*;
            use $crate::diesel::upsert::excluded;
            use $crate::diesel_async::{AsyncConnection, RunQueryDsl};
            use $crate::errors::{constraint_error, db_error, Constraint};
            use $crate::rows::{EntryRow, RevisionRow, SessionRow, WorkspaceRow};
            use $crate::schema::{
                orgs, workspace_blobs, workspace_entries, workspace_revisions, workspace_sessions, workspaces,
            };
            use $crate::types::ToDb;
            use $crate::workspaces::{below, visible_at, ROWS_PER_STATEMENT};

            /// Why a transaction was rolled back.
            enum Abort {
                Db(diesel::result::Error),
                HeadMoved,
                MissingBlobs(Vec<String>),
                BlobStore(anyhow::Error),
                Quota(projects_domain::QuotaExceeded),
            }

            impl From<projects_domain::QuotaExceeded> for Abort {
                fn from(exceeded: projects_domain::QuotaExceeded) -> Self {
                    Abort::Quota(exceeded)
                }
            }

            impl From<diesel::result::Error> for Abort {
                fn from(err: diesel::result::Error) -> Self {
                    Abort::Db(err)
                }
            }

            fn decode_versions(rows: Vec<EntryRow>) -> Result<Vec<EntryVersion>, StoreError> {
                rows.into_iter().map(|row| row.decode().map_err(StoreError::from)).collect()
            }

            fn decode_entries(rows: Vec<EntryRow>) -> Result<Vec<TreeEntry>, StoreError> {
                Ok(decode_versions(rows)?.into_iter().map(|version| version.entry).collect())
            }

            fn as_strs(paths: &[WorkspacePath]) -> Vec<&str> {
                paths.iter().map(WorkspacePath::as_str).collect()
            }

            const WORKSPACE_CONSTRAINTS: &[(Constraint, &str)] =
                &[(Constraint::WorkspaceProject, "project_id"), (Constraint::WorkspaceUser, "user_id")];

            #[$crate::async_trait::async_trait]
            impl WorkspaceStore for $store {
                async fn touch_workspace(&self, workspace: &Workspace) -> Result<Workspace, StoreError> {
                    let row = WorkspaceRow::from(workspace);
                    let mut conn = self.conn().await?;
                    diesel::insert_into(workspaces::table)
                        .values(&row)
                        .on_conflict(workspaces::workspace_ref)
                        .do_update()
                        .set(workspaces::last_used_at.eq(excluded(workspaces::last_used_at)))
                        .returning(WorkspaceRow::as_returning())
                        .get_result(&mut conn)
                        .await
                        .map(Workspace::from)
                        .map_err(|e| constraint_error::<$dialect>(e, WORKSPACE_CONSTRAINTS, "project_id"))
                }

                async fn touch_workspaces(&self, used: &[(String, Timestamp)]) -> Result<(), StoreError> {
                    let mut conn = self.conn().await?;
                    // One write transaction for the whole batch: SQLite has a single writer.
                    conn.$tx::<_, diesel::result::Error, _>(async |conn| {
                        for (workspace_ref, at) in used {
                            diesel::update(workspaces::table.find(workspace_ref))
                                .filter(workspaces::last_used_at.lt(at.db()))
                                .set(workspaces::last_used_at.eq(at.db()))
                                .execute(conn)
                                .await?;
                        }
                        Ok(())
                    })
                    .await
                    .map_err(db_error)
                }

                async fn find_workspace(
                    &self,
                    org_id: OrgId,
                    workspace_ref: &str,
                ) -> Result<Option<Workspace>, StoreError> {
                    let mut conn = self.conn().await?;
                    workspaces::table
                        .filter(workspaces::org_id.eq(org_id.db()))
                        .filter(workspaces::workspace_ref.eq(workspace_ref))
                        .select(WorkspaceRow::as_select())
                        .first(&mut conn)
                        .await
                        .optional()
                        .map(|row| row.map(Workspace::from))
                        .map_err(db_error)
                }

                async fn head_seqs(&self, workspace_refs: &[String]) -> Result<Vec<(String, i64)>, StoreError> {
                    let mut conn = self.conn().await?;
                    let mut heads = Vec::with_capacity(workspace_refs.len());
                    for refs in workspace_refs.chunks(ROWS_PER_STATEMENT) {
                        let found: Vec<(String, Option<i64>)> = workspaces::table
                            .filter(workspaces::workspace_ref.eq_any(refs))
                            .filter(workspaces::head_seq.is_not_null())
                            .select((workspaces::workspace_ref, workspaces::head_seq))
                            .load(&mut conn)
                            .await
                            .map_err(db_error)?;
                        heads.extend(found.into_iter().filter_map(|(workspace_ref, seq)| Some((workspace_ref, seq?))));
                    }
                    Ok(heads)
                }

                async fn find_revision(
                    &self,
                    workspace_ref: &str,
                    key: RevisionKey<'_>,
                ) -> Result<Option<Revision>, StoreError> {
                    let query = workspace_revisions::table
                        .filter(workspace_revisions::workspace_ref.eq(workspace_ref))
                        .select(RevisionRow::as_select())
                        .into_boxed();
                    let query = match key {
                        RevisionKey::Id(revision) => query.filter(workspace_revisions::revision.eq(revision)),
                        RevisionKey::Seq(seq) => query.filter(workspace_revisions::seq.eq(seq)),
                    };
                    let mut conn = self.conn().await?;
                    query.first(&mut conn).await.optional().map(|row| row.map(Revision::from)).map_err(db_error)
                }

                async fn oldest_revision_since(
                    &self,
                    workspace_ref: &str,
                    since: Timestamp,
                ) -> Result<Option<i64>, StoreError> {
                    let mut conn = self.conn().await?;
                    workspace_revisions::table
                        .filter(workspace_revisions::workspace_ref.eq(workspace_ref))
                        .filter(workspace_revisions::created_at.ge(since.db()))
                        .select(diesel::dsl::min(workspace_revisions::seq))
                        .get_result(&mut conn)
                        .await
                        .map_err(db_error)
                }

                async fn list_revisions(
                    &self,
                    workspace_ref: &str,
                    before: Option<i64>,
                    limit: usize,
                ) -> Result<Vec<Revision>, StoreError> {
                    let mut conn = self.conn().await?;
                    workspace_revisions::table
                        .filter(workspace_revisions::workspace_ref.eq(workspace_ref))
                        .filter(workspace_revisions::seq.lt(before.unwrap_or(i64::MAX)))
                        .order(workspace_revisions::seq.desc())
                        .limit(limit as i64)
                        .select(RevisionRow::as_select())
                        .load(&mut conn)
                        .await
                        .map(|rows| rows.into_iter().map(Revision::from).collect())
                        .map_err(db_error)
                }

                async fn entries_at(
                    &self,
                    workspace_ref: &str,
                    seq: i64,
                    paths: &[WorkspacePath],
                ) -> Result<Vec<TreeEntry>, StoreError> {
                    let mut conn = self.conn().await?;
                    let mut found = Vec::new();
                    for chunk in paths.chunks(ROWS_PER_STATEMENT) {
                        let rows = workspace_entries::table
                            .filter(workspace_entries::workspace_ref.eq(workspace_ref))
                            .filter(workspace_entries::path.eq_any(as_strs(chunk)))
                            .filter(visible_at(seq))
                            .select(EntryRow::as_select())
                            .load(&mut conn)
                            .await
                            .map_err(db_error)?;
                        found.extend(decode_entries(rows)?);
                    }
                    Ok(found)
                }

                async fn entries_under(
                    &self,
                    workspace_ref: &str,
                    seq: i64,
                    dir: &WorkspacePath,
                    after: Option<&WorkspacePath>,
                    limit: Option<usize>,
                ) -> Result<Vec<TreeEntry>, StoreError> {
                    let (from, until) = below(dir);
                    let mut query = workspace_entries::table
                        .filter(workspace_entries::workspace_ref.eq(workspace_ref))
                        .filter(workspace_entries::path.ge(from))
                        .filter(workspace_entries::path.lt(until))
                        .filter(visible_at(seq))
                        .order(workspace_entries::path)
                        .select(EntryRow::as_select())
                        .into_boxed();
                    if let Some(after) = after {
                        query = query.filter(workspace_entries::path.gt(after.as_str().to_owned()));
                    }
                    if let Some(limit) = limit {
                        query = query.limit(limit as i64);
                    }
                    let mut conn = self.conn().await?;
                    decode_entries(query.load(&mut conn).await.map_err(db_error)?)
                }

                async fn children(
                    &self,
                    workspace_ref: &str,
                    seq: i64,
                    dir: &WorkspacePath,
                    after: Option<&ChildPosition>,
                    limit: usize,
                ) -> Result<Vec<TreeEntry>, StoreError> {
                    let mut query = workspace_entries::table
                        .filter(workspace_entries::workspace_ref.eq(workspace_ref))
                        .filter(workspace_entries::parent.eq(dir.as_str()))
                        .filter(visible_at(seq))
                        .order((workspace_entries::is_dir.desc(), workspace_entries::name))
                        .limit(limit as i64)
                        .select(EntryRow::as_select())
                        .into_boxed();
                    query = match after {
                        Some(ChildPosition { is_dir: true, name }) => query.filter(
                            workspace_entries::is_dir
                                .eq(false)
                                .or(workspace_entries::name.gt(name.clone())),
                        ),
                        Some(ChildPosition { is_dir: false, name }) => query
                            .filter(workspace_entries::is_dir.eq(false))
                            .filter(workspace_entries::name.gt(name.clone())),
                        None => query,
                    };
                    let mut conn = self.conn().await?;
                    decode_entries(query.load(&mut conn).await.map_err(db_error)?)
                }

                async fn child_counts(
                    &self,
                    workspace_ref: &str,
                    seq: i64,
                    dirs: &[WorkspacePath],
                    cap: u64,
                ) -> Result<Vec<(WorkspacePath, u64)>, StoreError> {
                    let mut conn = self.conn().await?;
                    let mut counts = Vec::new();
                    // One bounded index range per directory: at most `cap` rows each.
                    for dir in dirs {
                        let children: Vec<String> = workspace_entries::table
                            .filter(workspace_entries::workspace_ref.eq(workspace_ref))
                            .filter(workspace_entries::parent.eq(dir.as_str()))
                            .filter(visible_at(seq))
                            .select(workspace_entries::path)
                            .limit(i64::try_from(cap).unwrap_or(i64::MAX))
                            .load(&mut conn)
                            .await
                            .map_err(db_error)?;
                        if !children.is_empty() {
                            counts.push((dir.clone(), children.len() as u64));
                        }
                    }
                    Ok(counts)
                }

                async fn versions_between(
                    &self,
                    workspace_ref: &str,
                    lo: i64,
                    hi: i64,
                    under: &WorkspacePath,
                    after: Option<&WorkspacePath>,
                    with_dirs: bool,
                    limit: Option<usize>,
                ) -> Result<Vec<EntryVersion>, StoreError> {
                    let (from, until) = below(under);
                    // Two ranges, one per revision index: the rows born between the two
                    // revisions, and those ended between them. (As one OR, SQLite's planner at
                    // times preferred reading every row of the workspace: 300 ms at a million.)
                    let rows_where = |born: bool| {
                        // Born and ended in between: invisible at both ends.
                        let outlived = workspace_entries::valid_from
                            .le(lo)
                            .or(workspace_entries::valid_to.is_null())
                            .or(workspace_entries::valid_to.gt(hi));
                        // The path goes through `|| ''`, in the filter and the order, so that no
                        // plan reads the path index: the cost is what changed, never the subtree.
                        let path = workspace_entries::path.concat("");
                        let within = path.eq(under.as_str().to_owned()).or(path.ge(from.clone()).and(path.lt(until.clone())));
                        let mut query = workspace_entries::table
                            .filter(workspace_entries::workspace_ref.eq(workspace_ref))
                            .filter(outlived)
                            .filter(within)
                            .order((path, workspace_entries::valid_from))
                            .select(EntryRow::as_select())
                            .into_boxed();
                        query = if born {
                            query.filter(workspace_entries::valid_from.gt(lo)).filter(workspace_entries::valid_from.le(hi))
                        } else {
                            query.filter(workspace_entries::valid_to.gt(lo)).filter(workspace_entries::valid_to.le(hi))
                        };
                        if let Some(after) = after {
                            query = query.filter(path.gt(after.as_str().to_owned()));
                        }
                        if !with_dirs {
                            query = query.filter(workspace_entries::is_dir.eq(false));
                        }
                        if let Some(limit) = limit {
                            query = query.limit(limit as i64);
                        }
                        query
                    };
                    let mut conn = self.conn().await?;
                    let mut rows = rows_where(true).load(&mut conn).await.map_err(db_error)?;
                    rows.extend(rows_where(false).load(&mut conn).await.map_err(db_error)?);
                    // No row is in both (one born and ended in between is in neither); the union
                    // is ordered again and cut to the page.
                    rows.sort_by(|a, b| (a.path.as_bytes(), a.valid_from).cmp(&(b.path.as_bytes(), b.valid_from)));
                    rows.dedup_by(|a, b| a.path == b.path && a.valid_from == b.valid_from);
                    if let Some(limit) = limit {
                        rows.truncate(limit);
                    }
                    decode_versions(rows)
                }

                async fn commit_revision(
                    &self,
                    workspace: &Workspace,
                    revision: &Revision,
                    edit: &TreeEdit,
                ) -> Result<CommitOutcome, StoreError> {
                    let workspace_ref = workspace.workspace_ref.as_str();
                    let blobs = edit.blobs();
                    let ended = as_strs(&edit.ended);
                    let added: Vec<EntryRow> =
                        edit.added.iter().map(|entry| EntryRow::new(workspace_ref, entry, revision.seq)).collect();
                    let revision_row = RevisionRow::from(revision);
                    let at = revision.created_at.db();
                    let mut conn = self.conn().await?;
                    let committed = conn
                        .$tx::<_, Abort, _>(async |conn| {
                            // The head first: a concurrent commit holds this row until it ends,
                            // then this one sees the head it left and stops.
                            let mut head = diesel::update(workspaces::table)
                                .filter(workspaces::workspace_ref.eq(workspace_ref))
                                .into_boxed();
                            head = match workspace.head_seq {
                                Some(seq) => head.filter(workspaces::head_seq.eq(seq)),
                                None => head.filter(workspaces::head_seq.is_null()),
                            };
                            let moved = head
                                .set((
                                    workspaces::head_seq.eq(revision.seq),
                                    workspaces::head_revision.eq(&revision.revision),
                                ))
                                .execute(conn)
                                .await?
                                == 0;
                            if moved {
                                return Err(Abort::HeadMoved);
                            }
                            // Touching each blob takes its row: the collector cannot be deleting it.
                            let mut found: HashSet<String> = HashSet::new();
                            for chunk in blobs.chunks(ROWS_PER_STATEMENT) {
                                let touched: Vec<String> = diesel::update(
                                    workspace_blobs::table
                                        .filter(workspace_blobs::workspace_ref.eq(workspace_ref))
                                        .filter(workspace_blobs::sha256.eq_any(chunk)),
                                )
                                .set(workspace_blobs::touched_at.eq(at))
                                .returning(workspace_blobs::sha256)
                                .get_results(conn)
                                .await?;
                                found.extend(touched);
                            }
                            if found.len() < blobs.len() {
                                let missing = blobs.iter().filter(|sha| !found.contains(*sha)).cloned().collect();
                                return Err(Abort::MissingBlobs(missing));
                            }
                            for chunk in ended.chunks(ROWS_PER_STATEMENT) {
                                diesel::update(
                                    workspace_entries::table
                                        .filter(workspace_entries::workspace_ref.eq(workspace_ref))
                                        .filter(workspace_entries::valid_to.is_null())
                                        .filter(workspace_entries::path.eq_any(chunk)),
                                )
                                .set(workspace_entries::valid_to.eq(revision.seq))
                                .execute(conn)
                                .await?;
                            }
                            $insert_entries(conn, added).await?;
                            diesel::insert_into(workspace_revisions::table).values(&revision_row).execute(conn).await?;
                            Ok(())
                        })
                        .await;
                    match committed {
                        Ok(()) => Ok(CommitOutcome::Committed),
                        Err(Abort::HeadMoved) => Ok(CommitOutcome::HeadMoved),
                        Err(Abort::MissingBlobs(missing)) => Ok(CommitOutcome::MissingBlobs(missing)),
                        Err(Abort::Db(err)) => Err(db_error(err)),
                        Err(Abort::BlobStore(err)) => Err(StoreError::Unavailable(err)),
                        Err(Abort::Quota(exceeded)) => Err(StoreError::QuotaExceeded(exceeded)),
                    }
                }

                async fn register_blobs(
                    &self,
                    workspace: &Workspace,
                    blobs: &[(String, u64)],
                    at: Timestamp,
                    quota: Option<u64>,
                ) -> Result<(), StoreError> {
                    let workspace_ref = workspace.workspace_ref.as_str();
                    let mut conn = self.conn().await?;
                    // One statement each (SQLite's async wrapper cannot batch an upsert), in one
                    // transaction: blobs are registered in bulk only when old workspaces move over.
                    conn.$tx::<_, Abort, _>(async |conn| {
                        let mut added = 0i64;
                        for (sha256, size) in blobs {
                            let size = i64::try_from(*size).unwrap_or(i64::MAX);
                            let inserted = diesel::insert_into(workspace_blobs::table)
                                .values((
                                    workspace_blobs::workspace_ref.eq(workspace_ref),
                                    workspace_blobs::sha256.eq(sha256.as_str()),
                                    workspace_blobs::size.eq(size),
                                    workspace_blobs::touched_at.eq(at.db()),
                                ))
                                .on_conflict_do_nothing()
                                .execute(conn)
                                .await?;
                            if inserted == 0 {
                                diesel::update(workspace_blobs::table)
                                    .filter(workspace_blobs::workspace_ref.eq(workspace_ref))
                                    .filter(workspace_blobs::sha256.eq(sha256.as_str()))
                                    .set(workspace_blobs::touched_at.eq(at.db()))
                                    .execute(conn)
                                    .await?;
                            } else {
                                added = added.saturating_add(size);
                            }
                        }
                        // Only what is new to the store counts: an upload of content it holds
                        // already stores nothing more.
                        if added > 0 {
                            let org = workspace.org_id.db();
                            $crate::take_quota!(conn, org, stored_bytes, projects_domain::Quota::StorageBytes, added, quota)?;
                        }
                        Ok(())
                    })
                    .await
                    .map_err(|abort| match abort {
                        Abort::Quota(exceeded) => StoreError::QuotaExceeded(exceeded),
                        Abort::Db(err) => db_error(err),
                        Abort::BlobStore(err) => StoreError::Unavailable(err),
                        Abort::HeadMoved | Abort::MissingBlobs(_) => StoreError::Unexpected(anyhow::anyhow!("not a commit")),
                    })
                }

                async fn touch_blobs(
                    &self,
                    workspace_ref: &str,
                    sha256s: &[String],
                    at: Timestamp,
                ) -> Result<Vec<(String, u64)>, StoreError> {
                    let mut conn = self.conn().await?;
                    let mut found = Vec::new();
                    for chunk in sha256s.chunks(ROWS_PER_STATEMENT) {
                        let present: Vec<(String, i64)> = workspace_blobs::table
                            .filter(workspace_blobs::workspace_ref.eq(workspace_ref))
                            .filter(workspace_blobs::sha256.eq_any(chunk))
                            .select((workspace_blobs::sha256, workspace_blobs::size))
                            .load(&mut conn)
                            .await
                            .map_err(db_error)?;
                        // Never waits on a row: one a commit holds is being touched by it, one
                        // the collector holds is going (a commit naming it is refused). Waiting
                        // here could deadlock with a commit touching the same rows in another
                        // order; the rows this claims are its own until it ends.
                        conn.$tx::<_, diesel::result::Error, _>(async |conn| {
                            let free: Vec<String> = workspace_blobs::table
                                .filter(workspace_blobs::workspace_ref.eq(workspace_ref))
                                .filter(workspace_blobs::sha256.eq_any(chunk))
                                .select(workspace_blobs::sha256)
                                $($claim)*
                                .load(conn)
                                .await?;
                            diesel::update(
                                workspace_blobs::table
                                    .filter(workspace_blobs::workspace_ref.eq(workspace_ref))
                                    .filter(workspace_blobs::sha256.eq_any(free)),
                            )
                            .set(workspace_blobs::touched_at.eq(at.db()))
                            .execute(conn)
                            .await
                        })
                        .await
                        .map_err(db_error)?;
                        found.extend(present.into_iter().map(|(sha, size)| (sha, u64::try_from(size).unwrap_or_default())));
                    }
                    Ok(found)
                }

                async fn workspaces_after(&self, after: Option<&str>, limit: usize) -> Result<Vec<Workspace>, StoreError> {
                    let mut conn = self.conn().await?;
                    workspaces::table
                        .filter(workspaces::workspace_ref.gt(after.unwrap_or_default()))
                        .order(workspaces::workspace_ref)
                        .limit(limit as i64)
                        .select(WorkspaceRow::as_select())
                        .load(&mut conn)
                        .await
                        .map(|rows| rows.into_iter().map(Workspace::from).collect())
                        .map_err(db_error)
                }

                async fn expire_revisions(&self, workspace_ref: &str, keep_from: i64) -> Result<u64, StoreError> {
                    let mut conn = self.conn().await?;
                    conn.$tx::<_, diesel::result::Error, _>(async |conn| {
                        diesel::delete(
                            workspace_entries::table
                                .filter(workspace_entries::workspace_ref.eq(workspace_ref))
                                .filter(workspace_entries::valid_to.le(keep_from)),
                        )
                        .execute(conn)
                        .await?;
                        diesel::delete(
                            workspace_revisions::table
                                .filter(workspace_revisions::workspace_ref.eq(workspace_ref))
                                .filter(workspace_revisions::seq.lt(keep_from)),
                        )
                        .execute(conn)
                        .await
                    })
                    .await
                    .map(|removed| removed as u64)
                    .map_err(db_error)
                }

                async fn collect_blobs(
                    &self,
                    cutoff: Timestamp,
                    limit: usize,
                    delete: &DeleteBlobs,
                ) -> Result<u64, StoreError> {
                    let mut conn = self.conn().await?;
                    let collected = conn
                        .$tx::<_, Abort, _>(async |conn| {
                            let referenced = workspace_entries::table
                                .filter(workspace_entries::workspace_ref.eq(workspace_blobs::workspace_ref))
                                .filter(workspace_entries::sha256.eq(workspace_blobs::sha256.nullable()));
                            let doomed: Vec<(String, String, i64)> = workspace_blobs::table
                                .filter(workspace_blobs::touched_at.lt(cutoff.db()))
                                .filter(diesel::dsl::not(diesel::dsl::exists(referenced)))
                                .order((workspace_blobs::workspace_ref, workspace_blobs::sha256))
                                .limit(limit as i64)
                                .select((workspace_blobs::workspace_ref, workspace_blobs::sha256, workspace_blobs::size))
                                $($claim)*
                                .load(conn)
                                .await?;
                            if doomed.is_empty() {
                                return Ok(0);
                            }
                            // The rows stay locked (or the database stays written to) until the
                            // objects are gone: a writer touching one of them waits, then finds
                            // it gone and uploads again.
                            let objects = doomed.iter().map(|(workspace_ref, sha256, _)| (workspace_ref.clone(), sha256.clone()));
                            delete(objects.collect()).await.map_err(Abort::BlobStore)?;
                            let mut by_workspace: std::collections::BTreeMap<&str, (Vec<&str>, i64)> = Default::default();
                            for (workspace_ref, sha256, size) in &doomed {
                                let (sha256s, bytes) = by_workspace.entry(workspace_ref).or_default();
                                sha256s.push(sha256);
                                *bytes += size;
                            }
                            for (workspace_ref, (sha256s, bytes)) in by_workspace {
                                diesel::delete(
                                    workspace_blobs::table
                                        .filter(workspace_blobs::workspace_ref.eq(workspace_ref))
                                        .filter(workspace_blobs::sha256.eq_any(sha256s)),
                                )
                                .execute(conn)
                                .await?;
                                let owner = workspaces::table
                                    .filter(workspaces::workspace_ref.eq(workspace_ref))
                                    .select(workspaces::org_id);
                                diesel::update(orgs::table)
                                    .filter(orgs::id.eq_any(owner))
                                    .set(orgs::stored_bytes.eq(orgs::stored_bytes - bytes))
                                    .execute(conn)
                                    .await?;
                            }
                            Ok(doomed.len() as u64)
                        })
                        .await;
                    match collected {
                        Ok(count) => Ok(count),
                        Err(Abort::BlobStore(err)) => Err(StoreError::Unavailable(err)),
                        Err(Abort::Db(err)) => Err(db_error(err)),
                        Err(Abort::HeadMoved | Abort::MissingBlobs(_) | Abort::Quota(_)) => Ok(0),
                    }
                }

                async fn open_session(&self, session: &Session) -> Result<(), StoreError> {
                    let mut conn = self.conn().await?;
                    diesel::insert_into(workspace_sessions::table)
                        .values(SessionRow::from(session))
                        .execute(&mut conn)
                        .await
                        .map(drop)
                        .map_err(db_error)
                }

                async fn touch_session(
                    &self,
                    org_id: OrgId,
                    workspace_ref: &str,
                    session_ref: &str,
                    state: Option<SessionState>,
                    at: Timestamp,
                ) -> Result<Option<Session>, StoreError> {
                    let mut conn = self.conn().await?;
                    let target = workspace_sessions::table
                        .filter(workspace_sessions::org_id.eq(org_id.db()))
                        .filter(workspace_sessions::workspace_ref.eq(workspace_ref))
                        .filter(workspace_sessions::session_ref.eq(session_ref))
                        .filter(workspace_sessions::closed_at.is_null());
                    let updated = match state {
                        Some(state) => {
                            diesel::update(target)
                                .set((
                                    workspace_sessions::state.eq(state.as_str()),
                                    workspace_sessions::last_used_at.eq(at.db()),
                                ))
                                .returning(SessionRow::as_returning())
                                .get_result(&mut conn)
                                .await
                        }
                        None => {
                            diesel::update(target)
                                .set(workspace_sessions::last_used_at.eq(at.db()))
                                .returning(SessionRow::as_returning())
                                .get_result(&mut conn)
                                .await
                        }
                    };
                    updated.optional().map_err(db_error)?.map(|row| row.decode().map_err(StoreError::from)).transpose()
                }

                async fn close_session(
                    &self,
                    org_id: OrgId,
                    workspace_ref: &str,
                    session_ref: &str,
                    at: Timestamp,
                ) -> Result<Option<Session>, StoreError> {
                    let mut conn = self.conn().await?;
                    diesel::update(
                        workspace_sessions::table
                            .filter(workspace_sessions::org_id.eq(org_id.db()))
                            .filter(workspace_sessions::workspace_ref.eq(workspace_ref))
                            .filter(workspace_sessions::session_ref.eq(session_ref))
                            .filter(workspace_sessions::closed_at.is_null()),
                    )
                    .set((
                        workspace_sessions::state.eq(SessionState::Closed.as_str()),
                        workspace_sessions::closed_at.eq(at.db()),
                        workspace_sessions::last_used_at.eq(at.db()),
                    ))
                    .returning(SessionRow::as_returning())
                    .get_result(&mut conn)
                    .await
                    .optional()
                    .map_err(db_error)?
                    .map(|row| row.decode().map_err(StoreError::from))
                    .transpose()
                }

                async fn list_sessions(
                    &self,
                    org_id: OrgId,
                    workspace_ref: &str,
                    state: Option<SessionState>,
                    page: PageRequest,
                ) -> Result<Page<Session>, StoreError> {
                    use $crate::diesel::dsl::sql;
                    use $crate::diesel::sql_types::{Bool, Text};
                    // A ref is a 6-character prefix and 32 hex digits: the digits break ties, as
                    // an id does elsewhere (SQLite and PostgreSQL both have `substr`).
                    let digits = || sql::<Text>("substr(session_ref, 7)");
                    let mut query = workspace_sessions::table
                        .filter(workspace_sessions::org_id.eq(org_id.db()))
                        .filter(workspace_sessions::workspace_ref.eq(workspace_ref))
                        .order((workspace_sessions::created_at.desc(), digits().desc()))
                        .limit(page.fetch_limit())
                        .select(SessionRow::as_select())
                        .into_boxed();
                    if let Some(state) = state {
                        query = query.filter(workspace_sessions::state.eq(state.as_str()));
                    }
                    if let Some(after) = page.after {
                        let at = after.created_at.db();
                        let earlier_tie = sql::<Bool>("substr(session_ref, 7) < ").bind::<Text, _>(after.id.simple().to_string());
                        query = query.filter(workspace_sessions::created_at.le(at));
                        query = query.filter(workspace_sessions::created_at.lt(at).or(workspace_sessions::created_at.eq(at).and(earlier_tie)));
                    }
                    let mut conn = self.conn().await?;
                    let rows: Vec<SessionRow> = query.load(&mut conn).await.map_err(db_error)?;
                    let sessions = rows.into_iter().map(|row| row.decode()).collect::<anyhow::Result<Vec<Session>>>()?;
                    let (items, next) = page.split(sessions, |session| Cursor {
                        created_at: session.created_at,
                        id: $crate::uuid::Uuid::try_parse(session.session_ref.get(6..).unwrap_or_default()).unwrap_or_default(),
                    });
                    Ok(Page { items, next })
                }

                async fn live_session(
                    &self,
                    org_id: OrgId,
                    workspace_ref: &str,
                    since: Timestamp,
                ) -> Result<Option<Session>, StoreError> {
                    let mut conn = self.conn().await?;
                    workspace_sessions::table
                        .filter(workspace_sessions::org_id.eq(org_id.db()))
                        .filter(workspace_sessions::workspace_ref.eq(workspace_ref))
                        .filter(workspace_sessions::closed_at.is_null())
                        .filter(workspace_sessions::last_used_at.ge(since.db()))
                        .order((workspace_sessions::last_used_at.desc(), workspace_sessions::session_ref.desc()))
                        .select(SessionRow::as_select())
                        .first(&mut conn)
                        .await
                        .optional()
                        .map_err(db_error)?
                        .map(|row| row.decode().map_err(StoreError::from))
                        .transpose()
                }
            }
        };
    };
}
