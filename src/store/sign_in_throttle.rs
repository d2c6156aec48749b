//! Sign-in throttle counters (`sign_in_throttle`). The store only locks, reads and writes them;
//! what an attempt does to a counter is `domain/sign_in_throttle.rs`, applied by
//! `services/sign_in/mod.rs` through the closure it passes here, inside the transaction.

use super::{on_writer, BeginWrite, Store, StoreResult};
use crate::domain::sign_in_throttle::Counter;

/// What to do with one key's row after the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CounterWrite {
    Keep,
    Put(Counter),
    Delete,
}

#[derive(sqlx::FromRow)]
struct Row {
    failures: i64,
    last_failure_at: i64,
    blocked_until: i64,
    pending: i64,
    pending_at: i64,
}

impl Store {
    /// Locks the counters of `keys` (in the order given; callers keep one order so two
    /// transactions never wait for each other), hands them to `decide`, and writes what it
    /// returns, all in one transaction. Missing rows read as zero. Only `Keep`s roll back, so
    /// a refused attempt leaves no row behind.
    pub async fn update_sign_in_counters<R>(
        &self,
        keys: &[&str],
        decide: impl FnOnce(&[Counter]) -> (Vec<CounterWrite>, R),
    ) -> StoreResult<R> {
        let lock = self.for_update();
        on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let mut counters = Vec::with_capacity(keys.len());
            for key in keys {
                // A row to lock even for a new key: two first attempts at once must queue on
                // it, not both read "nothing yet".
                sqlx::query(
                    "INSERT INTO sign_in_throttle (key, failures, last_failure_at, blocked_until, pending, pending_at)
                     VALUES ($1, 0, 0, 0, 0, 0) ON CONFLICT (key) DO NOTHING")
                    .bind(key).execute(&mut *tx).await?;
                let row: Option<Row> = sqlx::query_as(&format!(
                    "SELECT failures, last_failure_at, blocked_until, pending, pending_at
                     FROM sign_in_throttle WHERE key = $1{lock}"
                ))
                .bind(key)
                .fetch_optional(&mut *tx)
                .await?;
                counters.push(row.map_or_else(Counter::default, |r| Counter {
                    failures: r.failures,
                    last_failure_at: r.last_failure_at,
                    blocked_until: r.blocked_until,
                    pending: r.pending,
                    pending_at: r.pending_at,
                }));
            }
            let (writes, result) = decide(&counters);
            if writes.iter().all(|w| *w == CounterWrite::Keep) {
                return Ok(result);
            }
            for (key, write) in keys.iter().zip(writes) {
                match write {
                    CounterWrite::Keep => {}
                    CounterWrite::Delete => {
                        sqlx::query("DELETE FROM sign_in_throttle WHERE key = $1")
                            .bind(key)
                            .execute(&mut *tx)
                            .await?;
                    }
                    CounterWrite::Put(c) => {
                        sqlx::query(
                            "INSERT INTO sign_in_throttle (key, failures, last_failure_at, blocked_until, pending, pending_at)
                             VALUES ($1, $2, $3, $4, $5, $6)
                             ON CONFLICT (key) DO UPDATE SET failures = excluded.failures,
                               last_failure_at = excluded.last_failure_at, blocked_until = excluded.blocked_until,
                               pending = excluded.pending, pending_at = excluded.pending_at")
                            .bind(key).bind(c.failures).bind(c.last_failure_at).bind(c.blocked_until)
                            .bind(c.pending).bind(c.pending_at).execute(&mut *tx).await?;
                    }
                }
            }
            tx.commit().await?;
            Ok(result)
        })
    }

    /// Forgets counters that say nothing any more: no failure since `failures_since`, no
    /// reservation since `pending_since`, no block after `now`. Returns how many went.
    pub async fn purge_sign_in_counters(
        &self,
        now: i64,
        failures_since: i64,
        pending_since: i64,
    ) -> StoreResult<u64> {
        on_writer!(self, |p| {
            let r = sqlx::query(
                "DELETE FROM sign_in_throttle WHERE last_failure_at < $1 AND blocked_until <= $2
                   AND (pending = 0 OR pending_at < $3)",
            )
            .bind(failures_since)
            .bind(now)
            .bind(pending_since)
            .execute(p)
            .await?;
            Ok(r.rows_affected())
        })
    }

    /// How many counters are stored (for tests and metrics: the table must stay bounded).
    pub async fn count_sign_in_counters(&self) -> StoreResult<i64> {
        super::on_pool!(self, |p| {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sign_in_throttle")
                .fetch_one(p)
                .await?;
            Ok(n)
        })
    }
}
