//! A webhook's delivery history: list (`?state=`, `?since=`), open one with every attempt,
//! redeliver one, or redeliver every failed delivery since a time. Each handler parses, calls
//! `services::host::webhook_deliveries`, and renders the answer.

use super::repr::{delivery as delivery_json, delivery_detail};
use crate::services::host::webhook_deliveries::{
    self as host_deliveries, parse_since, parse_state, DeliveryFilter,
};
use crate::web::auth::Caller;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{Path, Query};
use crate::web::hook_path::{param_id, scope_ref, HookPath};
use crate::web::paging::{page_of, PageParams};
use crate::web::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
pub struct ListParams {
    #[serde(flatten)]
    pub page: PageParams,
    pub state: Option<String>,
    pub since: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<HookPath>,
    Query(q): Query<ListParams>,
) -> ApiResult<axum::Json<Value>> {
    let req = q.page.request()?;
    let filter = DeliveryFilter {
        state: q.state.as_deref().map(parse_state).transpose()?,
        since: q.since.as_deref().map(parse_since).transpose()?,
        start: req.start,
        limit: req.limit + 1,
    };
    let id = param_id(&path, "webhookId")?;
    let at = scope_ref(&path);
    let mut rows =
        host_deliveries::list(&state.host(), &caller.principal(), at, id, filter).await?;
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
    let hook = param_id(&path, "webhookId")?;
    let id = param_id(&path, "deliveryId")?;
    let at = scope_ref(&path);
    let d = host_deliveries::get(&state.host(), &caller.principal(), at, hook, id).await?;
    Ok(axum::Json(delivery_detail(
        &d.delivery,
        &d.body,
        &d.attempts,
    )))
}

/// Queues one delivery again (same `webhook-id`, the next attempt number).
pub async fn redeliver(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<HookPath>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let hook = param_id(&path, "webhookId")?;
    let id = param_id(&path, "deliveryId")?;
    let at = scope_ref(&path);
    let d = host_deliveries::redeliver(&state.host(), &caller.principal(), at, hook, id).await?;
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
    let hook = param_id(&path, "webhookId")?;
    let at = scope_ref(&path);
    let (host, who) = (state.host(), caller.principal());
    // Whether the caller may is known before the body is judged.
    crate::services::host::webhooks::find(&host, &who, at, hook).await?;
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
    let n = host_deliveries::redeliver_failed(&host, &who, at, hook, since).await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(json!({ "redelivered": n, "since": since })),
    ))
}
