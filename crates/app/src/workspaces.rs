use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::StreamExt;
use projects_domain::layout::{blob_key, manifest_key, upload_key};
use projects_domain::{
    is_session_ref, workspace_ref, ByteRange, Child, EntryKind, Manifest, ManifestEntry, ManifestIndex, ManifestStats,
    Permission, Project, SessionState, SessionType, WorkspacePath,
};
use projects_ports::{ByteStream, Session, Workspace};
use sha2::{Digest, Sha256};

use crate::{App, AppError, Principal, Resource};

/// How many parsed manifests are kept (least recently used out first); manifests never change,
/// so a revision is parsed once while it is in use.
const CACHED_MANIFESTS: usize = 256;
/// A head moved by someone else meanwhile is re-read and the change re-applied, up to this many
/// times: each loser of a race retries on the winner's head, so with N writers at once nobody
/// loses more than N - 1 times; the bound only stops a pathological storm.
const WRITE_ATTEMPTS: usize = 64;

/// Why an upload stopped, as seen where its bytes are counted and hashed: past the size limit,
/// or the body itself failed (the client hung up, reset, sent malformed framing). Anything else
/// that stops a `put` is the blob store's.
#[derive(Default)]
struct Upload {
    sha256: Sha256,
    size: u64,
    too_large: bool,
    body_failed: bool,
}

/// A manifest with its index, shared by every request that reads the same revision.
type Parsed = Arc<(Manifest, ManifestIndex)>;

/// Parsed manifests by workspace and revision, the least recently used going first when full.
#[derive(Default)]
pub(crate) struct ManifestCache {
    state: Mutex<CacheState>,
}

#[derive(Default)]
struct CacheState {
    /// Each entry with the tick of its last use.
    entries: HashMap<(String, String), (Parsed, u64)>,
    tick: u64,
}

impl ManifestCache {
    fn get(&self, key: &(String, String)) -> Option<Parsed> {
        let mut state = self.state.lock().ok()?;
        state.tick += 1;
        let tick = state.tick;
        let (parsed, last_used) = state.entries.get_mut(key)?;
        *last_used = tick;
        Some(parsed.clone())
    }

    fn put(&self, key: (String, String), value: Parsed) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        if state.entries.len() >= CACHED_MANIFESTS && !state.entries.contains_key(&key) {
            // A scan of a few hundred ticks: cheaper than the parse it saves, and no extra crate.
            let oldest = state.entries.iter().min_by_key(|(_, (_, last_used))| *last_used).map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                state.entries.remove(&oldest);
            }
        }
        state.tick += 1;
        let tick = state.tick;
        state.entries.insert(key, (value, tick));
    }
}

#[cfg(test)]
mod cache_tests {
    use super::*;

    fn parsed(revision: &str) -> Parsed {
        let manifest = Manifest {
            version: 1,
            revision: revision.to_owned(),
            base_revision: None,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            entries: Vec::new(),
            stats: Default::default(),
        };
        Arc::new((manifest, ManifestIndex::default()))
    }

    fn key(n: usize) -> (String, String) {
        ("wsref".to_owned(), n.to_string())
    }

    #[test]
    fn the_least_recently_used_revision_goes_first() {
        let cache = ManifestCache::default();
        for n in 0..CACHED_MANIFESTS {
            cache.put(key(n), parsed(&n.to_string()));
        }
        assert!(cache.get(&key(0)).is_some(), "0 is now the most recently used");
        cache.put(key(CACHED_MANIFESTS), parsed("new"));
        assert!(cache.get(&key(1)).is_none(), "1 was the least recently used");
        assert!(cache.get(&key(0)).is_some());
        assert_eq!(cache.get(&key(CACHED_MANIFESTS)).unwrap().0.revision, "new");
        assert!(cache.get(&key(2)).is_some(), "only one went");
    }
}

/// A workspace as `GET …/workspace` shows it.
#[derive(Debug, Clone)]
pub struct WorkspaceView {
    pub project_id: projects_domain::ProjectId,
    pub workspace: Workspace,
    /// The most recently used live session, if any: it makes the workspace `active`.
    pub active_session: Option<Session>,
}

