//! The audit log of security events: sign-ins, permission changes, tokens, account changes.

use super::{on_pool, on_writer, BeginWrite, Store, StoreResult};

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

/// The record of a change, for a store write to keep with it: `None` only for writes that are
/// nobody's action (seeding a benchmark, a test's fixture).
pub type Audited<'a> = Option<&'a NewAudit<'a>>;

pub(crate) const INSERT_AUDIT: &str =
    "INSERT INTO audit_log (at, actor_id, actor_name, action, target, details, source_ip)
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// Writes an audit row through `$exec`: a change's own transaction (`&mut *tx`, so that the
/// change and its record commit together or not at all, in one writer turn), or the writer
/// pool for an event that changes nothing else.
macro_rules! write_audit {
    ($exec:expr, $at:expr, $audit:expr) => {
        if let Some(e) = $audit {
            let e: &$crate::store::NewAudit<'_> = e;
            sqlx::query($crate::store::audit::INSERT_AUDIT)
                .bind($at)
                .bind(e.actor_id)
                .bind(e.actor_name)
                .bind(e.action)
                .bind(e.target)
                .bind(e.details)
                .bind(e.source_ip)
                .execute($exec)
                .await?;
        }
    };
}
pub(crate) use write_audit;

impl Store {
    /// Runs one statement over `ids` (bound in order) and, if it changed a row, writes `audit`
    /// in the same transaction; says whether anything changed (nothing changed: no record).
    pub(crate) async fn execute_audited(
        &self,
        sql: &str,
        ids: &[i64],
        audit: Audited<'_>,
    ) -> StoreResult<bool> {
        let now = self.now();
        on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let mut q = sqlx::query(sql);
            for id in ids {
                q = q.bind(*id);
            }
            if q.execute(&mut *tx).await?.rows_affected() == 0 {
                return Ok(false);
            }
            write_audit!(&mut *tx, now, audit);
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Records an event that changes nothing else (a sign-in, credentials viewed).
    pub async fn record_audit(&self, e: &NewAudit<'_>) -> StoreResult<()> {
        let now = self.now();
        on_writer!(self, |p| {
            write_audit!(p, now, Some(e));
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
        let filter = AuditFilter {
            action,
            ..Default::default()
        };
        self.audit_search(&filter, start, limit).await
    }

    /// Like `audit_entries`, narrowed by `filter`.
    pub async fn audit_search(
        &self,
        f: &AuditFilter<'_>,
        start: i64,
        limit: i64,
    ) -> StoreResult<Vec<AuditEntry>> {
        on_pool!(self, |p| {
            let v: Vec<AuditEntry> = sqlx::query_as(
                "SELECT id, at, actor_id, actor_name, action, target, details, source_ip FROM audit_log
                 WHERE ($1 IS NULL OR action = $1 OR action LIKE $1 || '.%')
                   AND ($2 IS NULL OR actor_name = $2)
                   AND ($3 IS NULL OR at >= $3) AND ($4 IS NULL OR at < $4)
                 ORDER BY id DESC LIMIT $5 OFFSET $6")
                .bind(f.action).bind(f.actor).bind(f.from).bind(f.until)
                .bind(limit + 1).bind(start).fetch_all(p).await?;
            Ok(v)
        })
    }
}

/// Which audit entries to list: an action (or its family: `app` finds `app.installed`), who
/// acted (by name), from and until (milliseconds).
#[derive(Debug, Clone, Copy, Default)]
pub struct AuditFilter<'a> {
    pub action: Option<&'a str>,
    pub actor: Option<&'a str>,
    pub from: Option<i64>,
    pub until: Option<i64>,
}
