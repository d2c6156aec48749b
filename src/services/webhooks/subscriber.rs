//! Who receives deliveries. The dispatcher knows only this trait: repository and project
//! webhooks implement it here; app webhook modules (JWT-signed, body wrapped as
//! `{"event", "data"}`) in `app_subscriber.rs`, with their fan-out statement in
//! `store/events.rs`.

use crate::crypto::MasterKey;
use crate::domain::webhooks::{after_failure, hub_signature, standard_signature, RetryPolicy};
use crate::store::{DueDelivery, SubscriberKind};
use crate::store::{Store, StoreResult};
use std::future::Future;
use std::pin::Pin;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where and how to send one subscriber's deliveries, as it stands now.
#[derive(Clone)]
pub struct Endpoint {
    pub url: String,
    /// Identifies the subscriber to the receiver (`X-Hook-UUID`).
    pub hook_uuid: String,
    /// Key for `X-Hub-Signature` and the Standard Webhooks signature; `None`: unsigned.
    pub secret: Option<String>,
    /// No failures on record: a success changes nothing, so it is not written.
    pub healthy: bool,
    /// For an app's module: who the JWT is from and for.
    pub app: Option<AppTarget>,
}

/// An installed app's module, as its webhook JWTs name it and its deliveries are judged.
#[derive(Clone)]
pub struct AppTarget {
    pub client_key: String,
    /// `qsh` is computed relative to its path.
    pub base_url: String,
    /// The account it is installed in, its scopes, and the module's `event`.
    pub account_id: i64,
    pub scopes: crate::domain::connect_scopes::ConnectScopes,
    pub event: String,
}

/// What to do with a subscriber's due deliveries.
#[derive(Clone)]
pub enum Resolved {
    Send(Endpoint),
    /// Not now (a paused hook): due again at this time, no attempt counted.
    Later(i64),
    /// Never (deleted, deactivated, disabled): the deliveries fail with this reason.
    GiveUp(String),
}

/// Everything signing needs about one attempt.
pub struct Signing<'a> {
    pub endpoint: &'a Endpoint,
    pub event_key: &'a str,
    /// The event's Standard Webhooks id (`webhook-id`).
    pub message_id: &'a str,
    /// Unix seconds of this attempt (`webhook-timestamp`).
    pub timestamp: i64,
    pub body: &'a [u8],
}

pub trait Subscriber: Send + Sync {
    /// The `subscriber_kind` of its deliveries.
    fn kind(&self) -> SubscriberKind;
    /// Looks the subscriber up at send time: edits, pauses and deletions apply at once.
    fn resolve(&self, id: i64) -> BoxFuture<'_, StoreResult<Resolved>>;
    /// The body to send for an event payload (plain webhooks send it as it is).
    fn body(&self, _event_key: &str, payload: &str) -> Vec<u8> {
        payload.as_bytes().to_vec()
    }
    /// Why this delivery may not go to this subscriber after all (decided at send time, when
    /// it was fanned out on a coarser rule); `None`: it may.
    fn refuses<'a>(
        &'a self,
        _endpoint: &'a Endpoint,
        _due: &'a DueDelivery,
    ) -> BoxFuture<'a, StoreResult<Option<String>>> {
        Box::pin(async { Ok(None) })
    }
    /// Authentication headers for one attempt.
    fn sign(&self, s: &Signing<'_>) -> Vec<(&'static str, String)>;
    /// Records an attempt's outcome in the subscriber's health (failures in a row, pause,
    /// disablement).
    fn record_health(&self, id: i64, health: Health) -> BoxFuture<'_, StoreResult<()>>;
}

/// An attempt's outcome, as far as the subscriber's health is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Succeeded,
    Failed,
    /// `410 Gone`: the receiver says the endpoint no longer exists.
    Gone,
}

/// Repository and project webhooks.
pub struct WebhookSubscriber {
    pub store: Store,
    pub master_key: MasterKey,
    pub policy: RetryPolicy,
}

impl Subscriber for WebhookSubscriber {
    fn kind(&self) -> SubscriberKind {
        SubscriberKind::Webhook
    }

    fn resolve(&self, id: i64) -> BoxFuture<'_, StoreResult<Resolved>> {
        Box::pin(async move {
            let Some(hook) = self.store.webhook(id).await? else {
                return Ok(Resolved::GiveUp("The webhook was deleted.".into()));
            };
            if let Some(reason) = &hook.disabled_reason {
                return Ok(Resolved::GiveUp(format!(
                    "The webhook is disabled: {reason}"
                )));
            }
            if !hook.active {
                return Ok(Resolved::GiveUp("The webhook is inactive.".into()));
            }
            if let Some(until) = hook.paused_until.filter(|u| *u > self.store.now()) {
                return Ok(Resolved::Later(until));
            }
            let secret = match &hook.secret_encrypted {
                Some(c) => match self.master_key.decrypt(c) {
                    Ok(s) => Some(s),
                    Err(_) => {
                        return Ok(Resolved::GiveUp(
                            "The webhook's secret cannot be decrypted with this server's master key; set it again.".into(),
                        ))
                    }
                },
                None => None,
            };
            Ok(Resolved::Send(Endpoint {
                url: hook.url,
                healthy: hook.consecutive_failures == 0 && hook.paused_until.is_none(),
                hook_uuid: hook.uuid,
                secret,
                app: None,
            }))
        })
    }

    fn sign(&self, s: &Signing<'_>) -> Vec<(&'static str, String)> {
        let Some(secret) = &s.endpoint.secret else {
            return Vec::new();
        };
        vec![
            ("x-hub-signature", hub_signature(secret, s.body)),
            (
                "webhook-signature",
                standard_signature(secret, s.message_id, s.timestamp, s.body),
            ),
        ]
    }

    fn record_health(&self, id: i64, health: Health) -> BoxFuture<'_, StoreResult<()>> {
        record_health(&self.store, &self.policy, self.kind(), id, health)
    }
}

/// Every kind keeps its health the same way: failures in a row, then a pause, then disabled.
pub fn record_health<'a>(
    store: &'a Store,
    policy: &'a RetryPolicy,
    kind: SubscriberKind,
    id: i64,
    health: Health,
) -> BoxFuture<'a, StoreResult<()>> {
    Box::pin(async move {
        if health == Health::Succeeded {
            return store.subscriber_succeeded(kind, id).await;
        }
        let failures = store.subscriber_failed(kind, id).await?;
        if failures == 0 {
            return Ok(());
        }
        let f = after_failure(policy, store.now(), failures - 1, health == Health::Gone);
        if f.pause_until.is_some() || f.disable.is_some() {
            store
                .set_subscriber_trouble(kind, id, f.pause_until, f.disable.as_deref())
                .await?;
        }
        Ok(())
    })
}
