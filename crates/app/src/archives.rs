//! Archives of a workspace. Out: a directory at the head or any revision, streamed as tar or zip
//! through a small pipe, the tree read a page at a time and each blob streamed from the store, so
//! memory stays flat whatever the size. In: a tar (gzip too) streamed member by member into the
//! blob store and committed as ONE revision; a member that breaks a path rule refuses the whole
//! archive before anything is committed (blobs already stored are unreferenced, and collected).

use std::collections::BTreeMap;
use std::io;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use async_zip::base::write::ZipFileWriter;
use async_zip::{Compression, ZipDateTimeBuilder, ZipEntryBuilder};
use futures::stream::BoxStream;
use futures::{AsyncWriteExt as _, StreamExt, TryStreamExt};
use projects_domain::layout::blob_key;
use projects_domain::{
    build_tree, EntryKind, Permission, TreeChange, TreeEntry, TreeError, ValidationErrors, WorkspacePath,
};
use projects_ports::{BlobStore, BodyStalled, ByteStream, RevisionKey};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_tar::{Builder, EntryType, Header};
use tokio_util::compat::TokioAsyncWriteCompatExt;

use crate::history::TreeWrite;
use crate::workspaces::parse_path;
use crate::{App, AppError, Principal, Resource};

/// The pipe between the task writing an archive and the response reading it.
const PIPE_BYTES: usize = 256 * 1024;
/// The chunks the response reads from that pipe (the default 4 KiB would cost a wake-up each).
const PIPE_CHUNK: usize = 64 * 1024;
/// A directory of at most this many entries is archived from memory, and its tar's length is
/// known before the first byte is sent (`Content-Length`); a bigger one streams page by page.
const MEASURED_ENTRIES: usize = 10_000;
/// Most members one uploaded archive may hold: what it plans is kept in memory until it commits.
pub const MAX_ARCHIVE_MEMBERS: usize = 100_000;
/// What a body may hold after its archive's end blocks (tar writers pad to their record size,
/// 10 KiB by default); more is refused, so a small gzip stream cannot keep a request inflating
/// zeros for ever.
const MAX_AFTER_END: u64 = 1024 * 1024;

/// What an archive is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveFormat {
    Tar,
    Zip,
}

impl std::str::FromStr for ArchiveFormat {
    type Err = AppError;

    fn from_str(raw: &str) -> Result<Self, AppError> {
        match raw {
            "tar" => Ok(Self::Tar),
            "zip" => Ok(Self::Zip),
            _ => Err(ValidationErrors::single("format", "must be tar or zip").into()),
        }
    }
}

/// What an uploaded archive does to what is already under its directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ArchiveMode {
    /// Adds and replaces what the archive holds; the rest stays.
    #[default]
    Merge,
    /// The directory holds exactly what the archive holds afterwards.
    Replace,
}

impl std::str::FromStr for ArchiveMode {
    type Err = AppError;

    fn from_str(raw: &str) -> Result<Self, AppError> {
        match raw {
            "merge" => Ok(Self::Merge),
            "replace" => Ok(Self::Replace),
            _ => Err(ValidationErrors::single("mode", "must be merge or replace").into()),
        }
    }
}

/// An archive about to be streamed.
pub struct ArchiveDownload {
    /// The revision archived (`None`: a workspace never written, an empty archive).
    pub revision: Option<String>,
    /// A file name for `Content-Disposition`: the directory's name (or the project's slug).
    pub file_name: String,
    /// The archive's exact length, when it is known before streaming.
    pub content_length: Option<u64>,
    pub body: ByteStream,
}

/// What an uploaded archive committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveLanded {
    pub revision: String,
    /// Files and symlinks written.
    pub files: u64,
    /// Every member that landed, directories included.
    pub entries: u64,
}

/// The entries to archive, already read or still to be paged through.
type EntryPages = BoxStream<'static, Result<Vec<TreeEntry>, AppError>>;

