//! Duplicating a project: a new project with the source's fields whose (caller's) workspace starts
//! at the source's head tree. No file bytes pass through the service: blobs are copied inside the
//! blob store (S3 `CopyObject`, a local hard link), registered to the new workspace first so that
//! the collector leaves them alone, and the tree is then committed as its first revision.

use std::collections::BTreeMap;

use futures::{StreamExt, TryStreamExt};
use projects_domain::layout::blob_key;
use projects_domain::{EntryKind, NewProjectInput, Permission, Project, ProjectName, Quota, Visibility, WorkspacePath};
use projects_ports::Workspace;

use crate::history::TreeWrite;
use crate::workspaces::unavailable;
use crate::{App, AppError, Principal};

/// Blob copies in flight at once while a tree is duplicated.
const COPIES_IN_FLIGHT: usize = 16;

impl App {
    /// Duplicates a project the caller can see: same fields, named `name` or `<name> (copy)`,
    /// with a slug of its own; the caller's workspace of the copy starts at the tree of the
    /// caller's workspace of the source. When the tree cannot be copied, the new project is
    /// removed again and the error returned: a duplicate is whole or not there.
    pub async fn duplicate_project(
        &self,
        principal: &Principal,
        id_or_slug: &str,
        name: Option<String>,
        surface_default: Visibility,
    ) -> Result<Project, AppError> {
        principal.require(Permission::ProjectsManage)?;
        principal.require(Permission::RunsRead)?;
        let (source, workspace) = self.get_project_and_workspace(principal, id_or_slug).await?;
        let workspace = match workspace {
            Some(workspace) => Some(self.carry_over(workspace).await?),
            None => None,
        };
        let name = match name {
            Some(name) => ProjectName::new(&name)?,
            None => source.name.copy_of(),
        };
        let input = NewProjectInput {
            name: Some(name.as_str().to_owned()),
            slug: None,
            description: source.description.as_ref().map(|d| d.as_str().to_owned()),
            prompt: source.prompt.as_ref().map(|p| p.as_str().to_owned()),
            emoji: source.emoji.as_ref().map(|e| e.as_str().to_owned()),
            visibility: Some(source.visibility),
            team_id: source.team_id,
            tags: Some(source.tags.as_slice().to_vec()),
            metadata: Some(source.metadata.to_value()),
        };
        let copy = self.create_project(principal, input, surface_default, None).await?;
        let Some((workspace, seq)) = workspace.and_then(|w| w.head_seq.map(|seq| (w, seq))) else {
            return Ok(copy);
        };
        if let Err(err) = self.copy_tree(principal, &workspace, seq, &copy).await {
            let audit = self.audit(principal, "project.deleted", copy.id, vec![]);
            if let Err(undo) = self.projects.soft_delete(principal.org_id(), copy.id, self.clock.now(), &audit).await {
                tracing::warn!(project_id = %copy.id, error = %undo, "could not remove a duplicate left without its tree");
            }
            return Err(err);
        }
        Ok(copy)
    }

    /// Commits the tree of revision `seq` of `source` as the first revision of the caller's
    /// workspace of `target`, its blobs copied inside the store.
    async fn copy_tree(
        &self,
        principal: &Principal,
        source: &Workspace,
        seq: i64,
        target: &Project,
    ) -> Result<(), AppError> {
        let tree =
            self.workspaces.entries_under(&source.workspace_ref, seq, &WorkspacePath::root(), None, None).await?;
        let (_, workspace) = self.my_workspace_to_write(principal, &target.id.to_string()).await?;
        let blobs: BTreeMap<String, u64> = tree
            .iter()
            .filter(|e| e.kind == EntryKind::File)
            .filter_map(|e| e.sha256.clone().map(|sha| (sha, e.size)))
            .collect();
        let blobs: Vec<(String, u64)> = blobs.into_iter().collect();
        // Registered before the objects exist, as an upload does: the collector leaves a blob
        // alone for its grace period from now, and the commit finds every one it names.
        let storage = self.quota(Quota::StorageBytes);
        self.workspaces.register_blobs(&workspace, &blobs, self.clock.now(), storage).await?;
        let copies: Vec<(String, String)> = blobs
            .iter()
            .map(|(sha, _)| (blob_key(&source.workspace_ref, sha), blob_key(&workspace.workspace_ref, sha)))
            .collect();
        futures::stream::iter(copies.into_iter().map(|(from, to)| {
            let store = self.blobs.clone();
            async move { store.copy(&from, &to).await }
        }))
        .buffer_unordered(COPIES_IN_FLIGHT)
        .try_collect::<Vec<()>>()
        .await
        .map_err(unavailable)?;
        let message = source.head_revision.as_ref().map(|revision| format!("duplicated from revision {revision}"));
        self.commit(principal, &workspace, None, message, TreeWrite::Replace(tree)).await?;
        Ok(())
    }
}
