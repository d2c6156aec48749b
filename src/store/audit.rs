//! The audit log of security events: sign-ins, permission changes, tokens, account changes.

use super::{on_pool, on_writer, Store, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub action: String,
    pub target: String,
    pub details: String,
    pub source_ip: String,
}

/// One event to record. `actor_name` is kept even if the account is later renamed or removed.
#[derive(Debug, Clone, Default)]
pub struct NewAudit<'a> {
    pub actor_id: Option<i64>,
    pub actor_name: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub details: &'a str,
    pub source_ip: &'a str,
}

impl Store {
    pub async fn record_audit(&self, e: &NewAudit<'_>) -> StoreResult<()> {
        let now = self.now();
        on_writer!(self, |p| {
            sqlx::query(
                "INSERT INTO audit_log (at, actor_id, actor_name, action, target, details, source_ip)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(now).bind(e.actor_id).bind(e.actor_name).bind(e.action).bind(e.target).bind(e.details)
                .bind(e.source_ip).execute(p).await?;
            Ok(())
        })
    }

    /// Newest first; `start`/`limit` page through it, returning one extra row to tell if more follow.
    pub async fn audit_entries(
        &self,
        start: i64,
        limit: i64,
        action: Option<&str>,
    ) -> StoreResult<Vec<AuditEntry>> {
        on_pool!(self, |p| {
            let v: Vec<AuditEntry> = sqlx::query_as(
                "SELECT id, at, actor_id, actor_name, action, target, details, source_ip FROM audit_log
                 WHERE ($1 IS NULL OR action = $1) ORDER BY id DESC LIMIT $2 OFFSET $3")
                .bind(action).bind(limit + 1).bind(start).fetch_all(p).await?;
            Ok(v)
        })
    }
}