impl App {
    /// The directory `raw_path` of the caller's workspace at `revision` (the head by default) as
    /// an archive, members named relative to it.
    pub async fn download_archive(
        &self,
        principal: &Principal,
        id_or_slug: &str,
        raw_path: &str,
        revision: Option<&str>,
        format: ArchiveFormat,
    ) -> Result<ArchiveDownload, AppError> {
        principal.require(Permission::ProjectsRead)?;
        principal.require(Permission::RunsRead)?;
        let dir = parse_path(raw_path)?;
        let (project, workspace) = self.my_workspace(principal, id_or_slug).await?;
        let file_name = match dir.is_root() {
            true => project.slug.as_str().to_owned(),
            false => dir.name().to_owned(),
        };
        let file_name = format!("{file_name}.{}", if format == ArchiveFormat::Tar { "tar" } else { "zip" });
        let workspace_ref = workspace.workspace_ref.clone();
        let seq = self.tree_at(&workspace, revision).await?;
        if self.directory_or_nothing(&workspace_ref, seq, &dir).await?.is_none() && !dir.is_root() {
            return Err(AppError::NotFound(Resource::WorkspaceFile));
        }
        // A workspace never written is an empty archive.
        let (revision, first) = match seq {
            None => (None, Vec::new()),
            Some(seq) => {
                let revision = self.workspaces.find_revision(&workspace_ref, RevisionKey::Seq(seq)).await?;
                let revision = revision.ok_or(AppError::NotFound(Resource::Revision))?.revision;
                let first =
                    self.workspaces.entries_under(&workspace_ref, seq, &dir, None, Some(MEASURED_ENTRIES + 1)).await?;
                (Some(revision), first)
            }
        };
        let (pages, content_length): (EntryPages, Option<u64>) = match seq {
            Some(seq) if first.len() > MEASURED_ENTRIES => (self.pages_under(&workspace_ref, seq, dir.clone()), None),
            _ => {
                let length = match format {
                    ArchiveFormat::Tar => Some(tar_length(&dir, &first).await.map_err(AppError::Unexpected)?),
                    ArchiveFormat::Zip => None,
                };
                (futures::stream::once(async move { Ok(first) }).boxed(), length)
            }
        };
        let members = pages.map_ok(move |page| named_members(&dir, page)).boxed();
        let body = self.spawn_archive(format, members, workspace_ref);
        Ok(ArchiveDownload { revision, file_name, content_length, body })
    }

    /// The entry at `dir` in revision `seq` (`None`: nothing there, or no revision at all),
    /// refused when it is not a directory: an archive is of a directory, or into one.
    async fn directory_or_nothing(
        &self,
        workspace_ref: &str,
        seq: Option<i64>,
        dir: &WorkspacePath,
    ) -> Result<Option<TreeEntry>, AppError> {
        let Some(seq) = seq.filter(|_| !dir.is_root()) else {
            return Ok(None);
        };
        let found = self.workspaces.entries_at(workspace_ref, seq, std::slice::from_ref(dir)).await?;
        match found.into_iter().next() {
            Some(entry) if !entry.is_dir() => Err(AppError::InvalidPath(format!("{dir} is a file, not a directory"))),
            found => Ok(found),
        }
    }

    /// Writes the archive in a task of its own into a pipe and returns the pipe's reading end. A
    /// failure after the first byte cannot change the status any more: the stream then ends in
    /// an error, so that the response is cut rather than looking complete.
    fn spawn_archive(
        &self,
        format: ArchiveFormat,
        members: BoxStream<'static, Result<Vec<(String, TreeEntry)>, AppError>>,
        workspace_ref: String,
    ) -> ByteStream {
        let (reader, writer) = tokio::io::duplex(PIPE_BYTES);
        let blobs = Arc::clone(&self.blobs);
        let (done, outcome) = tokio::sync::oneshot::channel::<anyhow::Result<()>>();
        tokio::spawn(async move {
            let written = match format {
                ArchiveFormat::Tar => {
                    write_tar(writer, members, Some((blobs.as_ref(), &workspace_ref))).await.map(drop)
                }
                ArchiveFormat::Zip => write_zip(writer, members, blobs.as_ref(), &workspace_ref).await,
            };
            if let Err(err) = &written {
                tracing::warn!(workspace_ref, error = %err, "an archive was cut short");
            }
            let _ = done.send(written);
        });
        let end = futures::stream::once(async move {
            match outcome.await {
                Ok(Ok(())) => None,
                Ok(Err(err)) => Some(Err(err)),
                Err(_) => Some(Err(anyhow::anyhow!("the archive writer stopped"))),
            }
        })
        .filter_map(futures::future::ready);
        tokio_util::io::ReaderStream::with_capacity(reader, PIPE_CHUNK).map_err(anyhow::Error::from).chain(end).boxed()
    }

