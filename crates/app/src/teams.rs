use projects_domain::{PageRequest, Permission, Team, TeamId, UserId, ValidationErrors};
use projects_ports::{Page, StoreError};

use crate::{short_name, App, AppError, Principal, Resource};

impl App {
    pub async fn create_team(&self, principal: &Principal, name: &str) -> Result<Team, AppError> {
        principal.require(Permission::TeamsManage)?;
        let team = Team {
            id: TeamId::from_uuid(self.ids.new_id()),
            org_id: principal.org_id(),
            name: short_name("name", name)?,
            created_at: self.clock.now(),
        };
        let audit = self.identity_audit(principal.user(), "team.created", "team", team.id.as_uuid(), vec![]);
        match self.identity.create_team(&team, &audit).await {
            Ok(()) => Ok(team),
            Err(StoreError::Conflict { field }) => Err(AppError::Conflict { resource: Resource::Team, field }),
            Err(other) => Err(other.into()),
        }
    }

    /// One page of the org's teams, oldest first.
    pub async fn list_teams(&self, principal: &Principal, page: PageRequest) -> Result<Page<Team>, AppError> {
        principal.require(Permission::TeamsRead)?;
        Ok(self.identity.list_teams(principal.org_id(), page).await?)
    }

    async fn managed_team(&self, principal: &Principal, team_id: TeamId) -> Result<Team, AppError> {
        principal.require(Permission::TeamsManage)?;
        self.identity.find_team(principal.org_id(), team_id).await?.ok_or(AppError::NotFound(Resource::Team))
    }

    pub async fn add_team_member(
        &self,
        principal: &Principal,
        team_id: TeamId,
        user_id: UserId,
    ) -> Result<(), AppError> {
        let team = self.managed_team(principal, team_id).await?;
        if self.identity.find_user(principal.org_id(), user_id).await?.is_none() {
            return Err(ValidationErrors::single("user_id", "is not a member of this org").into());
        }
        let audit = self.identity_audit(
            principal.user(),
            "team.member_added",
            "team",
            team.id.as_uuid(),
            vec![user_id.to_string()],
        );
        let added = self.identity.add_team_member(principal.org_id(), team.id, user_id, &audit).await;
        Ok(self.after_identity_change(principal.org_id(), added)?)
    }

    pub async fn remove_team_member(
        &self,
        principal: &Principal,
        team_id: TeamId,
        user_id: UserId,
    ) -> Result<(), AppError> {
        let team = self.managed_team(principal, team_id).await?;
        let audit = self.identity_audit(
            principal.user(),
            "team.member_removed",
            "team",
            team.id.as_uuid(),
            vec![user_id.to_string()],
        );
        let removed = self.identity.remove_team_member(principal.org_id(), team.id, user_id, &audit).await;
        if !self.after_identity_change(principal.org_id(), removed)? {
            return Err(AppError::NotFound(Resource::Member));
        }
        Ok(())
    }

    /// The project the caller may re-share: visible to them, and theirs unless they are an
    /// owner or admin of the org.
    async fn shareable_project(
        &self,
        principal: &Principal,
        id_or_slug: &str,
    ) -> Result<projects_domain::Project, AppError> {
        principal.require(Permission::ProjectsManage)?;
        let project = self.get_project(principal, id_or_slug).await?.project;
        if project.owner_user_id != principal.user_id() && !principal.runs_the_org() {
            return Err(AppError::Forbidden { missing: Permission::ProjectsManage });
        }
        Ok(project)
    }

    /// Shares a project into one more team.
    pub async fn share_project(
        &self,
        principal: &Principal,
        id_or_slug: &str,
        team_id: TeamId,
    ) -> Result<(), AppError> {
        let project = self.shareable_project(principal, id_or_slug).await?;
        if self.identity.find_team(principal.org_id(), team_id).await?.is_none() {
            return Err(ValidationErrors::single("team_id", "does not exist in this org").into());
        }
        // Putting a project in front of a team is the team's business, as creating one in it is.
        if !principal.team_ids.contains(&team_id) && !principal.runs_the_org() {
            return Err(AppError::NotAllowed(crate::Refusal::NotInTeam));
        }
        Ok(self
            .projects
            .add_share(
                principal.org_id(),
                project.id,
                team_id,
                &self.audit(principal, "project.shared", project.id, vec![team_id.to_string()]),
            )
            .await?)
    }

    /// Stops sharing a project into a team.
    pub async fn unshare_project(
        &self,
        principal: &Principal,
        id_or_slug: &str,
        team_id: TeamId,
    ) -> Result<(), AppError> {
        let project = self.shareable_project(principal, id_or_slug).await?;
        if !self
            .projects
            .remove_share(
                principal.org_id(),
                project.id,
                team_id,
                &self.audit(principal, "project.unshared", project.id, vec![team_id.to_string()]),
            )
            .await?
        {
            return Err(AppError::NotFound(Resource::Team));
        }
        Ok(())
    }
}
