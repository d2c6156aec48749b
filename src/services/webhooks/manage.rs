//! Creating and editing webhooks, one set of rules for the REST API and the pages; and the
//! "send test event" action, which makes one real attempt through the same code as deliveries.

use super::attempt::{attempt, capitalise, AttemptContext};
use super::subscriber::Endpoint;
use super::Webhooks;
use crate::domain::webhooks::{check_event_keys, TEST_EVENT_KEY};
use crate::store::SubscriberKind;
use crate::store::{Account, StoreResult, Webhook, WebhookFields};
use serde_json::json;

pub const MAX_NAME: usize = 255;
pub const MAX_SECRET: usize = 256;

/// What a person sent; `None` keeps the current value on edit.
#[derive(Debug, Default, Clone)]
pub struct HookInput {
    pub name: Option<String>,
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub active: Option<bool>,
    pub ordered: Option<bool>,
    /// `Some(None)` or `Some("")` removes the secret.
    pub secret: Option<Option<String>>,
}

/// A field at fault and why, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

fn bad(field: &'static str, message: impl Into<String>) -> FieldError {
    FieldError {
        field,
        message: message.into(),
    }
}

impl Webhooks {
    /// Checks input against the rules and, on edit, the hook as it is. The URL passes the same
    /// address rule deliveries do (checked again after DNS on every attempt).
    pub fn fields(
        &self,
        input: &HookInput,
        current: Option<&Webhook>,
    ) -> Result<WebhookFields, FieldError> {
        let name = match (&input.name, current) {
            (Some(n), _) => n.trim().to_string(),
            (None, Some(c)) => c.name.clone(),
            (None, None) => String::new(),
        };
        if name.is_empty() {
            return Err(bad("name", "A webhook needs a name."));
        }
        if name.chars().count() > MAX_NAME {
            return Err(bad(
                "name",
                format!("The name must be at most {MAX_NAME} characters."),
            ));
        }
        let url = match (&input.url, current) {
            (Some(u), _) => u.trim().to_string(),
            (None, Some(c)) => c.url.clone(),
            (None, None) => return Err(bad("url", "A webhook needs a URL to send events to.")),
        };
        let url = self
            .check_url(&url)
            .map_err(|e| bad("url", format!("{}.", capitalise(&e.to_string()))))?
            .to_string();
        let events = match (&input.events, current) {
            (Some(e), _) => check_event_keys(e).map_err(|m| bad("events", m))?,
            (None, Some(c)) => c.event_keys(),
            (None, None) => {
                return Err(bad(
                    "events",
                    "List the events to send, or [\"*\"] for all of them.",
                ))
            }
        };
        let secret = match &input.secret {
            None => None,
            Some(None) => Some(None),
            Some(Some(s)) if s.is_empty() => Some(None),
            Some(Some(s)) if s.chars().count() > MAX_SECRET => {
                return Err(bad(
                    "configuration.secret",
                    format!("The secret must be at most {MAX_SECRET} characters."),
                ))
            }
            Some(Some(s)) => Some(Some(self.0.master_key.encrypt(s))),
        };
        Ok(WebhookFields {
            name,
            url,
            events,
            active: input.active.or(current.map(|c| c.active)).unwrap_or(true),
            ordered: input
                .ordered
                .or(current.map(|c| c.ordered))
                .unwrap_or(false),
            secret_encrypted: if current.is_none() {
                Some(secret.flatten())
            } else {
                secret
            },
        })
    }

    /// Sends a `diagnostics:ping` to the hook now, whatever its state, and records it in its
    /// history like any delivery (never retried, never counted against its health). Returns
    /// the delivery id.
    pub async fn send_test(&self, hook: &Webhook, actor: &Account) -> StoreResult<i64> {
        let inner = &self.0;
        let payload = json!({
            "test": true,
            "actor": inner.payloads.user(actor),
            "webhook": { "uuid": hook.uuid, "name": hook.name, "url": hook.url },
        })
        .to_string();
        let now = inner.clock.now_ms();
        let lease = now + i64::from(inner.config.timeout_seconds) * 1000 + 5_000;
        let due = inner
            .store
            .enqueue_test_delivery(
                SubscriberKind::Webhook,
                hook.id,
                TEST_EVENT_KEY,
                &payload,
                lease,
            )
            .await?;
        let secret = hook
            .secret_encrypted
            .as_deref()
            .and_then(|c| inner.master_key.decrypt(c).ok());
        let endpoint = Endpoint {
            url: hook.url.clone(),
            hook_uuid: hook.uuid.clone(),
            secret,
            healthy: true,
            app: None,
        };
        let subscriber = inner
            .subscriber(SubscriberKind::Webhook)
            .expect("webhooks are registered");
        let cx = AttemptContext {
            outbound: &inner.outbound,
            policy: &inner.policy,
            max_payload_bytes: inner.config.max_payload_bytes,
            now_ms: now,
        };
        let done = attempt(&cx, subscriber.as_ref(), &endpoint, &due).await;
        inner.store.record_attempts(&[done.record], &[]).await?;
        Ok(due.delivery.id)
    }
}