/// A file about to be streamed.
pub struct FileRead {
    pub entry: ManifestEntry,
    /// The stored blob's size: what `Content-Length` and `Content-Range` say, whatever the tree's
    /// entry claims.
    pub size: u64,
    /// The bytes sent: all of them, or the requested range.
    pub range: Option<std::ops::Range<u64>>,
    /// `None` when the caller already holds this content: nothing was read from the blob store.
    pub body: Option<ByteStream>,
}

/// What a write made.
#[derive(Debug, Clone)]
pub struct FileWritten {
    pub path: WorkspacePath,
    pub size: u64,
    pub sha256: String,
    pub revision: String,
    /// False when it replaced a file.
    pub created: bool,
}

fn unavailable(err: anyhow::Error) -> AppError {
    AppError::Unavailable(err.context("blob store"))
}

fn parse_path(raw: &str) -> Result<WorkspacePath, AppError> {
    WorkspacePath::parse(raw).map_err(|e| AppError::InvalidPath(e.message))
}

fn file_path(raw: &str) -> Result<WorkspacePath, AppError> {
    let path = parse_path(raw)?;
    if path.is_root() {
        return Err(AppError::InvalidPath("names the root, not a file".into()));
    }
    Ok(path)
}

impl App {
    /// The caller's workspace ref of a project (see [`projects_domain::workspace_ref`]).
    pub fn workspace_ref(&self, principal: &Principal, project: &Project) -> String {
        workspace_ref(principal.org_id(), principal.user_id(), project.id)
    }

    /// The caller's workspace of a visible project, made if missing, with `last_used_at` bumped.
    async fn my_workspace(&self, principal: &Principal, id_or_slug: &str) -> Result<(Project, Workspace), AppError> {
        let project = self.get_project(principal, id_or_slug).await?.project;
        let now = self.clock.now();
        let wanted = Workspace {
            workspace_ref: self.workspace_ref(principal, &project),
            org_id: principal.org_id(),
            project_id: project.id,
            user_id: principal.user_id(),
            head_revision: None,
            created_at: now,
            last_used_at: now,
        };
        let workspace = self.workspaces.touch_workspace(&wanted).await.map_err(|err| match err {
            projects_ports::StoreError::MissingReference { .. } => AppError::NotFound(Resource::Project),
            other => other.into(),
        })?;
        Ok((project, workspace))
    }

    pub async fn get_workspace(&self, principal: &Principal, id_or_slug: &str) -> Result<WorkspaceView, AppError> {
        principal.require(Permission::ProjectsRead)?;
        let (project, workspace) = self.my_workspace(principal, id_or_slug).await?;
        let since = self.clock.now() - self.session_ttl;
        let active_session = self.workspaces.live_session(principal.org_id(), &workspace.workspace_ref, since).await?;
        Ok(WorkspaceView { project_id: project.id, workspace, active_session })
    }

    /// The head manifest, parsed and indexed (cached per revision). `None` without one, or when
    /// its object is missing.
    async fn head_manifest(&self, workspace: &Workspace) -> Result<Option<Parsed>, AppError> {
        let Some(revision) = &workspace.head_revision else {
            return Ok(None);
        };
        let key = (workspace.workspace_ref.clone(), revision.clone());
        if let Some(cached) = self.manifests.get(&key) {
            return Ok(Some(cached));
        }
        let Some(blob) =
            self.blobs.get(&manifest_key(&workspace.workspace_ref, revision)).await.map_err(unavailable)?
        else {
            return Ok(None);
        };
        let bytes: Vec<Bytes> =
            blob.body.collect::<Vec<_>>().await.into_iter().collect::<Result<_, _>>().map_err(unavailable)?;
        let manifest: Manifest = serde_json::from_slice(&bytes.concat())
            .map_err(|e| AppError::Unexpected(anyhow::anyhow!("manifest {revision} is not valid JSON: {e}")))?;
        let index = ManifestIndex::build(&manifest)
            .map_err(|e| AppError::Unexpected(anyhow::anyhow!("manifest {revision} is invalid: {e}")))?;
        let parsed = Arc::new((manifest, index));
        self.manifests.put(key, parsed.clone());
        Ok(Some(parsed))
    }

