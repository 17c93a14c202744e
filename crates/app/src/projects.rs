use projects_domain::{
    can_view_project, NewProject, NewProjectInput, PageRequest, Permission, Project,
    ProjectAudience, ProjectId, ProjectStatus, Slug, ValidationErrors, Visibility,
};
use projects_ports::{ProjectKey, ProjectPage, StoredProject};
use uuid::Uuid;

use crate::{App, AppError, Principal, Resource};

/// How a path segment names a project: a UUID is an id, anything else a slug. A segment that is
/// neither can name nothing.
fn project_key(raw: &str) -> Option<ProjectKey> {
    match Uuid::try_parse(raw) {
        Ok(id) => Some(ProjectKey::Id(ProjectId::from_uuid(id))),
        Err(_) => Slug::new(raw).ok().map(ProjectKey::Slug),
    }
}

impl App {
    /// Creates a project owned by the caller. `surface_default` is the visibility used when
    /// neither the request nor the caller's preference names one.
    pub async fn create_project(
        &self,
        principal: &Principal,
        input: NewProjectInput,
        surface_default: Visibility,
    ) -> Result<Project, AppError> {
        principal.require(Permission::ProjectsManage)?;
        let new = NewProject::validate(input)?;
        if let Some(team_id) = new.team_id {
            if self
                .identity
                .find_team(principal.org_id(), team_id)
                .await?
                .is_none()
            {
                return Err(
                    ValidationErrors::single("team_id", "does not exist in this org").into(),
                );
            }
        }
        let now = self.clock.now();
        let slug_is_explicit = new.slug.is_some();
        let project = Project {
            id: ProjectId::from_uuid(self.ids.new_id()),
            org_id: principal.org_id(),
            team_id: new.team_id,
            owner_user_id: principal.user_id(),
            slug: new.slug.unwrap_or_else(|| Slug::derive_from(&new.name)),
            name: new.name,
            description: new.description,
            prompt: new.prompt,
            emoji: new.emoji,
            visibility: new
                .visibility
                .or(principal.user.default_project_visibility)
                .unwrap_or(surface_default),
            status: ProjectStatus::Active,
            tags: new.tags,
            metadata: new.metadata,
            created_at: now,
            updated_at: now,
            deleted_at: None,
            version: 1,
        };
        Ok(self.projects.create(&project, slug_is_explicit).await?)
    }

    /// One page of the projects the caller may see, newest first.
    pub async fn list_projects(
        &self,
        principal: &Principal,
        page: PageRequest,
    ) -> Result<ProjectPage, AppError> {
        principal.require(Permission::ProjectsRead)?;
        Ok(self
            .projects
            .list_visible(&principal.viewer(), page)
            .await?)
    }

    /// The project named by `id_or_slug`, if the caller may see it.
    pub async fn get_project(
        &self,
        principal: &Principal,
        id_or_slug: &str,
    ) -> Result<StoredProject, AppError> {
        principal.require(Permission::ProjectsRead)?;
        let not_found = || AppError::NotFound(Resource::Project);
        let key = project_key(id_or_slug).ok_or_else(not_found)?;
        let stored = self
            .projects
            .find(principal.org_id(), &key)
            .await?
            .ok_or_else(not_found)?;
        let audience = ProjectAudience::of(&stored.project, stored.shared_team_ids.clone());
        if !can_view_project(&principal.viewer(), &audience) {
            return Err(not_found());
        }
        Ok(stored)
    }
}
