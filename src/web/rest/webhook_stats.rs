//! How a webhook has been delivering, in Bitbucket Data Center's shape: `statistics` (counts
//! in the last day and the latest success, failure and error), `statistics/summary` (counts per
//! event) and `latest` (the latest attempt, optionally of one event and outcome; 204 if none).
//! The list's `?statistics=true` adds the same statistics to each webhook.

use crate::services::host::webhook_deliveries::{self as host_deliveries, Counts, Statistics};
use crate::store::{AttemptOutcome, Invocation, Webhook};
use crate::web::auth::Caller;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{Path, Query};
use crate::web::hook_path::{param_id, scope_ref, HookPath};
use crate::web::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Map, Value};

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

fn counts_json(c: Counts, window_start: i64) -> Value {
    json!({
        "successes": c.successes,
        "failures": c.failures,
        "errors": c.errors,
        "window": { "start": window_start, "duration": host_deliveries::WINDOW_MS },
    })
}

/// The statistics of one hook, as `GET …/statistics` and the list's `?statistics=true` show them.
pub fn statistics_json(hook: &Webhook, s: &Statistics) -> Value {
    let mut v = json!({ "counts": counts_json(s.counts, s.window_start) });
    for (field, last) in [
        ("lastSuccess", &s.last_success),
        ("lastFailure", &s.last_failure),
        ("lastError", &s.last_error),
    ] {
        if let Some(i) = last {
            v[field] = invocation(hook, i);
        }
    }
    v
}

pub async fn statistics(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<HookPath>,
) -> ApiResult<axum::Json<Value>> {
    let id = param_id(&path, "webhookId")?;
    let at = scope_ref(&path);
    let (hook, stats) =
        host_deliveries::statistics(&state.host(), &caller.principal(), at, id).await?;
    Ok(axum::Json(statistics_json(&hook, &stats)))
}

/// Counts per event key the hook received in the window (events without attempts left out).
pub async fn summary(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<HookPath>,
) -> ApiResult<axum::Json<Value>> {
    let id = param_id(&path, "webhookId")?;
    let at = scope_ref(&path);
    let (start, per_event) =
        host_deliveries::summary(&state.host(), &caller.principal(), at, id).await?;
    let mut out = Map::new();
    for (key, counts) in per_event {
        out.insert(key, json!({ "counts": counts_json(counts, start) }));
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
    let id = param_id(&path, "webhookId")?;
    let outcome = match q.outcome.as_deref() {
        None | Some("") => None,
        Some(o) => Some(AttemptOutcome::parse(o).ok_or_else(|| {
            ApiError::bad_request(format!(
                "'{o}' is not an outcome; use SUCCESS, FAILURE or ERROR."
            ))
            .with_context("outcome")
        })?),
    };
    let (at, event) = (scope_ref(&path), q.event.as_deref());
    let (hook, found) =
        host_deliveries::latest(&state.host(), &caller.principal(), at, id, event, outcome).await?;
    Ok(match found {
        Some(i) => axum::Json(invocation(&hook, &i)).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}