    /// Unpacks a tar (gzip is recognised by its magic bytes) into directory `raw_path` of the
    /// caller's workspace as one revision. With `if_match`, a head that moved is a 412.
    pub async fn upload_archive(
        &self,
        principal: &Principal,
        id_or_slug: &str,
        raw_path: &str,
        mode: ArchiveMode,
        if_match: Option<String>,
        body: ByteStream,
    ) -> Result<ArchiveLanded, AppError> {
        principal.require(Permission::RunsWrite)?;
        let dir = parse_path(raw_path)?;
        let (_, workspace) = self.my_workspace_to_write(principal, id_or_slug).await?;
        self.directory_or_nothing(&workspace.workspace_ref, workspace.head_seq, &dir).await?;
        let file_limit = self.quota(projects_domain::Quota::FileBytes);
        let watch = BodyWatch::default();
        let reader = tokio_util::io::StreamReader::new(watch.observe(body).map_err(io::Error::other));
        let mut reader = tokio::io::BufReader::new(reader);
        let start = reader.fill_buf().await.map_err(|e| watch.explain(e))?;
        if start.is_empty() {
            return Err(ValidationErrors::single("body", "is empty, which is no tar archive").into());
        }
        let gzip = start.starts_with(&[0x1f, 0x8b]);
        let reader: std::pin::Pin<Box<dyn AsyncRead + Send>> = match gzip {
            true => Box::pin(async_compression::tokio::bufread::GzipDecoder::new(reader)),
            false => Box::pin(reader),
        };
        let mut archive = tokio_tar::Archive::new(reader);
        let mut members = archive.entries().map_err(|e| watch.explain(e))?;
        let mut landed: BTreeMap<WorkspacePath, TreeEntry> = BTreeMap::new();
        let mut count = 0usize;
        while let Some(member) = members.next().await {
            let member = member.map_err(|e| watch.explain(e))?;
            count += 1;
            if count > MAX_ARCHIVE_MEMBERS {
                let why = format!("holds more than {MAX_ARCHIVE_MEMBERS} members");
                return Err(ValidationErrors::single("body", why).into());
            }
            let header = member.header();
            let kind = header.entry_type();
            if matches!(kind, EntryType::XGlobalHeader | EntryType::XHeader) {
                continue;
            }
            let raw = String::from_utf8(member.path_bytes().map_err(|e| watch.explain(e))?.into_owned())
                .map_err(|_| AppError::InvalidPath("an archive member's name is not UTF-8".into()))?;
            let Some(path) = dir.member(&raw).map_err(|e| AppError::InvalidPath(e.message))? else {
                continue;
            };
            let mtime_unix_ms = header.mtime().ok().and_then(|secs| i64::try_from(secs).ok()).unwrap_or(0);
            let mtime_unix_ms = mtime_unix_ms.saturating_mul(1_000);
            let mode = header.mode().ok().map(|mode| mode & 0o7777);
            let refuse = |why: &str| AppError::InvalidPath(format!("archive member {raw:?} is {why}"));
            let entry = match kind {
                EntryType::Regular | EntryType::Continuous => {
                    // Refused on what the header declares, before a byte of it is stored.
                    let declared = member.effective_size();
                    if let Some(limit) = file_limit.filter(|limit| declared > *limit) {
                        let exceeded = projects_domain::QuotaExceeded {
                            quota: projects_domain::Quota::FileBytes,
                            limit,
                            used: declared,
                        };
                        return Err(AppError::QuotaExceeded(exceeded));
                    }
                    let content = tokio_util::io::ReaderStream::new(member).map_err(anyhow::Error::from).boxed();
                    let (sha256, size) =
                        self.store_blob(&workspace, content, None).await.map_err(|e| watch.explain_store(e, &raw))?;
                    TreeEntry::file(path.clone(), sha256, size, mtime_unix_ms, mode)
                }
                EntryType::Directory => {
                    TreeEntry { mtime_unix_ms, mode, implied: false, ..TreeEntry::implied_dir(path.clone()) }
                }
                EntryType::Symlink => {
                    let target = member.link_name_bytes().ok().flatten();
                    let target = target.and_then(|target| String::from_utf8(target.into_owned()).ok());
                    let target = target.ok_or_else(|| refuse("a symlink without a UTF-8 target"))?;
                    TreeEntry {
                        kind: EntryKind::Symlink,
                        link_target: Some(target),
                        mtime_unix_ms,
                        mode,
                        implied: false,
                        ..TreeEntry::implied_dir(path.clone())
                    }
                }
                EntryType::Link => return Err(refuse("a hard link")),
                EntryType::Char | EntryType::Block | EntryType::Fifo => return Err(refuse("a device or a FIFO")),
                _ => return Err(refuse("of a kind a workspace does not hold")),
            };
            // A later member of the same name wins, as when a tar is unpacked.
            landed.insert(path, entry);
        }
        // Read to the end, so that a gzip stream's checksum and length are checked (and a body
        // cut after the archive's end blocks is noticed) before anything is committed.
        drop(members);
        let mut rest =
            archive.into_inner().map_err(|_| AppError::Unexpected(anyhow::anyhow!("the archive is still read")))?;
        let (mut after_end, mut nowhere) = ((&mut rest).take(MAX_AFTER_END + 1), tokio::io::sink());
        if tokio::io::copy(&mut after_end, &mut nowhere).await.map_err(|e| watch.explain(e))? > MAX_AFTER_END {
            let why = format!("goes on for more than {MAX_AFTER_END} bytes after the archive's end");
            return Err(ValidationErrors::single("body", why).into());
        }
        let files = landed.values().filter(|e| e.kind != EntryKind::Dir).count() as u64;
        let entries = landed.len() as u64;
        // The tree rules (nothing below a file, valid link targets) over what the archive holds.
        let tree =
            build_tree(landed.into_values().map(|e| e.to_manifest_entry()).collect()).map_err(|err| match err {
                TreeError::Invalid(field) => AppError::InvalidPath(field.message),
                conflict => conflict.into(),
            })?;
        let write = match mode {
            ArchiveMode::Replace if dir.is_root() => TreeWrite::Replace(tree),
            ArchiveMode::Replace => TreeWrite::Changes(
                std::iter::once(TreeChange::Delete(dir.clone()))
                    .chain(tree.into_iter().filter(|e| !e.implied).map(TreeChange::Put))
                    .collect(),
            ),
            ArchiveMode::Merge => {
                TreeWrite::Changes(tree.into_iter().filter(|e| !e.implied).map(TreeChange::Put).collect())
            }
        };
        let mode_name = if mode == ArchiveMode::Merge { "merged" } else { "replacing" };
        let message = Some(format!("archive {mode_name} into {dir}"));
        let written = self.commit(principal, &workspace, if_match, message, write).await?;
        Ok(ArchiveLanded { revision: written.revision.revision, files, entries })
    }
}

