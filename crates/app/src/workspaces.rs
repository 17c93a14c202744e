use std::sync::{Arc, Mutex};

use futures::StreamExt;
use projects_domain::layout::{blob_key, upload_key};
use projects_domain::{
    is_session_ref, workspace_ref, ByteRange, ManifestEntry, PageRequest, Permission, Project, Quota, QuotaExceeded,
    SessionState, SessionType, TreeChange, TreeEntry, WorkspacePath,
};
use projects_ports::{ByteStream, Page, Session, Workspace};
use sha2::{Digest, Sha256};

use crate::history::TreeWrite;
use crate::{App, AppError, Principal, Resource};

/// Why an upload stopped, as seen where its bytes are counted and hashed: past the size limit,
/// or the body itself failed (the client hung up, reset, sent malformed framing). Anything else
/// that stops a `put` is the blob store's.
#[derive(Default)]
struct Upload {
    sha256: Sha256,
    size: u64,
    too_large: bool,
    body_failed: bool,
    stalled: bool,
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

pub(crate) fn unavailable(err: anyhow::Error) -> AppError {
    AppError::Unavailable(err.context("blob store"))
}

pub(crate) fn parse_path(raw: &str) -> Result<WorkspacePath, AppError> {
    WorkspacePath::parse(raw).map_err(|e| AppError::InvalidPath(e.message))
}

pub(crate) fn file_path(raw: &str) -> Result<WorkspacePath, AppError> {
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

    /// The caller's workspace of a visible project, made if missing. Its `last_used_at` is
    /// gathered in memory and written in batches ([`App::flush_last_used`]): a read path commits
    /// no write, and a crowd on one workspace does not queue on its row.
    pub(crate) async fn my_workspace(
        &self,
        principal: &Principal,
        id_or_slug: &str,
    ) -> Result<(Project, Workspace), AppError> {
        let (project, found) = self.get_project_and_workspace(principal, id_or_slug).await?;
        let now = self.clock.now();
        if let Some(workspace) = found {
            self.workspace_usage.record(workspace.workspace_ref.clone(), now);
            let workspace = self.carry_over(workspace).await?;
            return Ok((project, workspace));
        }
        let wanted = Workspace {
            workspace_ref: self.workspace_ref(principal, &project),
            org_id: principal.org_id(),
            project_id: project.id,
            user_id: principal.user_id(),
            head_revision: None,
            head_seq: None,
            created_at: now,
            last_used_at: now,
        };
        let workspace = self.workspaces.touch_workspace(&wanted).await.map_err(|err| match err {
            projects_ports::StoreError::MissingReference { .. } => AppError::NotFound(Resource::Project),
            other => other.into(),
        })?;
        let workspace = self.carry_over(workspace).await?;
        Ok((project, workspace))
    }

    /// [`Self::my_workspace`] for a write: refused (402) once the project's spend has reached its
    /// budget. Spend is only summed for a project that has a budget.
    pub(crate) async fn my_workspace_to_write(
        &self,
        principal: &Principal,
        id_or_slug: &str,
    ) -> Result<(Project, Workspace), AppError> {
        let (project, workspace) = self.my_workspace(principal, id_or_slug).await?;
        if project.budget.is_some() {
            let spend = self.usage.project_spend(principal.org_id(), project.id).await?;
            if project.budget_spent(spend) {
                return Err(AppError::BudgetExceeded);
            }
        }
        Ok((project, workspace))
    }

    pub async fn get_workspace(&self, principal: &Principal, id_or_slug: &str) -> Result<WorkspaceView, AppError> {
        principal.require(Permission::ProjectsRead)?;
        let (project, workspace) = self.my_workspace(principal, id_or_slug).await?;
        let since = self.clock.now() - self.session_ttl;
        let active_session = self.workspaces.live_session(principal.org_id(), &workspace.workspace_ref, since).await?;
        Ok(WorkspaceView { project_id: project.id, workspace, active_session })
    }

    /// A file of the caller's workspace (at the head, or at `revision`), streamed from the blob
    /// store, whole or one range.
    pub async fn read_file(
        &self,
        principal: &Principal,
        id_or_slug: &str,
        raw_path: &str,
        revision: Option<&str>,
        range: Option<ByteRange>,
        held_sha256s: &[String],
    ) -> Result<FileRead, AppError> {
        principal.require(Permission::ProjectsRead)?;
        principal.require(Permission::RunsRead)?;
        let path = file_path(raw_path)?;
        let (_, workspace) = self.my_workspace(principal, id_or_slug).await?;
        let seq = self.tree_at(&workspace, revision).await?.ok_or(AppError::NotFound(Resource::WorkspaceFile))?;
        self.read_entry(&workspace, seq, &path, range, held_sha256s).await
    }

    /// The file at `path` of `workspace`'s tree at `seq`, or 404.
    pub(crate) async fn file_entry(
        &self,
        workspace: &Workspace,
        seq: i64,
        path: &WorkspacePath,
    ) -> Result<ManifestEntry, AppError> {
        Ok(self
            .workspaces
            .entries_at(&workspace.workspace_ref, seq, std::slice::from_ref(path))
            .await?
            .into_iter()
            .find(|entry| entry.kind == projects_domain::EntryKind::File)
            .ok_or(AppError::NotFound(Resource::WorkspaceFile))?
            .to_manifest_entry())
    }

    /// Reads the file at `path` of `workspace`'s tree at `seq` (see [`App::read_file`]).
    pub(crate) async fn read_entry(
        &self,
        workspace: &Workspace,
        seq: i64,
        path: &WorkspacePath,
        range: Option<ByteRange>,
        held_sha256s: &[String],
    ) -> Result<FileRead, AppError> {
        let entry = self.file_entry(workspace, seq, path).await?;
        // A caller that holds the content already (If-None-Match, `*` for any) is answered
        // before any range, and without reading the blob.
        let sha256 = entry.sha256.clone().unwrap_or_default();
        if held_sha256s.iter().any(|held| held == "*" || *held == sha256) {
            return Ok(FileRead { size: entry.size, entry, range: None, body: None });
        }
        let key = blob_key(&workspace.workspace_ref, &sha256);
        let missing = || self.content_missing(workspace, &entry);
        let Some(requested) = range else {
            let blob = self.blobs.get(&key).await.map_err(unavailable)?.ok_or_else(missing)?;
            self.check_size(workspace, &entry, blob.size);
            return Ok(FileRead { size: blob.size, entry, range: None, body: Some(blob.body) });
        };
        // The entry's size resolves the range without a round trip; the blob has the last word:
        // when it disagrees, the range is resolved again against the blob's size, once.
        let range = requested.resolve(entry.size).ok_or(AppError::RangeNotSatisfiable { size: entry.size })?;
        let blob = self.blobs.get_range(&key, range.clone()).await.map_err(unavailable)?.ok_or_else(missing)?;
        if blob.size == entry.size {
            return Ok(FileRead { size: blob.size, entry, range: Some(range), body: Some(blob.body) });
        }
        self.check_size(workspace, &entry, blob.size);
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

    /// Streams `body` into a blob while hashing it, then commits a revision with the file at
    /// `raw_path`. `if_match` (a revision) makes a moved head a 412.
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
        let (_, workspace) = self.my_workspace_to_write(principal, id_or_slug).await?;
        let (sha256, size) = self.store_blob(&workspace, body, None).await?;
        let mtime = (self.clock.now().unix_timestamp_nanos() / 1_000_000) as i64;
        let entry = TreeEntry::file(path.clone(), sha256.clone(), size, mtime, Some(0o644));
        let written = self
            .commit(principal, &workspace, if_match, None, TreeWrite::Changes(vec![TreeChange::Put(entry)]))
            .await?;
        let created = !written.edit.ended.contains(&path);
        Ok(FileWritten { path, size, sha256, revision: written.revision.revision, created })
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
        let (_, workspace) = self.my_workspace_to_write(principal, id_or_slug).await?;
        let written = self.commit(principal, &workspace, if_match, None, TreeWrite::DeleteFile(path)).await?;
        Ok(written.revision.revision)
    }

    /// Stores a blob for a later snapshot or change set; the body must hash to `sha256`.
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
        let (_, workspace) = self.my_workspace_to_write(principal, id_or_slug).await?;
        let (_, size) = self.store_blob(&workspace, body, Some(sha256)).await?;
        Ok(size)
    }

