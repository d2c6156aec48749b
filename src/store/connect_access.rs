//! "Grant access": which people let which installed app act for them, with the scopes they
//! consented to (`migrations/*/0013_app_access.sql`).

use super::audit::write_audit;
use super::{on_pool, on_writer, Audited, BeginWrite, Store, StoreResult};

/// A person's grant to one installation, with what the Account page shows.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AppAccess {
    pub installation_id: i64,
    pub app_name: String,
    pub account_slug: String,
    /// The scopes the person read when granting.
    pub scopes: String,
    pub granted_at: i64,
}

impl Store {
    /// The scopes `user_id` granted to the live installation, if they did.
    pub async fn app_access(
        &self,
        installation_id: i64,
        user_id: i64,
    ) -> StoreResult<Option<String>> {
        on_pool!(self, |p| {
            let row: Option<(String,)> = sqlx::query_as(
                "SELECT g.scopes FROM connect_user_grants g
                 JOIN connect_installations i ON i.id = g.installation_id
                 WHERE g.installation_id = $1 AND g.user_id = $2 AND i.state <> 'uninstalled'",
            )
            .bind(installation_id)
            .bind(user_id)
            .fetch_optional(p)
            .await?;
            Ok(row.map(|r| r.0))
        })
    }

    /// Every live installation `user_id` granted access to, newest grant first.
    pub async fn app_accesses_of(&self, user_id: i64) -> StoreResult<Vec<AppAccess>> {
        on_pool!(self, |p| {
            let rows: Vec<AppAccess> = sqlx::query_as(
                "SELECT g.installation_id, i.name AS app_name, a.slug AS account_slug, g.scopes,
                        g.granted_at
                 FROM connect_user_grants g
                 JOIN connect_installations i ON i.id = g.installation_id
                 JOIN accounts a ON a.id = i.account_id
                 WHERE g.user_id = $1 AND i.state <> 'uninstalled'
                 ORDER BY g.granted_at DESC, i.name",
            )
            .bind(user_id)
            .fetch_all(p)
            .await?;
            Ok(rows)
        })
    }

    /// Records (or renews, with these scopes) a person's grant, with its audit row.
    pub async fn grant_app_access(
        &self,
        installation_id: i64,
        user_id: i64,
        scopes: &str,
        audit: Audited<'_>,
    ) -> StoreResult<()> {
        let now = self.now();
        on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            sqlx::query(
                "INSERT INTO connect_user_grants (installation_id, user_id, scopes, granted_at)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (installation_id, user_id)
                 DO UPDATE SET scopes = excluded.scopes, granted_at = excluded.granted_at",
            )
            .bind(installation_id)
            .bind(user_id)
            .bind(scopes)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            write_audit!(&mut *tx, now, audit);
            tx.commit().await?;
            Ok(())
        })
    }

    /// Revokes a person's grant; whether there was one.
    pub async fn revoke_app_access(
        &self,
        installation_id: i64,
        user_id: i64,
        audit: Audited<'_>,
    ) -> StoreResult<bool> {
        self.execute_audited(
            "DELETE FROM connect_user_grants WHERE installation_id = $1 AND user_id = $2",
            &[installation_id, user_id],
            audit,
        )
        .await
    }
}
