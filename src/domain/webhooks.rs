//! Webhook rules, pure: which event keys exist, how deliveries are signed, when to retry, and
//! when a failing hook is paused or disabled. The dispatcher (`services/webhooks`) applies them.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Events the host emits.
pub const EVENT_KEYS: &[&str] = &[
    "repo:push",
    "repo:created",
    "repo:updated",
    "repo:deleted",
    "repo:commit_status_created",
    "repo:commit_status_updated",
    "pullrequest:created",
    "pullrequest:updated",
    "pullrequest:approved",
    "pullrequest:unapproved",
    "pullrequest:changes_request_created",
    "pullrequest:changes_request_removed",
    "pullrequest:fulfilled",
    "pullrequest:rejected",
    "pullrequest:comment_created",
    "pullrequest:comment_deleted",
];

/// Every event Bitbucket Cloud lets an app subscribe to (the reference's list): a descriptor may
/// name any of them, including those Junction does not emit (yet), as it could on Bitbucket.
pub const CLOUD_EVENT_KEYS: &[&str] = &[
    "repo:push",
    "repo:fork",
    "repo:updated",
    "repo:created",
    "repo:deleted",
    "repo:transfer",
    "repo:imported",
    "repo:branch_created",
    "repo:branch_deleted",
    "repo:commit_comment_created",
    "repo:commit_status_created",
    "repo:commit_status_updated",
    "pullrequest:created",
    "pullrequest:updated",
    "pullrequest:approved",
    "pullrequest:unapproved",
    "pullrequest:changes_request_created",
    "pullrequest:changes_request_removed",
    "pullrequest:fulfilled",
    "pullrequest:rejected",
    "pullrequest:superseded",
    "pullrequest:comment_created",
    "pullrequest:comment_deleted",
    "pullrequest:comment_updated",
    "issue:created",
    "issue:updated",
    "issue:comment_created",
    "project:updated",
    "user:account_property_changed",
];

pub fn is_cloud_event(key: &str) -> bool {
    CLOUD_EVENT_KEYS.contains(&key) || EVENT_KEYS.contains(&key)
}

/// The key of a "send test event" delivery (Bitbucket Data Center's name for it).
pub const TEST_EVENT_KEY: &str = "diagnostics:ping";

/// Checks a hook's event list: known keys, no repeats. `*` alone (or an empty list) means all.
/// Returns the keys to store (empty = all).
pub fn check_event_keys(keys: &[String]) -> Result<Vec<String>, String> {
    if keys.iter().any(|k| k == "*") {
        return if keys.len() == 1 {
            Ok(Vec::new())
        } else {
            Err("\"*\" means every event; list it alone.".into())
        };
    }
    let mut out: Vec<String> = Vec::new();
    for k in keys {
        let k = k.trim();
        if !EVENT_KEYS.contains(&k) {
            return Err(format!(
                "'{k}' is not an event Junction sends; use \"*\" or some of: {}.",
                EVENT_KEYS.join(", ")
            ));
        }
        if !out.iter().any(|o| o == k) {
            out.push(k.to_string());
        }
    }
    Ok(out)
}

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().to_vec()
}

/// `X-Hub-Signature` (Bitbucket, GitHub): `sha256=` and the hex HMAC of the raw body.
pub fn hub_signature(secret: &str, body: &[u8]) -> String {
    format!("sha256={}", hex::encode(hmac(secret.as_bytes(), &[body])))
}

/// The Standard Webhooks signing key of a hook secret: a `whsec_` secret is base64 of the key
/// (what every Standard Webhooks library expects); any other secret is used as its bytes, and a
/// receiver passes `whsec_` + base64(secret) to its library (`standard_secret`).
pub fn standard_key(secret: &str) -> Vec<u8> {
    secret
        .strip_prefix("whsec_")
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec())
}

/// The `whsec_` form of a hook secret, for a receiver's Standard Webhooks library.
pub fn standard_secret(secret: &str) -> String {
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(standard_key(secret))
    )
}

