//! The delivery queue, which is also the delivery history.
//!
//! A due delivery is claimed by moving it to `sending` with `next_attempt_at` set to when the
//! claim expires: a worker that dies mid-attempt (crash, SIGKILL) leaves a claim that simply
//! becomes due again, so every delivery is attempted at least once more. On PostgreSQL, claims
//! skip rows other nodes hold (`FOR UPDATE SKIP LOCKED`); SQLite has one writer.

use super::audit::write_audit;
use super::events::fan_out_in_tx;
use super::ordered::settle_ordered;
use super::{on_pool, on_writer, Audited, BeginWrite, NewAudit, Store, StoreError, StoreResult};
use std::sync::Arc;

/// Where a delivery stands; stored as its lowercase name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type, serde::Serialize)]
#[sqlx(type_name = "TEXT", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    /// Behind an earlier delivery of an ordered hook.
    Waiting,
    Pending,
    Sending,
    Succeeded,
    Failed,
}

impl DeliveryState {
    pub const ALL: [Self; 5] = [
        Self::Waiting,
        Self::Pending,
        Self::Sending,
        Self::Succeeded,
        Self::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Pending => "pending",
            Self::Sending => "sending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }
}

/// Who receives a delivery, stored in `subscriber_kind`: a repository or project webhook, or
/// an app's webhook module. The column's value is `as_str()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sqlx::Type)]
#[sqlx(type_name = "TEXT", rename_all = "lowercase")]
pub enum SubscriberKind {
    Webhook,
    /// An installed app's `webhooks` module (`connect_webhooks.rs`).
    App,
}

impl SubscriberKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Webhook => "webhook",
            Self::App => "app",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Delivery {
    pub id: i64,
    pub event_id: i64,
    pub subscriber_kind: SubscriberKind,
    pub subscriber_id: i64,
    pub state: DeliveryState,
    /// Attempts made so far (the next one is `attempts + 1`).
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub created_at: i64,
    pub completed_at: Option<i64>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    /// The event's Standard Webhooks id: the same on every attempt and every redelivery.
    pub event_uuid: String,
    pub event_key: String,
    pub event_at: i64,
    /// The repository the event is about, if any, and its project.
    pub event_repo_id: Option<i64>,
    pub event_project_id: Option<i64>,
    /// Its subscriber takes deliveries one at a time, in order (see `ordered.rs`).
    pub ordered: bool,
}

/// A claimed delivery with its body.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub delivery: Delivery,
    pub payload: Arc<str>,
}

/// One attempt as the history keeps it: what was sent and what came back.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Attempt {
    pub delivery_id: i64,
    pub number: i64,
    pub request_uuid: String,
    pub started_at: i64,
    pub duration_ms: i64,
    pub request_headers: String,
    pub response_status: Option<i64>,
    pub response_headers: Option<String>,
    pub response_body: Option<String>,
    pub error: Option<String>,
}

/// One finished attempt and what becomes of its delivery.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub attempt: Attempt,
    pub outcome: Outcome,
    /// For an ordered subscriber's delivery, the subscriber (`kind`, `id`): when the delivery
    /// finishes, the next one gets its turn.
    pub ordered: Option<(SubscriberKind, i64)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    /// Try again at this time.
    Retry(i64),
    /// No more attempts.
    Failed,
}

/// A delivery that was not attempted: put back for later, or given up with a reason.
#[derive(Debug, Clone)]
pub enum Skipped {
    Later { delivery_id: i64, at: i64 },
    GiveUp { delivery_id: i64, reason: String },
}

const DELIVERY_SELECT: &str =
    "SELECT d.id, d.event_id, d.subscriber_kind, d.subscriber_id, d.state, d.attempts,
    d.next_attempt_at, d.created_at, d.completed_at, d.last_status, d.last_error,
    e.uuid AS event_uuid, e.event_key, e.at AS event_at, e.repo_id AS event_repo_id, e.project_id AS event_project_id, d.ordered
    FROM webhook_deliveries d JOIN events e ON e.id = d.event_id";

/// The state a delivery queued again takes: ordered ones wait for their turn.
const QUEUED: &str = "CASE WHEN ordered THEN 'waiting' ELSE 'pending' END";

/// `kind:id`, how the claim names a subscriber to leave out.
pub fn subscriber_key(kind: SubscriberKind, id: i64) -> String {
    format!("{}:{id}", kind.as_str())
}

