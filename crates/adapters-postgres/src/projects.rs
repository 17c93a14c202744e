use std::collections::HashSet;

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use projects_domain::{Cursor, OrgId, PageRequest, Project, ProjectId, Slug, TeamId, Viewer};
use projects_ports::records::ProjectRecord;
use projects_ports::{ProjectKey, ProjectPage, ProjectStore, StoreError, StoredProject};
use uuid::Uuid;

use crate::errors::{constraint_error, db_error};
use crate::rows::ProjectRow;
use crate::schema::{project_shares, projects};
use crate::PostgresStore;

const PROJECT_CONSTRAINTS: &[(&str, &str)] = &[
    ("projects_org_slug_live_key", "slug"),
    ("projects_team_fkey", "team_id"),
    ("projects_owner_fkey", "owner_user_id"),
];
const SHARE_CONSTRAINTS: &[(&str, &str)] = &[
    ("project_shares_project_fkey", "project_id"),
    ("project_shares_team_fkey", "team_id"),
];
/// Concurrent creates can take the slug we picked; after this many tries something is wrong.
const SLUG_ATTEMPTS: usize = 8;

fn decode(row: ProjectRow) -> Result<Project, StoreError> {
    Ok(ProjectRecord::from(row).decode()?)
}

impl PostgresStore {
    async fn taken_slugs(&self, org_id: Uuid, base: &Slug) -> Result<HashSet<String>, StoreError> {
        let mut conn = self.conn().await?;
        let taken: Vec<String> = projects::table
            .filter(projects::org_id.eq(org_id))
            .filter(projects::deleted_at.is_null())
            .filter(
                projects::slug
                    .eq(base.as_str())
                    .or(projects::slug.like(format!("{}-%", base.as_str()))),
            )
            .select(projects::slug)
            .load(&mut conn)
            .await
            .map_err(db_error)?;
        Ok(taken.into_iter().collect())
    }

    async fn insert(&self, row: &ProjectRow) -> Result<ProjectRow, StoreError> {
        let mut conn = self.conn().await?;
        diesel::insert_into(projects::table)
            .values(row)
            .returning(ProjectRow::as_returning())
            .get_result(&mut conn)
            .await
            .map_err(|e| constraint_error(e, PROJECT_CONSTRAINTS))
    }
}

#[async_trait]
impl ProjectStore for PostgresStore {
    async fn create(
        &self,
        project: &Project,
        slug_is_explicit: bool,
    ) -> Result<Project, StoreError> {
        let mut row = ProjectRow::from(ProjectRecord::from_domain(project));
        if slug_is_explicit {
            return decode(self.insert(&row).await?);
        }
        for _ in 0..SLUG_ATTEMPTS {
            let taken = self.taken_slugs(row.org_id, &project.slug).await?;
            row.slug = project
                .slug
                .first_free(|slug| taken.contains(slug))
                .as_str()
                .to_owned();
            match self.insert(&row).await {
                Err(StoreError::Conflict { field: "slug" }) => continue,
                other => return decode(other?),
            }
        }
        Err(StoreError::Conflict { field: "slug" })
    }

    async fn find(
        &self,
        org_id: OrgId,
        key: &ProjectKey,
    ) -> Result<Option<StoredProject>, StoreError> {
        let mut conn = self.conn().await?;
        let query = projects::table
            .filter(projects::org_id.eq(org_id.as_uuid()))
            .filter(projects::deleted_at.is_null())
            .select(ProjectRow::as_select())
            .into_boxed();
        let query = match key {
            ProjectKey::Id(id) => query.filter(projects::id.eq(id.as_uuid())),
            ProjectKey::Slug(slug) => query.filter(projects::slug.eq(slug.as_str())),
        };
        let Some(row) = query.first(&mut conn).await.optional().map_err(db_error)? else {
            return Ok(None);
        };
        let shared_team_ids: Vec<Uuid> = project_shares::table
            .filter(project_shares::org_id.eq(org_id.as_uuid()))
            .filter(project_shares::project_id.eq(row.id))
            .order(project_shares::team_id)
            .select(project_shares::team_id)
            .load(&mut conn)
            .await
            .map_err(db_error)?;
        Ok(Some(StoredProject {
            project: decode(row)?,
            shared_team_ids: shared_team_ids.into_iter().map(TeamId::from_uuid).collect(),
        }))
    }

