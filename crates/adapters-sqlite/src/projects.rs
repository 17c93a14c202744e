use std::collections::HashSet;

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use projects_domain::{
    Cursor, OrgId, PageRequest, Project, ProjectId, Slug, TeamId, Timestamp, Viewer,
};
use projects_ports::records::ProjectRecord;
use projects_ports::{ProjectKey, ProjectPage, ProjectStore, StoreError, StoredProject};

use crate::errors::{constraint_error, db_error};
use crate::rows::{id, id_text, micros, ProjectRow};
use crate::schema::{project_shares, projects};
use crate::SqliteStore;

const PROJECT_UNIQUE: &[(&str, &str)] = &[("projects.org_id, projects.slug", "slug")];
/// Concurrent creates can take the slug we picked; after this many tries something is wrong.
const SLUG_ATTEMPTS: usize = 8;

fn project(row: ProjectRow) -> Result<Project, StoreError> {
    Ok(row.into_record()?.decode()?)
}

impl SqliteStore {
    async fn taken_slugs(&self, org_id: &str, base: &Slug) -> Result<HashSet<String>, StoreError> {
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
            .map_err(|e| constraint_error(e, PROJECT_UNIQUE, "team_id"))
    }
}

#[async_trait]
impl ProjectStore for SqliteStore {
    async fn create(&self, new: &Project, slug_is_explicit: bool) -> Result<Project, StoreError> {
        let mut row = ProjectRow::from(ProjectRecord::from_domain(new));
        if slug_is_explicit {
            return project(self.insert(&row).await?);
        }
        for _ in 0..SLUG_ATTEMPTS {
            let taken = self.taken_slugs(&row.org_id, &new.slug).await?;
            row.slug = new
                .slug
                .first_free(|slug| taken.contains(slug))
                .as_str()
                .to_owned();
            match self.insert(&row).await {
                Err(StoreError::Conflict { field: "slug" }) => continue,
                other => return project(other?),
            }
        }
        Err(StoreError::Conflict { field: "slug" })
    }

    async fn find(
        &self,
        org_id: OrgId,
        key: &ProjectKey,
    ) -> Result<Option<StoredProject>, StoreError> {
        let org_id = id_text(org_id.as_uuid());
        let mut conn = self.conn().await?;
        let query = projects::table
            .filter(projects::org_id.eq(&org_id))
            .filter(projects::deleted_at.is_null())
            .select(ProjectRow::as_select())
            .into_boxed();
        let query = match key {
            ProjectKey::Id(project_id) => {
                query.filter(projects::id.eq(id_text(project_id.as_uuid())))
            }
            ProjectKey::Slug(slug) => query.filter(projects::slug.eq(slug.as_str())),
        };
        let Some(row) = query.first(&mut conn).await.optional().map_err(db_error)? else {
            return Ok(None);
        };
        let shared: Vec<String> = project_shares::table
            .filter(project_shares::org_id.eq(&org_id))
            .filter(project_shares::project_id.eq(&row.id))
            .order(project_shares::team_id)
            .select(project_shares::team_id)
            .load(&mut conn)
            .await
            .map_err(db_error)?;
        let shared_team_ids = shared
            .iter()
            .map(|t| id(t).map(TeamId::from_uuid))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Some(StoredProject {
            project: project(row)?,
            shared_team_ids,
        }))
    }

    async fn add_share(
        &self,
        org_id: OrgId,
        project_id: ProjectId,
        team_id: TeamId,
    ) -> Result<(), StoreError> {
        let (org_id, project_id) = (id_text(org_id.as_uuid()), id_text(project_id.as_uuid()));
        let mut conn = self.conn().await?;
        // Only live projects can be shared: a soft-deleted one reads as missing.
        let live = diesel::select(diesel::dsl::exists(
            projects::table
                .filter(projects::org_id.eq(&org_id))
                .filter(projects::id.eq(&project_id))
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
        diesel::insert_or_ignore_into(project_shares::table)
            .values((
                project_shares::org_id.eq(&org_id),
                project_shares::project_id.eq(&project_id),
                project_shares::team_id.eq(id_text(team_id.as_uuid())),
                project_shares::created_at.eq(micros(Timestamp::now_utc())),
            ))
            .execute(&mut conn)
            .await
            .map(drop)
            .map_err(|e| constraint_error(e, &[], "team_id"))
    }

    async fn remove_share(
        &self,
        org_id: OrgId,
        project_id: ProjectId,
        team_id: TeamId,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn().await?;
        let removed = diesel::delete(project_shares::table)
            .filter(project_shares::org_id.eq(id_text(org_id.as_uuid())))
            .filter(project_shares::project_id.eq(id_text(project_id.as_uuid())))
            .filter(project_shares::team_id.eq(id_text(team_id.as_uuid())))
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
        let team_ids: Vec<String> = viewer
            .team_ids
            .iter()
            .map(|t| id_text(t.as_uuid()))
            .collect();
        let shared_into_my_teams = diesel::dsl::exists(
            project_shares::table
                .filter(project_shares::project_id.eq(projects::id))
                .filter(project_shares::team_id.eq_any(team_ids.clone())),
        );
        let mut query = projects::table
            .filter(projects::org_id.eq(id_text(viewer.org_id.as_uuid())))
            .filter(projects::deleted_at.is_null())
            .filter(
                projects::owner_user_id
                    .eq(id_text(viewer.user_id.as_uuid()))
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
            let (created_at, after_id) = (micros(after.created_at), id_text(after.id));
            query = query.filter(
                projects::created_at.lt(created_at).or(projects::created_at
                    .eq(created_at)
                    .and(projects::id.lt(after_id))),
            );
        }
        let mut conn = self.conn().await?;
        let mut rows: Vec<ProjectRow> = query.load(&mut conn).await.map_err(db_error)?;
        let has_more = rows.len() > page.limit as usize;
        rows.truncate(page.limit as usize);
        let items = rows
            .into_iter()
            .map(project)
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
