//! Installed apps' `webhooks` modules as delivery subscribers (kind `app`): written with the
//! installation they belong to, looked up at send time, and their health kept as repository
//! webhooks keep theirs (`webhooks.rs`, by subscriber kind). Which events reach them is the
//! fan-out statement in `events.rs`.

use super::{on_pool, Store, StoreResult};

/// A subscriber as the dispatcher needs it at send time.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AppHookTarget {
    pub id: i64,
    pub uuid: String,
    pub installation_id: i64,
    pub module_key: String,
    pub event: String,
    pub url: String,
    pub consecutive_failures: i64,
    pub paused_until: Option<i64>,
    pub disabled_reason: Option<String>,
    pub client_key: String,
    pub base_url: String,
    /// Ciphertext (crypto::MasterKey).
    pub shared_secret: String,
    pub state: super::connect::InstallState,
    /// The installation's scopes, as stored.
    pub scopes: String,
    pub account_id: i64,
    pub account_active: bool,
}

/// Inside an installation's write: its subscribers become exactly the descriptor's `webhooks`
/// modules `$hooks`, keyed by module key, each with the keys it receives stored as `,k1,k2,`
/// (one `LIKE` matches). A module kept keeps its id and uuid (so its history stays) and starts
/// healthy again: a re-install or an update is the developer's answer to a failing endpoint.
macro_rules! sync_app_hooks_in_tx {
    ($tx:expr, $installation_id:expr, $hooks:expr) => {{
        let hooks: &[$crate::domain::connect_events::WebhookModule] = $hooks;
        for h in hooks {
            sqlx::query(
                "INSERT INTO connect_webhooks (uuid, installation_id, module_key, event, events, url)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (installation_id, module_key) DO UPDATE SET event = excluded.event,
                     events = excluded.events, url = excluded.url, consecutive_failures = 0,
                     paused_until = NULL, disabled_at = NULL, disabled_reason = NULL",
            )
            .bind(crate::secret::new_uuid())
            .bind($installation_id)
            .bind(&h.key)
            .bind(&h.event)
            .bind($crate::domain::connect_events::stored_event_list(&h.receives))
            .bind(&h.url)
            .execute(&mut *$tx)
            .await?;
        }
        let mut q = sqlx::QueryBuilder::new("DELETE FROM connect_webhooks WHERE installation_id = ");
        q.push_bind($installation_id);
        if !hooks.is_empty() {
            q.push(" AND module_key NOT IN (");
            let mut keys = q.separated(", ");
            for h in hooks {
                keys.push_bind(h.key.clone());
            }
            q.push(")");
        }
        q.build().execute(&mut *$tx).await?;
    }};
}
pub(crate) use sync_app_hooks_in_tx;

const HOOK_SELECT: &str = "SELECT h.id, h.uuid, h.installation_id, h.module_key, h.event, h.url,
    h.consecutive_failures, h.paused_until, h.disabled_reason, i.client_key, i.base_url,
    i.shared_secret, i.state, i.scopes, i.account_id, a.active AS account_active
    FROM connect_webhooks h JOIN connect_installations i ON i.id = h.installation_id
    JOIN accounts a ON a.id = i.account_id";

impl Store {
    /// A subscriber with its installation, as it stands now.
    pub async fn app_hook(&self, id: i64) -> StoreResult<Option<AppHookTarget>> {
        on_pool!(self, |p| {
            let found: Option<AppHookTarget> =
                sqlx::query_as(&format!("{HOOK_SELECT} WHERE h.id = $1"))
                    .bind(id)
                    .fetch_optional(p)
                    .await?;
            Ok(found)
        })
    }

    /// An installation's subscribers, by module key.
    pub async fn app_hooks_of(&self, installation_id: i64) -> StoreResult<Vec<AppHookTarget>> {
        on_pool!(self, |p| {
            let found: Vec<AppHookTarget> = sqlx::query_as(&format!(
                "{HOOK_SELECT} WHERE h.installation_id = $1 ORDER BY h.module_key"
            ))
            .bind(installation_id)
            .fetch_all(p)
            .await?;
            Ok(found)
        })
    }
}
