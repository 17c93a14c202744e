//! A workspace's history: reading its tree at any revision, writing revisions (a change set, a
//! whole tree, a roll back) by compare-and-swap on the head, diffs, and carrying over workspaces
//! whose head is still a manifest object from before the tree store.

use std::collections::BTreeMap;

use futures::stream::BoxStream;
use futures::StreamExt;
use projects_domain::layout::{manifest_key, workspace_prefix};
use projects_domain::{
    build_tree, pair_versions, plan_changes, plan_replace, plan_restore, Child, EntryKind, HeadView, Manifest,
    ManifestEntry, PathChange, Permission, TreeChange, TreeEdit, TreeEntry, TreeError, TreeNeeds, ValidationErrors,
    WorkspacePath,
};
use projects_ports::{ChildPosition, CommitOutcome, Revision, RevisionKey, Workspace};

use crate::workspaces::{file_path, parse_path, unavailable};
use crate::{App, AppError, Principal, Resource};

/// A head moved by another node meanwhile is re-read and the change re-planned, up to this many
/// times; the writers of one node take turns (see `writers`), so what races is one writer per
/// node. A lost race writes nothing: the commit is one transaction. A writer that still loses is
/// told to retry (503), never 412: it named no head.
const WRITE_ATTEMPTS: u32 = 64;
/// The longest random pause after a lost race, in milliseconds, so that two nodes' writers stop
/// re-planning in lockstep. It stays short: the winner's node sends its next writer at once, and
/// a loser that slept long would lose again and again to that node's queue.
const MAX_PAUSE_MS: u64 = 4;
/// A write that needed this many attempts or more is logged as contended.
const CONTENDED_AFTER: u32 = 8;

/// Listings and diffs page by this many items unless asked otherwise, and never by more.
pub const DEFAULT_PAGE: usize = 1_000;
pub const MAX_PAGE: usize = 10_000;

/// Most blobs one `blobs/missing` question may name.
pub const MAX_BLOB_QUESTION: usize = 10_000;

/// What a write does to the head's tree.
pub(crate) enum TreeWrite {
    Changes(Vec<TreeChange>),
    /// `DELETE …/file`: the file must be there (404 otherwise).
    DeleteFile(WorkspacePath),
    /// A whole new tree (from [`build_tree`]).
    Replace(Vec<TreeEntry>),
    /// Back to the tree of this revision.
    Restore(i64),
}

/// A revision just made, with what it changed.
pub(crate) struct Written {
    pub revision: Revision,
    pub edit: TreeEdit,
}

/// How to list a directory.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub path: String,
    pub revision: Option<String>,
    /// Every entry below the path, in path order, instead of its direct children.
    pub recursive: bool,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// A page of a listing.
#[derive(Debug, Clone)]
pub struct Listing {
    pub workspace: Workspace,
    pub path: WorkspacePath,
    pub items: Vec<Child>,
    /// Where the next page starts, when there is one.
    pub next_cursor: Option<String>,
}

/// A page of a diff.
#[derive(Debug, Clone)]
pub struct Diff {
    pub from: String,
    pub to: String,
    pub changes: Vec<PathChange>,
    pub next_cursor: Option<String>,
}

/// One change of a change set as a caller sends it.
#[derive(Debug, Clone)]
pub enum ChangeInput {
    Put { path: String, sha256: String, size: u64, mode: Option<u32>, mtime_unix_ms: Option<i64> },
    Delete { path: String },
    Move { from: String, path: String },
}

/// A revision's manifest, its entries read page by page.
pub struct ManifestExport {
    pub revision: Revision,
    pub entries: BoxStream<'static, Result<Vec<ManifestEntry>, AppError>>,
}

fn page_size(limit: Option<u64>) -> Result<usize, AppError> {
    match limit {
        None => Ok(DEFAULT_PAGE),
        Some(n) if (1..=MAX_PAGE as u64).contains(&n) => Ok(n as usize),
        Some(_) => Err(ValidationErrors::single("limit", format!("must be between 1 and {MAX_PAGE}")).into()),
    }
}

