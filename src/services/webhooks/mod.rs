//! Webhook delivery: a durable pipeline from the outbox to receivers.
//!
//! `payload.rs` renders events (Bitbucket Cloud shape) inside the change's transaction;
//! `dispatcher.rs` fans events out into deliveries and claims due ones; `attempt.rs` makes one
//! attempt (headers, signatures, the SSRF-guarded client) and describes it; `subscriber.rs` is
//! the seam where each kind of receiver (webhooks now, apps later) plugs in; `slots.rs` is
//! this node's per-endpoint capacity, slowed down for receivers that ask. The rules (keys,
//! signatures, retry schedule, pause and disable) are pure, in `domain/webhooks.rs`.

pub mod app_subscriber;
pub mod attempt;
pub mod dispatcher;
pub mod manage;
pub mod payload;
mod push_payload;
pub mod slots;
pub mod subscriber;

use crate::clock::SharedClock;
use crate::config::{OutboundConfig, WebhooksConfig};
use crate::crypto::MasterKey;
use crate::domain::webhooks::RetryPolicy;
use crate::services::outbound::Outbound;
use crate::store::Store;
use crate::store::SubscriberKind;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use subscriber::{Subscriber, WebhookSubscriber};

#[derive(Clone)]
pub struct Webhooks(Arc<Inner>);

pub struct Inner {
    store: Store,
    clock: SharedClock,
    master_key: MasterKey,
    payloads: payload::CloudPayloads,
    outbound: Outbound,
    config: WebhooksConfig,
    policy: RetryPolicy,
    subscribers: Vec<Arc<dyn Subscriber>>,
    /// Attempts in flight per subscriber (`kind:id`) on this node, their limits, and in all.
    slots: slots::Slots,
    started: AtomicBool,
    /// Set on shutdown: the dispatcher claims nothing more.
    stopping: AtomicBool,
    stop_signal: tokio::sync::Notify,
    /// The recorder and the janitor, awaited or stopped on shutdown.
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Inner {
    fn subscriber(&self, kind: SubscriberKind) -> Option<Arc<dyn Subscriber>> {
        self.subscribers.iter().find(|s| s.kind() == kind).cloned()
    }
}

impl Webhooks {
    pub fn new(
        store: Store,
        clock: SharedClock,
        master_key: MasterKey,
        outbound: &OutboundConfig,
        config: WebhooksConfig,
        payloads: payload::CloudPayloads,
    ) -> anyhow::Result<Self> {
        // Its own client: the webhook timeout, and only the start of each answer is read.
        let outbound = Outbound::new(&OutboundConfig {
            allow_private: outbound.allow_private.clone(),
            timeout_seconds: config.timeout_seconds,
            max_response_bytes: outbound.max_response_bytes,
        })?;
        let policy = crate::domain::webhooks::RetryPolicy::of(&config);
        let slots = slots::Slots::new(config.per_endpoint_concurrency as usize);
        let hooks: Arc<dyn Subscriber> = Arc::new(WebhookSubscriber {
            store: store.clone(),
            master_key: master_key.clone(),
            policy: policy.clone(),
        });
        let apps: Arc<dyn Subscriber> = Arc::new(app_subscriber::AppSubscriber {
            store: store.clone(),
            master_key: master_key.clone(),
            policy: policy.clone(),
        });
        Ok(Self(Arc::new(Inner {
            store,
            clock,
            master_key,
            payloads,
            outbound,
            config,
            policy,
            subscribers: vec![hooks, apps],
            slots,
            started: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            stop_signal: tokio::sync::Notify::new(),
            tasks: Mutex::new(Vec::new()),
        })))
    }

    /// Starts this node's dispatcher, recorder and history janitor (once).
    pub fn start(&self) {
        if self.0.started.swap(true, Ordering::SeqCst) {
            return;
        }
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(dispatcher::run(self.0.clone(), tx));
        let recorder = tokio::spawn(dispatcher::record(self.0.clone(), rx));
        let janitor = tokio::spawn(janitor(self.0.clone()));
        let mut tasks = self.0.tasks.lock().unwrap_or_else(|e| e.into_inner());
        tasks.push(recorder);
        tasks.push(janitor);
    }

    /// Stops claiming, lets the attempts in flight finish (each within the webhook timeout) and
    /// records them, before the store closes. What is still queued stays queued for the next start.
    pub async fn stop(&self) {
        self.0.stopping.store(true, Ordering::SeqCst);
        self.0.stop_signal.notify_one();
        let tasks: Vec<_> =
            std::mem::take(&mut *self.0.tasks.lock().unwrap_or_else(|e| e.into_inner()));
        let mut tasks = tasks.into_iter();
        if let Some(recorder) = tasks.next() {
            let limit =
                std::time::Duration::from_secs(u64::from(self.0.config.timeout_seconds) + 2);
            if tokio::time::timeout(limit, recorder).await.is_err() {
                tracing::warn!("webhook attempts still in flight at shutdown; they will be made again after their claims expire");
            }
        }
        for t in tasks {
            t.abort();
        }
    }

    /// Checks a webhook URL the way deliveries will reach it (scheme, no credentials, address).
    pub fn check_url(
        &self,
        url: &str,
    ) -> Result<url::Url, crate::services::outbound::OutboundError> {
        self.0.outbound.check_url(url)
    }

    /// Renders event payloads; changes pass it to the store (see `AppState::emit`).
    pub fn payloads(&self) -> &payload::CloudPayloads {
        &self.0.payloads
    }

    /// Forgets finished deliveries, their attempts and events older than
    /// `webhooks.retention_days` (queued deliveries stay whatever their age). Returns how many
    /// deliveries and events went.
    pub async fn purge_history(&self) -> crate::store::StoreResult<(u64, u64)> {
        purge(&self.0).await
    }

    /// Makes the dispatcher look for work now (tests that move a manual clock use this).
    pub fn wake(&self) {
        self.0.store.events_signal().notify_one();
    }
}

/// Runs `purge_history` at start and hourly.
async fn janitor(inner: Arc<Inner>) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every.tick().await;
        if let Err(e) = purge(&inner).await {
            tracing::warn!(error = %e, "purging webhook history failed");
        }
    }
}

async fn purge(inner: &Inner) -> crate::store::StoreResult<(u64, u64)> {
    let before = inner.clock.now_ms() - i64::from(inner.config.retention_days) * 86_400_000;
    let (deliveries, events) = inner.store.purge_delivery_history(before).await?;
    if deliveries + events > 0 {
        tracing::info!(deliveries, events, "forgot old webhook delivery history");
    }
    Ok((deliveries, events))
}