    async fn add_share(
        &self,
        org_id: OrgId,
        project_id: ProjectId,
        team_id: TeamId,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        // Only live projects can be shared: a soft-deleted one reads as missing.
        let live = diesel::select(diesel::dsl::exists(
            projects::table
                .filter(projects::org_id.eq(org_id.as_uuid()))
                .filter(projects::id.eq(project_id.as_uuid()))
                .filter(projects::deleted_at.is_null()),
        ))
        .get_result::<bool>(&mut conn)
        .await
        .map_err(db_error)?;
        if !live {
            return Err(StoreError::MissingReference {
                field: "project_id",
            });
        }
        diesel::insert_into(project_shares::table)
            .values((
                project_shares::org_id.eq(org_id.as_uuid()),
                project_shares::project_id.eq(project_id.as_uuid()),
                project_shares::team_id.eq(team_id.as_uuid()),
                project_shares::created_at.eq(time::OffsetDateTime::now_utc()),
            ))
            .on_conflict_do_nothing()
            .execute(&mut conn)
            .await
            .map(drop)
            .map_err(|e| constraint_error(e, SHARE_CONSTRAINTS))
    }

    async fn remove_share(
        &self,
        org_id: OrgId,
        project_id: ProjectId,
        team_id: TeamId,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn().await?;
        let removed = diesel::delete(project_shares::table)
            .filter(project_shares::org_id.eq(org_id.as_uuid()))
            .filter(project_shares::project_id.eq(project_id.as_uuid()))
            .filter(project_shares::team_id.eq(team_id.as_uuid()))
            .execute(&mut conn)
            .await
            .map_err(db_error)?;
        Ok(removed > 0)
    }

    async fn list_visible(
        &self,
        viewer: &Viewer,
        page: PageRequest,
    ) -> Result<ProjectPage, StoreError> {
        let team_ids: Vec<Uuid> = viewer.team_ids.iter().map(|t| t.as_uuid()).collect();
        let shared_into_my_teams = diesel::dsl::exists(
            project_shares::table
                .filter(project_shares::project_id.eq(projects::id))
                .filter(project_shares::team_id.eq_any(team_ids.clone())),
        );
        let mut query = projects::table
            .filter(projects::org_id.eq(viewer.org_id.as_uuid()))
            .filter(projects::deleted_at.is_null())
            .filter(
                projects::owner_user_id
                    .eq(viewer.user_id.as_uuid())
                    .nullable()
                    .or(projects::visibility.eq("shared").nullable().and(
                        projects::team_id
                            .is_null()
                            .nullable()
                            .or(projects::team_id.eq_any(team_ids))
                            .or(shared_into_my_teams.nullable()),
                    )),
            )
            .select(ProjectRow::as_select())
            .order((projects::created_at.desc(), projects::id.desc()))
            .limit(i64::from(page.limit) + 1)
            .into_boxed();
        if let Some(after) = page.after {
            query = query.filter(
                projects::created_at
                    .lt(after.created_at)
                    .or(projects::created_at
                        .eq(after.created_at)
                        .and(projects::id.lt(after.id))),
            );
        }
        let mut conn = self.conn().await?;
        let mut rows: Vec<ProjectRow> = query.load(&mut conn).await.map_err(db_error)?;
        let has_more = rows.len() > page.limit as usize;
        rows.truncate(page.limit as usize);
        let items = rows
            .into_iter()
            .map(decode)
            .collect::<Result<Vec<_>, _>>()?;
        let next = match (has_more, items.last()) {
            (true, Some(last)) => Some(Cursor {
                created_at: last.created_at,
                id: last.id.as_uuid(),
            }),
            _ => None,
        };
        Ok(ProjectPage { items, next })
    }
}