fn bad_cursor() -> AppError {
    ValidationErrors::single("cursor", "is not a cursor this listing gave").into()
}

/// A non-recursive listing's cursor: `d/` or `f/` and the last name.
fn child_cursor(child: &TreeEntry) -> String {
    format!("{}/{}", if child.is_dir() { "d" } else { "f" }, child.path.name())
}

fn parse_child_cursor(raw: &str) -> Result<ChildPosition, AppError> {
    let (kind, name) = raw.split_once('/').ok_or_else(bad_cursor)?;
    let is_dir = match kind {
        "d" => true,
        "f" => false,
        _ => return Err(bad_cursor()),
    };
    if name.is_empty() || name.contains('/') || name.chars().any(char::is_control) {
        return Err(bad_cursor());
    }
    Ok(ChildPosition { is_dir, name: name.to_owned() })
}

fn parse_path_cursor(raw: &str) -> Result<WorkspacePath, AppError> {
    let path = WorkspacePath::parse(raw).map_err(|_| bad_cursor())?;
    if path.as_str() != raw || path.is_root() {
        return Err(bad_cursor());
    }
    Ok(path)
}

impl From<TreeError> for AppError {
    fn from(err: TreeError) -> Self {
        match err {
            TreeError::Conflict(why) => AppError::InvalidPath(why),
            TreeError::Invalid(field) => AppError::Invalid(field.into()),
        }
    }
}

impl App {
    /// The position of the tree to read: `revision` (404 when unknown or collected) or the head;
    /// `None` for a workspace never written.
    pub(crate) async fn tree_at(&self, workspace: &Workspace, revision: Option<&str>) -> Result<Option<i64>, AppError> {
        let Some(revision) = revision else {
            return Ok(workspace.head_seq);
        };
        if !projects_domain::is_revision_id(revision) {
            return Err(AppError::NotFound(Resource::Revision));
        }
        let found = self.workspaces.find_revision(&workspace.workspace_ref, RevisionKey::Id(revision)).await?;
        Ok(Some(found.ok_or(AppError::NotFound(Resource::Revision))?.seq))
    }

    /// A directory of the caller's workspace: its direct children (directories first, then by
    /// name) or, `recursive`, everything below it in path order; a page at a time.
    pub async fn list_files(
        &self,
        principal: &Principal,
        id_or_slug: &str,
        query: ListQuery,
    ) -> Result<Listing, AppError> {
        principal.require(Permission::ProjectsRead)?;
        principal.require(Permission::RunsRead)?;
        let path = parse_path(&query.path)?;
        let limit = page_size(query.limit)?;
        let (_, workspace) = self.my_workspace(principal, id_or_slug).await?;
        let Some(seq) = self.tree_at(&workspace, query.revision.as_deref()).await? else {
            return Ok(Listing { workspace, path, items: Vec::new(), next_cursor: None });
        };
        let workspace_ref = workspace.workspace_ref.as_str();
        let mut entries = if query.recursive {
            let after = query.cursor.as_deref().map(parse_path_cursor).transpose()?;
            self.workspaces.entries_under(workspace_ref, seq, &path, after.as_ref(), Some(limit + 1)).await?
        } else {
            let after = query.cursor.as_deref().map(parse_child_cursor).transpose()?;
            self.workspaces.children(workspace_ref, seq, &path, after.as_ref(), limit + 1).await?
        };
        let next_cursor = if entries.len() > limit {
            entries.truncate(limit);
            entries.last().map(|last| if query.recursive { last.path.as_str().to_owned() } else { child_cursor(last) })
        } else {
            None
        };
        // An implied directory has children by definition; only explicit ones (rare: snapshots
        // name them) are asked, one bounded probe each.
        let explicit: Vec<WorkspacePath> =
            entries.iter().filter(|e| e.is_dir() && !e.implied).map(|e| e.path.clone()).collect();
        let mut with_children: std::collections::HashSet<WorkspacePath> =
            entries.iter().filter(|e| e.implied).map(|e| e.path.clone()).collect();
        if !explicit.is_empty() {
            let counted = self.workspaces.child_counts(workspace_ref, seq, &explicit, 1).await?;
            with_children.extend(counted.into_iter().map(|(dir, _)| dir));
        }
        let items = entries
            .into_iter()
            .map(|entry| Child {
                name: entry.path.name().to_owned(),
                has_children: with_children.contains(&entry.path),
                kind: entry.kind,
                size: entry.size,
                mtime_unix_ms: entry.mtime_unix_ms,
                path: entry.path,
            })
            .collect();
        Ok(Listing { workspace, path, items, next_cursor })
    }

