//! Permission grants to users and teams, on the whole system, a project or a repository.

use super::{on_pool, on_writer, Store, StoreResult};
use crate::domain::{Grant, ScopedGrant};

/// Where a grant applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantTarget {
    Global,
    Project(i64),
    /// A repository, with its project (so deleting the project removes the grant too).
    Repo {
        project_id: i64,
        repo_id: i64,
    },
}

impl GrantTarget {
    fn parts(self) -> (&'static str, i64, Option<i64>, Option<i64>) {
        match self {
            GrantTarget::Global => ("global", 0, None, None),
            GrantTarget::Project(p) => ("project", p, Some(p), None),
            GrantTarget::Repo {
                project_id,
                repo_id,
            } => ("repo", repo_id, Some(project_id), Some(repo_id)),
        }
    }
}

/// A grant on one target, with the account it was given to.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct GrantHolder {
    pub account_id: i64,
    pub kind: String,
    pub slug: String,
    pub display_name: String,
    pub email: Option<String>,
    pub active: bool,
    pub permission: String,
}

impl Store {
    /// Every grant that applies to a user: their own and their teams'.
    pub async fn grants_of_user(&self, user_id: i64) -> StoreResult<Vec<ScopedGrant>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            scope: String,
            permission: String,
            project_id: Option<i64>,
            repo_id: Option<i64>,
        }
        let (now, generation) = (self.now(), self.cache.generation());
        if let Some(hit) = self.cache.grants.get(&user_id, generation, now) {
            return Ok(hit);
        }
        let grants: Vec<ScopedGrant> = on_pool!(self, p => {
            let rows: Vec<Row> = sqlx::query_as(
                "SELECT scope, permission, project_id, repo_id FROM grants
                 WHERE account_id = $1
                    OR account_id IN (SELECT m.team_id FROM team_members m JOIN accounts t ON t.id = m.team_id
                                      WHERE m.user_id = $1 AND t.active)")
                .bind(user_id).fetch_all(p).await?;
            rows.into_iter()
                .filter_map(|r| {
                    Grant::parse(&r.scope, &r.permission)
                        .map(|grant| ScopedGrant { grant, project_id: r.project_id, repo_id: r.repo_id })
                })
                .collect()
        });
        self.cache
            .grants
            .put(user_id, grants.clone(), generation, now);
        Ok(grants)
    }

    /// Gives `permission` on `target` to an account, replacing what it had there.
    pub async fn set_grant(
        &self,
        target: GrantTarget,
        account_id: i64,
        permission: &str,
    ) -> StoreResult<()> {
        let (scope, target_id, project_id, repo_id) = target.parts();
        on_writer!(self, p => {
            sqlx::query(
                "INSERT INTO grants (scope, target_id, project_id, repo_id, account_id, permission)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (scope, target_id, account_id) DO UPDATE SET permission = excluded.permission")
                .bind(scope).bind(target_id).bind(project_id).bind(repo_id).bind(account_id).bind(permission)
                .execute(p).await?;
        });
        self.invalidate().await;
        Ok(())
    }

    /// Removes an account's grant on `target`; false if it had none.
    pub async fn revoke_grant(&self, target: GrantTarget, account_id: i64) -> StoreResult<bool> {
        let (scope, target_id, _, _) = target.parts();
        on_writer!(self, p => {
            let r = sqlx::query("DELETE FROM grants WHERE scope = $1 AND target_id = $2 AND account_id = $3")
                .bind(scope).bind(target_id).bind(account_id).execute(p).await?;
            self.invalidate().await;
            Ok(r.rows_affected() > 0)
        })
    }

    /// Grants on one target to accounts of `kind` ("user" or "team"), ordered by slug.
    pub async fn grant_holders(
        &self,
        target: GrantTarget,
        kind: &str,
    ) -> StoreResult<Vec<GrantHolder>> {
        let (scope, target_id, _, _) = target.parts();
        on_pool!(self, p => {
            let v: Vec<GrantHolder> = sqlx::query_as(
                "SELECT a.id AS account_id, a.kind, a.slug, a.display_name, a.email, a.active, g.permission
                 FROM grants g JOIN accounts a ON a.id = g.account_id
                 WHERE g.scope = $1 AND g.target_id = $2 AND a.kind = $3 ORDER BY a.slug")
                .bind(scope).bind(target_id).bind(kind).fetch_all(p).await?;
            Ok(v)
        })
    }

    /// Active users holding SYS_ADMIN directly: the last one may not lose it.
    pub async fn count_direct_sys_admins(&self) -> StoreResult<i64> {
        on_pool!(self, p => {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM grants g JOIN accounts a ON a.id = g.account_id
                 WHERE g.scope = 'global' AND g.permission = 'SYS_ADMIN' AND a.kind = 'user' AND a.active")
                .fetch_one(p).await?;
            Ok(n)
        })
    }
}
