//! Sign-in throttling, as a rule with no IO. Attempts are counted per key — one per (username,
//! client address) and one per client address — so an attacker's guesses slow down the attacker,
//! not the person signing in from elsewhere.
//!
//! An attempt is *reserved* before the password is checked (`pending`), and a key admits only as
//! many attempts in flight as it has failures left, so a burst of concurrent guesses cannot all
//! be evaluated while the count still looks low. A burst of right passwords is not refused for
//! that: the surplus waits for the attempts in flight to settle (`Decision::Wait`).
//!
//! After `free` failures each further failure blocks the key for a delay that doubles (1 s, 2 s,
//! 4 s, …) up to `max_delay_ms`; failures are forgotten `window_ms` after the last one.

/// A key's stored state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counter {
    pub failures: i64,
    pub last_failure_at: i64,
    pub blocked_until: i64,
    pub pending: i64,
    pub pending_at: i64,
}

/// How many failures a key gets before delays start, and how they grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub free: i64,
    pub window_ms: i64,
    pub max_delay_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Check the password (the attempt is now reserved).
    Proceed,
    /// Attempts in flight use up what the key allows; ask again when they have settled.
    Wait,
    /// Refused without checking the password; try again after this long.
    Throttled { retry_after_ms: i64 },
}

/// A reservation older than this was lost (its node stopped mid-check) and no longer counts.
pub const PENDING_TTL_MS: i64 = 60_000;
const FIRST_DELAY_MS: i64 = 1_000;

impl Limit {
    /// The counter as it stands at `now`: old failures and lost reservations forgotten.
    pub fn current(&self, c: Counter, now: i64) -> Counter {
        let mut c = c;
        if c.last_failure_at < now - self.window_ms {
            c.failures = 0;
        }
        if c.pending_at < now - PENDING_TTL_MS {
            c.pending = 0;
        }
        c
    }

    pub fn decide(&self, c: Counter, now: i64) -> Decision {
        let c = self.current(c, now);
        if c.blocked_until > now {
            return Decision::Throttled {
                retry_after_ms: c.blocked_until - now,
            };
        }
        // Past the free attempts, one at a time (each failure then sets a delay).
        let allowance = (self.free - c.failures).max(1);
        if c.pending < allowance {
            Decision::Proceed
        } else {
            Decision::Wait
        }
    }

    /// The counter after reserving one attempt.
    pub fn reserve(&self, c: Counter, now: i64) -> Counter {
        let c = self.current(c, now);
        Counter {
            pending: c.pending + 1,
            pending_at: now,
            ..c
        }
    }

    /// The counter after a reserved attempt failed: one more failure, and past the free ones a
    /// delay before the next attempt.
    pub fn fail(&self, c: Counter, now: i64) -> Counter {
        let c = self.current(c, now);
        let failures = c.failures + 1;
        let blocked_until = if failures >= self.free {
            now + self.delay_ms(failures - self.free)
        } else {
            c.blocked_until
        };
        Counter {
            failures,
            last_failure_at: now,
            blocked_until,
            pending: (c.pending - 1).max(0),
            pending_at: c.pending_at,
        }
    }

    /// The counter after a reserved attempt succeeded: its reservation is given back. (The
    /// (username, address) key is forgotten entirely; see `services/sign_in/mod.rs`.)
    pub fn succeed(&self, c: Counter, now: i64) -> Counter {
        let c = self.current(c, now);
        Counter {
            pending: (c.pending - 1).max(0),
            ..c
        }
    }

    /// The delay after the `over`-th failure past the free ones (0-based): 1 s doubling.
    pub fn delay_ms(&self, over: i64) -> i64 {
        FIRST_DELAY_MS
            .saturating_mul(1i64 << over.clamp(0, 40))
            .min(self.max_delay_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: Limit = Limit {
        free: 3,
        window_ms: 900_000,
        max_delay_ms: 900_000,
    };

    #[test]
    fn free_failures_then_doubling_delays_up_to_the_cap() {
        let mut c = Counter::default();
        let now = 1_000_000;
        for _ in 0..2 {
            assert_eq!(L.decide(c, now), Decision::Proceed);
            c = L.fail(L.reserve(c, now), now);
            assert_eq!(c.blocked_until, 0);
        }
        c = L.fail(L.reserve(c, now), now);
        assert_eq!(
            L.decide(c, now),
            Decision::Throttled {
                retry_after_ms: 1_000
            }
        );
        c = L.fail(L.reserve(c, now + 1_000), now + 1_000);
        assert_eq!(c.blocked_until, now + 3_000, "2 s after the 4th failure");
        assert_eq!(L.delay_ms(5), 32_000);
        assert_eq!(L.delay_ms(20), 900_000);
        assert_eq!(L.delay_ms(10_000), 900_000);
    }

    #[test]
    fn concurrent_attempts_never_exceed_the_failures_left() {
        let now = 5_000_000;
        let mut c = Counter::default();
        let mut admitted = 0;
        // 40 attempts arrive before any settles.
        for _ in 0..40 {
            match L.decide(c, now) {
                Decision::Proceed => {
                    c = L.reserve(c, now);
                    admitted += 1;
                }
                Decision::Wait => {}
                Decision::Throttled { .. } => panic!("nothing failed yet"),
            }
        }
        assert_eq!(admitted, 3);
        // They all fail: the key is blocked and waiting attempts are refused.
        for _ in 0..3 {
            c = L.fail(c, now);
        }
        assert!(matches!(L.decide(c, now), Decision::Throttled { .. }));
    }

    #[test]
    fn successes_give_their_reservation_back() {
        let now = 7_000_000;
        let mut c = Counter::default();
        for _ in 0..3 {
            c = L.reserve(c, now);
        }
        assert_eq!(L.decide(c, now), Decision::Wait);
        c = L.succeed(c, now);
        assert_eq!(L.decide(c, now), Decision::Proceed);
    }

    #[test]
    fn old_failures_and_lost_reservations_are_forgotten() {
        let now = 9_000_000;
        let mut c = Counter::default();
        for _ in 0..2 {
            c = L.fail(L.reserve(c, now), now);
        }
        c = L.reserve(c, now);
        assert_eq!(
            (L.current(c, now).failures, L.current(c, now).pending),
            (2, 1)
        );
        let later = now + L.window_ms + PENDING_TTL_MS + 1;
        assert_eq!(L.current(c, later).failures, 0);
        assert_eq!(L.current(c, later).pending, 0);
    }
}
