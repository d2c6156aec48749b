//! One delivery attempt: build the request (headers, signatures), send it through the
//! SSRF-guarded client, and describe what happened as an `AttemptRecord` for the history.

use super::subscriber::{Endpoint, Health, Signing, Subscriber};
use crate::domain::throttle::asks_to_slow_down;
use crate::domain::webhooks::{next_retry, parse_retry_after, RetryPolicy, TEST_EVENT_KEY};
use crate::services::outbound::Outbound;
use crate::store::{Attempt, AttemptRecord, DueDelivery, Outcome};
use reqwest::Method;
use serde_json::{Map, Value};
use std::time::Instant;

/// How much of a receiver's answer is kept.
pub const KEPT_RESPONSE_BYTES: usize = 1024;

/// What one attempt produced: the record, and what it means for the subscriber's health
/// (`None` for test deliveries, which never count).
pub struct Attempted {
    pub record: AttemptRecord,
    pub health: Option<Health>,
    /// The receiver's `Retry-After`, in milliseconds from the attempt, capped by policy.
    pub retry_after_ms: Option<i64>,
}

pub struct AttemptContext<'a> {
    pub outbound: &'a Outbound,
    pub policy: &'a RetryPolicy,
    pub max_payload_bytes: usize,
    pub now_ms: i64,
}

/// Makes one attempt. Never fails: every failure is described in the record.
pub async fn attempt(
    cx: &AttemptContext<'_>,
    subscriber: &dyn Subscriber,
    endpoint: &Endpoint,
    due: &DueDelivery,
) -> Attempted {
    let d = &due.delivery;
    let number = d.attempts + 1;
    let body = subscriber.body(&d.event_key, &due.payload);
    let request_uuid = crate::secret::new_uuid();
    let timestamp = cx.now_ms / 1000;
    let mut headers: Vec<(&'static str, String)> = vec![
        ("content-type", "application/json".into()),
        ("user-agent", "Bitbucket-Webhooks/2.0".into()),
        ("x-event-key", d.event_key.clone()),
        ("x-hook-uuid", endpoint.hook_uuid.clone()),
        ("x-request-uuid", request_uuid.clone()),
        ("x-attempt-number", number.to_string()),
        ("x-event-time", event_time(d.event_at)),
        ("webhook-id", d.event_uuid.clone()),
        ("webhook-timestamp", timestamp.to_string()),
    ];
    headers.extend(subscriber.sign(&Signing {
        endpoint,
        event_key: &d.event_key,
        message_id: &d.event_uuid,
        timestamp,
        body: &body,
    }));
    let mut a = Attempt {
        delivery_id: d.id,
        number,
        request_uuid,
        started_at: cx.now_ms,
        duration_ms: 0,
        request_headers: headers_json(headers.iter().map(|(k, v)| (*k, v.as_str()))),
        response_status: None,
        response_headers: None,
        response_body: None,
        error: None,
    };
    let mut outcome = Outcome::Failed;
    let ordered = d.ordered.then_some((d.subscriber_kind, d.subscriber_id));
    let is_test = d.event_key == TEST_EVENT_KEY;
    if body.len() > cx.max_payload_bytes {
        a.error = Some(format!(
            "The payload is {} bytes, over the limit of {} bytes (webhooks.max_payload_bytes); it was not sent.",
            body.len(),
            cx.max_payload_bytes
        ));
        return Attempted {
            record: AttemptRecord {
                attempt: a,
                outcome,
                ordered,
            },
            health: None,
            retry_after_ms: None,
        };
    }
    let started = Instant::now();
    let sent = match cx.outbound.request(Method::POST, &endpoint.url) {
        Ok(mut req) => {
            for (k, v) in &headers {
                req = req.header(*k, v);
            }
            cx.outbound
                .send_head(req.body(body), KEPT_RESPONSE_BYTES)
                .await
        }
        Err(e) => Err(e),
    };
    a.duration_ms = started.elapsed().as_millis() as i64;
    let (health, retry_after) = match sent {
        Ok(resp) => {
            a.response_status = Some(i64::from(resp.status));
            a.response_headers =
                Some(headers_json(resp.headers.iter().map(|(k, v)| {
                    (k.as_str(), v.to_str().unwrap_or("(not text)"))
                })));
            a.response_body = Some(String::from_utf8_lossy(&resp.body).into_owned());
            if resp.is_success() {
                outcome = Outcome::Succeeded;
                (Health::Succeeded, None)
            } else {
                a.error = Some(describe_status(resp.status, resp.header("location")));
                let after = resp
                    .header("retry-after")
                    .and_then(|v| parse_retry_after(v, cx.now_ms));
                let health = if resp.status == 410 {
                    Health::Gone
                } else {
                    Health::Failed
                };
                (health, after)
            }
        }
        Err(e) => {
            a.error = Some(format!("{} ({})", capitalise(&e.to_string()), e.kind()));
            (Health::Failed, None)
        }
    };
    if health != Health::Succeeded && health != Health::Gone && !is_test {
        let roll: f64 = rand::random();
        if let Some(at) = next_retry(cx.policy, cx.now_ms, number, roll, retry_after) {
            outcome = Outcome::Retry(at);
        }
    }
    Attempted {
        record: AttemptRecord {
            attempt: a,
            outcome,
            ordered,
        },
        health: (!is_test).then_some(health),
        retry_after_ms: retry_after.map(|ms| cx.policy.honoured_retry_after(ms)),
    }
}

fn describe_status(status: u16, location: Option<&str>) -> String {
    match status {
        300..=399 => format!(
            "The receiver answered {status} (a redirect{}); redirects are not followed: point the webhook at the final URL.",
            location.map(|l| format!(" to {l}")).unwrap_or_default()
        ),
        410 => "The receiver answered 410 Gone; the webhook is disabled.".into(),
        s if asks_to_slow_down(s) => format!(
            "The receiver answered {s}, asking to slow down: this webhook's deliveries wait as its Retry-After says (else a second, doubling to a minute) and fewer go at once until it answers 2xx again."
        ),
        s => format!("The receiver answered {s}; only 2xx counts as delivered."),
    }
}

pub(super) fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// `X-Event-Time`: the event's time as an HTTP date.
fn event_time(ms: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
    httpdate::fmt_http_date(t)
}

fn headers_json<'a>(headers: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let mut m = Map::new();
    for (k, v) in headers {
        m.insert(k.to_string(), Value::from(v));
    }
    Value::Object(m).to_string()
}
