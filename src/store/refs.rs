//! Git refs as Junction last recorded them, and the ref updates under way. A push or merge
//! first writes a pending row (`begin_ref_update`), then git changes the refs, then
//! `record_ref_updates` stores the new values, writes `repo:push` (and `pullrequest:updated`
//! for open pull requests whose source branch moved) and removes the pending row, in one
//! transaction. A pending row found at start is a push whose event was never written.

use super::events::{repo_in_tx, write_event};
use super::pulls::write_pr_event;
use super::{on_pool, on_writer, BeginWrite, Db, Emit, EventFacts, Store, StoreResult};
use crate::domain::git::{PushedRef, RefKind, Refs};

/// Holds a repository's write turn across nodes (PostgreSQL: a transaction-scoped advisory
/// lock, released when this is dropped and its transaction rolls back). On SQLite there is one
/// node, and the turn within it is `services/git`'s.
pub struct RepoWriteTurn(#[allow(dead_code)] Option<sqlx::Transaction<'static, sqlx::Postgres>>);

impl Store {
    /// Waits for repository `repo_id`'s write turn among all nodes.
    pub async fn repository_write_turn(&self, repo_id: i64) -> StoreResult<RepoWriteTurn> {
        match &self.db {
            Db::Sqlite(..) => Ok(RepoWriteTurn(None)),
            Db::Postgres(p) => {
                let mut tx = p.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(super::ordered::lock_key("repository", repo_id))
                    .execute(&mut *tx)
                    .await?;
                Ok(RepoWriteTurn(Some(tx)))
            }
        }
    }

    /// Notes that `actor_id` is about to change refs of `repo_id`.
    pub async fn begin_ref_update(&self, repo_id: i64, actor_id: i64) -> StoreResult<()> {
        let now = self.now();
        on_writer!(self, |p| {
            sqlx::query(
                "INSERT INTO ref_updates_pending (repo_id, actor_id, started_at) VALUES ($1, $2, $3)",
            )
            .bind(repo_id)
            .bind(actor_id)
            .bind(now)
            .execute(p)
            .await?;
        });
        Ok(())
    }

    /// Repositories with a ref update that never finished, each with the last one's actor.
    pub async fn pending_ref_updates(&self) -> StoreResult<Vec<(i64, i64)>> {
        Ok(on_pool!(self, |p| sqlx::query_as(
            "SELECT u.repo_id, u.actor_id FROM ref_updates_pending u
             WHERE u.id = (SELECT MAX(id) FROM ref_updates_pending v WHERE v.repo_id = u.repo_id)
             ORDER BY u.repo_id"
        )
        .fetch_all(p)
        .await?))
    }

    pub async fn recorded_refs(&self, repo_id: i64) -> StoreResult<Refs> {
        let rows: Vec<(String, String)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT name, target FROM repository_refs WHERE repo_id = $1"
        )
        .bind(repo_id)
        .fetch_all(p)
        .await?);
        Ok(rows.into_iter().collect())
    }

    /// Takes `refs` as the repository's recorded refs, writing no event: for a repository whose
    /// git data arrived by other means than a push (an import, a restored copy), so that
    /// pushes afterwards report only what they change.
    pub async fn adopt_refs(&self, repo_id: i64, refs: &Refs) -> StoreResult<()> {
        on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            sqlx::query("DELETE FROM repository_refs WHERE repo_id = $1")
                .bind(repo_id)
                .execute(&mut *tx)
                .await?;
            for (name, target) in refs {
                sqlx::query(
                    "INSERT INTO repository_refs (repo_id, name, target) VALUES ($1, $2, $3)",
                )
                .bind(repo_id)
                .bind(name)
                .bind(target)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Records what a push or merge changed (possibly nothing) and ends the repository's
    /// pending ref updates; see the module comment.
    pub async fn record_ref_updates(
        &self,
        repo_id: i64,
        pushed: &[PushedRef],
        emit: &Emit<'_>,
    ) -> StoreResult<()> {
        let now = self.now();
        on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            sqlx::query("DELETE FROM ref_updates_pending WHERE repo_id = $1")
                .bind(repo_id)
                .execute(&mut *tx)
                .await?;
            for r in pushed {
                let q = match &r.change.new {
                    Some(target) => sqlx::query(
                        "INSERT INTO repository_refs (repo_id, name, target) VALUES ($1, $2, $3)
                         ON CONFLICT (repo_id, name) DO UPDATE SET target = excluded.target",
                    )
                    .bind(repo_id)
                    .bind(&r.change.name)
                    .bind(target),
                    None => {
                        sqlx::query("DELETE FROM repository_refs WHERE repo_id = $1 AND name = $2")
                            .bind(repo_id)
                            .bind(&r.change.name)
                    }
                };
                q.execute(&mut *tx).await?;
            }
            if !pushed.is_empty() {
                let repo = repo_in_tx!(tx, repo_id);
                write_event!(
                    tx,
                    emit,
                    EventFacts {
                        push: Some(pushed),
                        ..EventFacts::repo("repo:push", emit, now, &repo)
                    }
                );
                // Open pull requests from a branch that moved show new commits.
                for r in pushed
                    .iter()
                    .filter(|r| r.change.new.is_some() && r.change.kind() == Some(RefKind::Branch))
                {
                    let prs: Vec<i64> = sqlx::query_scalar(
                        "UPDATE pull_requests SET version = version + 1, updated_at = $1
                         WHERE repo_id = $2 AND from_ref = $3 AND state = 'OPEN' RETURNING id",
                    )
                    .bind(now)
                    .bind(repo_id)
                    .bind(&r.change.name)
                    .fetch_all(&mut *tx)
                    .await?;
                    for pr_id in prs {
                        write_pr_event!(tx, emit, "pullrequest:updated", now, pr_id, |f| f);
                    }
                }
            }
            tx.commit().await?;
        });
        if !pushed.is_empty() {
            self.events_written().await;
        }
        Ok(())
    }
}
