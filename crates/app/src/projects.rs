use projects_domain::{
    can_view_project, AuditEvent, NewProject, NewProjectInput, PageRequest, Permission, Project, ProjectAudience,
    ProjectId, ProjectPatch, ProjectPatchInput, Quota, Slug, Timestamp, User, ValidationErrors, Visibility,
};
use projects_ports::{IdempotencyClaim, ProjectFilter, ProjectKey, ProjectPage, StoreError, StoredProject};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{App, AppError, Principal, Refusal, Resource};

/// How long an `Idempotency-Key` of a create is remembered.
const IDEMPOTENCY_WINDOW: time::Duration = time::Duration::hours(24);
/// How often an update without `If-Match` is re-applied on a fresh read when someone else changed
/// the project in between. Each round one writer wins, so this only runs out when more than this
/// many write the same project at once; a caller that sent no precondition must not see one fail.
const UPDATE_ATTEMPTS: usize = 1_000;

/// How a path segment names a project: a UUID is an id, anything else a slug. A segment that is
/// neither can name nothing.
fn project_key(raw: &str) -> Option<ProjectKey> {
    match Uuid::try_parse(raw) {
        Ok(id) => Some(ProjectKey::Id(ProjectId::from_uuid(id))),
        Err(_) => Slug::new(raw).ok().map(ProjectKey::Slug),
    }
}

fn not_found() -> AppError {
    AppError::NotFound(Resource::Project)
}

/// An `Idempotency-Key` sent with a create, and what identifies the request it came with.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    /// Which surface's create, e.g. `v1.projects.create`.
    pub scope: &'static str,
    pub key: String,
    /// The request body as received; the same key with another body is a conflict.
    pub request_body: Vec<u8>,
}

impl IdempotencyKey {
    fn request_sha256(&self) -> [u8; 32] {
        Sha256::digest(&self.request_body).into()
    }
}

/// The fields an `If-Match` precondition can name: the version the caller last saw.
pub type ExpectedVersion = Option<i64>;

impl App {
    pub(crate) fn audit(
        &self,
        principal: &Principal,
        action: &str,
        project_id: ProjectId,
        fields: Vec<String>,
    ) -> AuditEvent {
        AuditEvent {
            project_id: Some(project_id),
            ..self.identity_audit(principal.user(), action, "project", project_id.as_uuid(), fields)
        }
    }

    /// The audit event of a change `actor` makes to a `target_type` (`member`, `api_key`, …).
    pub(crate) fn identity_audit(
        &self,
        actor: &User,
        action: &str,
        target_type: &'static str,
        target_id: Uuid,
        fields: Vec<String>,
    ) -> AuditEvent {
        AuditEvent {
            id: self.ids.new_id(),
            org_id: actor.org_id,
            actor_user_id: actor.id,
            action: action.to_owned(),
            project_id: None,
            target_type,
            target_id,
            fields,
            at: self.clock.now(),
        }
    }

    /// Creates a project owned by the caller. `surface_default` is the visibility used when
    /// neither the request nor the caller's preference names one. With an idempotency key, a
    /// repeat of the same request within 24 hours returns the project the first one made.
    pub async fn create_project(
        &self,
        principal: &Principal,
        input: NewProjectInput,
        surface_default: Visibility,
        idempotency: Option<IdempotencyKey>,
    ) -> Result<Project, AppError> {
        principal.require(Permission::ProjectsManage)?;
        let input = self.with_a_name(input).await?;
        let new = NewProject::validate(input)?;
        if let Some(team_id) = new.team_id {
            if self.identity.find_team(principal.org_id(), team_id).await?.is_none() {
                return Err(ValidationErrors::single("team_id", "does not exist in this org").into());
            }
            // A project in a team is the team's business: its members', and the org's admins'.
            if !principal.team_ids.contains(&team_id) && !principal.runs_the_org() {
                return Err(AppError::NotAllowed(Refusal::NotInTeam));
            }
        }
        let now = self.clock.now();
        if let Some(key) = &idempotency {
            if let Some(project) = self.replay_create(principal, key, now).await? {
                return Ok(project);
            }
        }
        let slug_is_explicit = new.slug.is_some();
        let visibility = principal.user.default_project_visibility.unwrap_or(surface_default);
        let id = ProjectId::from_uuid(self.ids.new_id());
        let project = new.into_project(id, principal.org_id(), principal.user_id(), visibility, now);
        let audit = self.audit(principal, "project.created", project.id, vec![]);
        let claim = idempotency.as_ref().map(|key| IdempotencyClaim {
            scope: key.scope,
            key: key.key.clone(),
            request_sha256: key.request_sha256(),
            at: now,
            expired_before: now - IDEMPOTENCY_WINDOW,
        });
        match self
            .projects
            .create(&project, slug_is_explicit, &audit, claim.as_ref(), self.quota(Quota::Projects))
            .await
        {
            // A concurrent request with the same key got there first.
            Err(StoreError::Conflict { field: "idempotency_key" }) => {
                let key = idempotency.as_ref().expect("only claims conflict");
                self.replay_create(principal, key, now).await?.ok_or_else(not_found)
            }
            other => Ok(other?),
        }
    }

