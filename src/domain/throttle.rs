//! Slowing down for a receiver that says it is overloaded.
//!
//! `429`, `502`, `503` and `504` mean "not now", not "wrong": the delivery is retried as
//! usual, and every other delivery to the same endpoint slows down too, or the queue would keep
//! hitting a receiver that is already struggling. The way TCP does it: each such answer halves
//! how many attempts may be in flight at once, each success gives one back (additive increase,
//! multiplicative decrease), and the endpoint gets nothing at all for a while — as long as its
//! `Retry-After` asks, else one second doubling with each answer in a row, up to a minute.

/// The answers that ask the sender to slow down.
pub fn asks_to_slow_down(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// The longest hold without a `Retry-After`.
pub const MAX_HOLD_MS: i64 = 60_000;

/// One endpoint's state while it is slowed down (an endpoint at full speed has none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttle {
    /// Attempts that may be in flight at once.
    pub limit: usize,
    /// No attempt starts before this time (Unix ms).
    pub hold_until: i64,
    /// Slow-down answers since the last success.
    pub strikes: u32,
}

impl Throttle {
    /// The state after a slow-down answer, from `before` (`None`: at full speed, `max` at once).
    /// `retry_after_ms` is what the receiver asked for, already capped by policy.
    pub fn slowed(
        before: Option<Throttle>,
        max: usize,
        now: i64,
        retry_after_ms: Option<i64>,
    ) -> Throttle {
        let (limit, strikes) = match before {
            Some(t) => (t.limit, t.strikes),
            None => (max, 0),
        };
        let strikes = strikes.saturating_add(1);
        let backoff = (1_000i64 << (strikes - 1).min(16)).min(MAX_HOLD_MS);
        let hold = backoff.max(retry_after_ms.unwrap_or(0));
        Throttle {
            limit: (limit / 2).max(1),
            hold_until: before.map_or(0, |t| t.hold_until).max(now + hold),
            strikes,
        }
    }

    /// The state after a success: one more attempt at once, and no more strikes. `None` once
    /// the endpoint is back at full speed (`max`).
    pub fn recovered(self, max: usize) -> Option<Throttle> {
        let limit = self.limit + 1;
        (limit < max).then_some(Throttle {
            limit,
            hold_until: self.hold_until,
            strikes: 0,
        })
    }

    /// How many attempts may be in flight at `now`.
    pub fn room(&self, now: i64) -> usize {
        if now < self.hold_until {
            0
        } else {
            self.limit
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_overload_answers_slow_down() {
        for s in [429, 502, 503, 504] {
            assert!(asks_to_slow_down(s), "{s}");
        }
        for s in [200, 204, 302, 400, 404, 410, 500, 501] {
            assert!(!asks_to_slow_down(s), "{s}");
        }
    }

    #[test]
    fn each_answer_halves_the_limit_and_doubles_the_hold() {
        let t = Throttle::slowed(None, 8, 10_000, None);
        assert_eq!(
            t,
            Throttle {
                limit: 4,
                hold_until: 11_000,
                strikes: 1
            }
        );
        assert_eq!(t.room(10_999), 0);
        assert_eq!(t.room(11_000), 4);
        let t = Throttle::slowed(Some(t), 8, 11_000, None);
        assert_eq!((t.limit, t.hold_until, t.strikes), (2, 13_000, 2));
        let t = Throttle::slowed(Some(t), 8, 13_000, None);
        let t = Throttle::slowed(Some(t), 8, 17_000, None);
        assert_eq!(
            (t.limit, t.hold_until, t.strikes),
            (1, 25_000, 4),
            "never below one"
        );
        // The hold stops growing at a minute.
        let mut t = t;
        for _ in 0..40 {
            t = Throttle::slowed(Some(t), 8, 100_000, None);
        }
        assert_eq!(t.hold_until, 100_000 + MAX_HOLD_MS);
    }

    #[test]
    fn retry_after_sets_the_hold_and_an_earlier_hold_is_never_shortened() {
        let t = Throttle::slowed(None, 8, 0, Some(120_000));
        assert_eq!(t.hold_until, 120_000);
        // A later answer without Retry-After (say, from an attempt already in flight).
        let t = Throttle::slowed(Some(t), 8, 1_000, None);
        assert_eq!(t.hold_until, 120_000);
    }

    #[test]
    fn successes_give_back_one_at_a_time_until_full_speed() {
        let t = Throttle::slowed(None, 4, 0, None);
        let t = Throttle::slowed(Some(t), 4, 0, None);
        assert_eq!(t.limit, 1);
        let t = t.recovered(4).unwrap();
        assert_eq!((t.limit, t.strikes), (2, 0));
        let t = t.recovered(4).unwrap();
        assert_eq!(t.limit, 3);
        assert_eq!(t.recovered(4), None, "back to full speed: forgotten");
        // After a success the next slow-down starts the hold at one second again.
        let t = Throttle::slowed(Some(t), 4, 50_000, None);
        assert_eq!((t.limit, t.hold_until), (1, 51_000));
    }
}
