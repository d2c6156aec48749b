//! Repository and project webhooks: what to send where, and each hook's health (failures in a
//! row, a pause, disabled by Junction with a reason the owner sees).

use super::audit::write_audit;
use super::{
    on_pool, on_writer, Audited, BeginWrite, Store, StoreError, StoreResult, SubscriberKind,
};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Webhook {
    pub id: i64,
    pub uuid: String,
    pub project_id: i64,
    pub repo_id: Option<i64>,
    pub name: String,
    pub url: String,
    /// `*`, or the keys between commas (see `events_column`).
    pub events: String,
    pub active: bool,
    /// Deliveries one at a time, in the order of their events.
    pub ordered: bool,
    pub secret_encrypted: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub consecutive_failures: i64,
    pub paused_until: Option<i64>,
    pub disabled_at: Option<i64>,
    pub disabled_reason: Option<String>,
}

impl Webhook {
    /// The event keys it subscribes to; empty means every event.
    pub fn event_keys(&self) -> Vec<String> {
        if self.events == "*" {
            return Vec::new();
        }
        self.events
            .split(',')
            .filter(|k| !k.is_empty())
            .map(str::to_string)
            .collect()
    }
}

/// How the subscribed keys are stored: `*`, or `,a,b,` so that one `LIKE '%,key,%'` matches.
pub fn events_column(keys: &[String]) -> String {
    if keys.is_empty() {
        "*".to_string()
    } else {
        format!(",{},", keys.join(","))
    }
}

/// What an owner sets on a hook (create and edit).
#[derive(Debug, Clone)]
pub struct WebhookFields {
    pub name: String,
    pub url: String,
    pub events: Vec<String>,
    pub active: bool,
    pub ordered: bool,
    /// `None` keeps the current secret on edit; `Some(None)` removes it.
    pub secret_encrypted: Option<Option<String>>,
}

const COLUMNS: &str = "id, uuid, project_id, repo_id, name, url, events, active, ordered, secret_encrypted, created_at, updated_at, consecutive_failures, paused_until, disabled_at, disabled_reason";