/// Each entry with its member name: its path relative to `dir`.
fn named_members(dir: &WorkspacePath, page: Vec<TreeEntry>) -> Vec<(String, TreeEntry)> {
    page.into_iter().filter_map(|entry| Some((entry.path.relative_to(dir)?.to_owned(), entry))).collect()
}

/// How a request body ended, as seen where it is read: the client stopped sending, or the body
/// failed otherwise. Anything else that stops reading the archive is the archive's own fault.
#[derive(Default, Clone)]
struct BodyWatch(Arc<AtomicU8>);

const BODY_STALLED: u8 = 1;
const BODY_FAILED: u8 = 2;

impl BodyWatch {
    fn observe(&self, body: ByteStream) -> ByteStream {
        let state = Arc::clone(&self.0);
        body.inspect_err(move |err| {
            let why = if err.is::<BodyStalled>() { BODY_STALLED } else { BODY_FAILED };
            state.store(why, Ordering::SeqCst);
        })
        .boxed()
    }

    fn body_error(&self) -> Option<AppError> {
        match self.0.load(Ordering::SeqCst) {
            BODY_STALLED => Some(AppError::BodyStalled),
            BODY_FAILED => Some(AppError::ClientClosed),
            _ => None,
        }
    }

    /// An error reading the archive: the body's, or the archive is malformed.
    fn explain(&self, err: io::Error) -> AppError {
        self.body_error()
            .unwrap_or_else(|| ValidationErrors::single("body", format!("is not a tar archive: {err}")).into())
    }

