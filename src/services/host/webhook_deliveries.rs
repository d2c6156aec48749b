//! A webhook's deliveries and how it has been delivering: the history (by state, since a time),
//! one delivery with every attempt, redelivery, and the statistics Data Center shows (counts in
//! the last day, the latest success, failure and error, counts per event, the latest attempt).

use super::webhooks::{find, DeliveryDetail, ScopeRef};
use super::{ConflictKind, Host, HostError, HostResult, Missing, Principal};
use crate::store::SubscriberKind;
use crate::store::{AttemptOutcome, Delivery, Invocation, OutcomeCount, StoreError, Webhook};

/// Deliveries to webhooks (other subscribers keep theirs apart).
const KIND: SubscriberKind = SubscriberKind::Webhook;
/// The counts cover this much time before now.
pub const WINDOW_MS: i64 = 86_400_000;

pub use crate::store::DeliveryState;

/// A delivery state as asked (any case); an unknown one is a field error naming those there are.
pub fn parse_state(raw: &str) -> HostResult<DeliveryState> {
    let lower = raw.to_ascii_lowercase();
    DeliveryState::ALL
        .into_iter()
        .find(|s| s.as_str() == lower)
        .ok_or_else(|| {
            HostError::invalid(
                "state",
                format!("'{lower}' is not a delivery state; use waiting, pending, sending, succeeded or failed."),
            )
        })
}

/// `since` as Unix milliseconds or an ISO 8601 / RFC 3339 time.
pub fn parse_since(text: &str) -> HostResult<i64> {
    parse_time("since", text)
}

/// A time given as Unix milliseconds, ISO 8601 (`2026-12-04T10:00:00Z`), or what a browser's
/// `datetime-local` sends (`2026-12-04T10:00`, no zone or seconds: read as UTC).
pub fn parse_time(field: &'static str, text: &str) -> HostResult<i64> {
    let t = text.trim();
    if let Ok(ms) = t.parse::<i64>() {
        return Ok(ms);
    }
    let local = (t.len() == 16 && t.as_bytes().get(10) == Some(&b'T')).then(|| format!("{t}:00Z"));
    time::OffsetDateTime::parse(
        local.as_deref().unwrap_or(t),
        &time::format_description::well_known::Rfc3339,
    )
    .map(|d| (d.unix_timestamp_nanos() / 1_000_000) as i64)
    .map_err(|_| {
        HostError::invalid(
            field,
            format!("'{t}' is not a time: give Unix milliseconds or an ISO 8601 time like 2026-12-04T10:00:00Z."),
        )
    })
}

/// Which deliveries of a hook to list.
#[derive(Debug, Clone, Copy, Default)]
pub struct DeliveryFilter {
    pub state: Option<DeliveryState>,
    pub since: Option<i64>,
    pub start: i64,
    pub limit: i64,
}

/// The hook's deliveries, newest first.
pub async fn list(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: ScopeRef<'_>,
    hook_id: i64,
    f: DeliveryFilter,
) -> HostResult<Vec<Delivery>> {
    let (_, hook) = find(host, who, at, hook_id).await?;
    let state = f.state.map(DeliveryState::as_str);
    Ok(host
        .store
        .deliveries_of(KIND, hook.id, state, f.since, f.start, f.limit)
        .await?)
}

pub(super) async fn detail_of(
    host: &Host<'_>,
    hook: &Webhook,
    id: i64,
) -> HostResult<Option<DeliveryDetail>> {
    let found = host.store.delivery_detail(KIND, hook.id, id).await?;
    Ok(found.map(|(delivery, body, attempts)| DeliveryDetail {
        delivery,
        body,
        attempts,
    }))
}

/// One delivery with the body sent and every attempt.
pub async fn get(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: ScopeRef<'_>,
    hook_id: i64,
    id: i64,
) -> HostResult<DeliveryDetail> {
    let (_, hook) = find(host, who, at, hook_id).await?;
    detail_of(host, &hook, id)
        .await?
        .ok_or(HostError::NotFound(Missing::Delivery(id)))
}

/// Queues one delivery again (same `webhook-id`, the next attempt number).
pub async fn redeliver(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: ScopeRef<'_>,
    hook_id: i64,
    id: i64,
) -> HostResult<Delivery> {
    let (scope, hook) = find(host, who, at, hook_id).await?;
    let (target, details) = (
        scope.audit_target(),
        format!("{}: delivery {id}", hook.name),
    );
    let audit = who.audit("webhook.redelivered", &target, &details);
    match host.store.redeliver(KIND, hook.id, id, Some(&audit)).await {
        Err(StoreError::NotFound) => return Err(HostError::NotFound(Missing::Delivery(id))),
        Err(StoreError::Duplicate) => {
            return Err(HostError::Conflict {
                kind: ConflictKind::DeliveryQueued,
                message: format!("Delivery {id} is already queued; it will be attempted shortly."),
            })
        }
        other => other?,
    }
    let detail = detail_of(host, &hook, id)
        .await?
        .ok_or(HostError::NotFound(Missing::Delivery(id)))?;
    Ok(detail.delivery)
}