    /// The direct children of a directory of the caller's workspace (empty when there is nothing).
    pub async fn list_files(
        &self,
        principal: &Principal,
        id_or_slug: &str,
        raw_path: &str,
    ) -> Result<(Workspace, WorkspacePath, Vec<Child>), AppError> {
        principal.require(Permission::ProjectsRead)?;
        principal.require(Permission::RunsRead)?;
        let path = parse_path(raw_path)?;
        let (_, workspace) = self.my_workspace(principal, id_or_slug).await?;
        let children = match self.head_manifest(&workspace).await? {
            Some(parsed) => parsed.1.children(&path).to_vec(),
            None => Vec::new(),
        };
        Ok((workspace, path, children))
    }

    /// A file of the caller's workspace, streamed from the blob store, whole or one range.
    pub async fn read_file(
        &self,
        principal: &Principal,
        id_or_slug: &str,
        raw_path: &str,
        range: Option<ByteRange>,
        held_sha256s: &[String],
    ) -> Result<FileRead, AppError> {
        principal.require(Permission::ProjectsRead)?;
        principal.require(Permission::RunsRead)?;
        let path = file_path(raw_path)?;
        let (_, workspace) = self.my_workspace(principal, id_or_slug).await?;
        let not_found = || AppError::NotFound(Resource::WorkspaceFile);
        let parsed = self.head_manifest(&workspace).await?.ok_or_else(not_found)?;
        let entry = parsed.1.file(&path).ok_or_else(not_found)?.clone();
        // A caller that holds the content already (If-None-Match, `*` for any) is answered
        // before any range, and without reading the blob.
        let sha256 = entry.sha256.clone().unwrap_or_default();
        if held_sha256s.iter().any(|held| held == "*" || *held == sha256) {
            return Ok(FileRead { size: entry.size, entry, range: None, body: None });
        }
        let key = blob_key(&workspace.workspace_ref, &sha256);
        let missing = || self.content_missing(&workspace, &entry);
        let Some(requested) = range else {
            let blob = self.blobs.get(&key).await.map_err(unavailable)?.ok_or_else(missing)?;
            self.check_size(&workspace, &entry, blob.size);
            return Ok(FileRead { size: blob.size, entry, range: None, body: Some(blob.body) });
        };
        // The entry's size resolves the range without a round trip; the blob has the last word:
        // when it disagrees, the range is resolved again against the blob's size, once.
        let range = requested.resolve(entry.size).ok_or(AppError::RangeNotSatisfiable { size: entry.size })?;
        let blob = self.blobs.get_range(&key, range.clone()).await.map_err(unavailable)?.ok_or_else(missing)?;
        if blob.size == entry.size {
            return Ok(FileRead { size: blob.size, entry, range: Some(range), body: Some(blob.body) });
        }
        self.check_size(&workspace, &entry, blob.size);
        let size = blob.size;
        let range = requested.resolve(size).ok_or(AppError::RangeNotSatisfiable { size })?;
        let blob = self.blobs.get_range(&key, range.clone()).await.map_err(unavailable)?.ok_or_else(missing)?;
        Ok(FileRead { size, entry, range: Some(range), body: Some(blob.body) })
    }

    /// A tree entry whose blob is gone from the store: not the caller's doing, and nothing a retry
    /// mends. Logged and counted as an integrity failure; the caller gets the seed's 404.
    fn content_missing(&self, workspace: &Workspace, entry: &ManifestEntry) -> AppError {
        self.integrity_failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tracing::error!(
            workspace_ref = workspace.workspace_ref,
            path = entry.path,
            sha256 = entry.sha256.as_deref().unwrap_or_default(),
            "integrity failure: a file of the tree has no content in the blob store"
        );
        AppError::NotFound(Resource::WorkspaceFileContent)
    }

