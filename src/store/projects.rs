//! Projects and the repositories in them.

use super::audit::write_audit;
use super::events::{repo_in_tx, write_event};
use super::{
    on_pool, on_writer, Audited, BeginWrite, Emit, EventFacts, Store, StoreError, StoreResult,
};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Project {
    pub id: i64,
    pub key: String,
    pub name: String,
    pub description: String,
    pub public: bool,
    /// Holds at least one public repository (which makes the project visible to everyone).
    pub has_public_repo: bool,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Repository {
    pub id: i64,
    pub project_id: i64,
    pub slug: String,
    pub name: String,
    pub description: String,
    /// The repository's own flag; `readable_by_anyone` also counts the project's.
    pub public: bool,
    pub default_branch: String,
    pub created_at: i64,
    pub project_key: String,
    pub project_name: String,
    pub project_description: String,
    pub project_public: bool,
}

impl Repository {
    pub fn readable_by_anyone(&self) -> bool {
        self.public || self.project_public
    }
}

/// Fields to change; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct ProjectChanges {
    pub key: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub public: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct RepositoryChanges {
    pub slug: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub public: Option<bool>,
    pub default_branch: Option<String>,
}

pub(crate) const PROJECT_SELECT: &str =
    "SELECT p.id, p.key, p.name, p.description, p.public, p.created_at,
    EXISTS (SELECT 1 FROM repositories r WHERE r.project_id = p.id AND r.public) AS has_public_repo
    FROM projects p";

/// A repository row's columns, over `repositories r` and its `projects p`.
macro_rules! repo_columns {
    () => {
        "r.id, r.project_id, r.slug, r.name, r.description, r.public, r.default_branch,
    r.created_at, p.key AS project_key, p.name AS project_name, p.description AS project_description,
    p.public AS project_public"
    };
}
pub(crate) use repo_columns;

pub(crate) const REPO_SELECT: &str = concat!(
    "SELECT ",
    repo_columns!(),
    " FROM repositories r JOIN projects p ON p.id = r.project_id"
);

impl Store {
    pub async fn create_project(
        &self,
        key: &str,
        name: &str,
        description: &str,
        public: bool,
        audit: Audited<'_>,
    ) -> StoreResult<Project> {
        let now = self.now();
        let id = on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO projects (key, name, description, public, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
            )
            .bind(key)
            .bind(name)
            .bind(description)
            .bind(public)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            write_audit!(&mut *tx, now, audit);
            tx.commit().await?;
            id
        });
        self.project_by_id(id).await
    }

    async fn project_by_id(&self, id: i64) -> StoreResult<Project> {
        on_pool!(self, |p| {
            let v: Project = sqlx::query_as(&format!("{PROJECT_SELECT} WHERE p.id = $1"))
                .bind(id)
                .fetch_one(p)
                .await?;
            Ok(v)
        })
    }

    /// Looks a project up by key, case-insensitively (keys are stored upper-case).
    pub async fn find_project(&self, key: &str) -> StoreResult<Option<Project>> {
        on_pool!(self, |p| {
            let v: Option<Project> = sqlx::query_as(&format!("{PROJECT_SELECT} WHERE p.key = $1"))
                .bind(key.to_ascii_uppercase())
                .fetch_optional(p)
                .await?;
            Ok(v)
        })
    }

    pub async fn find_project_by_name(&self, name: &str) -> StoreResult<Option<Project>> {
        on_pool!(self, |p| {
            let v: Option<Project> = sqlx::query_as(&format!("{PROJECT_SELECT} WHERE p.name = $1"))
                .bind(name)
                .fetch_optional(p)
                .await?;
            Ok(v)
        })
    }

    /// Every project, ordered by key. Callers filter by what the principal may see.
    pub async fn list_projects(&self) -> StoreResult<Vec<Project>> {
        on_pool!(self, |p| {
            let v: Vec<Project> = sqlx::query_as(&format!("{PROJECT_SELECT} ORDER BY p.key"))
                .fetch_all(p)
                .await?;
            Ok(v)
        })
    }

    pub async fn update_project(
        &self,
        id: i64,
        c: &ProjectChanges,
        audit: Audited<'_>,
    ) -> StoreResult<Project> {
        let now = self.now();
        on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let r = sqlx::query(
                "UPDATE projects SET key = COALESCE($1, key), name = COALESCE($2, name),
                 description = COALESCE($3, description), public = COALESCE($4, public), updated_at = $5
                 WHERE id = $6")
                .bind(c.key.as_deref()).bind(c.name.as_deref()).bind(c.description.as_deref()).bind(c.public)
                .bind(now).bind(id).execute(&mut *tx).await?;
            if r.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            write_audit!(&mut *tx, now, audit);
            tx.commit().await?;
        });
        self.invalidate().await;
        self.project_by_id(id).await
    }

    /// Deletes a project that holds no repositories. Returns false if it still has some.
    pub async fn delete_empty_project(&self, id: i64, audit: Audited<'_>) -> StoreResult<bool> {
        let sql = "DELETE FROM projects WHERE id = $1
                   AND NOT EXISTS (SELECT 1 FROM repositories WHERE project_id = $1)";
        let deleted = self.execute_audited(sql, &[id], audit).await?;
        self.invalidate().await;
        Ok(deleted)
    }

    /// Creates a repository and its `repo:created` event.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_repository(
        &self,
        project_id: i64,
        slug: &str,
        name: &str,
        description: &str,
        public: bool,
        default_branch: &str,
        emit: &Emit<'_>,
        audit: Audited<'_>,
    ) -> StoreResult<Repository> {
        let now = self.now();
        let repo = on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO repositories (project_id, slug, name, description, public, default_branch, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id")
                .bind(project_id).bind(slug).bind(name).bind(description).bind(public).bind(default_branch).bind(now)
                .fetch_one(&mut *tx).await?;
            let repo = repo_in_tx!(tx, id);
            write_event!(tx, emit, EventFacts::repo("repo:created", emit, now, &repo));
            write_audit!(&mut *tx, now, audit);
            tx.commit().await?;
            repo
        });
        self.events_written().await;
        Ok(repo)
    }

    pub async fn repository_by_id(&self, id: i64) -> StoreResult<Repository> {
        on_pool!(self, |p| {
            let v: Repository = sqlx::query_as(&format!("{REPO_SELECT} WHERE r.id = $1"))
                .bind(id)
                .fetch_one(p)
                .await?;
            Ok(v)
        })
    }

    pub async fn find_repository(
        &self,
        project_key: &str,
        slug: &str,
    ) -> StoreResult<Option<Repository>> {
        let key = (project_key.to_ascii_uppercase(), slug.to_ascii_lowercase());
        let (now, generation) = (self.now(), self.cache.generation());
        if let Some(hit) = self.cache.repos.get(&key, generation, now) {
            return Ok(Some(hit));
        }
        let found: Option<Repository> = on_pool!(self, |p| {
            sqlx::query_as(&format!("{REPO_SELECT} WHERE p.key = $1 AND r.slug = $2"))
                .bind(&key.0)
                .bind(&key.1)
                .fetch_optional(p)
                .await?
        });
        // Only hits are cached: a repository created a moment later must be found at once.
        if let Some(repo) = &found {
            self.cache.repos.put(key, repo.clone(), generation, now);
        }
        Ok(found)
    }

    /// Repositories of one project, or of all projects, ordered by project key and slug.
    pub async fn list_repositories(&self, project_id: Option<i64>) -> StoreResult<Vec<Repository>> {
        on_pool!(self, |p| {
            let v: Vec<Repository> = match project_id {
                Some(id) => {
                    sqlx::query_as(&format!(
                        "{REPO_SELECT} WHERE r.project_id = $1 ORDER BY r.slug"
                    ))
                    .bind(id)
                    .fetch_all(p)
                    .await?
                }
                None => {
                    sqlx::query_as(&format!("{REPO_SELECT} ORDER BY p.key, r.slug"))
                        .fetch_all(p)
                        .await?
                }
            };
            Ok(v)
        })
    }

    /// Changes a repository and writes its `repo:updated` event (with what changed).
    pub async fn update_repository(
        &self,
        id: i64,
        c: &RepositoryChanges,
        emit: &Emit<'_>,
        audit: Audited<'_>,
    ) -> StoreResult<Repository> {
        let now = self.now();
        let repo = on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let before: Option<Repository> =
                sqlx::query_as(&format!("{REPO_SELECT} WHERE r.id = $1"))
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some(before) = before else {
                return Err(StoreError::NotFound);
            };
            sqlx::query(
                "UPDATE repositories SET slug = COALESCE($1, slug), name = COALESCE($2, name),
                 description = COALESCE($3, description), public = COALESCE($4, public),
                 default_branch = COALESCE($5, default_branch), updated_at = $6 WHERE id = $7",
            )
            .bind(c.slug.as_deref())
            .bind(c.name.as_deref())
            .bind(c.description.as_deref())
            .bind(c.public)
            .bind(c.default_branch.as_deref())
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            let after = repo_in_tx!(tx, id);
            write_event!(
                tx,
                emit,
                EventFacts {
                    previous_repo: Some(&before),
                    ..EventFacts::repo("repo:updated", emit, now, &after)
                }
            );
            write_audit!(&mut *tx, now, audit);
            tx.commit().await?;
            after
        });
        self.invalidate().await;
        self.events_written().await;
        Ok(repo)
    }

    /// Deletes a repository with its pull requests, comments, grants and webhooks, writing its
    /// `repo:deleted` event (which reaches project webhooks: the repository's own go with it).
    pub async fn delete_repository(
        &self,
        id: i64,
        emit: &Emit<'_>,
        audit: Audited<'_>,
    ) -> StoreResult<bool> {
        let now = self.now();
        let deleted = on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let before: Option<Repository> =
                sqlx::query_as(&format!("{REPO_SELECT} WHERE r.id = $1"))
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some(before) = before else {
                return Ok(false);
            };
            sqlx::query(
                "DELETE FROM webhook_deliveries WHERE subscriber_kind = 'webhook'
                         AND subscriber_id IN (SELECT id FROM webhooks WHERE repo_id = $1)",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM repositories WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            write_event!(
                tx,
                emit,
                EventFacts::repo("repo:deleted", emit, now, &before)
            );
            write_audit!(&mut *tx, now, audit);
            tx.commit().await?;
            true
        });
        self.invalidate().await;
        self.events_written().await;
        Ok(deleted)
    }
}