    /// The caller's workspace history, newest first; `cursor` is where the last page ended.
    pub async fn list_revisions(
        &self,
        principal: &Principal,
        id_or_slug: &str,
        limit: Option<u64>,
        cursor: Option<&str>,
    ) -> Result<(Vec<Revision>, Option<String>), AppError> {
        principal.require(Permission::ProjectsRead)?;
        principal.require(Permission::RunsRead)?;
        let limit = page_size(limit)?;
        let before =
            cursor.map(|raw| raw.parse::<i64>().ok().filter(|seq| *seq > 0).ok_or_else(bad_cursor)).transpose()?;
        let (_, workspace) = self.my_workspace(principal, id_or_slug).await?;
        let mut revisions = self.workspaces.list_revisions(&workspace.workspace_ref, before, limit + 1).await?;
        let next = if revisions.len() > limit {
            revisions.truncate(limit);
            revisions.last().map(|last| last.seq.to_string())
        } else {
            None
        };
        Ok((revisions, next))
    }

    /// What changed from revision `from` to `to` (files and symlinks, under `path`), a page at
    /// a time; the cost follows the number of changes, not the size of the tree.
    #[allow(clippy::too_many_arguments)]
    pub async fn diff(
        &self,
        principal: &Principal,
        id_or_slug: &str,
        from: &str,
        to: &str,
        raw_path: Option<&str>,
        limit: Option<u64>,
        cursor: Option<&str>,
    ) -> Result<Diff, AppError> {
        principal.require(Permission::ProjectsRead)?;
        principal.require(Permission::RunsRead)?;
        let under = parse_path(raw_path.unwrap_or_default())?;
        let limit = page_size(limit)?;
        let after = cursor.map(parse_path_cursor).transpose()?;
        let (_, workspace) = self.my_workspace(principal, id_or_slug).await?;
        let (Some(from_seq), Some(to_seq)) =
            (self.tree_at(&workspace, Some(from)).await?, self.tree_at(&workspace, Some(to)).await?)
        else {
            return Err(AppError::NotFound(Resource::Revision));
        };
        // At most two versions of a path reach both ends; a page of `limit` paths needs twice
        // as many rows, and one more path to know whether the last one is whole.
        let fetch = 2 * limit + 2;
        let mut versions = self
            .workspaces
            .versions_between(
                &workspace.workspace_ref,
                from_seq.min(to_seq),
                from_seq.max(to_seq),
                &under,
                after.as_ref(),
                false,
                Some(fetch),
            )
            .await?;
        let mut scanned_to = None;
        if versions.len() == fetch {
            if let Some(last) = versions.last().map(|v| v.entry.path.clone()) {
                versions.retain(|v| v.entry.path != last);
                scanned_to = versions.last().map(|v| v.entry.path.as_str().to_owned());
            }
        }
        let mut changes: Vec<PathChange> = pair_versions(versions, from_seq, to_seq)
            .into_iter()
            .filter(|c| match (&c.old, &c.new) {
                (Some(old), Some(new)) => !old.same_content(new),
                _ => true,
            })
            .collect();
        let next_cursor = if changes.len() > limit {
            changes.truncate(limit);
            changes.last().map(|c| c.path.as_str().to_owned())
        } else {
            scanned_to
        };
        Ok(Diff { from: from.to_owned(), to: to.to_owned(), changes, next_cursor })
    }