    /// An error storing member `name`: the body's, a malformed archive (its reading failed), or
    /// the store's own.
    fn explain_store(&self, err: AppError, name: &str) -> AppError {
        match (self.body_error(), err) {
            (Some(body), _) => body,
            (None, AppError::ClientClosed) => {
                ValidationErrors::single("body", format!("ends inside archive member {name:?}")).into()
            }
            (None, other) => other,
        }
    }
}

/// The tar header of `entry` (its name is set as it is appended).
fn tar_header(entry: &TreeEntry) -> Header {
    let mut header = Header::new_gnu();
    let (kind, default_mode) = match entry.kind {
        EntryKind::File => (EntryType::Regular, 0o644),
        EntryKind::Dir => (EntryType::Directory, 0o755),
        EntryKind::Symlink => (EntryType::Symlink, 0o777),
    };
    header.set_entry_type(kind);
    header.set_size(if entry.kind == EntryKind::File { entry.size } else { 0 });
    header.set_mode(entry.mode.unwrap_or(default_mode));
    header.set_mtime(u64::try_from(entry.mtime_unix_ms / 1_000).unwrap_or(0));
    header
}

/// Zeros after `size` bytes of content, up to the next 512-byte block.
fn tar_padding(size: u64) -> u64 {
    (512 - size % 512) % 512
}

/// Writes a tar of `members` into `out`; with `blobs`, each file's content from the store, else
/// only its headers (to measure them). Returns the bytes written plus, without `blobs`, those the
/// contents would take: the archive's length.
async fn write_tar<W: AsyncWrite + Unpin + Send>(
    out: W,
    mut members: BoxStream<'static, Result<Vec<(String, TreeEntry)>, AppError>>,
    blobs: Option<(&dyn BlobStore, &str)>,
) -> anyhow::Result<u64> {
    let mut tar = Builder::new_non_terminated(Counted { inner: out, written: 0 });
    let mut unwritten = 0u64;
    while let Some(page) = members.next().await {
        for (name, entry) in page.map_err(|e| anyhow::anyhow!("{e}"))? {
            let mut header = tar_header(&entry);
            match entry.kind {
                EntryKind::Dir => tar.append_data(&mut header, format!("{name}/"), tokio::io::empty()).await?,
                EntryKind::Symlink => {
                    let target = entry.link_target.as_deref().unwrap_or_default();
                    if header.set_link_name(target).is_err() {
                        // Too long for the header: a GNU long-link member says it first.
                        let mut long = Header::new_gnu();
                        long.set_entry_type(EntryType::GNULongLink);
                        long.set_size(target.len() as u64 + 1);
                        let mut named = [target.as_bytes(), &[0]].concat();
                        tar.append_data(&mut long, "././@LongLink", &mut named.as_slice()).await?;
                        named.clear();
                    }
                    tar.append_data(&mut header, &name, tokio::io::empty()).await?;
                }
                EntryKind::File => {
                    // The header alone (the builder pads what it copied: nothing), then the
                    // content straight from the store, then its padding.
                    tar.append_data(&mut header, &name, tokio::io::empty()).await?;
                    let Some((store, workspace_ref)) = blobs else {
                        unwritten += entry.size + tar_padding(entry.size);
                        continue;
                    };
                    let out = tar.get_mut();
                    let mut content = open_blob(store, workspace_ref, &entry).await?;
                    while let Some(chunk) = content.next().await {
                        out.write_all(&chunk?).await?;
                    }
                    out.write_all(&[0u8; 512][..tar_padding(entry.size) as usize]).await?;
                }
            }
        }
    }
    tar.finish().await?;
    let mut out = tar.into_inner().await?;
    out.inner.shutdown().await?;
    Ok(out.written + unwritten)
}

