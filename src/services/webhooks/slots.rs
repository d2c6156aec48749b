//! This node's capacity per endpoint: how many attempts each subscriber (`kind:id`) has in
//! flight, its limit (`webhooks.per_endpoint_concurrency`, lower while the receiver asked to
//! slow down — the rule is `domain/throttle.rs`), and all attempts in flight together.

use crate::domain::throttle::{asks_to_slow_down, Throttle};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

pub struct Slots {
    per_endpoint: usize,
    state: Mutex<State>,
    active: AtomicUsize,
}

#[derive(Default)]
struct State {
    in_flight: HashMap<String, usize>,
    /// Endpoints slowed down; one back at full speed is removed.
    throttled: HashMap<String, Throttle>,
}

impl State {
    fn limit(&self, key: &str, per_endpoint: usize, now: i64) -> usize {
        self.throttled
            .get(key)
            .map_or(per_endpoint, |t| t.room(now))
    }
}

impl Slots {
    pub fn new(per_endpoint: usize) -> Self {
        Self {
            per_endpoint,
            state: Mutex::new(State::default()),
            active: AtomicUsize::new(0),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Attempts in flight on this node, all endpoints together.
    pub fn active(&self) -> usize {
        self.active.load(Ordering::SeqCst)
    }

    /// The default limit: what an endpoint the claim does not name may get.
    pub fn per_endpoint(&self) -> usize {
        self.per_endpoint
    }

    /// Every endpoint busy or slowed down here, with how many more attempts it may start now
    /// (zero or less: none). The claim takes no more than this for them.
    pub fn room(&self, now: i64) -> Vec<(String, i64)> {
        let s = self.state();
        let mut room: HashMap<&str, i64> = s
            .throttled
            .keys()
            .map(|k| (k.as_str(), s.limit(k, self.per_endpoint, now) as i64))
            .collect();
        for (k, n) in &s.in_flight {
            let limit = s.limit(k, self.per_endpoint, now) as i64;
            room.insert(k.as_str(), limit - *n as i64);
        }
        room.into_iter().map(|(k, c)| (k.to_string(), c)).collect()
    }

    /// Takes a slot for an endpoint if it is under its limit now.
    pub fn take(&self, key: &str, now: i64) -> bool {
        let mut s = self.state();
        let limit = s.limit(key, self.per_endpoint, now);
        let n = s.in_flight.entry(key.to_string()).or_default();
        if *n >= limit {
            if *n == 0 {
                s.in_flight.remove(key);
            }
            return false;
        }
        *n += 1;
        self.active.fetch_add(1, Ordering::SeqCst);
        true
    }

    /// Gives the slot back, first adjusting the endpoint's speed to its answer: `status` (none
    /// when nothing came back) and its `Retry-After` in milliseconds.
    pub fn release(&self, key: &str, status: Option<u16>, retry_after_ms: Option<i64>, now: i64) {
        let mut s = self.state();
        match status {
            Some(st) if asks_to_slow_down(st) => {
                let before = s.throttled.get(key).copied();
                let after = Throttle::slowed(before, self.per_endpoint, now, retry_after_ms);
                if before.is_none() {
                    tracing::info!(
                        endpoint = key,
                        status = st,
                        "webhook receiver asked to slow down"
                    );
                }
                s.throttled.insert(key.to_string(), after);
            }
            Some(200..=299) => {
                if let Some(t) = s.throttled.remove(key) {
                    if let Some(t) = t.recovered(self.per_endpoint) {
                        s.throttled.insert(key.to_string(), t);
                    }
                }
            }
            _ => {}
        }
        if let Some(n) = s.in_flight.get_mut(key) {
            *n -= 1;
            if *n == 0 {
                s.in_flight.remove(key);
            }
        }
        self.active.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room_of(slots: &Slots, key: &str, now: i64) -> Option<i64> {
        slots
            .room(now)
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, c)| c)
    }

    #[test]
    fn the_limit_holds_and_slots_come_back() {
        let slots = Slots::new(2);
        assert!(slots.take("webhook:1", 0));
        assert!(slots.take("webhook:1", 0));
        assert!(!slots.take("webhook:1", 0));
        assert_eq!(room_of(&slots, "webhook:1", 0), Some(0));
        assert_eq!(slots.active(), 2);
        slots.release("webhook:1", Some(200), None, 0);
        assert_eq!(room_of(&slots, "webhook:1", 0), Some(1));
        slots.release("webhook:1", None, None, 0);
        assert_eq!(room_of(&slots, "webhook:1", 0), None, "idle: not named");
        assert_eq!(slots.active(), 0);
    }

    #[test]
    fn a_receiver_that_asks_gets_nothing_for_a_while_then_fewer_at_once() {
        let slots = Slots::new(8);
        assert!(slots.take("webhook:1", 0));
        slots.release("webhook:1", Some(503), Some(30_000), 0);
        // Held: named with no room, so the claim leaves it out, and no slot is given.
        assert_eq!(room_of(&slots, "webhook:1", 29_999), Some(0));
        assert!(!slots.take("webhook:1", 29_999));
        assert!(
            slots.take("webhook:2", 29_999),
            "other endpoints are not slowed"
        );
        // Then half the limit, growing back by one with each success.
        assert_eq!(room_of(&slots, "webhook:1", 30_000), Some(4));
        for _ in 0..4 {
            assert!(slots.take("webhook:1", 30_000));
        }
        assert!(!slots.take("webhook:1", 30_000));
        slots.release("webhook:1", Some(204), None, 30_000);
        assert_eq!(room_of(&slots, "webhook:1", 30_000), Some(5 - 3));
        for _ in 0..2 {
            slots.release("webhook:1", Some(200), None, 30_000);
        }
        assert_eq!(room_of(&slots, "webhook:1", 30_000), Some(7 - 1));
        slots.release("webhook:1", Some(200), None, 30_000);
        assert_eq!(
            room_of(&slots, "webhook:1", 30_000),
            None,
            "full speed again"
        );
    }
}
