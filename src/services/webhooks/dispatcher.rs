//! The dispatcher: one loop per node that fans events out into deliveries and claims due
//! deliveries for its workers, and one recorder that writes finished attempts in batches.
//!
//! It wakes when a commit wrote events (the store's signal; on PostgreSQL also other nodes'
//! `NOTIFY`), when an attempt finished, and at least once a second for retries that fell due.

use super::attempt::{attempt, AttemptContext, Attempted};
use super::subscriber::{Health, Resolved, Subscriber};
use super::Inner;
use crate::store::{subscriber_key, DueDelivery, Skipped, SubscriberKind};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// The longest the loop sleeps without a signal.
const POLL: Duration = Duration::from_millis(1000);
/// Events fanned out and deliveries claimed per transaction.
const FAN_OUT_BATCH: i64 = 500;
const CLAIM_BATCH: usize = 500;
/// A claim outlives the attempt's timeout by this much before another worker may take it over.
const LEASE_GRACE_MS: i64 = 5_000;

/// What workers hand the recorder.
pub enum Finished {
    Attempt {
        kind: SubscriberKind,
        subscriber_id: i64,
        attempted: Box<Attempted>,
    },
    Skipped(Skipped),
}

pub async fn run(inner: Arc<Inner>, results: mpsc::UnboundedSender<Finished>) {
    let signal = inner.store.events_signal();
    while !inner.stopping.load(Ordering::SeqCst) {
        if let Err(e) = fan_out_and_send(&inner, &results).await {
            tracing::warn!(error = %e, "fanning out or claiming webhook deliveries failed; retrying");
        }
        tokio::select! {
            _ = signal.notified() => {}
            _ = inner.stop_signal.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
        }
    }
    // Dropping `results` here (and in each attempt as it ends) lets the recorder finish.
}

/// Fans out new events and claims what this node can send now, until neither has more.
async fn fan_out_and_send(
    inner: &Arc<Inner>,
    results: &mpsc::UnboundedSender<Finished>,
) -> crate::store::StoreResult<()> {
    let workers = inner.config.workers as usize;
    let per_endpoint = inner.slots.per_endpoint();
    loop {
        let free = workers.saturating_sub(inner.slots.active());
        let now = inner.clock.now_ms();
        // Subscribers busy or slowed down here, and how many more each may have now.
        let room = inner.slots.room(now);
        let lease = now + i64::from(inner.config.timeout_seconds) * 1000 + LEASE_GRACE_MS;
        let want = free.min(CLAIM_BATCH);
        let (fanned, due) = inner
            .store
            .fan_out_and_claim(
                FAN_OUT_BATCH,
                want as i64,
                lease,
                per_endpoint as i64,
                &room,
            )
            .await?;
        let claimed = due.len();
        let mut resolved: HashMap<String, Resolved> = HashMap::new();
        let mut skipped = Vec::new();
        for d in due {
            let delivery_id = d.delivery.id;
            let Some(subscriber) = inner.subscriber(d.delivery.subscriber_kind) else {
                skipped.push(Skipped::GiveUp {
                    delivery_id,
                    reason: format!(
                        "No subscriber of kind '{}' on this server.",
                        d.delivery.subscriber_kind.as_str()
                    ),
                });
                continue;
            };
            let key = subscriber_key(subscriber.kind(), d.delivery.subscriber_id);
            if !resolved.contains_key(&key) {
                let r = subscriber.resolve(d.delivery.subscriber_id).await?;
                resolved.insert(key.clone(), r);
            }
            match &resolved[&key] {
                Resolved::GiveUp(reason) => skipped.push(Skipped::GiveUp {
                    delivery_id,
                    reason: reason.clone(),
                }),
                Resolved::Later(at) => skipped.push(Skipped::Later {
                    delivery_id,
                    at: *at,
                }),
                Resolved::Send(endpoint) => {
                    if !inner.slots.take(&key, now) {
                        // The claim respects the limit; should it not, back in the queue.
                        skipped.push(Skipped::Later {
                            delivery_id,
                            at: now,
                        });
                        continue;
                    }
                    spawn_attempt(inner, results, subscriber, endpoint.clone(), key, d);
                }
            }
        }
        if !skipped.is_empty() {
            inner.store.record_attempts(&[], &skipped).await?;
        }
        if fanned < FAN_OUT_BATCH as usize && (want == 0 || claimed < want) {
            return Ok(());
        }
    }
}