    /// Logs and counts an entry whose size is not its blob's (written before sizes were checked).
    fn check_size(&self, workspace: &Workspace, entry: &ManifestEntry, blob_size: u64) {
        if blob_size != entry.size {
            self.integrity_failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tracing::error!(
                workspace_ref = workspace.workspace_ref,
                path = entry.path,
                entry_size = entry.size,
                blob_size,
                "integrity failure: a file's size in the tree is not its blob's; serving the blob's"
            );
        }
    }

    /// How many integrity failures (tree entries without content, or with a wrong size) reads
    /// have met since start.
    pub fn integrity_failures_total(&self) -> u64 {
        self.integrity_failures.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Streams `body` into a blob while hashing it, then commits a manifest with the file at
    /// `raw_path` by compare-and-swap on the head. `if_match` (a revision) makes a moved head a 412.
    pub async fn write_file(
        &self,
        principal: &Principal,
        id_or_slug: &str,
        raw_path: &str,
        body: ByteStream,
        if_match: Option<String>,
    ) -> Result<FileWritten, AppError> {
        principal.require(Permission::RunsWrite)?;
        let path = file_path(raw_path)?;
        let (_, workspace) = self.my_workspace(principal, id_or_slug).await?;
        let (sha256, size) = self.store_blob(&workspace, body, None).await?;
        let entry = ManifestEntry {
            path: path.as_str().to_owned(),
            kind: EntryKind::File,
            size,
            mtime_unix_ms: (self.clock.now().unix_timestamp_nanos() / 1_000_000) as i64,
            sha256: Some(sha256.clone()),
            mode: Some(0o644),
            link_target: None,
        };
        let mut created = true;
        let revision = self
            .commit(&workspace, if_match, |entries| {
                let before = entries.len();
                entries.retain(|e| e.path != entry.path);
                created = entries.len() == before;
                // A file where a directory was (or below a file) is refused by the index check.
                entries.push(entry.clone());
                Ok(())
            })
            .await?;
        Ok(FileWritten { path, size, sha256, revision, created })
    }

    /// Removes a file from the caller's workspace (a new revision without it).
    pub async fn delete_file(
        &self,
        principal: &Principal,
        id_or_slug: &str,
        raw_path: &str,
        if_match: Option<String>,
    ) -> Result<String, AppError> {
        principal.require(Permission::RunsWrite)?;
        let path = file_path(raw_path)?;
        let (_, workspace) = self.my_workspace(principal, id_or_slug).await?;
        self.commit(&workspace, if_match, |entries| {
            let before = entries.len();
            entries.retain(|e| !(e.path == path.as_str() && e.kind == EntryKind::File));
            if entries.len() == before {
                return Err(AppError::NotFound(Resource::WorkspaceFile));
            }
            Ok(())
        })
        .await
    }

    /// Stores a blob for a later snapshot; the body must hash to `sha256`.
    pub async fn upload_blob(
        &self,
        principal: &Principal,
        id_or_slug: &str,
        sha256: &str,
        body: ByteStream,
    ) -> Result<u64, AppError> {
        principal.require(Permission::RunsWrite)?;
        if !projects_domain::workspace::is_sha256(sha256) {
            return Err(projects_domain::ValidationErrors::single("sha256", "must be 64 lowercase hex digits").into());
        }
        let (_, workspace) = self.my_workspace(principal, id_or_slug).await?;
        let (_, size) = self.store_blob(&workspace, body, Some(sha256)).await?;
        Ok(size)
    }

    /// Publishes a whole tree at once: every file's blob must be uploaded already. With
    /// `base_revision`, a head that moved is a 412.
    pub async fn commit_snapshot(
        &self,
        principal: &Principal,
        id_or_slug: &str,
        base_revision: Option<String>,
        entries: Vec<ManifestEntry>,
    ) -> Result<String, AppError> {
        principal.require(Permission::RunsWrite)?;
        let (_, workspace) = self.my_workspace(principal, id_or_slug).await?;
        let probe = Manifest {
            version: 1,
            revision: String::new(),
            base_revision: None,
            created_at: self.clock.now(),
            entries: entries.clone(),
            stats: ManifestStats::default(),
        };
        ManifestIndex::build(&probe).map_err(projects_domain::ValidationErrors::from)?;
        for entry in entries.iter().filter(|e| e.kind == EntryKind::File) {
            let sha = entry.sha256.as_deref().unwrap_or_default();
            let message = match self.blobs.size(&blob_key(&workspace.workspace_ref, sha)).await.map_err(unavailable)? {
                None => format!("{} names blob {sha}, which was not uploaded", entry.path),
                Some(size) if size != entry.size => {
                    format!("{} says size {} but blob {sha} holds {size} bytes", entry.path, entry.size)
                }
                Some(_) => continue,
            };
            return Err(projects_domain::ValidationErrors::single("entries", message).into());
        }
        self.commit(&workspace, base_revision, |current| {
            current.clone_from(&entries);
            Ok(())
        })
        .await
    }

    /// Uploads under a temporary key while hashing, then files it under its SHA-256. With
    /// `expected`, bytes that hash to anything else are removed and refused (422).
    async fn store_blob(
        &self,
        workspace: &Workspace,
        body: ByteStream,
        expected: Option<&str>,
    ) -> Result<(String, u64), AppError> {
        let limit = self.max_file_bytes;
        let progress = Arc::new(Mutex::new(Upload::default()));
        let counting = {
            let progress = progress.clone();
            body.map(move |chunk| {
                let Ok(mut upload) = progress.lock() else {
                    return Err(anyhow::anyhow!("upload state poisoned"));
                };
                match &chunk {
                    Ok(bytes) if upload.size + bytes.len() as u64 > limit => {
                        upload.too_large = true;
                        return Err(anyhow::anyhow!("the body is larger than {limit} bytes"));
                    }
                    Ok(bytes) => {
                        upload.sha256.update(bytes);
                        upload.size += bytes.len() as u64;
                    }
                    Err(_) => upload.body_failed = true,
                }
                chunk
            })
            .boxed()
        };
        let upload = upload_key(&workspace.workspace_ref, &self.ids.new_id().simple().to_string());
        let stored = self.blobs.put(&upload, counting).await;
        let (digest, size, too_large, body_failed) = {
            let progress =
                progress.lock().map_err(|_| AppError::Unexpected(anyhow::anyhow!("upload state poisoned")))?;
            (hex::encode(progress.sha256.clone().finalize()), progress.size, progress.too_large, progress.body_failed)
        };
        if let Err(err) = stored {
            let _ = self.blobs.delete(&upload).await;
            return Err(if too_large {
                AppError::PayloadTooLarge { limit }
            } else if body_failed {
                AppError::ClientClosed
            } else {
                unavailable(err)
            });
        }
        if expected.is_some_and(|expected| expected != digest) {
            self.blobs.delete(&upload).await.map_err(unavailable)?;
            let message = format!("the body hashes to {digest}");
            return Err(projects_domain::ValidationErrors::single("sha256", message).into());
        }
        let blob = blob_key(&workspace.workspace_ref, &digest);
        let stored = async {
            if !self.blobs.exists(&blob).await? {
                self.blobs.copy(&upload, &blob).await?;
            }
            self.blobs.delete(&upload).await
        };
        stored.await.map_err(unavailable)?;
        Ok((digest, size))
    }

    /// Writes a new manifest made by `change` from the head's entries and moves the head to it;
    /// when the head moved meanwhile, starts over from the new head (unless `if_match` pinned it).
    async fn commit(
        &self,
        workspace: &Workspace,
        if_match: Option<String>,
        mut change: impl FnMut(&mut Vec<ManifestEntry>) -> Result<(), AppError>,
    ) -> Result<String, AppError> {
        let stale = || AppError::PreconditionFailed(Resource::WorkspaceFile);
        // The caller's row is fresh for the first attempt; a lost race re-reads it.
        let mut current = workspace.clone();
        for attempt in 0..WRITE_ATTEMPTS {
            if attempt > 0 {
                current = self
                    .workspaces
                    .find_workspace(workspace.org_id, &workspace.workspace_ref)
                    .await?
                    .ok_or(AppError::NotFound(Resource::Project))?;
            }
            if if_match.as_ref().is_some_and(|expected| current.head_revision.as_ref() != Some(expected)) {
                return Err(stale());
            }
            let base = self.head_manifest(&current).await?;
            let mut entries = base.as_ref().map(|parsed| parsed.0.entries.clone()).unwrap_or_default();
            change(&mut entries)?;
            entries.sort_by(|a, b| a.path.cmp(&b.path));
            let revision = self.ids.new_id().simple().to_string();
            let manifest = Manifest {
                version: 1,
                revision: revision.clone(),
                base_revision: current.head_revision.clone(),
                created_at: self.clock.now(),
                stats: ManifestStats {
                    file_count: entries.iter().filter(|e| e.kind == EntryKind::File).count() as u64,
                    dir_count: entries.iter().filter(|e| e.kind == EntryKind::Dir).count() as u64,
                    total_bytes: entries.iter().filter(|e| e.kind == EntryKind::File).map(|e| e.size).sum(),
                },
                entries,
            };
            let index = ManifestIndex::build(&manifest).map_err(|e| AppError::InvalidPath(e.message))?;
            let json = serde_json::to_vec(&manifest).map_err(|e| AppError::Unexpected(e.into()))?;
            let body = futures::stream::once(async move { Ok(Bytes::from(json)) }).boxed();
            self.blobs.put(&manifest_key(&workspace.workspace_ref, &revision), body).await.map_err(unavailable)?;
            let swapped = self
                .workspaces
                .swap_head(workspace.org_id, &workspace.workspace_ref, current.head_revision.as_deref(), &revision)
                .await?;
            if swapped {
                // The next listing needs no parse: the new head is already in memory.
                let key = (workspace.workspace_ref.clone(), revision.clone());
                self.manifests.put(key, Arc::new((manifest, index)));
                return Ok(revision);
            }
            if if_match.is_some() {
                return Err(stale());
            }
        }
        Err(stale())
    }

    /// Opens a session (`shell` → `shref_…`, `browser` → `brref_…`) in the caller's workspace.
    pub async fn open_session(
        &self,
        principal: &Principal,
        id_or_slug: &str,
        session_type: &str,
    ) -> Result<Session, AppError> {
        principal.require(Permission::RunsWrite)?;
        let session_type: SessionType = session_type.parse()?;
        let (_, workspace) = self.my_workspace(principal, id_or_slug).await?;
        let now = self.clock.now();
        let session = Session {
            session_ref: session_type.session_ref(self.ids.new_id()),
            workspace_ref: workspace.workspace_ref,
            org_id: principal.org_id(),
            session_type,
            state: SessionState::Ready,
            created_at: now,
            last_used_at: now,
            closed_at: None,
        };
        self.workspaces.open_session(&session).await?;
        Ok(session)
    }

    /// A heartbeat, optionally with a new state (`ready` or `busy`).
    pub async fn touch_session(
        &self,
        principal: &Principal,
        id_or_slug: &str,
        session_ref: &str,
        state: Option<&str>,
    ) -> Result<Session, AppError> {
        principal.require(Permission::RunsWrite)?;
        let state = state.map(SessionState::settable).transpose()?;
        let (_, workspace) = self.my_workspace(principal, id_or_slug).await?;
        if !is_session_ref(session_ref) {
            return Err(AppError::NotFound(Resource::Session));
        }
        self.workspaces
            .touch_session(principal.org_id(), &workspace.workspace_ref, session_ref, state, self.clock.now())
            .await?
            .ok_or(AppError::NotFound(Resource::Session))
    }

    pub async fn close_session(
        &self,
        principal: &Principal,
        id_or_slug: &str,
        session_ref: &str,
    ) -> Result<Session, AppError> {
        principal.require(Permission::RunsWrite)?;
        let (_, workspace) = self.my_workspace(principal, id_or_slug).await?;
        if !is_session_ref(session_ref) {
            return Err(AppError::NotFound(Resource::Session));
        }
        self.workspaces
            .close_session(principal.org_id(), &workspace.workspace_ref, session_ref, self.clock.now())
            .await?
            .ok_or(AppError::NotFound(Resource::Session))
    }
}