/// `webhook-signature` (Standard Webhooks 1.0): `v1,` and the base64 HMAC of
/// `<id>.<timestamp>.<body>`.
pub fn standard_signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let ts = timestamp.to_string();
    let mac = hmac(
        &standard_key(secret),
        &[id.as_bytes(), b".", ts.as_bytes(), b".", body],
    );
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac)
    )
}

/// A new hook secret in the Standard Webhooks form: `whsec_` and 32 random bytes in base64.
pub fn new_secret() -> String {
    use rand::RngCore;
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(b)
    )
}

/// How a failed attempt is retried and how failures add up; from `[webhooks]` configuration.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Wait before each retry, in seconds: the length is the number of retries.
    pub schedule: Vec<u64>,
    /// ± this fraction of each wait, at random, so that retries after an outage spread out.
    pub jitter: f64,
    /// Failed attempts in a row after which the hook is paused.
    pub pause_after: i64,
    /// Failed attempts in a row after which the hook is disabled.
    pub disable_after: i64,
    /// The longest pause, in seconds (the pause doubles from one minute up to this).
    pub max_pause: u64,
    /// The longest `Retry-After` honoured, in seconds.
    pub max_retry_after: u64,
}

impl RetryPolicy {
    /// The policy the `[webhooks]` settings describe.
    pub fn of(c: &crate::config::WebhooksConfig) -> Self {
        Self {
            schedule: c.retry_schedule_seconds.clone(),
            jitter: c.retry_jitter,
            pause_after: i64::from(c.pause_after_failures),
            disable_after: i64::from(c.disable_after_failures),
            max_pause: c.max_pause_seconds,
            max_retry_after: c.max_retry_after_seconds,
        }
    }
}

impl RetryPolicy {
    /// A receiver's `Retry-After` (ms), as much of it as is honoured.
    pub fn honoured_retry_after(&self, asked_ms: i64) -> i64 {
        asked_ms.clamp(0, self.max_retry_after as i64 * 1000)
    }
}

/// What a failed attempt means for its delivery: when to retry, or `None` to give up.
/// `attempt` is the number of the attempt that failed (1 = the first); `roll` is uniform in
/// [0, 1) and picks the jitter; `retry_after_ms` is what the receiver asked for.
pub fn next_retry(
    policy: &RetryPolicy,
    now: i64,
    attempt: i64,
    roll: f64,
    retry_after_ms: Option<i64>,
) -> Option<i64> {
    let wait = *policy.schedule.get(usize::try_from(attempt - 1).ok()?)? as f64 * 1000.0;
    let jittered = wait * (1.0 + policy.jitter * (2.0 * roll - 1.0));
    let asked = policy.honoured_retry_after(retry_after_ms.unwrap_or(0));
    Some(now + (jittered as i64).max(asked))
}

/// What a failed attempt means for its hook, given the failures in a row before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookFailure {
    pub failures: i64,
    pub pause_until: Option<i64>,
    pub disable: Option<String>,
}

/// The hook's health after one more failure. `gone` is a `410 Gone` answer: the receiver says
/// the endpoint no longer exists, so the hook is disabled at once.
pub fn after_failure(policy: &RetryPolicy, now: i64, before: i64, gone: bool) -> HookFailure {
    let failures = before + 1;
    if gone {
        return HookFailure {
            failures,
            pause_until: None,
            disable: Some("The receiver answered 410 Gone: the endpoint no longer exists.".into()),
        };
    }
    if failures >= policy.disable_after {
        return HookFailure {
            failures,
            pause_until: None,
            disable: Some(format!(
                "Disabled after {failures} failed deliveries in a row."
            )),
        };
    }
    let pause_until = (failures >= policy.pause_after).then(|| {
        let doublings = (failures - policy.pause_after).min(20) as u32;
        let secs = (60u64 << doublings).min(policy.max_pause);
        now + secs as i64 * 1000
    });
    HookFailure {
        failures,
        pause_until,
        disable: None,
    }
}