/// Queues again every failed delivery created since `since`; returns how many.
pub async fn redeliver_failed(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: ScopeRef<'_>,
    hook_id: i64,
    since: i64,
) -> HostResult<u64> {
    let (scope, hook) = find(host, who, at, hook_id).await?;
    // The store adds how many it queued again.
    let target = scope.audit_target();
    let details = format!("{}: failed deliveries since {since}", hook.name);
    let audit = who.audit("webhook.redelivered", &target, &details);
    Ok(host
        .store
        .redeliver_failed_since(KIND, hook.id, since, Some(&audit))
        .await?)
}

/// Attempts per outcome in the window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub successes: i64,
    pub failures: i64,
    pub errors: i64,
}

impl Counts {
    fn of<'a>(rows: impl Iterator<Item = &'a OutcomeCount>) -> Self {
        let mut c = Self::default();
        for r in rows {
            match AttemptOutcome::parse(&r.outcome) {
                Some(AttemptOutcome::Success) => c.successes += r.count,
                Some(AttemptOutcome::Failure) => c.failures += r.count,
                Some(AttemptOutcome::Error) => c.errors += r.count,
                None => {}
            }
        }
        c
    }
}

/// The hook's attempts in the window that ends now, counted per event and outcome, with the
/// window's start.
async fn counts_in_window(host: &Host<'_>, hook: &Webhook) -> HostResult<(i64, Vec<OutcomeCount>)> {
    let window_start = host.store.now() - WINDOW_MS;
    let rows = host
        .store
        .attempt_counts(KIND, hook.id, window_start)
        .await?;
    Ok((window_start, rows))
}

/// A hook's statistics: counts since `window_start` and the latest attempt of each outcome.
pub struct Statistics {
    pub window_start: i64,
    pub counts: Counts,
    pub last_success: Option<Invocation>,
    pub last_failure: Option<Invocation>,
    pub last_error: Option<Invocation>,
}

/// The statistics of a hook the principal already found.
pub async fn statistics_of(host: &Host<'_>, hook: &Webhook) -> HostResult<Statistics> {
    let (window_start, rows) = counts_in_window(host, hook).await?;
    let latest = |o| host.store.latest_attempt(KIND, hook.id, None, Some(o));
    Ok(Statistics {
        window_start,
        counts: Counts::of(rows.iter()),
        last_success: latest(AttemptOutcome::Success).await?,
        last_failure: latest(AttemptOutcome::Failure).await?,
        last_error: latest(AttemptOutcome::Error).await?,
    })
}

pub async fn statistics(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: ScopeRef<'_>,
    hook_id: i64,
) -> HostResult<(Webhook, Statistics)> {
    let (_, hook) = find(host, who, at, hook_id).await?;
    let stats = statistics_of(host, &hook).await?;
    Ok((hook, stats))
}

/// Counts per event key the hook received in the window (events without attempts left out),
/// in the order first seen, with the window's start.
pub async fn summary(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: ScopeRef<'_>,
    hook_id: i64,
) -> HostResult<(i64, Vec<(String, Counts)>)> {
    let (_, hook) = find(host, who, at, hook_id).await?;
    let (window_start, rows) = counts_in_window(host, &hook).await?;
    let mut out: Vec<(String, Counts)> = Vec::new();
    for key in rows.iter().map(|r| r.event_key.as_str()) {
        if !out.iter().any(|(k, _)| k == key) {
            let counts = Counts::of(rows.iter().filter(|r| r.event_key == key));
            out.push((key.to_string(), counts));
        }
    }
    Ok((window_start, out))
}

/// The latest attempt, optionally of one event (checked as `event_filter` does) and outcome.
pub async fn latest(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: ScopeRef<'_>,
    hook_id: i64,
    event: Option<&str>,
    outcome: Option<AttemptOutcome>,
) -> HostResult<(Webhook, Option<Invocation>)> {
    let (_, hook) = find(host, who, at, hook_id).await?;
    let event = super::webhooks::event_filter(event)?;
    let found = host
        .store
        .latest_attempt(KIND, hook.id, event.as_deref(), outcome)
        .await?;
    Ok((hook, found))
}