impl Store {
    pub async fn create_webhook(
        &self,
        project_id: i64,
        repo_id: Option<i64>,
        f: &WebhookFields,
        created_by: i64,
        audit: Audited<'_>,
    ) -> StoreResult<Webhook> {
        let now = self.now();
        let secret = f.secret_encrypted.clone().flatten();
        on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let w: Webhook = sqlx::query_as(&format!(
                "INSERT INTO webhooks (uuid, project_id, repo_id, name, url, events, active, secret_encrypted, created_by, created_at, updated_at, ordered)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11) RETURNING {COLUMNS}"))
                .bind(crate::secret::new_uuid()).bind(project_id).bind(repo_id).bind(&f.name).bind(&f.url)
                .bind(events_column(&f.events)).bind(f.active).bind(secret).bind(created_by).bind(now).bind(f.ordered)
                .fetch_one(&mut *tx).await?;
            write_audit!(&mut *tx, now, audit);
            tx.commit().await?;
            Ok(w)
        })
    }

    /// An owner's edit. Saving also clears a pause and a disablement: the owner has looked at it.
    pub async fn update_webhook(
        &self,
        id: i64,
        f: &WebhookFields,
        audit: Audited<'_>,
    ) -> StoreResult<Webhook> {
        let now = self.now();
        let (keep_secret, secret) = match &f.secret_encrypted {
            None => (true, None),
            Some(s) => (false, s.clone()),
        };
        on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let w: Option<Webhook> = sqlx::query_as(&format!(
                "UPDATE webhooks SET name = $1, url = $2, events = $3, active = $4,
                 secret_encrypted = CASE WHEN $5 THEN secret_encrypted ELSE $6 END, updated_at = $7,
                 consecutive_failures = 0, paused_until = NULL, disabled_at = NULL, disabled_reason = NULL,
                 ordered = $9 WHERE id = $8 RETURNING {COLUMNS}"))
                .bind(&f.name).bind(&f.url).bind(events_column(&f.events)).bind(f.active)
                .bind(keep_secret).bind(secret).bind(now).bind(id).bind(f.ordered)
                .fetch_optional(&mut *tx).await?;
            let w = w.ok_or(StoreError::NotFound)?;
            write_audit!(&mut *tx, now, audit);
            tx.commit().await?;
            Ok(w)
        })
    }

    /// One click after Junction disabled or paused a hook: active again, health reset.
    pub async fn enable_webhook(&self, id: i64, audit: Audited<'_>) -> StoreResult<Webhook> {
        let now = self.now();
        on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let w: Option<Webhook> = sqlx::query_as(&format!(
                "UPDATE webhooks SET active = TRUE, consecutive_failures = 0, paused_until = NULL,
                 disabled_at = NULL, disabled_reason = NULL, updated_at = $1 WHERE id = $2 RETURNING {COLUMNS}"))
                .bind(now).bind(id).fetch_optional(&mut *tx).await?;
            let w = w.ok_or(StoreError::NotFound)?;
            write_audit!(&mut *tx, now, audit);
            tx.commit().await?;
            Ok(w)
        })
    }

    /// Deletes a hook with its delivery history.
    pub async fn delete_webhook(&self, id: i64, audit: Audited<'_>) -> StoreResult<bool> {
        let now = self.now();
        on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            sqlx::query("DELETE FROM webhook_deliveries WHERE subscriber_kind = 'webhook' AND subscriber_id = $1")
                .bind(id).execute(&mut *tx).await?;
            let r = sqlx::query("DELETE FROM webhooks WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            if r.rows_affected() == 0 {
                return Ok(false);
            }
            write_audit!(&mut *tx, now, audit);
            tx.commit().await?;
            Ok(true)
        })
    }

    pub async fn webhook(&self, id: i64) -> StoreResult<Option<Webhook>> {
        on_pool!(self, |p| {
            let w: Option<Webhook> =
                sqlx::query_as(&format!("SELECT {COLUMNS} FROM webhooks WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(p)
                    .await?;
            Ok(w)
        })
    }

    /// The hooks of a repository (`repo_id`) or of a project (`repo_id` None), by id.
    pub async fn webhooks_of(
        &self,
        project_id: i64,
        repo_id: Option<i64>,
    ) -> StoreResult<Vec<Webhook>> {
        on_pool!(self, |p| {
            let w: Vec<Webhook> = sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM webhooks WHERE project_id = $1
                 AND (($2 IS NULL AND repo_id IS NULL) OR repo_id = $2) ORDER BY id"
            ))
            .bind(project_id)
            .bind(repo_id)
            .fetch_all(p)
            .await?;
            Ok(w)
        })
    }

    /// Hooks Junction disabled or paused among those of a repository and its project: what the
    /// owner is told about on the repository's pages.
    pub async fn troubled_webhooks(
        &self,
        project_id: i64,
        repo_id: Option<i64>,
    ) -> StoreResult<Vec<Webhook>> {
        let now = self.now();
        on_pool!(self, |p| {
            let w: Vec<Webhook> = sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM webhooks WHERE project_id = $1
                 AND (repo_id IS NULL OR repo_id = $2)
                 AND (disabled_at IS NOT NULL OR paused_until > $3) ORDER BY id"
            ))
            .bind(project_id)
            .bind(repo_id)
            .bind(now)
            .fetch_all(p)
            .await?;
            Ok(w)
        })
    }

    /// A successful attempt: the failure count and any pause are cleared.
    pub async fn subscriber_succeeded(&self, kind: SubscriberKind, id: i64) -> StoreResult<()> {
        on_writer!(self, |p| {
            sqlx::query(&format!(
                "UPDATE {} SET consecutive_failures = 0, paused_until = NULL
                         WHERE id = $1 AND (consecutive_failures <> 0 OR paused_until IS NOT NULL)",
                health_table(kind)
            ))
            .bind(id)
            .execute(p)
            .await?;
            Ok(())
        })
    }

    /// Counts one more failed attempt; returns the failures in a row now (0: the hook is gone).
    pub async fn subscriber_failed(&self, kind: SubscriberKind, id: i64) -> StoreResult<i64> {
        on_writer!(self, |p| {
            let n: Option<i64> = sqlx::query_scalar(&format!(
                "UPDATE {} SET consecutive_failures = consecutive_failures + 1 WHERE id = $1
                 RETURNING consecutive_failures",
                health_table(kind)
            ))
            .bind(id)
            .fetch_optional(p)
            .await?;
            Ok(n.unwrap_or(0))
        })
    }

    /// Pauses a failing hook until `until`, or disables it with a reason its owner will see.
    pub async fn set_subscriber_trouble(
        &self,
        kind: SubscriberKind,
        id: i64,
        pause_until: Option<i64>,
        disable: Option<&str>,
    ) -> StoreResult<()> {
        let now = self.now();
        on_writer!(self, |p| {
            sqlx::query(&format!(
                "UPDATE {} SET paused_until = $1,
                 disabled_at = CASE WHEN $2 IS NULL THEN disabled_at ELSE COALESCE(disabled_at, $3) END,
                 disabled_reason = COALESCE($2, disabled_reason) WHERE id = $4", health_table(kind)))
                .bind(pause_until).bind(disable).bind(now).bind(id).execute(p).await?;
            Ok(())
        })
    }
}

/// Where a kind of subscriber keeps its health (the same columns in each).
fn health_table(kind: SubscriberKind) -> &'static str {
    match kind {
        SubscriberKind::Webhook => "webhooks",
        SubscriberKind::App => "connect_webhooks",
    }
}