/// The exact length of the tar of `entries` below `dir`.
async fn tar_length(dir: &WorkspacePath, entries: &[TreeEntry]) -> anyhow::Result<u64> {
    let members = named_members(dir, entries.to_vec());
    write_tar(tokio::io::sink(), futures::stream::once(async move { Ok(members) }).boxed(), None).await
}

/// The content of file `entry`, refused when the blob's size is not the entry's (the archive's
/// headers already promised that size).
async fn open_blob(store: &dyn BlobStore, workspace_ref: &str, entry: &TreeEntry) -> anyhow::Result<ByteStream> {
    let sha256 = entry.sha256.as_deref().unwrap_or_default();
    let Some(blob) = store.get(&blob_key(workspace_ref, sha256)).await? else {
        anyhow::bail!("{} names blob {sha256}, which the store does not hold", entry.path);
    };
    if blob.size != entry.size {
        anyhow::bail!("{} says {} bytes but blob {sha256} holds {}", entry.path, entry.size, blob.size);
    }
    Ok(blob.body)
}

/// A writer that counts what went through it.
struct Counted<W> {
    inner: W,
    written: u64,
}

impl<W: AsyncWrite + Unpin> AsyncWrite for Counted<W> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<io::Result<usize>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_write(cx, buf);
        if let std::task::Poll::Ready(Ok(n)) = &polled {
            self.written += *n as u64;
        }
        polled
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Writes a zip of `members` into `out`, each file stored as it is (no compression: the bytes go
/// out at the speed they are read). Entries are written with data descriptors, so nothing needs
/// to be known before a file's bytes are sent; the central directory at the end holds one small
/// record per entry.
async fn write_zip<W: AsyncWrite + Unpin + Send>(
    out: W,
    mut members: BoxStream<'static, Result<Vec<(String, TreeEntry)>, AppError>>,
    store: &dyn BlobStore,
    workspace_ref: &str,
) -> anyhow::Result<()> {
    let mut zip = ZipFileWriter::new(out.compat_write());
    while let Some(page) = members.next().await {
        for (name, entry) in page.map_err(|e| anyhow::anyhow!("{e}"))? {
            let modified = time::OffsetDateTime::from_unix_timestamp(entry.mtime_unix_ms / 1_000)
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
            let date = ZipDateTimeBuilder::new()
                .year(modified.year().clamp(1980, 2107))
                .month(u32::from(u8::from(modified.month())))
                .day(u32::from(modified.day()))
                .hour(u32::from(modified.hour()))
                .minute(u32::from(modified.minute()))
                .second(u32::from(modified.second()))
                .build();
            let (name, unix_mode) = match entry.kind {
                EntryKind::Dir => (format!("{name}/"), 0o040000 | entry.mode.unwrap_or(0o755)),
                EntryKind::File => (name, 0o100000 | entry.mode.unwrap_or(0o644)),
                EntryKind::Symlink => (name, 0o120000 | entry.mode.unwrap_or(0o777)),
            };
            let builder = ZipEntryBuilder::new(name.into(), Compression::Stored)
                .last_modification_date(date)
                .unix_permissions(u16::try_from(unix_mode & 0o177777).unwrap_or(0o100644));
            match entry.kind {
                EntryKind::Dir => zip.write_entry_whole(builder, &[]).await?,
                EntryKind::Symlink => {
                    let target = entry.link_target.as_deref().unwrap_or_default();
                    zip.write_entry_whole(builder, target.as_bytes()).await?
                }
                EntryKind::File => {
                    let mut content = open_blob(store, workspace_ref, &entry).await?;
                    let mut writer = zip.write_entry_stream(builder).await?;
                    while let Some(chunk) = content.next().await {
                        writer.write_all(&chunk?).await?;
                    }
                    writer.close().await?;
                }
            }
        }
    }
    let mut out = zip.close().await?;
    out.close().await?;
    Ok(())
}