    /// Makes a new head whose tree is that of `revision`; history is kept.
    pub async fn restore_revision(
        &self,
        principal: &Principal,
        id_or_slug: &str,
        revision: &str,
        if_match: Option<String>,
    ) -> Result<String, AppError> {
        principal.require(Permission::RunsWrite)?;
        let (_, workspace) = self.my_workspace_to_write(principal, id_or_slug).await?;
        let seq = self.tree_at(&workspace, Some(revision)).await?.ok_or(AppError::NotFound(Resource::Revision))?;
        let message = Some(format!("restore {revision}"));
        let written = self.commit(principal, &workspace, if_match, message, TreeWrite::Restore(seq)).await?;
        Ok(written.revision.revision)
    }

    /// Several puts, deletes and moves as one revision; every put's blob uploaded first.
    pub async fn apply_changes(
        &self,
        principal: &Principal,
        id_or_slug: &str,
        base_revision: Option<String>,
        message: Option<String>,
        changes: Vec<ChangeInput>,
    ) -> Result<String, AppError> {
        principal.require(Permission::RunsWrite)?;
        let message = message.map(|m| crate::short_text("message", &m, 1_000)).transpose()?;
        let mtime_now = (self.clock.now().unix_timestamp_nanos() / 1_000_000) as i64;
        let mut planned = Vec::with_capacity(changes.len());
        let mut blobs: BTreeMap<String, (u64, String)> = BTreeMap::new();
        for change in changes {
            planned.push(match change {
                ChangeInput::Put { path, sha256, size, mode, mtime_unix_ms } => {
                    let path = file_path(&path)?;
                    if !projects_domain::workspace::is_sha256(&sha256) {
                        return Err(ValidationErrors::single(
                            "changes",
                            format!("{path}: sha256 must be 64 lowercase hex digits"),
                        )
                        .into());
                    }
                    blobs.insert(sha256.clone(), (size, path.as_str().to_owned()));
                    TreeChange::Put(TreeEntry::file(
                        path,
                        sha256,
                        size,
                        mtime_unix_ms.unwrap_or(mtime_now),
                        mode.or(Some(0o644)),
                    ))
                }
                ChangeInput::Delete { path } => TreeChange::Delete(file_path(&path)?),
                ChangeInput::Move { from, path } => TreeChange::Move { from: file_path(&from)?, to: file_path(&path)? },
            });
        }
        let (_, workspace) = self.my_workspace_to_write(principal, id_or_slug).await?;
        let sizes: Vec<(String, u64, String)> =
            blobs.into_iter().map(|(sha, (size, path))| (sha, size, path)).collect();
        self.check_blobs(&workspace, "changes", &sizes).await?;
        let written = self.commit(principal, &workspace, base_revision, message, TreeWrite::Changes(planned)).await?;
        Ok(written.revision.revision)
    }

    /// Publishes a whole tree at once: every file's blob must be uploaded already, with the size
    /// the entry says. With `base_revision`, a head that moved is a 412.
    pub async fn commit_snapshot(
        &self,
        principal: &Principal,
        id_or_slug: &str,
        base_revision: Option<String>,
        entries: Vec<ManifestEntry>,
    ) -> Result<String, AppError> {
        principal.require(Permission::RunsWrite)?;
        let tree = build_tree(entries)?;
        let (_, workspace) = self.my_workspace_to_write(principal, id_or_slug).await?;
        let sizes: Vec<(String, u64, String)> =
            tree.iter().filter_map(|e| e.sha256.clone().map(|sha| (sha, e.size, e.path.as_str().to_owned()))).collect();
        self.check_blobs(&workspace, "entries", &sizes).await?;
        let written = self.commit(principal, &workspace, base_revision, None, TreeWrite::Replace(tree)).await?;
        Ok(written.revision.revision)
    }

