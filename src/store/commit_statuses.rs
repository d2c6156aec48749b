//! Build statuses of commits (`migrations/*/0014_commit_statuses.sql`): one per repository,
//! commit and key; saving the key again replaces it. Saving writes its event
//! (`repo:commit_status_created` or `_updated`) and audit row in the same transaction.

use super::audit::write_audit;
use super::events::write_event;
use super::{
    on_pool, on_writer, Audited, BeginWrite, Emit, EventFacts, Repository, Store, StoreResult,
};
use crate::domain::build_status::{BuildState, ValidStatus};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CommitStatus {
    pub id: i64,
    /// `None`: posted through the legacy API, which names no repository.
    pub repo_id: Option<i64>,
    pub commit_id: String,
    pub status_key: String,
    #[sqlx(try_from = "String")]
    pub state: StoredState,
    pub name: Option<String>,
    pub url: String,
    pub description: Option<String>,
    pub refname: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A state as stored (its `as_str`); anything unreadable is `UNKNOWN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredState(pub BuildState);

impl From<String> for StoredState {
    fn from(s: String) -> Self {
        Self(s.parse().unwrap_or(BuildState::Unknown))
    }
}

const COLUMNS: &str =
    "id, repo_id, commit_id, status_key, state, name, url, description, refname, \
    created_by, created_at, updated_at";

impl Store {
    /// The status `key` of `commit` in `repo_id` (`None`: a legacy one).
    pub async fn commit_status(
        &self,
        repo_id: Option<i64>,
        commit: &str,
        key: &str,
    ) -> StoreResult<Option<CommitStatus>> {
        on_pool!(self, |p| {
            let row: Option<CommitStatus> = sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM commit_statuses
                 WHERE COALESCE(repo_id, 0) = $1 AND commit_id = $2 AND status_key = $3"
            ))
            .bind(repo_id.unwrap_or(0))
            .bind(commit)
            .bind(key)
            .fetch_optional(p)
            .await?;
            Ok(row)
        })
    }

    /// Every status of `commit` shown in `repo_id`: its own and the legacy ones, newest first.
    pub async fn commit_statuses(
        &self,
        repo_id: Option<i64>,
        commit: &str,
    ) -> StoreResult<Vec<CommitStatus>> {
        on_pool!(self, |p| {
            let rows: Vec<CommitStatus> = sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM commit_statuses
                 WHERE commit_id = $2 AND (repo_id IS NULL OR repo_id = $1)
                 ORDER BY updated_at DESC, id DESC"
            ))
            .bind(repo_id.unwrap_or(0))
            .bind(commit)
            .fetch_all(p)
            .await?;
            Ok(rows)
        })
    }

    /// Creates or replaces the status `s.key` of `commit`; `emit` (with the repository) writes
    /// its event. Whether it was created.
    pub async fn save_commit_status(
        &self,
        repo: Option<(&Repository, &Emit<'_>)>,
        commit: &str,
        s: &ValidStatus,
        by: i64,
        audit: Audited<'_>,
    ) -> StoreResult<(CommitStatus, bool)> {
        let now = self.now();
        let repo_id = repo.map(|(r, _)| r.id);
        let saved = on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let existing: Option<(i64,)> = sqlx::query_as(
                "SELECT id FROM commit_statuses
                 WHERE COALESCE(repo_id, 0) = $1 AND commit_id = $2 AND status_key = $3",
            )
            .bind(repo_id.unwrap_or(0))
            .bind(commit)
            .bind(&s.key)
            .fetch_optional(&mut *tx)
            .await?;
            let id: (i64,) =
                match existing {
                    Some((id,)) => {
                        sqlx::query_as(
                            "UPDATE commit_statuses SET state = $2, name = $3, url = $4,
                             description = $5, refname = $6, updated_at = $7
                         WHERE id = $1 RETURNING id",
                        )
                        .bind(id)
                        .bind(s.state.as_str())
                        .bind(&s.name)
                        .bind(&s.url)
                        .bind(&s.description)
                        .bind(&s.refname)
                        .bind(now)
                        .fetch_one(&mut *tx)
                        .await?
                    }
                    None => sqlx::query_as(
                        "INSERT INTO commit_statuses (repo_id, commit_id, status_key, state, name,
                             url, description, refname, created_by, created_at, updated_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
                    )
                    .bind(repo_id)
                    .bind(commit)
                    .bind(&s.key)
                    .bind(s.state.as_str())
                    .bind(&s.name)
                    .bind(&s.url)
                    .bind(&s.description)
                    .bind(&s.refname)
                    .bind(by)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?,
                };
            let status: CommitStatus = sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM commit_statuses WHERE id = $1"
            ))
            .bind(id.0)
            .fetch_one(&mut *tx)
            .await?;
            let created = existing.is_none();
            if let Some((r, emit)) = repo {
                let key = if created {
                    "repo:commit_status_created"
                } else {
                    "repo:commit_status_updated"
                };
                write_event!(
                    tx,
                    emit,
                    EventFacts {
                        commit_status: Some(&status),
                        ..EventFacts::repo(key, emit, now, r)
                    }
                );
            }
            write_audit!(&mut *tx, now, audit);
            tx.commit().await?;
            Ok::<_, super::StoreError>((status, created))
        })?;
        if repo.is_some() {
            self.events_written().await;
        }
        Ok(saved)
    }
}
