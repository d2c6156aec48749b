//! Users and teams (both are accounts, sharing one slug namespace), team membership and sign-in
//! throttling counters.

use super::audit::write_audit;
use super::{on_pool, on_writer, Audited, BeginWrite, Store, StoreError, StoreResult};
use crate::domain::GlobalPermission;

/// What an account is; stored as `user` or `team` (the column's CHECK allows only these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "TEXT", rename_all = "lowercase")]
pub enum AccountKind {
    User,
    Team,
}

impl std::fmt::Display for AccountKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AccountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::User => "user",
            AccountKind::Team => "team",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Account {
    pub id: i64,
    pub kind: AccountKind,
    pub slug: String,
    pub display_name: String,
    pub email: Option<String>,
    pub active: bool,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TeamMember {
    pub user_id: i64,
    pub slug: String,
    pub display_name: String,
    pub role: String,
}

const ACCOUNT_COLUMNS: &str = "id, kind, slug, display_name, email, active, created_at";

impl Store {
    pub async fn count_users(&self) -> StoreResult<i64> {
        on_pool!(self, |p| {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE kind = 'user'")
                .fetch_one(p)
                .await?;
            Ok(n)
        })
    }

    /// Creates a user and, in the same transaction, their global permission (if any).
    pub async fn create_user(
        &self,
        slug: &str,
        display_name: &str,
        email: Option<&str>,
        password_hash: Option<&str>,
        global: Option<GlobalPermission>,
        audit: Audited<'_>,
    ) -> StoreResult<Account> {
        let now = self.now();
        on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let account: Account = sqlx::query_as(&format!(
                "INSERT INTO accounts (kind, slug, display_name, email, password_hash, active, created_at, updated_at)
                 VALUES ('user', $1, $2, $3, $4, TRUE, $5, $5) RETURNING {ACCOUNT_COLUMNS}"))
                .bind(slug).bind(display_name).bind(email).bind(password_hash).bind(now)
                .fetch_one(&mut *tx).await?;
            if let Some(g) = global {
                sqlx::query("INSERT INTO grants (scope, target_id, account_id, permission) VALUES ('global', 0, $1, $2)")
                    .bind(account.id).bind(g.as_str()).execute(&mut *tx).await?;
            }
            write_audit!(&mut *tx, now, audit);
            tx.commit().await?;
            Ok(account)
        })
    }

    pub async fn create_team(
        &self,
        slug: &str,
        display_name: &str,
        first_admin: i64,
        audit: Audited<'_>,
    ) -> StoreResult<Account> {
        let now = self.now();
        on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let account: Account = sqlx::query_as(&format!(
                "INSERT INTO accounts (kind, slug, display_name, active, created_at, updated_at)
                 VALUES ('team', $1, $2, TRUE, $3, $3) RETURNING {ACCOUNT_COLUMNS}"
            ))
            .bind(slug)
            .bind(display_name)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO team_members (team_id, user_id, role) VALUES ($1, $2, 'admin')",
            )
            .bind(account.id)
            .bind(first_admin)
            .execute(&mut *tx)
            .await?;
            write_audit!(&mut *tx, now, audit);
            tx.commit().await?;
            Ok(account)
        })
    }

    pub async fn account_by_id(&self, id: i64) -> StoreResult<Option<Account>> {
        on_pool!(self, |p| {
            let a: Option<Account> = sqlx::query_as(&format!(
                "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1"
            ))
            .bind(id)
            .fetch_optional(p)
            .await?;
            Ok(a)
        })
    }

    pub async fn find_account(&self, slug: &str) -> StoreResult<Option<Account>> {
        on_pool!(self, |p| {
            let a: Option<Account> = sqlx::query_as(&format!(
                "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE slug = $1"
            ))
            .bind(slug)
            .fetch_optional(p)
            .await?;
            Ok(a)
        })
    }

    /// The account, its password hash and whether that password must be replaced, for signing in. Inactive users are returned too, so
    /// the caller can spend the same time on them as on anyone else.
    pub async fn find_user_credentials(
        &self,
        slug: &str,
    ) -> StoreResult<Option<(Account, Option<String>, bool)>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            account: Account,
            password_hash: Option<String>,
            password_change_required: bool,
        }
        on_pool!(self, |p| {
            let r: Option<Row> = sqlx::query_as(&format!(
                "SELECT {ACCOUNT_COLUMNS}, password_hash, password_change_required FROM accounts WHERE slug = $1 AND kind = 'user'"))
                .bind(slug).fetch_optional(p).await?;
            Ok(r.map(|r| (r.account, r.password_hash, r.password_change_required)))
        })
    }

    /// Accounts of one kind whose slug or display name contains `filter`, ordered by slug.
    pub async fn list_accounts(
        &self,
        kind: AccountKind,
        filter: Option<&str>,
    ) -> StoreResult<Vec<Account>> {
        let pattern = format!(
            "%{}%",
            filter.unwrap_or("").to_lowercase().replace(['%', '_'], "")
        );
        on_pool!(self, |p| {
            let v: Vec<Account> = sqlx::query_as(&format!(
                "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE kind = $1
                 AND (LOWER(slug) LIKE $2 OR LOWER(display_name) LIKE $2) ORDER BY slug"
            ))
            .bind(kind.as_str())
            .bind(pattern)
            .fetch_all(p)
            .await?;
            Ok(v)
        })
    }

    pub async fn update_account(
        &self,
        id: i64,
        display_name: &str,
        email: Option<&str>,
        audit: Audited<'_>,
    ) -> StoreResult<Account> {
        let now = self.now();
        let a = on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let a: Account = sqlx::query_as(&format!(
                "UPDATE accounts SET display_name = $1, email = $2, updated_at = $3 WHERE id = $4 RETURNING {ACCOUNT_COLUMNS}"))
                .bind(display_name).bind(email).bind(now).bind(id).fetch_one(&mut *tx).await?;
            write_audit!(&mut *tx, now, audit);
            tx.commit().await?;
            a
        });
        self.invalidate().await;
        Ok(a)
    }

    /// Replaces a user's password hash and ends their other sessions.
    pub async fn set_password(
        &self,
        user_id: i64,
        hash: &str,
        keep_session: Option<i64>,
        audit: Audited<'_>,
    ) -> StoreResult<()> {
        let now = self.now();
        on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let done = sqlx::query("UPDATE accounts SET password_hash = $1, password_change_required = FALSE, updated_at = $2 WHERE id = $3 AND kind = 'user'")
                .bind(hash).bind(now).bind(user_id).execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
                .bind(user_id)
                .bind(keep_session.unwrap_or(0))
                .execute(&mut *tx)
                .await?;
            write_audit!(&mut *tx, now, audit);
            tx.commit().await?;
            self.invalidate().await;
            Ok(())
        })
    }

    /// Marks a password as someone else's choice (the first administrator's printed one): the
    /// next sign-in with it must replace it.
    pub async fn require_password_change(&self, user_id: i64) -> StoreResult<()> {
        on_writer!(self, |p| {
            sqlx::query("UPDATE accounts SET password_change_required = TRUE WHERE id = $1")
                .bind(user_id)
                .execute(p)
                .await?;
        });
        self.invalidate().await;
        Ok(())
    }

    /// Activates or deactivates an account. Deactivation ends every session at once; tokens stop
    /// working because authentication only accepts active users.
    /// With `keep`, as `set_grant`: refused (and not made) unless it accepts what it leaves.
    pub async fn set_active(
        &self,
        id: i64,
        active: bool,
        keep: Option<super::SysAdminRule<'_>>,
        audit: Audited<'_>,
    ) -> StoreResult<super::Guarded<Account>> {
        use super::grants::{commit_if_kept, lock_sys_admins, Guarded};
        let now = self.now();
        let lock = self.for_update();
        let done = on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let before = if keep.is_some() {
                lock_sys_admins!(tx, lock)
            } else {
                0
            };
            let a: Account = sqlx::query_as(&format!(
                "UPDATE accounts SET active = $1, updated_at = $2 WHERE id = $3 RETURNING {ACCOUNT_COLUMNS}"))
                .bind(active).bind(now).bind(id).fetch_one(&mut *tx).await?;
            if !active {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            write_audit!(&mut *tx, now, audit);
            match commit_if_kept!(tx, keep, before) {
                Guarded::Done(()) => Guarded::Done(a),
                Guarded::Refused => Guarded::Refused,
            }
        });
        self.invalidate().await;
        Ok(done)
    }

    pub async fn set_team_member(
        &self,
        team_id: i64,
        user_id: i64,
        role: &str,
        audit: Audited<'_>,
    ) -> StoreResult<()> {
        let now = self.now();
        on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            sqlx::query(
                "INSERT INTO team_members (team_id, user_id, role) VALUES ($1, $2, $3)
                 ON CONFLICT (team_id, user_id) DO UPDATE SET role = excluded.role",
            )
            .bind(team_id)
            .bind(user_id)
            .bind(role)
            .execute(&mut *tx)
            .await?;
            write_audit!(&mut *tx, now, audit);
            tx.commit().await?;
        });
        self.invalidate().await;
        Ok(())
    }

    pub async fn remove_team_member(
        &self,
        team_id: i64,
        user_id: i64,
        audit: Audited<'_>,
    ) -> StoreResult<bool> {
        let sql = "DELETE FROM team_members WHERE team_id = $1 AND user_id = $2";
        let removed = self
            .execute_audited(sql, &[team_id, user_id], audit)
            .await?;
        self.invalidate().await;
        Ok(removed)
    }

    pub async fn team_members(&self, team_id: i64) -> StoreResult<Vec<TeamMember>> {
        on_pool!(self, |p| {
            let v: Vec<TeamMember> = sqlx::query_as(
                "SELECT a.id AS user_id, a.slug, a.display_name, m.role FROM team_members m
                 JOIN accounts a ON a.id = m.user_id WHERE m.team_id = $1 ORDER BY a.slug",
            )
            .bind(team_id)
            .fetch_all(p)
            .await?;
            Ok(v)
        })
    }

    /// The teams `user_id` administers (where they may install apps).
    pub async fn teams_administered_by(&self, user_id: i64) -> StoreResult<Vec<Account>> {
        on_pool!(self, |p| {
            let rows: Vec<Account> = sqlx::query_as(
                "SELECT a.id, a.kind, a.slug, a.display_name, a.email, a.active, a.created_at
                 FROM team_members m JOIN accounts a ON a.id = m.team_id
                 WHERE m.user_id = $1 AND m.role = 'admin' AND a.active ORDER BY a.slug",
            )
            .bind(user_id)
            .fetch_all(p)
            .await?;
            Ok(rows)
        })
    }
}