fn spawn_attempt(
    inner: &Arc<Inner>,
    results: &mpsc::UnboundedSender<Finished>,
    subscriber: Arc<dyn Subscriber>,
    endpoint: super::subscriber::Endpoint,
    key: String,
    due: DueDelivery,
) {
    let inner = inner.clone();
    let results = results.clone();
    tokio::spawn(async move {
        let cx = AttemptContext {
            outbound: &inner.outbound,
            policy: &inner.policy,
            max_payload_bytes: inner.config.max_payload_bytes,
            now_ms: inner.clock.now_ms(),
        };
        let delivery_id = due.delivery.id;
        let skipped = match subscriber.refuses(&endpoint, &due).await {
            Ok(None) => None,
            Ok(Some(reason)) => Some(Skipped::GiveUp {
                delivery_id,
                reason,
            }),
            Err(e) => {
                tracing::warn!(error = %e, "checking a delivery against its subscriber failed; it will be tried again");
                Some(Skipped::Later {
                    delivery_id,
                    at: inner.clock.now_ms() + LEASE_GRACE_MS,
                })
            }
        };
        if let Some(skipped) = skipped {
            inner.slots.release(&key, None, None, inner.clock.now_ms());
            let _ = results.send(Finished::Skipped(skipped));
            return;
        }
        let mut attempted = attempt(&cx, subscriber.as_ref(), &endpoint, &due).await;
        if endpoint.healthy && attempted.health == Some(Health::Succeeded) {
            attempted.health = None;
        }
        let status = attempted
            .record
            .attempt
            .response_status
            .and_then(|s| u16::try_from(s).ok());
        inner
            .slots
            .release(&key, status, attempted.retry_after_ms, inner.clock.now_ms());
        let _ = results.send(Finished::Attempt {
            kind: subscriber.kind(),
            subscriber_id: due.delivery.subscriber_id,
            attempted: Box::new(attempted),
        });
    });
}

/// Writes what finished, batching whatever arrived meanwhile into one transaction, then
/// updates each subscriber's health and wakes the dispatcher (slots are free again).
pub async fn record(inner: Arc<Inner>, mut rx: mpsc::UnboundedReceiver<Finished>) {
    const MAX_BATCH: usize = 512;
    let mut buf = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut buf, MAX_BATCH).await > 0 {
        let mut records = Vec::with_capacity(buf.len());
        let mut skipped = Vec::new();
        // Health per subscriber, in order: only the outcome after the last success matters.
        let mut health: Vec<((SubscriberKind, i64), Health)> = Vec::new();
        for f in buf.drain(..) {
            match f {
                Finished::Attempt {
                    kind,
                    subscriber_id,
                    attempted,
                } => {
                    if let Some(h) = attempted.health {
                        health.push(((kind, subscriber_id), h));
                    }
                    records.push(attempted.record);
                }
                Finished::Skipped(s) => skipped.push(s),
            }
        }
        // A write that fails is retried a few times. If it still fails the batch is dropped:
        // its deliveries stay claimed and are attempted again once their claim expires, so
        // nothing is lost (at least once), and one bad batch never stops the recorder.
        let mut wait = Duration::from_millis(50);
        for tries in 1.. {
            match inner.store.record_attempts(&records, &skipped).await {
                Ok(()) => break,
                Err(e) if tries < 6 => {
                    tracing::warn!(error = %e, "recording webhook attempts failed; retrying");
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
                Err(e) => {
                    tracing::error!(error = %e, attempts = records.len(), "could not record webhook attempts; they will be made again when their claims expire");
                    break;
                }
            }
        }
        for ((kind, id), h) in fold_health(health) {
            if let Some(s) = inner.subscriber(kind) {
                if let Err(e) = s.record_health(id, h).await {
                    tracing::warn!(error = %e, "recording a webhook's health failed");
                }
            }
        }
        inner.store.events_signal().notify_one();
    }
}

/// Per subscriber: one success resets, each failure after it counts. Order kept.
fn fold_health(
    outcomes: Vec<((SubscriberKind, i64), Health)>,
) -> Vec<((SubscriberKind, i64), Health)> {
    let mut last_success: HashMap<(SubscriberKind, i64), usize> = HashMap::new();
    for (i, (k, h)) in outcomes.iter().enumerate() {
        if *h == Health::Succeeded {
            last_success.insert(*k, i);
        }
    }
    let mut out = Vec::new();
    let mut reset_done: HashMap<(SubscriberKind, i64), bool> = HashMap::new();
    for (i, (k, h)) in outcomes.into_iter().enumerate() {
        match last_success.get(&k) {
            Some(&j) if i < j => continue,
            Some(&j) if i == j => {
                if !reset_done.insert(k, true).unwrap_or(false) {
                    out.push((k, h));
                }
            }
            _ => out.push((k, h)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_keeps_the_last_success_and_the_failures_after_it() {
        let a = (SubscriberKind::Webhook, 1);
        let b = (SubscriberKind::Webhook, 2);
        let folded = fold_health(vec![
            (a, Health::Failed),
            (b, Health::Failed),
            (a, Health::Succeeded),
            (a, Health::Failed),
            (b, Health::Failed),
        ]);
        assert_eq!(
            folded,
            vec![
                (b, Health::Failed),
                (a, Health::Succeeded),
                (a, Health::Failed),
                (b, Health::Failed)
            ]
        );
    }
}
