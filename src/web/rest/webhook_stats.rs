//! How a webhook has been delivering, in Bitbucket Data Center's shape: `statistics` (counts
//! in the last day and the latest success, failure and error), `statistics/summary` (counts per
//! event) and `latest` (the latest attempt, optionally of one event and outcome; 204 if none).
//! The list's `?statistics=true` adds the same statistics to each webhook.

use super::webhook_scope::{load_hook, HookPath};
use crate::domain::webhooks::check_event_keys;
use crate::store::{AttemptOutcome, Invocation, OutcomeCount, Store, StoreResult, Webhook};
use crate::web::auth::Caller;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{Path, Query};
use crate::web::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Map, Value};

const KIND: &str = "webhook";
/// The counts cover this much time before now.
pub const WINDOW_MS: i64 = 86_400_000;

/// A flag in a query string: `true`/`false` in any case (clients send `True`), or absent.
pub fn flag(value: Option<&str>, name: &str) -> ApiResult<bool> {
    match value.map(str::to_ascii_lowercase).as_deref() {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!(
            "'{other}' is not a value for {name}: use true or false."
        ))
        .with_context(name.to_string())),
    }
}

/// An event key given as a filter, checked as webhook events are (`*` or nothing: any event).
pub fn event_filter(value: Option<&str>) -> ApiResult<Option<String>> {
    let Some(key) = value.filter(|k| !k.is_empty()) else {
        return Ok(None);
    };
    let keys = check_event_keys(&[key.to_string()])
        .map_err(|m| ApiError::bad_request(m).with_context("event"))?;
    Ok(keys.into_iter().next())
}

fn invocation(hook: &Webhook, i: &Invocation) -> Value {
    let scope = match i.repo_id {
        Some(id) => json!({ "type": "repository", "id": id.to_string() }),
        None => json!({ "type": "project", "id": i.project_id.map(|p| p.to_string()) }),
    };
    let description = match (&i.error, i.response_status) {
        (Some(e), _) => e.clone(),
        (None, Some(s)) => s.to_string(),
        (None, None) => String::new(),
    };
    json!({
        "id": i.id,
        "deliveryId": i.delivery_id,
        "event": i.event_key,
        "eventScope": scope,
        "start": i.started_at,
        "finish": i.started_at + i.duration_ms,
        "duration": i.duration_ms,
        "request": { "url": hook.url, "method": "POST" },
        "result": { "outcome": i.outcome, "description": description, "statusCode": i.response_status },
    })
}

/// Attempts per outcome in the window, from the rows of `Store::attempt_counts` given.
fn counts<'a>(rows: impl Iterator<Item = &'a OutcomeCount> + Clone, now: i64) -> Value {
    let n = |o: AttemptOutcome| -> i64 {
        rows.clone()
            .filter(|r| r.outcome == o.name())
            .map(|r| r.count)
            .sum()
    };
    json!({
        "successes": n(AttemptOutcome::Success),
        "failures": n(AttemptOutcome::Failure),
        "errors": n(AttemptOutcome::Error),
        "window": { "start": now - WINDOW_MS, "duration": WINDOW_MS },
    })
}

/// The statistics of one hook, as `GET …/statistics` and the list's `?statistics=true` show them.
pub async fn statistics_of(store: &Store, hook: &Webhook, now: i64) -> StoreResult<Value> {
    let rows = store.attempt_counts(KIND, hook.id, now - WINDOW_MS).await?;
    let mut v = json!({ "counts": counts(rows.iter(), now) });
    for (field, outcome) in [
        ("lastSuccess", AttemptOutcome::Success),
        ("lastFailure", AttemptOutcome::Failure),
        ("lastError", AttemptOutcome::Error),
    ] {
        if let Some(i) = store
            .latest_attempt(KIND, hook.id, None, Some(outcome))
            .await?
        {
            v[field] = invocation(hook, &i);
        }
    }
    Ok(v)
}

pub async fn statistics(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<HookPath>,
) -> ApiResult<axum::Json<Value>> {
    let (_, hook) = load_hook(&state, &caller, &path).await?;
    Ok(axum::Json(
        statistics_of(&state.store, &hook, state.clock.now_ms()).await?,
    ))
}

/// Counts per event key the hook received in the window (events without attempts left out).
pub async fn summary(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<HookPath>,
) -> ApiResult<axum::Json<Value>> {
    let (_, hook) = load_hook(&state, &caller, &path).await?;
    let now = state.clock.now_ms();
    let rows = state
        .store
        .attempt_counts(KIND, hook.id, now - WINDOW_MS)
        .await?;
    let mut out = Map::new();
    for key in rows.iter().map(|r| r.event_key.as_str()) {
        if !out.contains_key(key) {
            let of_key = rows.iter().filter(|r| r.event_key == key);
            out.insert(key.to_string(), json!({ "counts": counts(of_key, now) }));
        }
    }
    Ok(axum::Json(Value::Object(out)))
}

#[derive(Deserialize)]
pub struct LatestParams {
    pub event: Option<String>,
    pub outcome: Option<String>,
}

pub async fn latest(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<HookPath>,
    Query(q): Query<LatestParams>,
) -> ApiResult<Response> {
    let (_, hook) = load_hook(&state, &caller, &path).await?;
    let event = event_filter(q.event.as_deref())?;
    let outcome = match q.outcome.as_deref() {
        None | Some("") => None,
        Some(o) => Some(AttemptOutcome::parse(o).ok_or_else(|| {
            ApiError::bad_request(format!(
                "'{o}' is not an outcome; use SUCCESS, FAILURE or ERROR."
            ))
            .with_context("outcome")
        })?),
    };
    Ok(
        match state
            .store
            .latest_attempt(KIND, hook.id, event.as_deref(), outcome)
            .await?
        {
            Some(i) => axum::Json(invocation(&hook, &i)).into_response(),
            None => StatusCode::NO_CONTENT.into_response(),
        },
    )
}
