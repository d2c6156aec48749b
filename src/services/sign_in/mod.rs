//! Checking a username and password, with throttling. Used by the sign-in form and by HTTP Basic
//! authentication alike.
//!
//! Each attempt is reserved on two counters before the password is checked — the client address,
//! and the (username, client address) pair — so concurrent guesses cannot slip past the count,
//! and guesses from one place never lock the person out from another. The rule for a counter is
//! `domain/sign_in_throttle.rs`; the hashing is `passwords.rs` (bounded, may answer `Busy`); what
//! one node remembers to spare both is `node.rs`.

mod node;

use super::passwords::{Busy, Passwords};
use crate::config::SecurityConfig;
use crate::domain::sign_in_throttle::{Counter, Decision, Limit, PENDING_TTL_MS};
use crate::store::sign_in_throttle::CounterWrite;
use crate::store::{Account, Store, StoreError};
use node::NodeMemory;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("Too many failed sign-in attempts. Try again in {}.", in_words(*retry_after_seconds))]
    Throttled { retry_after_seconds: u64 },
    #[error("The username or password is incorrect.")]
    Invalid,
    /// The password is right, but it was set for one sign-in only: a new one must be chosen
    /// before it grants anything.
    #[error("This password was for one sign-in only. Choose your own password to continue.")]
    PasswordChangeRequired(Account),
    #[error(transparent)]
    Busy(#[from] Busy),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The limits of the two counters, in the order of their keys: the address's, then the
/// (username, address) pair's.
fn limits(security: &SecurityConfig) -> [Limit; 2] {
    let window_ms = i64::from(security.sign_in_window_minutes) * 60_000;
    [
        security.max_failed_sign_ins_per_address,
        security.max_failed_sign_ins,
    ]
    .map(|free| Limit {
        free: i64::from(free),
        window_ms,
        max_delay_ms: window_ms,
    })
}

/// Applies one counter rule to both counters, as the writes that store the results.
fn put_each(
    limits: &[Limit; 2],
    counters: &[Counter],
    rule: impl Fn(&Limit, Counter) -> Counter,
) -> Vec<CounterWrite> {
    (0..2)
        .map(|i| CounterWrite::Put(rule(&limits[i], counters[i])))
        .collect()
}

/// Attempts beyond what a counter admits in flight wait for the attempts in flight to settle (a
/// burst of right passwords from one script): woken by this node's settles, and at least this
/// often for other nodes', for at most `SETTLE_WAIT`.
const SETTLE_POLL: Duration = Duration::from_millis(100);
const SETTLE_WAIT: Duration = Duration::from_secs(5);

/// Signing in on this node: the hashing pool, and what this node remembers (`node.rs`).
#[derive(Clone)]
pub struct SignIn {
    passwords: Passwords,
    node: Arc<NodeMemory>,
}

impl SignIn {
    pub fn new(passwords: Passwords) -> Self {
        Self {
            passwords,
            node: Default::default(),
        }
    }

    pub async fn check_password(
        &self,
        store: &Store,
        security: &SecurityConfig,
        username: &str,
        password: &str,
        ip: &str,
    ) -> Result<Account, SignInError> {
        let username = username.trim().to_ascii_lowercase();
        let address = address_key(ip);
        let keys = [address.clone(), format!("u:{address}:{username}")];
        let result = check(self, store, security, &keys, &username, password, ip).await;
        self.node.settled.notify_waiters();
        if matches!(result, Ok(_) | Err(SignInError::PasswordChangeRequired(_))) {
            self.node.remember_success(&keys[1]);
        }
        result
    }
}

/// One attempt on the counters `keys` (the address's, then the pair's).
async fn check(
    sign_in: &SignIn,
    store: &Store,
    security: &SecurityConfig,
    keys: &[String; 2],
    username: &str,
    password: &str,
    ip: &str,
) -> Result<Account, SignInError> {
    let keys: [&str; 2] = [&keys[0], &keys[1]];
    let limits = limits(security);
    let node = &sign_in.node;
    if let Some(until) = node.blocked_until(&keys, store.now()) {
        return Err(throttled(until - store.now()));
    }
    if let Err(blocks) = reserve(store, &keys, &limits, &node.settled).await? {
        let now = store.now();
        for (key, until) in keys.iter().zip(blocks) {
            node.remember_block(key, until, now);
        }
        let until = blocks.into_iter().max().unwrap_or(now);
        return Err(throttled(until - now));
    }

    let found = match store.find_user_credentials(username).await {
        Ok(f) => f,
        Err(e) => {
            give_back(store, &keys, &limits).await;
            return Err(e.into());
        }
    };
    let (account, stored, change_required) = match found {
        Some((a, h, c)) => (Some(a), h, c),
        None => (None, None, false),
    };
    let ok = match sign_in
        .passwords
        .verify(node.priority(keys[1]), password.to_string(), stored)
        .await
    {
        Ok(ok) => ok,
        Err(busy) => {
            give_back(store, &keys, &limits).await;
            return Err(busy.into());
        }
    };
    match account {
        Some(a) if ok && a.active => {
            let now = store.now();
            store
                .update_sign_in_counters(&keys, |c| {
                    let writes = vec![
                        CounterWrite::Put(limits[0].succeed(c[0], now)),
                        CounterWrite::Delete,
                    ];
                    (writes, ())
                })
                .await?;
            if change_required {
                return Err(SignInError::PasswordChangeRequired(a));
            }
            Ok(a)
        }
        account => {
            let now = store.now();
            let (blocks, newly_blocked) = store
                .update_sign_in_counters(&keys, |c| {
                    let after = [0, 1].map(|i| limits[i].fail(c[i], now));
                    let blocked = |c: &Counter| c.blocked_until > now;
                    let newly = [0, 1].map(|i| blocked(&after[i]) && !blocked(&c[i]));
                    let blocks = after.map(|a| a.blocked_until);
                    (after.map(CounterWrite::Put).to_vec(), (blocks, newly))
                })
                .await?;
            for (key, until) in keys.iter().zip(blocks) {
                node.remember_block(key, until, now);
            }
            record_failure(store, username, ip, account.is_some(), newly_blocked).await;
            Err(SignInError::Invalid)
        }
    }
}

/// Reserves one attempt on every counter, waiting while attempts in flight use up what they
/// admit. `Ok(Err(until))` when a counter is blocked: until when, per key (0: not blocked).
async fn reserve(
    store: &Store,
    keys: &[&str; 2],
    limits: &[Limit; 2],
    settled: &tokio::sync::Notify,
) -> Result<Result<(), [i64; 2]>, SignInError> {
    let give_up = tokio::time::Instant::now() + SETTLE_WAIT;
    while tokio::time::Instant::now() < give_up {
        // Registered before looking, so a settle in between is not missed.
        let woken = settled.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let now = store.now();
        let decision = store
            .update_sign_in_counters(keys, |c| {
                let decisions = [0, 1].map(|i| limits[i].decide(c[i], now));
                let throttled = |d: &Decision| matches!(d, Decision::Throttled { .. });
                if decisions.iter().any(throttled) {
                    let until = [0, 1].map(|i| match decisions[i] {
                        Decision::Throttled { retry_after_ms } => now + retry_after_ms,
                        _ => 0,
                    });
                    return (vec![CounterWrite::Keep; 2], Some(Err(until)));
                }
                if decisions.contains(&Decision::Wait) {
                    return (vec![CounterWrite::Keep; 2], None);
                }
                (put_each(limits, c, |l, c| l.reserve(c, now)), Some(Ok(())))
            })
            .await?;
        match decision {
            Some(outcome) => return Ok(outcome),
            None => {
                let _ = tokio::time::timeout(SETTLE_POLL, woken).await;
            }
        }
    }
    Err(throttled(1_000))
}

fn throttled(retry_after_ms: i64) -> SignInError {
    SignInError::Throttled {
        retry_after_seconds: ((retry_after_ms + 999) / 1000).max(1) as u64,
    }
}

/// Returns a reservation that was never decided (the store or the hashing pool failed).
async fn give_back(store: &Store, keys: &[&str; 2], limits: &[Limit; 2]) {
    let now = store.now();
    let result = store
        .update_sign_in_counters(keys, |c| {
            (put_each(limits, c, |l, c| l.succeed(c, now)), ())
        })
        .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "a sign-in reservation could not be given back; it lapses by itself");
    }
}

