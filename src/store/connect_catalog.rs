//! The administrator's app catalog (descriptor URLs people install from without development
//! mode) and each person's development mode.

use super::audit::write_audit;
use super::{on_pool, on_writer, Audited, BeginWrite, Store, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CatalogApp {
    pub id: i64,
    pub app_key: String,
    pub name: String,
    pub descriptor_url: String,
    pub added_at: i64,
}

const CATALOG_COLUMNS: &str = "id, app_key, name, descriptor_url, added_at";

impl Store {
    pub async fn development_mode(&self, account_id: i64) -> StoreResult<bool> {
        on_pool!(self, |p| {
            let on: Option<i64> = sqlx::query_scalar(
                "SELECT enabled_at FROM connect_development_mode WHERE account_id = $1",
            )
            .bind(account_id)
            .fetch_optional(p)
            .await?;
            Ok(on.is_some())
        })
    }

    pub async fn set_development_mode(
        &self,
        account_id: i64,
        on: bool,
        audit: Audited<'_>,
    ) -> StoreResult<()> {
        let now = self.now();
        on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            if on {
                sqlx::query("INSERT INTO connect_development_mode (account_id, enabled_at) VALUES ($1, $2) ON CONFLICT (account_id) DO NOTHING")
                    .bind(account_id).bind(now).execute(&mut *tx).await?;
            } else {
                sqlx::query("DELETE FROM connect_development_mode WHERE account_id = $1")
                    .bind(account_id)
                    .execute(&mut *tx)
                    .await?;
            }
            write_audit!(&mut *tx, now, audit);
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn catalog_apps(&self) -> StoreResult<Vec<CatalogApp>> {
        on_pool!(self, |p| {
            let rows: Vec<CatalogApp> = sqlx::query_as(&format!(
                "SELECT {CATALOG_COLUMNS} FROM connect_catalog ORDER BY name, id"
            ))
            .fetch_all(p)
            .await?;
            Ok(rows)
        })
    }

    pub async fn catalog_app(&self, app_key: &str) -> StoreResult<Option<CatalogApp>> {
        on_pool!(self, |p| {
            let row: Option<CatalogApp> = sqlx::query_as(&format!(
                "SELECT {CATALOG_COLUMNS} FROM connect_catalog WHERE app_key = $1"
            ))
            .bind(app_key)
            .fetch_optional(p)
            .await?;
            Ok(row)
        })
    }

    /// Lists an app (or points its key at a new descriptor URL).
    pub async fn put_catalog_app(
        &self,
        app_key: &str,
        name: &str,
        descriptor_url: &str,
        added_by: i64,
        audit: Audited<'_>,
    ) -> StoreResult<()> {
        let now = self.now();
        on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            sqlx::query(
                "INSERT INTO connect_catalog (app_key, name, descriptor_url, added_by, added_at) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (app_key) DO UPDATE SET name = excluded.name, descriptor_url = excluded.descriptor_url",
            )
            .bind(app_key).bind(name).bind(descriptor_url).bind(added_by).bind(now)
            .execute(&mut *tx).await?;
            write_audit!(&mut *tx, now, audit);
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn remove_catalog_app(&self, id: i64, audit: Audited<'_>) -> StoreResult<bool> {
        self.execute_audited("DELETE FROM connect_catalog WHERE id = $1", &[id], audit)
            .await
    }
}