/// A `Retry-After` header (seconds or an HTTP date) as milliseconds from `now`.
pub fn parse_retry_after(value: &str, now: i64) -> Option<i64> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<i64>() {
        return Some(secs.max(0) * 1000);
    }
    let at = httpdate::parse_http_date(v).ok()?;
    let ms = at.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as i64;
    Some((ms - now).max(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The published vector in ../shared/reference/webhooks.md (GitHub's documentation).
    #[test]
    fn hub_signature_matches_the_published_vector() {
        assert_eq!(
            hub_signature("It's a Secret to Everybody", b"Hello, World!"),
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
    }

    /// The Standard Webhooks specification's vector.
    #[test]
    fn standard_signature_matches_the_published_vector() {
        assert_eq!(
            standard_signature(
                "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
                "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
                1649367553,
                br#"{"email":"test@example.com","username":"test_user"}"#
            ),
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
        );
    }

    #[test]
    fn a_plain_secret_signs_as_its_whsec_form() {
        let body = b"{}";
        assert_eq!(
            standard_signature("plain secret", "msg_1", 1, body),
            standard_signature(&standard_secret("plain secret"), "msg_1", 1, body)
        );
        assert!(new_secret().starts_with("whsec_"));
        assert_eq!(standard_key(&new_secret()).len(), 32);
    }

    #[test]
    fn event_lists() {
        assert_eq!(check_event_keys(&["*".into()]), Ok(vec![]));
        assert_eq!(check_event_keys(&[]), Ok(vec![]));
        assert_eq!(
            check_event_keys(&["repo:created".into(), "repo:created".into()]),
            Ok(vec!["repo:created".to_string()])
        );
        assert!(check_event_keys(&["*".into(), "repo:created".into()]).is_err());
        let e = check_event_keys(&["repo:fork".into()]).unwrap_err();
        assert!(
            e.starts_with("'repo:fork' is not an event Junction sends"),
            "{e}"
        );
    }

    fn policy() -> RetryPolicy {
        RetryPolicy {
            schedule: vec![10, 60, 300],
            jitter: 0.2,
            pause_after: 4,
            disable_after: 40,
            max_pause: 86_400,
            max_retry_after: 3_600,
        }
    }

    #[test]
    fn retries_follow_the_schedule_with_jitter_and_honour_retry_after() {
        let p = policy();
        assert_eq!(next_retry(&p, 0, 1, 0.5, None), Some(10_000));
        assert_eq!(next_retry(&p, 0, 1, 0.0, None), Some(8_000));
        assert_eq!(next_retry(&p, 0, 2, 0.999_999, None), Some(71_999));
        assert_eq!(next_retry(&p, 0, 3, 0.5, None), Some(300_000));
        assert_eq!(next_retry(&p, 0, 4, 0.5, None), None, "schedule exhausted");
        // Retry-After wins when longer, within its cap; never shortens the schedule.
        assert_eq!(next_retry(&p, 0, 1, 0.5, Some(120_000)), Some(120_000));
        assert_eq!(next_retry(&p, 0, 1, 0.5, Some(1_000)), Some(10_000));
        assert_eq!(
            next_retry(&p, 0, 1, 0.5, Some(999_999_999)),
            Some(3_600_000)
        );
    }

    #[test]
    fn failures_pause_with_doubling_backoff_then_disable() {
        let p = policy();
        assert_eq!(after_failure(&p, 0, 0, false).pause_until, None);
        assert_eq!(after_failure(&p, 0, 3, false).pause_until, Some(60_000));
        assert_eq!(after_failure(&p, 0, 4, false).pause_until, Some(120_000));
        assert_eq!(
            after_failure(&p, 0, 30, false).pause_until,
            Some(86_400_000)
        );
        let off = after_failure(&p, 0, 39, false);
        assert_eq!(off.failures, 40);
        assert_eq!(
            off.disable.as_deref(),
            Some("Disabled after 40 failed deliveries in a row.")
        );
        assert!(after_failure(&p, 0, 0, true)
            .disable
            .unwrap()
            .contains("410 Gone"));
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        assert_eq!(parse_retry_after("120", 0), Some(120_000));
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 1970 00:01:00 GMT", 30_000),
            Some(30_000)
        );
        assert_eq!(parse_retry_after("soon", 0), None);
    }
}