/// The audit log gets failures for accounts that exist, and one entry when a counter starts
/// refusing; guesses at names that do not exist add nothing, so they cannot grow it without
/// bound.
async fn record_failure(
    store: &Store,
    username: &str,
    ip: &str,
    exists: bool,
    newly_blocked: [bool; 2],
) {
    let actor = super::audit::Actor {
        id: None,
        name: username,
        ip,
    };
    if exists {
        super::audit::record(
            store,
            &actor,
            "auth.sign_in_failed",
            &format!("user:{username}"),
            "",
        )
        .await;
    }
    if newly_blocked[0] {
        super::audit::record(
            store,
            &actor,
            "auth.sign_in_throttled",
            &format!("address:{ip}"),
            "",
        )
        .await;
    } else if newly_blocked[1] && exists {
        super::audit::record(
            store,
            &actor,
            "auth.sign_in_throttled",
            &format!("user:{username}"),
            ip,
        )
        .await;
    }
}

/// "1 second", "40 seconds", "3 minutes": how long to wait, as a person reads it.
fn in_words(seconds: u64) -> String {
    match seconds {
        1 => "1 second".into(),
        s if s < 120 => format!("{s} seconds"),
        s => format!("{} minutes", s.div_ceil(60)),
    }
}

/// The counter key of a client address. An IPv6 client is counted by its /64, the block one
/// machine usually holds, so rotating through its addresses gains nothing.
fn address_key(ip: &str) -> String {
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("a:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(IpAddr::V6(v6)) => format!("a:{}", v6.to_ipv4_mapped().expect("checked")),
        Ok(v4) => format!("a:{v4}"),
        Err(_) => format!("a:{ip}"),
    }
}

/// Forgets counters that no longer hold anything back (run periodically by the server).
pub async fn purge_counters(store: &Store, security: &SecurityConfig) -> Result<u64, StoreError> {
    let now = store.now();
    let window_ms = i64::from(security.sign_in_window_minutes) * 60_000;
    store
        .purge_sign_in_counters(now, now - window_ms, now - PENDING_TTL_MS)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_said_in_words() {
        let said = |s| {
            SignInError::Throttled {
                retry_after_seconds: s,
            }
            .to_string()
        };
        assert_eq!(
            said(1),
            "Too many failed sign-in attempts. Try again in 1 second."
        );
        assert_eq!(
            said(64),
            "Too many failed sign-in attempts. Try again in 64 seconds."
        );
        assert_eq!(
            said(900),
            "Too many failed sign-in attempts. Try again in 15 minutes."
        );
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        assert_eq!(address_key("2001:db8:1:2:3:4:5:6"), "a:2001:db8:1:2::/64");
        assert_eq!(address_key("2001:db8:1:2:ffff::1"), "a:2001:db8:1:2::/64");
        assert_eq!(address_key("::ffff:192.0.2.7"), "a:192.0.2.7");
        assert_eq!(address_key("192.0.2.7"), "a:192.0.2.7");
    }
}
