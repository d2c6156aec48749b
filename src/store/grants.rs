//! Permission grants to users and teams, on the whole system, a project or a repository.

use super::audit::write_audit;
use super::{on_pool, on_writer, Audited, BeginWrite, Store, StoreResult};
use crate::domain::{Grant, ScopedGrant};

/// A rule over the numbers of active users holding SYS_ADMIN directly before and after a change
/// (`domain::leaves_a_sys_admin`).
pub type SysAdminRule<'a> = &'a (dyn Fn(i64, i64) -> bool + Sync);

/// A change made, or refused by its `SysAdminRule` (and then not made at all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guarded<T = ()> {
    Done(T),
    Refused,
}

/// The rows of active users holding SYS_ADMIN directly: what the last-administrator rule counts.
pub(crate) const DIRECT_SYS_ADMINS: &str = "FROM grants g JOIN accounts a ON a.id = g.account_id
     WHERE g.scope = 'global' AND g.permission = 'SYS_ADMIN' AND a.kind = 'user' AND a.active";

/// Locks the rows that say who holds SYS_ADMIN, so two transactions that each take it from
/// someone take turns (PostgreSQL; SQLite's single writer already does). A row another
/// transaction changed meanwhile is re-read, and left out if it no longer holds it.
macro_rules! lock_sys_admins {
    ($tx:ident, $lock:expr) => {
        sqlx::query(&format!(
            "SELECT g.account_id {}{}",
            $crate::store::grants::DIRECT_SYS_ADMINS,
            $lock
        ))
        .fetch_all(&mut *$tx)
        .await?
        .len() as i64
    };
}
pub(crate) use lock_sys_admins;

/// Commits `$tx` if `$keep` (an `Option<SysAdminRule>`) accepts what it leaves (`$before`: what
/// `lock_sys_admins!` counted); otherwise lets it roll back. Evaluates to a `Guarded<()>`.
macro_rules! commit_if_kept {
    ($tx:ident, $keep:expr, $before:expr) => {{
        let kept = match $keep {
            Some(rule) => {
                let n: i64 = sqlx::query_scalar(&format!(
                    "SELECT COUNT(*) {}",
                    $crate::store::grants::DIRECT_SYS_ADMINS
                ))
                .fetch_one(&mut *$tx)
                .await?;
                rule($before, n)
            }
            None => true,
        };
        if kept {
            $tx.commit().await?;
            $crate::store::grants::Guarded::Done(())
        } else {
            $crate::store::grants::Guarded::Refused
        }
    }};
}
pub(crate) use commit_if_kept;

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
    pub kind: super::AccountKind,
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
        self.read_through(&self.cache.grants, &user_id, || async {
            let grants: Vec<ScopedGrant> = on_pool!(self, |p| {
                let rows: Vec<Row> = sqlx::query_as(
                    "SELECT scope, permission, project_id, repo_id FROM grants
                     WHERE account_id = $1
                        OR account_id IN (SELECT m.team_id FROM team_members m JOIN accounts t ON t.id = m.team_id
                                          WHERE m.user_id = $1 AND t.active)")
                    .bind(user_id).fetch_all(p).await?;
                rows.into_iter()
                    .filter_map(|r| {
                        Grant::parse(&r.scope, &r.permission).map(|grant| ScopedGrant {
                            grant,
                            project_id: r.project_id,
                            repo_id: r.repo_id,
                        })
                    })
                    .collect()
            });
            Ok(grants)
        })
        .await
    }

    /// Gives `permission` on `target` to an account, replacing what it had there. With `keep`,
    /// the change is undone (`Guarded::Refused`) unless `keep` accepts the number of active
    /// users holding SYS_ADMIN directly that it leaves, decided in the same transaction.
    pub async fn set_grant(
        &self,
        target: GrantTarget,
        account_id: i64,
        permission: &str,
        keep: Option<SysAdminRule<'_>>,
        audit: Audited<'_>,
    ) -> StoreResult<Guarded> {
        let (scope, target_id, project_id, repo_id) = target.parts();
        let now = self.now();
        let lock = self.for_update();
        let done = on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let before = if keep.is_some() {
                lock_sys_admins!(tx, lock)
            } else {
                0
            };
            sqlx::query(
                "INSERT INTO grants (scope, target_id, project_id, repo_id, account_id, permission)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (scope, target_id, account_id) DO UPDATE SET permission = excluded.permission")
                .bind(scope).bind(target_id).bind(project_id).bind(repo_id).bind(account_id).bind(permission)
                .execute(&mut *tx).await?;
            write_audit!(&mut *tx, now, audit);
            commit_if_kept!(tx, keep, before)
        });
        self.invalidate().await;
        Ok(done)
    }

    /// Removes an account's grant on `target` (`Done(false)` if it had none); `keep` as for
    /// `set_grant`.
    pub async fn revoke_grant(
        &self,
        target: GrantTarget,
        account_id: i64,
        keep: Option<SysAdminRule<'_>>,
        audit: Audited<'_>,
    ) -> StoreResult<Guarded<bool>> {
        let (scope, target_id, _, _) = target.parts();
        let now = self.now();
        let lock = self.for_update();
        let done = on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let before = if keep.is_some() {
                lock_sys_admins!(tx, lock)
            } else {
                0
            };
            let r = sqlx::query(
                "DELETE FROM grants WHERE scope = $1 AND target_id = $2 AND account_id = $3",
            )
            .bind(scope)
            .bind(target_id)
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
            write_audit!(&mut *tx, now, audit);
            match commit_if_kept!(tx, keep, before) {
                Guarded::Done(()) => Guarded::Done(r.rows_affected() > 0),
                Guarded::Refused => Guarded::Refused,
            }
        });
        self.invalidate().await;
        Ok(done)
    }

    /// Grants on one target to accounts of `kind` ("user" or "team"), ordered by slug.
    pub async fn grant_holders(
        &self,
        target: GrantTarget,
        kind: &str,
    ) -> StoreResult<Vec<GrantHolder>> {
        let (scope, target_id, _, _) = target.parts();
        on_pool!(self, |p| {
            let v: Vec<GrantHolder> = sqlx::query_as(
                "SELECT a.id AS account_id, a.kind, a.slug, a.display_name, a.email, a.active, g.permission
                 FROM grants g JOIN accounts a ON a.id = g.account_id
                 WHERE g.scope = $1 AND g.target_id = $2 AND a.kind = $3 ORDER BY a.slug")
                .bind(scope).bind(target_id).bind(kind).fetch_all(p).await?;
            Ok(v)
        })
    }
}