    /// Fills in a missing name from the description (generated; `Untitled project` when the
    /// generator fails). Without either, the name is required.
    async fn with_a_name(&self, mut input: NewProjectInput) -> Result<NewProjectInput, AppError> {
        let blank = |s: &Option<String>| s.as_deref().is_none_or(|s| s.trim().is_empty());
        if !blank(&input.name) {
            return Ok(input);
        }
        if input.name.is_some() || blank(&input.description) {
            // An explicit but empty name is reported as such; nothing at all needs one of the two.
            let message = if input.name.is_some() { "must not be empty" } else { "name or description is required" };
            return Err(ValidationErrors::single("name", message).into());
        }
        let description = input.description.clone().unwrap_or_default();
        projects_domain::Description::new(&description)?;
        let name = match self.names.name_for(&description).await {
            Ok(name) => name,
            Err(err) => {
                tracing::warn!(error = %err, "could not generate a project name");
                projects_domain::ProjectName::untitled()
            }
        };
        input.name = Some(name.as_str().to_owned());
        Ok(input)
    }

    /// The project an earlier create with this key made, if the request is the same.
    async fn replay_create(
        &self,
        principal: &Principal,
        key: &IdempotencyKey,
        now: Timestamp,
    ) -> Result<Option<Project>, AppError> {
        let Some(earlier) = self
            .projects
            .find_idempotent_create(principal.org_id(), key.scope, &key.key, now - IDEMPOTENCY_WINDOW)
            .await?
        else {
            return Ok(None);
        };
        if earlier.request_sha256 != key.request_sha256() {
            return Err(AppError::Conflict { resource: Resource::Project, field: "idempotency_key" });
        }
        // The project this key made was deleted since: the key is spent, not free for a new one.
        // A key another member used is taken too: replaying it must not hand over their project.
        let stored = self.projects.find(principal.org_id(), &ProjectKey::Id(earlier.project_id)).await?;
        let spent = || AppError::Conflict { resource: Resource::Project, field: "idempotency_key" };
        let project = stored.map(|s| s.project).filter(|p| p.owner_user_id == principal.user_id());
        project.ok_or_else(spent).map(Some)
    }

    /// One page of the projects the caller may see, newest first.
    pub async fn list_projects(
        &self,
        principal: &Principal,
        filter: &ProjectFilter,
        page: PageRequest,
    ) -> Result<ProjectPage, AppError> {
        principal.require(Permission::ProjectsRead)?;
        Ok(self.projects.list_visible(&principal.viewer(), filter, page).await?)
    }

    /// The project named by `id_or_slug`, if the caller may see it.
    pub async fn get_project(&self, principal: &Principal, id_or_slug: &str) -> Result<StoredProject, AppError> {
        principal.require(Permission::ProjectsRead)?;
        let key = project_key(id_or_slug).ok_or_else(not_found)?;
        let stored = self.projects.find(principal.org_id(), &key).await?.ok_or_else(not_found)?;
        visible_to(principal, stored)
    }

    /// [`App::get_project`], with the caller's workspace of it if they have one: one round trip.
    pub(crate) async fn get_project_and_workspace(
        &self,
        principal: &Principal,
        id_or_slug: &str,
    ) -> Result<(Project, Option<projects_ports::Workspace>), AppError> {
        principal.require(Permission::ProjectsRead)?;
        let key = project_key(id_or_slug).ok_or_else(not_found)?;
        let (stored, workspace) = self
            .projects
            .find_with_workspace(principal.org_id(), &key, principal.user_id())
            .await?
            .ok_or_else(not_found)?;
        Ok((visible_to(principal, stored)?.project, workspace))
    }

