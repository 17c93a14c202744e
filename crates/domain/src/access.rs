//! The visibility rule: who may see a project. Pure, so that gets can check it directly and the
//! stores' list queries can be tested against it.

use crate::identity::Role;
use crate::ids::{OrgId, TeamId, UserId};
use crate::project::{Project, Visibility};

/// The caller, as far as visibility is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub org_id: OrgId,
    pub user_id: UserId,
    pub role: Role,
    /// The teams the caller belongs to.
    pub team_ids: Vec<TeamId>,
}

/// What visibility depends on: the project's tenancy, owner, visibility, team and the teams it is
/// shared into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectAudience {
    pub org_id: OrgId,
    pub owner_user_id: UserId,
    pub visibility: Visibility,
    pub team_id: Option<TeamId>,
    pub shared_team_ids: Vec<TeamId>,
}

impl ProjectAudience {
    pub fn of(project: &Project, shared_team_ids: Vec<TeamId>) -> Self {
        Self {
            org_id: project.org_id,
            owner_user_id: project.owner_user_id,
            visibility: project.visibility,
            team_id: project.team_id,
            shared_team_ids,
        }
    }
}

/// Whether `viewer` may see a project with this audience.
///
/// - Nothing crosses orgs.
/// - The owner always sees their project.
/// - `Private`: nobody else, whatever their role (roles grant permissions, not visibility).
/// - `Shared` with no team: every member of the org.
/// - `Shared` with a team: that team's members, plus the members of every team it is shared into.
pub fn can_view_project(viewer: &Viewer, project: &ProjectAudience) -> bool {
    if viewer.org_id != project.org_id {
        return false;
    }
    if viewer.user_id == project.owner_user_id {
        return true;
    }
    match (project.visibility, project.team_id) {
        (Visibility::Private, _) => false,
        (Visibility::Shared, None) => true,
        (Visibility::Shared, Some(team_id)) => {
            viewer.team_ids.iter().any(|t| *t == team_id || project.shared_team_ids.contains(t))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    /// How the viewer relates to the project.
    #[derive(Debug, Clone, Copy)]
    enum Relation {
        /// Created the project.
        Owner,
        /// Belongs to the project's team.
        TeamMember,
        /// Belongs to a team the project is shared into.
        ShareMember,
        /// Same org, no team in common.
        OrgMember,
        /// Another org altogether.
        OtherOrg,
    }

    const ORG: OrgId = OrgId::from_uuid(Uuid::from_u128(1));
    const OTHER_ORG: OrgId = OrgId::from_uuid(Uuid::from_u128(2));
    const OWNER: UserId = UserId::from_uuid(Uuid::from_u128(10));
    const CALLER: UserId = UserId::from_uuid(Uuid::from_u128(11));
    const PROJECT_TEAM: TeamId = TeamId::from_uuid(Uuid::from_u128(20));
    const SHARE_TEAM: TeamId = TeamId::from_uuid(Uuid::from_u128(21));
    const UNRELATED_TEAM: TeamId = TeamId::from_uuid(Uuid::from_u128(22));

    fn viewer(relation: Relation, role: Role) -> Viewer {
        let (org_id, user_id, team_ids) = match relation {
            Relation::Owner => (ORG, OWNER, vec![]),
            Relation::TeamMember => (ORG, CALLER, vec![UNRELATED_TEAM, PROJECT_TEAM]),
            Relation::ShareMember => (ORG, CALLER, vec![SHARE_TEAM]),
            Relation::OrgMember => (ORG, CALLER, vec![UNRELATED_TEAM]),
            // Same team ids on purpose: ids from another org must never grant anything.
            Relation::OtherOrg => (OTHER_ORG, CALLER, vec![PROJECT_TEAM, SHARE_TEAM]),
        };
        Viewer { org_id, user_id, role, team_ids }
    }

    fn project(visibility: Visibility, has_team: bool) -> ProjectAudience {
        ProjectAudience {
            org_id: ORG,
            owner_user_id: OWNER,
            visibility,
            team_id: has_team.then_some(PROJECT_TEAM),
            shared_team_ids: vec![SHARE_TEAM],
        }
    }

    #[test]
    fn visibility_matrix() {
        use Relation::*;
        use Visibility::*;
        const T: bool = true;
        const F: bool = false;
        // relation × visibility × project has a team → allowed for [owner, admin, member, viewer].
        // Every cell is spelled out; `TeamMember` of a project without a team cannot happen.
        #[rustfmt::skip]
        let table: &[(Relation, Visibility, bool, [bool; 4])] = &[
            //                                owner admin member viewer
            (Owner,       Private, true,  [T,    T,    T,     T]),
            (Owner,       Private, false, [T,    T,    T,     T]),
            (Owner,       Shared,  true,  [T,    T,    T,     T]),
            (Owner,       Shared,  false, [T,    T,    T,     T]),
            (TeamMember,  Private, true,  [F,    F,    F,     F]),
            (TeamMember,  Shared,  true,  [T,    T,    T,     T]),
            (ShareMember, Private, true,  [F,    F,    F,     F]),
            (ShareMember, Private, false, [F,    F,    F,     F]),
            (ShareMember, Shared,  true,  [T,    T,    T,     T]),
            (ShareMember, Shared,  false, [T,    T,    T,     T]),
            (OrgMember,   Private, true,  [F,    F,    F,     F]),
            (OrgMember,   Private, false, [F,    F,    F,     F]),
            (OrgMember,   Shared,  true,  [F,    F,    F,     F]),
            (OrgMember,   Shared,  false, [T,    T,    T,     T]),
            (OtherOrg,    Private, true,  [F,    F,    F,     F]),
            (OtherOrg,    Private, false, [F,    F,    F,     F]),
            (OtherOrg,    Shared,  true,  [F,    F,    F,     F]),
            (OtherOrg,    Shared,  false, [F,    F,    F,     F]),
        ];
        for &(relation, visibility, has_team, expected) in table {
            for (role, allowed) in Role::ALL.into_iter().zip(expected) {
                assert_eq!(
                    can_view_project(&viewer(relation, role), &project(visibility, has_team)),
                    allowed,
                    "{relation:?} as {role}, {visibility:?} project, team: {has_team}"
                );
            }
        }
    }
}
