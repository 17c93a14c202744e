use async_trait::async_trait;
use projects_domain::{Cursor, OrgId, PageRequest, Project, ProjectId, Slug, TeamId, Viewer};

use crate::{Reachable, StoreError};

/// How a caller names a project: by id or by slug.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectKey {
    Id(ProjectId),
    Slug(Slug),
}

/// A live project with the teams it is shared into (what the visibility rule needs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredProject {
    pub project: Project,
    pub shared_team_ids: Vec<TeamId>,
}

/// One page of projects, newest first, and where the next one starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectPage {
    pub items: Vec<Project>,
    pub next: Option<Cursor>,
}

/// Projects, always scoped by org; soft-deleted projects are invisible to every read.
#[async_trait]
pub trait ProjectStore: Reachable {
    /// Inserts a project and returns it as stored. When `slug_is_explicit` is false and the slug
    /// is taken among the org's live projects, the first free `slug-2`, `slug-3`, … is used
    /// instead; an explicit slug that is taken is `Conflict { field: "slug" }`. An unknown team
    /// is `MissingReference { field: "team_id" }`.
    async fn create(
        &self,
        project: &Project,
        slug_is_explicit: bool,
    ) -> Result<Project, StoreError>;

    /// The live project with this id or slug in this org.
    async fn find(
        &self,
        org_id: OrgId,
        key: &ProjectKey,
    ) -> Result<Option<StoredProject>, StoreError>;

    /// Shares a live project into one more team (a no-op when already shared). `MissingReference`
    /// when the project or the team is not in the org.
    async fn add_share(
        &self,
        org_id: OrgId,
        project_id: ProjectId,
        team_id: TeamId,
    ) -> Result<(), StoreError>;

    /// Stops sharing a project into a team. False when it was not shared there.
    async fn remove_share(
        &self,
        org_id: OrgId,
        project_id: ProjectId,
        team_id: TeamId,
    ) -> Result<bool, StoreError>;

    /// The live projects of the viewer's org that the viewer may see (the rule of
    /// `projects_domain::can_view_project`, applied inside the query), newest first.
    async fn list_visible(
        &self,
        viewer: &Viewer,
        page: PageRequest,
    ) -> Result<ProjectPage, StoreError>;
}