    /// Applies a patch. Anyone who may manage projects and can see this one may change it;
    /// `If-Match` (the version last seen) makes it fail with `PreconditionFailed` when stale.
    pub async fn update_project(
        &self,
        principal: &Principal,
        id_or_slug: &str,
        input: ProjectPatchInput,
        expected_version: ExpectedVersion,
    ) -> Result<Project, AppError> {
        principal.require(Permission::ProjectsManage)?;
        let patch = ProjectPatch::validate(input)?;
        if patch.budget.is_some() && !principal.runs_the_org() {
            return Err(AppError::NotAllowed(Refusal::BudgetNeedsAdmin));
        }
        for _ in 0..UPDATE_ATTEMPTS {
            let current = self.get_project(principal, id_or_slug).await?.project;
            if expected_version.is_some_and(|v| v != current.version) {
                return Err(AppError::PreconditionFailed(Resource::Project));
            }
            if patch.fields().is_empty() {
                return Ok(current);
            }
            let next = patch.apply(&current, self.clock.now());
            let fields = patch.fields().into_iter().map(str::to_owned).collect();
            let audit = self.audit(principal, "project.updated", current.id, fields);
            if self.projects.update(&next, &audit).await? {
                return Ok(next);
            }
            if expected_version.is_some() {
                return Err(AppError::PreconditionFailed(Resource::Project));
            }
        }
        Err(AppError::Unavailable(anyhow::anyhow!("the project is being changed too often to apply this update")))
    }

    /// Whether the caller may delete or restore `project`: its owner, or an org owner or admin.
    fn may_remove(principal: &Principal, project: &Project) -> Result<(), AppError> {
        if project.owner_user_id == principal.user_id() || principal.runs_the_org() {
            Ok(())
        } else {
            Err(AppError::Forbidden { missing: Permission::ProjectsManage })
        }
    }

    /// Soft-deletes a project with everything it owns, in one transaction.
    pub async fn delete_project(&self, principal: &Principal, id_or_slug: &str) -> Result<(), AppError> {
        principal.require(Permission::ProjectsManage)?;
        let project = self.get_project(principal, id_or_slug).await?.project;
        Self::may_remove(principal, &project)?;
        let audit = self.audit(principal, "project.deleted", project.id, vec![]);
        if !self.projects.soft_delete(principal.org_id(), project.id, self.clock.now(), &audit).await? {
            return Err(not_found());
        }
        Ok(())
    }

    /// Brings back a project deleted within the retention window; a live one is returned as is.
    /// If its slug was taken meanwhile, it gets a fresh suffixed one.
    pub async fn restore_project(&self, principal: &Principal, id_or_slug: &str) -> Result<Project, AppError> {
        principal.require(Permission::ProjectsManage)?;
        if let Ok(live) = self.get_project(principal, id_or_slug).await {
            return Ok(live.project);
        }
        let Some(ProjectKey::Id(project_id)) = project_key(id_or_slug) else {
            return Err(not_found());
        };
        let Some(deleted) = self.projects.find_deleted(principal.org_id(), project_id).await? else {
            // Restored by a concurrent request since the first look: answer with it.
            return Ok(self.get_project(principal, id_or_slug).await?.project);
        };
        let now = self.clock.now();
        if deleted.deleted_at.is_none_or(|at| at < now - self.retention) {
            return Err(not_found());
        }
        // A deleted project is only the business of its owner and the org's admins.
        let audience = ProjectAudience::of(&deleted, vec![]);
        if !can_view_project(&principal.viewer(), &audience) && !principal.runs_the_org() {
            return Err(not_found());
        }
        Self::may_remove(principal, &deleted)?;
        let mut back = deleted.clone();
        back.deleted_at = None;
        back.updated_at = now;
        back.version += 1;
        let audit = self.audit(principal, "project.restored", deleted.id, vec![]);
        match self.projects.restore(&back, &audit, self.quota(Quota::Projects)).await? {
            Some(restored) => Ok(restored),
            // A concurrent restore got there first: the project is back, which is what was asked.
            None => Ok(self.get_project(principal, id_or_slug).await?.project),
        }
    }

    /// Removes for good the projects deleted longer than the retention window ago; returns how many.
    pub async fn purge_deleted_projects(&self) -> Result<usize, AppError> {
        let purged = self.projects.purge_deleted(self.clock.now() - self.retention).await?;
        for workspace_ref in purged.iter().flat_map(|p| &p.workspace_refs) {
            // The rows are gone already; a blob left behind is only storage, so keep going.
            if let Err(err) = self.blobs.delete_prefix(&projects_domain::layout::workspace_prefix(workspace_ref)).await
            {
                tracing::warn!(workspace_ref, error = %err, "could not remove the files of a purged workspace");
            }
        }
        Ok(purged.len())
    }
}

/// The project, if `principal` may see it; not found otherwise (a project one may not see does
/// not exist for them).
fn visible_to(principal: &Principal, stored: StoredProject) -> Result<StoredProject, AppError> {
    let audience = ProjectAudience::of(&stored.project, stored.shared_team_ids.clone());
    if can_view_project(&principal.viewer(), &audience) {
        Ok(stored)
    } else {
        Err(not_found())
    }
}
