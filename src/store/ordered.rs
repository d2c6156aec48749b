//! Ordered subscribers: exactly one delivery at a time, the earliest open one.
//!
//! Their deliveries are written as `waiting`; `settle_ordered!` then gives each subscriber's
//! turn to its earliest open delivery (by event) whenever that may have changed — after a
//! fan-out, after a delivery finished, after a redelivery — so the claim sees one `pending`
//! delivery per ordered subscriber and never scans the ones behind it. Each step is a couple of
//! index lookups (`webhook_deliveries_ordered_open`, `_turn`), whatever the backlog.

/// The advisory lock key of a subscriber (collisions only make two subscribers take turns).
pub fn lock_key(kind: &str, id: i64) -> i64 {
    let k = kind
        .bytes()
        .fold(0i64, |h, b| h.wrapping_mul(31).wrapping_add(i64::from(b)));
    (k << 40) ^ id
}

/// Inside the caller's transaction, for each `(kind, id)` in `$subscribers` (in a fixed order,
/// so two transactions never wait on each other in a circle): unless a delivery is in flight,
/// makes the earliest open delivery the pending one and any other pending one wait. First it
/// takes `Store::settle_lock()`: on PostgreSQL two nodes fanning out at once would otherwise
/// each see only their own new delivery and both make it pending.
macro_rules! settle_ordered {
    ($tx:expr, $store:expr, $subscribers:expr) => {{
        let lock = $store.settle_lock();
        for (kind, id) in $subscribers {
            if !lock.is_empty() {
                sqlx::query(lock)
                    .bind($crate::store::ordered::lock_key(kind, *id))
                    .execute(&mut *$tx)
                    .await?;
            }
            let turn: Vec<(i64, String)> = sqlx::query_as(
                "SELECT id, state FROM webhook_deliveries WHERE subscriber_kind = $1 AND subscriber_id = $2
                 AND ordered AND state IN ('pending', 'sending')",
            )
            .bind(kind)
            .bind(id)
            .fetch_all(&mut *$tx)
            .await?;
            if turn.iter().any(|(_, state)| state == "sending") {
                continue;
            }
            let first: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM webhook_deliveries WHERE subscriber_kind = $1 AND subscriber_id = $2
                 AND ordered AND state IN ('waiting', 'pending', 'sending') ORDER BY event_id, id LIMIT 1",
            )
            .bind(kind)
            .bind(id)
            .fetch_optional(&mut *$tx)
            .await?;
            for (pending, _) in &turn {
                if Some(*pending) != first {
                    sqlx::query("UPDATE webhook_deliveries SET state = 'waiting' WHERE id = $1")
                        .bind(*pending)
                        .execute(&mut *$tx)
                        .await?;
                }
            }
            if let Some(first) = first {
                if !turn.iter().any(|(pending, _)| *pending == first) {
                    sqlx::query("UPDATE webhook_deliveries SET state = 'pending' WHERE id = $1")
                        .bind(first)
                        .execute(&mut *$tx)
                        .await?;
                }
            }
        }
    }};
}
pub(crate) use settle_ordered;