    /// Every `(sha256, size, path)` names a registered blob of that size (one query per few
    /// hundred); each is touched, so that the collector leaves it alone while the commit runs.
    async fn check_blobs(
        &self,
        workspace: &Workspace,
        field: &'static str,
        wanted: &[(String, u64, String)],
    ) -> Result<(), AppError> {
        let mut shas: Vec<String> = wanted.iter().map(|(sha, _, _)| sha.clone()).collect();
        shas.sort();
        shas.dedup();
        let found: std::collections::HashMap<String, u64> =
            self.workspaces.touch_blobs(&workspace.workspace_ref, &shas, self.clock.now()).await?.into_iter().collect();
        for (sha, size, path) in wanted {
            let message = match found.get(sha) {
                None => format!("{path} names blob {sha}, which was not uploaded"),
                Some(stored) if stored != size => {
                    format!("{path} says size {size} but blob {sha} holds {stored} bytes")
                }
                Some(_) => continue,
            };
            return Err(ValidationErrors::single(field, message).into());
        }
        Ok(())
    }

    /// Which of `sha256s` this workspace lacks (in the order asked); those it has are touched,
    /// so they outlive the collector's grace period from now.
    pub async fn missing_blobs(
        &self,
        principal: &Principal,
        id_or_slug: &str,
        sha256s: Vec<String>,
    ) -> Result<Vec<String>, AppError> {
        principal.require(Permission::RunsWrite)?;
        if sha256s.len() > MAX_BLOB_QUESTION {
            return Err(ValidationErrors::single("sha256", format!("at most {MAX_BLOB_QUESTION} at once")).into());
        }
        if let Some(bad) = sha256s.iter().find(|sha| !projects_domain::workspace::is_sha256(sha)) {
            return Err(ValidationErrors::single("sha256", format!("{bad:?} is not 64 lowercase hex digits")).into());
        }
        let (_, workspace) = self.my_workspace(principal, id_or_slug).await?;
        let present: std::collections::HashSet<String> = self
            .workspaces
            .touch_blobs(&workspace.workspace_ref, &sha256s, self.clock.now())
            .await?
            .into_iter()
            .map(|(sha, _)| sha)
            .collect();
        Ok(sha256s.into_iter().filter(|sha| !present.contains(sha)).collect())
    }

    /// Whether the workspace holds blob `sha256` (and its size).
    pub async fn blob_size(
        &self,
        principal: &Principal,
        id_or_slug: &str,
        sha256: &str,
    ) -> Result<Option<u64>, AppError> {
        principal.require(Permission::RunsRead)?;
        if !projects_domain::workspace::is_sha256(sha256) {
            return Ok(None);
        }
        let (_, workspace) = self.my_workspace(principal, id_or_slug).await?;
        let found =
            self.workspaces.touch_blobs(&workspace.workspace_ref, &[sha256.to_owned()], self.clock.now()).await?;
        Ok(found.into_iter().next().map(|(_, size)| size))
    }

    /// The Arkloop manifest of a revision (the head by default), its entries read a page at a
    /// time so that memory stays flat whatever the tree's size.
    pub async fn export_manifest(
        &self,
        principal: &Principal,
        id_or_slug: &str,
        revision: Option<&str>,
    ) -> Result<ManifestExport, AppError> {
        principal.require(Permission::ProjectsRead)?;
        principal.require(Permission::RunsRead)?;
        let (_, workspace) = self.my_workspace(principal, id_or_slug).await?;
        let seq = self.tree_at(&workspace, revision).await?.ok_or(AppError::NotFound(Resource::Revision))?;
        let found = self.workspaces.find_revision(&workspace.workspace_ref, RevisionKey::Seq(seq)).await?;
        let revision = found.ok_or(AppError::NotFound(Resource::Revision))?;
        let pages = self.pages_under(&workspace.workspace_ref, seq, WorkspacePath::root()).map(|page| {
            page.map(|page| page.iter().filter(|e| !e.implied).map(TreeEntry::to_manifest_entry).collect())
        });
        Ok(ManifestExport { revision, entries: pages.boxed() })
    }