    /// Uploads under a temporary key while hashing, registers the blob, then files it under its
    /// SHA-256. With `expected`, bytes that hash to anything else are removed and refused (422).
    ///
    /// The registration comes before the object is filed and is what the collector respects: a
    /// blob it is deleting holds its row, so registering waits until the object is gone, and the
    /// existence check that follows then finds it missing and files it again.
    pub(crate) async fn store_blob(
        &self,
        workspace: &Workspace,
        body: ByteStream,
        expected: Option<&str>,
    ) -> Result<(String, u64), AppError> {
        let limit = self.quota(Quota::FileBytes).unwrap_or(u64::MAX);
        let progress = Arc::new(Mutex::new(Upload::default()));
        let counting = {
            let progress = progress.clone();
            body.map(move |chunk| {
                let Ok(mut upload) = progress.lock() else {
                    return Err(anyhow::anyhow!("upload state poisoned"));
                };
                match &chunk {
                    Ok(bytes) if upload.size.saturating_add(bytes.len() as u64) > limit => {
                        upload.too_large = true;
                        upload.size += bytes.len() as u64;
                        return Err(anyhow::anyhow!("the body is larger than {limit} bytes"));
                    }
                    Ok(bytes) => {
                        upload.sha256.update(bytes);
                        upload.size += bytes.len() as u64;
                    }
                    Err(err) if err.is::<projects_ports::BodyStalled>() => upload.stalled = true,
                    Err(_) => upload.body_failed = true,
                }
                chunk
            })
            .boxed()
        };
        let upload = upload_key(&workspace.workspace_ref, &self.ids.new_id().simple().to_string());
        let stored = self.blobs.put(&upload, counting).await;
        let (digest, size, too_large, body_failed, stalled) = {
            let progress =
                progress.lock().map_err(|_| AppError::Unexpected(anyhow::anyhow!("upload state poisoned")))?;
            let digest = hex::encode(progress.sha256.clone().finalize());
            (digest, progress.size, progress.too_large, progress.body_failed, progress.stalled)
        };
        if let Err(err) = stored {
            let _ = self.blobs.delete(&upload).await;
            return Err(if too_large {
                AppError::QuotaExceeded(QuotaExceeded { quota: Quota::FileBytes, limit, used: size })
            } else if stalled {
                AppError::BodyStalled
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
        let storage = self.quota(Quota::StorageBytes);
        let registered =
            self.workspaces.register_blobs(workspace, &[(digest.clone(), size)], self.clock.now(), storage).await;
        if let Err(err) = registered {
            let _ = self.blobs.delete(&upload).await;
            return Err(err.into());
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

    /// Opens a session (`shell` → `shref_…`, `browser` → `brref_…`) in the caller's workspace.
    pub async fn open_session(
        &self,
        principal: &Principal,
        id_or_slug: &str,
        session_type: &str,
    ) -> Result<Session, AppError> {
        principal.require(Permission::RunsWrite)?;
        let session_type: SessionType = session_type.parse()?;
        let (_, workspace) = self.my_workspace_to_write(principal, id_or_slug).await?;
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

    /// One page of the sessions of the caller's workspace, newest first; only those in `state`
    /// (`ready`, `busy`, `closed`) when given. Reading makes no workspace.
    pub async fn list_sessions(
        &self,
        principal: &Principal,
        id_or_slug: &str,
        state: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<Session>, AppError> {
        principal.require(Permission::RunsRead)?;
        let state = state.map(str::parse::<SessionState>).transpose()?;
        let (_, workspace) = self.get_project_and_workspace(principal, id_or_slug).await?;
        let Some(workspace) = workspace else {
            return Ok(Page { items: Vec::new(), next: None });
        };
        Ok(self.workspaces.list_sessions(principal.org_id(), &workspace.workspace_ref, state, page).await?)
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