impl Store {
    /// Claims up to `limit` due deliveries until `lease_until`, oldest due first, at most
    /// `per_subscriber` for any one subscriber, and for those in `room` (`kind:id` → free slots
    /// on this node) at most that many: a subscriber at its concurrency limit gets none, and no
    /// more is claimed than can be sent at once. An ordered subscriber has one delivery pending
    /// at a time (the rest wait, see `ordered.rs`).
    ///
    /// First, in the same transaction, it fans out up to `fan_out` new events into deliveries
    /// (one writer turn for both: on SQLite the host's own writes wait for each turn). Returns
    /// how many events it fanned out, and the claimed deliveries.
    pub async fn fan_out_and_claim(
        &self,
        fan_out: i64,
        limit: i64,
        lease_until: i64,
        per_subscriber: i64,
        room: &[(String, i64)],
    ) -> StoreResult<(usize, Vec<DueDelivery>)> {
        let now = self.now();
        let lock = self.skip_locked();
        // The per-subscriber count looks at this many of the oldest due deliveries.
        let window = (limit * 4).max(1000);
        let (fanned, claimed): (usize, Vec<Delivery>) = on_writer!(self, |p| {
            let mut tx = p.begin_redoable().await?;
            let fanned = fan_out_in_tx!(tx, self, now, fan_out);
            if limit == 0 {
                tx.commit().await?;
                return Ok((fanned, Vec::new()));
            }
            let mut q = sqlx::QueryBuilder::new("WITH ");
            if !room.is_empty() {
                q.push("room(k, c) AS (VALUES ");
                let mut list = q.separated(", ");
                for (k, c) in room {
                    list.push("(");
                    list.push_bind_unseparated(k);
                    list.push_unseparated(", ");
                    list.push_bind_unseparated(*c);
                    list.push_unseparated(")");
                }
                q.push("), ");
            }
            q.push("due AS (SELECT d.id, d.next_attempt_at, d.subscriber_kind || ':' || CAST(d.subscriber_id AS TEXT) AS k
                FROM webhook_deliveries d WHERE d.state IN ('pending', 'sending') AND d.next_attempt_at <= ");
            q.push_bind(now);
            if !room.is_empty() {
                q.push(" AND (d.subscriber_kind || ':' || CAST(d.subscriber_id AS TEXT)) NOT IN (SELECT k FROM room WHERE c <= 0)");
            }
            // An ordered subscriber's pending delivery is its earliest fanned out; it goes once
            // every earlier event has been fanned out too (another node may be at it still).
            q.push(
                " AND (NOT d.ordered OR NOT EXISTS (SELECT 1 FROM events x
                WHERE x.dispatched_at IS NULL AND x.id < d.event_id))",
            );
            q.push(" ORDER BY d.next_attempt_at, d.id LIMIT ");
            q.push_bind(window);
            q.push("), ranked AS (SELECT id, next_attempt_at, k, ROW_NUMBER() OVER (PARTITION BY k ORDER BY next_attempt_at, id) AS rn FROM due) ");
            q.push(format!(
                "{DELIVERY_SELECT} WHERE d.id IN (SELECT r.id FROM ranked r "
            ));
            if room.is_empty() {
                q.push("WHERE r.rn <= ");
                q.push_bind(per_subscriber);
            } else {
                q.push("LEFT JOIN room ON room.k = r.k WHERE r.rn <= COALESCE(room.c, ");
                q.push_bind(per_subscriber);
                q.push(")");
            }
            q.push(" ORDER BY r.next_attempt_at, r.id LIMIT ");
            q.push_bind(limit);
            // Checked again on the row itself: on PostgreSQL a row another node claimed and
            // committed meanwhile is no longer locked, and the lock re-reads only these
            // conditions on its newest version (the CTE above saw an older snapshot).
            q.push(") AND d.state IN ('pending', 'sending') AND d.next_attempt_at <= ");
            q.push_bind(now);
            q.push(" ORDER BY d.next_attempt_at, d.id");
            if !lock.is_empty() {
                q.push(" FOR UPDATE OF d SKIP LOCKED");
            }
            let rows: Vec<Delivery> = q.build_query_as().fetch_all(&mut *tx).await?;
            if !rows.is_empty() {
                let mut u = sqlx::QueryBuilder::new(
                    "UPDATE webhook_deliveries SET state = 'sending', next_attempt_at = ",
                );
                u.push_bind(lease_until);
                u.push(" WHERE id IN (");
                let mut list = u.separated(", ");
                for r in &rows {
                    list.push_bind(r.id);
                }
                u.push(")");
                u.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            (fanned, rows)
        });
        if claimed.is_empty() {
            return Ok((fanned, Vec::new()));
        }
        let payloads = self.payloads(claimed.iter().map(|d| d.event_id)).await?;
        let due = claimed
            .into_iter()
            .map(|d| DueDelivery {
                payload: payloads
                    .get(&d.event_id)
                    .cloned()
                    .unwrap_or_else(|| Arc::from("")),
                delivery: d,
            })
            .collect();
        Ok((fanned, due))
    }