    /// Every entry strictly below `dir` in revision `seq`, in path order, a page at a time: memory
    /// stays flat whatever the tree's size.
    pub(crate) fn pages_under(
        &self,
        workspace_ref: &str,
        seq: i64,
        dir: WorkspacePath,
    ) -> BoxStream<'static, Result<Vec<TreeEntry>, AppError>> {
        let store = self.workspaces.clone();
        let workspace_ref = workspace_ref.to_owned();
        futures::stream::unfold(Some(None::<WorkspacePath>), move |after| {
            let (store, workspace_ref, dir) = (store.clone(), workspace_ref.clone(), dir.clone());
            async move {
                let after = after?;
                match store.entries_under(&workspace_ref, seq, &dir, after.as_ref(), Some(DEFAULT_PAGE)).await {
                    Err(err) => Some((Err(AppError::from(err)), None)),
                    Ok(page) => {
                        let next = (page.len() == DEFAULT_PAGE).then(|| page.last().map(|e| e.path.clone()));
                        Some((Ok(page), next))
                    }
                }
            }
        })
        .boxed()
    }

    /// Plans `write` on the head of `workspace` and commits it as the next revision; when the
    /// head moved meanwhile, plans again on the new head (unless `if_match` pinned it).
    pub(crate) async fn commit(
        &self,
        principal: &Principal,
        workspace: &Workspace,
        if_match: Option<String>,
        message: Option<String>,
        write: TreeWrite,
    ) -> Result<Written, AppError> {
        let stale = || AppError::PreconditionFailed(Resource::WorkspaceFile);
        let turn = self.writers.enter(&workspace.workspace_ref).await;
        let mut current = workspace.clone();
        for attempt in 0..WRITE_ATTEMPTS {
            if attempt > 0 {
                let pause = rand::random_range(0..=MAX_PAUSE_MS);
                tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
            }
            // The head as it is now: another node moved it, or this node's writer ahead in line.
            if attempt > 0 || turn.waited {
                current = self
                    .workspaces
                    .find_workspace(workspace.org_id, &workspace.workspace_ref)
                    .await?
                    .ok_or(AppError::NotFound(Resource::Project))?;
            }
            if if_match.as_ref().is_some_and(|expected| current.head_revision.as_ref() != Some(expected)) {
                return Err(stale());
            }
            let base = match current.head_seq {
                Some(seq) => self.workspaces.find_revision(&current.workspace_ref, RevisionKey::Seq(seq)).await?,
                None => None,
            };
            let edit = self.plan(&current, base.as_ref(), &write).await?;
            // Checked on the plan: the compare-and-swap below makes it hold for the committed tree.
            let entries = |stats: &projects_domain::ManifestStats| stats.file_count + stats.dir_count;
            let held = base.as_ref().map_or(0, |base| entries(&base.stats));
            self.quotas
                .check(projects_domain::Quota::WorkspaceEntries, held, entries(&edit.stats))
                .map_err(AppError::QuotaExceeded)?;
            let revision = Revision {
                workspace_ref: current.workspace_ref.clone(),
                seq: current.head_seq.unwrap_or(0) + 1,
                revision: self.ids.new_id().simple().to_string(),
                base_revision: current.head_revision.clone(),
                author_user_id: Some(principal.user_id()),
                message: message.clone(),
                files_changed: edit.files_changed,
                stats: edit.stats,
                created_at: self.clock.now(),
            };
            match self.workspaces.commit_revision(&current, &revision, &edit).await? {
                CommitOutcome::Committed => {
                    self.heads.moved(&current.workspace_ref, revision.seq);
                    if attempt >= CONTENDED_AFTER {
                        tracing::warn!(workspace_ref = %current.workspace_ref, attempts = attempt + 1, "contended write");
                    }
                    return Ok(Written { revision, edit });
                }
                CommitOutcome::HeadMoved if if_match.is_some() => return Err(stale()),
                CommitOutcome::HeadMoved => continue,
                CommitOutcome::MissingBlobs(missing) => {
                    let message =
                        format!("blob {} is not uploaded (or was collected); upload it again", missing.join(", "));
                    return Err(ValidationErrors::single("sha256", message).into());
                }
            }
        }
        Err(AppError::Unavailable(anyhow::anyhow!(
            "the head of workspace {} moved {WRITE_ATTEMPTS} times while this write was planned",
            workspace.workspace_ref
        )))
    }

    /// The edit `write` makes on the head (`base`), reading only what it touches.
    async fn plan(
        &self,
        workspace: &Workspace,
        base: Option<&Revision>,
        write: &TreeWrite,
    ) -> Result<TreeEdit, AppError> {
        let stats = base.map(|b| b.stats).unwrap_or_default();
        let workspace_ref = workspace.workspace_ref.as_str();
        let Some(seq) = workspace.head_seq else {
            return Ok(match write {
                TreeWrite::Changes(changes) => plan_changes(HeadView::default(), changes)?,
                TreeWrite::DeleteFile(_) => return Err(AppError::NotFound(Resource::WorkspaceFile)),
                TreeWrite::Replace(tree) => plan_replace(Vec::new(), tree.clone(), stats),
                TreeWrite::Restore(_) => return Err(AppError::NotFound(Resource::Revision)),
            });
        };
        match write {
            TreeWrite::Changes(changes) => {
                Ok(plan_changes(self.head_view(workspace_ref, seq, changes, stats).await?, changes)?)
            }
            TreeWrite::DeleteFile(path) => {
                let found = self.workspaces.entries_at(workspace_ref, seq, std::slice::from_ref(path)).await?;
                if !found.iter().any(|e| e.kind == EntryKind::File) {
                    return Err(AppError::NotFound(Resource::WorkspaceFile));
                }
                let changes = [TreeChange::Delete(path.clone())];
                Ok(plan_changes(self.head_view(workspace_ref, seq, &changes, stats).await?, &changes)?)
            }
            TreeWrite::Replace(tree) => {
                let current =
                    self.workspaces.entries_under(workspace_ref, seq, &WorkspacePath::root(), None, None).await?;
                Ok(plan_replace(current, tree.clone(), stats))
            }
            TreeWrite::Restore(target) => {
                let versions = self
                    .workspaces
                    .versions_between(
                        workspace_ref,
                        *target.min(&seq),
                        *target.max(&seq),
                        &WorkspacePath::root(),
                        None,
                        true,
                        None,
                    )
                    .await?;
                Ok(plan_restore(pair_versions(versions, seq, *target), stats))
            }
        }
    }

    /// What `changes` must see of the head at `seq`, read in a few queries.
    async fn head_view(
        &self,
        workspace_ref: &str,
        seq: i64,
        changes: &[TreeChange],
        stats: projects_domain::ManifestStats,
    ) -> Result<HeadView, AppError> {
        let needs = TreeNeeds::of(changes);
        let exact: Vec<WorkspacePath> = needs.paths.union(&needs.subtrees).cloned().collect();
        let mut entries: BTreeMap<WorkspacePath, TreeEntry> = self
            .workspaces
            .entries_at(workspace_ref, seq, &exact)
            .await?
            .into_iter()
            .map(|e| (e.path.clone(), e))
            .collect();
        for subtree in &needs.subtrees {
            // Only a directory has anything below it.
            if entries.get(subtree).is_some_and(TreeEntry::is_dir) {
                for entry in self.workspaces.entries_under(workspace_ref, seq, subtree, None, None).await? {
                    entries.insert(entry.path.clone(), entry);
                }
            }
        }
        let dirs: Vec<WorkspacePath> = needs.child_counts.into_iter().collect();
        let cap = TreeNeeds::count_cap(changes);
        let child_counts = self.workspaces.child_counts(workspace_ref, seq, &dirs, cap).await?.into_iter().collect();
        Ok(HeadView { entries: entries.into_values().collect(), child_counts, stats })
    }

    /// A workspace whose head is still a manifest object (written before the tree store) gets its
    /// tree carried over as its first revision, under the same revision id, on first touch; its
    /// blobs are registered (unreferenced ones then age out through the collector) and the old
    /// manifests removed. Any other workspace is returned as it is.
    pub(crate) async fn carry_over(&self, workspace: Workspace) -> Result<Workspace, AppError> {
        let (Some(revision), None) = (&workspace.head_revision, workspace.head_seq) else {
            return Ok(workspace);
        };
        let workspace_ref = workspace.workspace_ref.clone();
        let manifest: Option<Manifest> = match self
            .blobs
            .get(&manifest_key(&workspace_ref, revision))
            .await
            .map_err(unavailable)?
        {
            None => None,
            Some(blob) => {
                let bytes: Vec<bytes::Bytes> =
                    blob.body.collect::<Vec<_>>().await.into_iter().collect::<Result<_, _>>().map_err(unavailable)?;
                Some(serde_json::from_slice(&bytes.concat()).map_err(|e| {
                    AppError::Unexpected(anyhow::anyhow!(
                        "manifest {revision} of {workspace_ref} is not valid JSON: {e}"
                    ))
                })?)
            }
        };
        let tree = build_tree(manifest.as_ref().map(|m| m.entries.clone()).unwrap_or_default()).map_err(|e| {
            AppError::Unexpected(anyhow::anyhow!("manifest {revision} of {workspace_ref} is invalid: {e:?}"))
        })?;
        let now = self.clock.now();
        let blob_dir = format!("{}/blobs/", workspace_prefix(&workspace_ref));
        let mut blobs: BTreeMap<String, u64> = self
            .blobs
            .list(&blob_dir)
            .await
            .map_err(unavailable)?
            .into_iter()
            .filter_map(|object| object.key.strip_prefix(&blob_dir).map(|sha| (sha.to_owned(), object.size)))
            .collect();
        // A referenced blob the store lacks is registered anyway: the tree is carried over as
        // it was, and reading that file reports the integrity failure it already was.
        for entry in tree.iter().filter(|e| e.kind == EntryKind::File) {
            if let Some(sha) = &entry.sha256 {
                blobs.entry(sha.clone()).or_insert(entry.size);
            }
        }
        let registered: Vec<(String, u64)> = blobs.into_iter().collect();
        // What was stored before quotas counted is carried over whatever they say now.
        self.workspaces.register_blobs(&workspace, &registered, now, None).await?;
        let edit = plan_replace(Vec::new(), tree, Default::default());
        let carried = Revision {
            workspace_ref: workspace_ref.clone(),
            seq: 1,
            revision: revision.clone(),
            base_revision: manifest.as_ref().and_then(|m| m.base_revision.clone()),
            author_user_id: None,
            message: Some("carried over from the manifest store".to_owned()),
            files_changed: edit.files_changed,
            stats: edit.stats,
            created_at: manifest.as_ref().map_or(now, |m| m.created_at),
        };
        match self.workspaces.commit_revision(&workspace, &carried, &edit).await? {
            CommitOutcome::Committed => {
                tracing::info!(
                    workspace_ref,
                    revision,
                    entries = edit.added.len(),
                    "carried a workspace over to the tree store"
                );
                let manifests = format!("{}/manifests", workspace_prefix(&workspace_ref));
                if let Err(err) = self.blobs.delete_prefix(&manifests).await {
                    tracing::warn!(workspace_ref, error = %err, "could not remove the old manifests");
                }
            }
            CommitOutcome::HeadMoved => {}
            CommitOutcome::MissingBlobs(missing) => {
                return Err(AppError::Unexpected(anyhow::anyhow!("blobs {missing:?} vanished while carrying over")));
            }
        }
        self.workspaces
            .find_workspace(workspace.org_id, &workspace_ref)
            .await?
            .ok_or(AppError::NotFound(Resource::Project))
    }
}
