//! A webhook's delivery history: list (`?state=`, `?since=`), open one with every attempt,
//! redeliver one, or redeliver every failed delivery since a time.

use super::repr::{delivery as delivery_json, delivery_detail};
use super::webhook_scope::{load_hook, param_id, HookPath};
use crate::services::audit;
use crate::store::StoreError;
use crate::web::auth::Caller;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{Path, Query};
use crate::web::paging::{page_of, PageParams};
use crate::web::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};

const KIND: &str = "webhook";

#[derive(Deserialize)]
pub struct ListParams {
    #[serde(flatten)]
    pub page: PageParams,
    pub state: Option<String>,
    pub since: Option<String>,
}

/// `since` as Unix milliseconds or an ISO 8601 / RFC 3339 time.
pub fn parse_since(text: &str) -> Result<i64, ApiError> {
    let t = text.trim();
    if let Ok(ms) = t.parse::<i64>() {
        return Ok(ms);
    }
    time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
        .map(|d| (d.unix_timestamp_nanos() / 1_000_000) as i64)
        .map_err(|_| {
            ApiError::bad_request(format!(
                "'{t}' is not a time: give Unix milliseconds or an ISO 8601 time like 2026-12-04T10:00:00Z."
            ))
            .with_context("since")
        })
}

fn parse_state(s: Option<&str>) -> Result<Option<&'static str>, ApiError> {
    match s.map(|s| s.to_ascii_lowercase()) {
        None => Ok(None),
        Some(s) => match s.as_str() {
            "waiting" => Ok(Some("waiting")),
            "pending" => Ok(Some("pending")),
            "sending" => Ok(Some("sending")),
            "succeeded" => Ok(Some("succeeded")),
            "failed" => Ok(Some("failed")),
            other => Err(ApiError::bad_request(format!(
                "'{other}' is not a delivery state; use waiting, pending, sending, succeeded or failed."
            ))
            .with_context("state")),
        },
    }
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<HookPath>,
    Query(q): Query<ListParams>,
) -> ApiResult<axum::Json<Value>> {
    let req = q.page.request()?;
    let filter = parse_state(q.state.as_deref())?;
    let since = q.since.as_deref().map(parse_since).transpose()?;
    let (_, hook) = load_hook(&state, &caller, &path).await?;
    let mut rows = state
        .store
        .deliveries_of(KIND, hook.id, filter, since, req.start, req.limit + 1)
        .await?;
    let more = rows.len() as i64 > req.limit;
    rows.truncate(req.limit as usize);
    let values: Vec<Value> = rows.iter().map(delivery_json).collect();
    Ok(axum::Json(page_of(req, values, more)))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<HookPath>,
) -> ApiResult<axum::Json<Value>> {
    let (_, hook) = load_hook(&state, &caller, &path).await?;
    let id = param_id(&path, "deliveryId")?;
    let (d, body, attempts) = state
        .store
        .delivery_detail(KIND, hook.id, id)
        .await?
        .ok_or_else(|| no_such_delivery(id))?;
    Ok(axum::Json(delivery_detail(&d, &body, &attempts)))
}

fn no_such_delivery(id: i64) -> ApiError {
    ApiError::not_found(
        "com.atlassian.bitbucket.webhook.NoSuchDeliveryException",
        format!("Delivery {id} does not exist for this webhook (it may be older than the retention period)."),
    )
}

/// Queues one delivery again (same `webhook-id`, the next attempt number).
pub async fn redeliver(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<HookPath>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let (scope, hook) = load_hook(&state, &caller, &path).await?;
    let id = param_id(&path, "deliveryId")?;
    match state.store.redeliver(KIND, hook.id, id).await {
        Err(StoreError::NotFound) => return Err(no_such_delivery(id)),
        Err(StoreError::Duplicate) => {
            return Err(ApiError::conflict(
                "com.atlassian.bitbucket.webhook.DeliveryQueuedException",
                format!("Delivery {id} is already queued; it will be attempted shortly."),
            ))
        }
        other => other?,
    }
    let details = format!("{}: delivery {id}", hook.name);
    audit::record(
        &state.store,
        &caller.actor(),
        "webhook.redelivered",
        &scope.audit_target(),
        &details,
    )
    .await;
    let (d, _, _) = state
        .store
        .delivery_detail(KIND, hook.id, id)
        .await?
        .ok_or_else(|| no_such_delivery(id))?;
    Ok((StatusCode::ACCEPTED, axum::Json(delivery_json(&d))))
}

#[derive(Deserialize)]
pub struct SinceBody {
    pub since: Option<Value>,
}

/// Queues again every failed delivery created since `since` (body or query).
pub async fn redeliver_failed(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<HookPath>,
    Query(q): Query<std::collections::HashMap<String, String>>,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let (scope, hook) = load_hook(&state, &caller, &path).await?;
    let body: Option<SinceBody> = if body.is_empty() {
        None
    } else {
        Some(serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request(format!("The request body is not valid JSON: {e}"))
        })?)
    };
    let given = match (q.get("since"), body.and_then(|b| b.since)) {
        (Some(s), _) => s.clone(),
        (None, Some(Value::Number(n))) => n.to_string(),
        (None, Some(Value::String(s))) => s,
        _ => {
            return Err(ApiError::bad_request(
                "Say since when: since=<Unix milliseconds or ISO 8601 time>.",
            )
            .with_context("since"))
        }
    };
    let since = parse_since(&given)?;
    let n = state
        .store
        .redeliver_failed_since(KIND, hook.id, since)
        .await?;
    let details = format!("{}: {n} failed deliveries since {since}", hook.name);
    audit::record(
        &state.store,
        &caller.actor(),
        "webhook.redelivered",
        &scope.audit_target(),
        &details,
    )
    .await;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(json!({ "redelivered": n, "since": since })),
    ))
}