    async fn payloads(
        &self,
        events: impl Iterator<Item = i64>,
    ) -> StoreResult<std::collections::HashMap<i64, Arc<str>>> {
        let mut ids: Vec<i64> = events.collect();
        ids.sort_unstable();
        ids.dedup();
        on_pool!(self, |p| {
            let mut q = sqlx::QueryBuilder::new("SELECT id, payload FROM events WHERE id IN (");
            let mut list = q.separated(", ");
            for id in &ids {
                list.push_bind(*id);
            }
            q.push(")");
            let rows: Vec<(i64, String)> = q.build_query_as().fetch_all(p).await?;
            Ok(rows
                .into_iter()
                .map(|(id, body)| (id, Arc::from(body)))
                .collect())
        })
    }

    /// Records finished attempts and skipped deliveries in one transaction (group commit: the
    /// dispatcher batches what finished meanwhile).
    pub async fn record_attempts(
        &self,
        attempts: &[AttemptRecord],
        skipped: &[Skipped],
    ) -> StoreResult<()> {
        if attempts.is_empty() && skipped.is_empty() {
            return Ok(());
        }
        let now = self.now();
        let key_share = self.key_share();
        on_writer!(self, |p| {
            let mut tx = p.begin_redoable().await?;
            // A delivery may have gone while it was attempted (its hook or repository deleted):
            // its attempt is not recorded, and the rest of the batch is.
            let attempts: Vec<&AttemptRecord> = if attempts.is_empty() {
                Vec::new()
            } else {
                let mut q =
                    sqlx::QueryBuilder::new("SELECT id FROM webhook_deliveries WHERE id IN (");
                let mut list = q.separated(", ");
                for a in attempts {
                    list.push_bind(a.attempt.delivery_id);
                }
                q.push(")");
                // On PostgreSQL, held until commit: a delete waits instead of breaking the insert.
                q.push(key_share);
                let live: std::collections::HashSet<i64> = q
                    .build_query_scalar()
                    .fetch_all(&mut *tx)
                    .await?
                    .into_iter()
                    .collect();
                attempts
                    .iter()
                    .filter(|a| live.contains(&a.attempt.delivery_id))
                    .collect()
            };
            if !attempts.is_empty() {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO webhook_attempts (delivery_id, number, request_uuid, started_at, duration_ms,
                     request_headers, response_status, response_headers, response_body, error) ");
                q.push_values(attempts.iter().map(|r| &r.attempt), |mut row, a| {
                    row.push_bind(a.delivery_id)
                        .push_bind(a.number)
                        .push_bind(&a.request_uuid)
                        .push_bind(a.started_at)
                        .push_bind(a.duration_ms)
                        .push_bind(&a.request_headers)
                        .push_bind(a.response_status)
                        .push_bind(&a.response_headers)
                        .push_bind(&a.response_body)
                        .push_bind(&a.error);
                });
                q.build().execute(&mut *tx).await?;
            }
            // Ordered subscribers whose delivery finished: the next one's turn.
            let mut finished_in_order: std::collections::BTreeSet<(String, i64)> = attempts
                .iter()
                .filter(|r| !matches!(r.outcome, Outcome::Retry(_)))
                .filter_map(|r| r.ordered.map(|(k, i)| (k.as_str().to_string(), i)))
                .collect();
            // Successes with the same status (nearly all of them) are one statement.
            let mut succeeded: std::collections::BTreeMap<Option<i64>, Vec<&Attempt>> =
                Default::default();
            for r in &attempts {
                let a = &r.attempt;
                let (state, next, completed) = match r.outcome {
                    Outcome::Succeeded if a.error.is_none() => {
                        succeeded.entry(a.response_status).or_default().push(a);
                        continue;
                    }
                    Outcome::Succeeded => ("succeeded", now, Some(now)),
                    Outcome::Retry(at) => ("pending", at, None),
                    Outcome::Failed => ("failed", now, Some(now)),
                };
                sqlx::query(
                    "UPDATE webhook_deliveries SET state = $1, attempts = $2, next_attempt_at = $3,
                     completed_at = $4, last_status = $5, last_error = $6 WHERE id = $7",
                )
                .bind(state)
                .bind(a.number)
                .bind(next)
                .bind(completed)
                .bind(a.response_status)
                .bind(&a.error)
                .bind(a.delivery_id)
                .execute(&mut *tx)
                .await?;
            }
            for (status, group) in succeeded {
                let mut q = sqlx::QueryBuilder::new(
                    "UPDATE webhook_deliveries SET state = 'succeeded', attempts = attempts + 1, last_error = NULL, next_attempt_at = ");
                q.push_bind(now);
                q.push(", completed_at = ");
                q.push_bind(now);
                q.push(", last_status = ");
                q.push_bind(status);
                q.push(" WHERE id IN (");
                let mut list = q.separated(", ");
                for a in group {
                    list.push_bind(a.delivery_id);
                }
                q.push(")");
                q.build().execute(&mut *tx).await?;
            }
            for s in skipped {
                match s {
                    Skipped::Later { delivery_id, at } => {
                        sqlx::query("UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = $1 WHERE id = $2")
                            .bind(*at).bind(*delivery_id).execute(&mut *tx).await?;
                    }
                    Skipped::GiveUp {
                        delivery_id,
                        reason,
                    } => {
                        let ordered: Option<(String, i64)> = sqlx::query_as(
                            "UPDATE webhook_deliveries SET state = 'failed', completed_at = $1, last_error = $2 WHERE id = $3
                             RETURNING subscriber_kind, subscriber_id, ordered")
                            .bind(now).bind(reason).bind(*delivery_id).fetch_optional(&mut *tx).await?
                            .and_then(|(k, i, o): (String, i64, bool)| o.then_some((k, i)));
                        finished_in_order.extend(ordered);
                    }
                }
            }
            settle_ordered!(tx, self, &finished_in_order);
            tx.commit().await?;
            Ok(())
        })
    }

    /// A subscriber's deliveries, newest first, optionally in one state and created since a time.
    pub async fn deliveries_of(
        &self,
        kind: SubscriberKind,
        subscriber_id: i64,
        state: Option<&str>,
        since: Option<i64>,
        start: i64,
        limit: i64,
    ) -> StoreResult<Vec<Delivery>> {
        on_pool!(self, |p| {
            let v: Vec<Delivery> = sqlx::query_as(&format!(
                "{DELIVERY_SELECT} WHERE d.subscriber_kind = $1 AND d.subscriber_id = $2
                 AND ($3 IS NULL OR d.state = $3) AND ($4 IS NULL OR d.created_at >= $4)
                 ORDER BY d.id DESC LIMIT $5 OFFSET $6"
            ))
            .bind(kind.as_str())
            .bind(subscriber_id)
            .bind(state)
            .bind(since)
            .bind(limit)
            .bind(start)
            .fetch_all(p)
            .await?;
            Ok(v)
        })
    }

    /// One delivery of a subscriber with its body and every attempt, oldest first.
    pub async fn delivery_detail(
        &self,
        kind: SubscriberKind,
        subscriber_id: i64,
        id: i64,
    ) -> StoreResult<Option<(Delivery, String, Vec<Attempt>)>> {
        on_pool!(self, |p| {
            let d: Option<Delivery> = sqlx::query_as(&format!(
                "{DELIVERY_SELECT} WHERE d.id = $1 AND d.subscriber_kind = $2 AND d.subscriber_id = $3"))
                .bind(id).bind(kind.as_str()).bind(subscriber_id).fetch_optional(p).await?;
            let Some(d) = d else { return Ok(None) };
            let payload: String = sqlx::query_scalar("SELECT payload FROM events WHERE id = $1")
                .bind(d.event_id)
                .fetch_one(p)
                .await?;
            let attempts: Vec<Attempt> = sqlx::query_as(
                "SELECT delivery_id, number, request_uuid, started_at, duration_ms, request_headers,
                 response_status, response_headers, response_body, error
                 FROM webhook_attempts WHERE delivery_id = $1 ORDER BY number, id")
                .bind(d.id).fetch_all(p).await?;
            Ok(Some((d, payload, attempts)))
        })
    }

    /// Queues a finished delivery again, due now; its next attempt continues the numbering.
    /// `Duplicate` when it is still queued.
    pub async fn redeliver(
        &self,
        kind: SubscriberKind,
        subscriber_id: i64,
        id: i64,
        audit: Audited<'_>,
    ) -> StoreResult<()> {
        let now = self.now();
        let changed = on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let ordered: Option<bool> = sqlx::query_scalar(&format!(
                "UPDATE webhook_deliveries SET state = {QUEUED}, next_attempt_at = $1, completed_at = NULL
                 WHERE id = $2 AND subscriber_kind = $3 AND subscriber_id = $4 AND state IN ('succeeded', 'failed')
                 RETURNING ordered"))
                .bind(now).bind(id).bind(kind.as_str()).bind(subscriber_id).fetch_optional(&mut *tx).await?;
            if ordered == Some(true) {
                settle_ordered!(tx, self, [(kind.as_str(), &subscriber_id)]);
            }
            if ordered.is_some() {
                write_audit!(&mut *tx, now, audit);
            }
            tx.commit().await?;
            u64::from(ordered.is_some())
        });
        if changed == 0 {
            return match self.delivery_detail(kind, subscriber_id, id).await? {
                Some(_) => Err(StoreError::Duplicate),
                None => Err(StoreError::NotFound),
            };
        }
        self.events_written().await;
        Ok(())
    }

    /// Queues again every failed delivery of a subscriber created since `since`. Returns how many.
    pub async fn redeliver_failed_since(
        &self,
        kind: SubscriberKind,
        subscriber_id: i64,
        since: i64,
        audit: Audited<'_>,
    ) -> StoreResult<u64> {
        let now = self.now();
        let n = on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let ordered: Vec<bool> = sqlx::query_scalar(&format!(
                "UPDATE webhook_deliveries SET state = {QUEUED}, next_attempt_at = $1, completed_at = NULL
                 WHERE subscriber_kind = $2 AND subscriber_id = $3 AND state = 'failed' AND created_at >= $4
                 RETURNING ordered"))
                .bind(now).bind(kind.as_str()).bind(subscriber_id).bind(since).fetch_all(&mut *tx).await?;
            if ordered.iter().any(|o| *o) {
                settle_ordered!(tx, self, [(kind.as_str(), &subscriber_id)]);
            }
            // The record says how many the change touched, which only this transaction knows.
            if let Some(a) = audit {
                let details = format!("{}: {} queued again", a.details, ordered.len());
                let counted = NewAudit {
                    details: &details,
                    ..a.clone()
                };
                write_audit!(&mut *tx, now, Some(&counted));
            }
            tx.commit().await?;
            ordered.len() as u64
        });
        if n > 0 {
            self.events_written().await;
        }
        Ok(n)
    }

    /// Forgets finished deliveries (with their attempts) and dispatched events older than
    /// `before`. Queued deliveries and their events are kept whatever their age.
    pub async fn purge_delivery_history(&self, before: i64) -> StoreResult<(u64, u64)> {
        on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            sqlx::query(
                "DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries
                 WHERE state IN ('succeeded', 'failed') AND COALESCE(completed_at, created_at) < $1)")
                .bind(before).execute(&mut *tx).await?;
            let d = sqlx::query(
                "DELETE FROM webhook_deliveries WHERE state IN ('succeeded', 'failed') AND COALESCE(completed_at, created_at) < $1")
                .bind(before).execute(&mut *tx).await?.rows_affected();
            let e = sqlx::query(
                "DELETE FROM events WHERE dispatched_at IS NOT NULL AND at < $1
                 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = events.id)",
            )
            .bind(before)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            Ok((d, e))
        })
    }

    /// How many deliveries are queued (waiting, pending or being sent): for tests and the benchmark.
    pub async fn queued_deliveries(&self) -> StoreResult<i64> {
        on_pool!(self, |p| {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM webhook_deliveries WHERE state IN ('waiting', 'pending', 'sending')")
                .fetch_one(p).await?;
            Ok(n)
        })
    }
}
