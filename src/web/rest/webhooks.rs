//! Repository and project webhooks over REST, in Bitbucket Data Center's shape
//! (`/rest/api/1.0/projects/{key}[/repos/{slug}]/webhooks[/{id}]`), plus Junction's additions on
//! the same paths: `test`, `enable`, delivery history and redelivery (`webhook_deliveries.rs`).
//! Managing a repository's hooks needs REPO_ADMIN; a project's, PROJECT_ADMIN.

use super::repr::webhook as webhook_json;
use super::webhook_stats;
use crate::services::host::webhooks as host_hooks;
use crate::services::webhooks::manage::HookInput;
use crate::web::auth::Caller;
use crate::web::error::ApiResult;
use crate::web::extract::{Path, Query};
use crate::web::hook_path::{param_id, scope_ref, HookPath};
use crate::web::json::Json;
use crate::web::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize, Default)]
pub struct HookBody {
    pub name: Option<String>,
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub active: Option<bool>,
    /// Junction's own: deliveries one at a time, in the order of their events.
    pub ordered: Option<bool>,
    #[serde(default)]
    pub configuration: Option<HookConfiguration>,
}

#[derive(Deserialize, Default)]
pub struct HookConfiguration {
    /// Absent: keep; null or "": remove; a string: set.
    #[serde(default, deserialize_with = "present")]
    pub secret: Option<Option<String>>,
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Ok(Some(Option::deserialize(d)?))
}

impl From<HookBody> for HookInput {
    fn from(b: HookBody) -> Self {
        HookInput {
            name: b.name,
            url: b.url,
            events: b.events,
            active: b.active,
            ordered: b.ordered,
            secret: b.configuration.and_then(|c| c.secret),
        }
    }
}

#[derive(Deserialize)]
pub struct ListParams {
    /// Only hooks that receive this event.
    pub event: Option<String>,
    /// `true`: each hook with its delivery statistics.
    pub statistics: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<HookPath>,
    Query(q): Query<ListParams>,
) -> ApiResult<axum::Json<Value>> {
    let (host, who) = (state.host(), caller.principal());
    let at = scope_ref(&path);
    let hooks = host_hooks::list(&host, &who, at, q.event.as_deref()).await?;
    let with_statistics = webhook_stats::flag(q.statistics.as_deref(), "statistics")?;
    let now = state.clock.now_ms();
    let mut values = Vec::new();
    for h in &hooks {
        let mut v = webhook_json(h, now);
        if with_statistics {
            let stats = crate::services::host::webhook_deliveries::statistics_of(&host, h).await?;
            v["statistics"] = webhook_stats::statistics_json(h, &stats);
        }
        values.push(v);
    }
    let req = crate::store::PageRequest {
        start: 0,
        limit: crate::store::PageRequest::MAX_LIMIT,
    };
    Ok(axum::Json(crate::web::paging::page(req, values)))
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<HookPath>,
    Json(body): Json<HookBody>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let input = HookInput::from(body);
    let at = scope_ref(&path);
    let hook = host_hooks::create(&state.host(), &caller.principal(), at, &input).await?;
    let v = webhook_json(&hook, state.clock.now_ms());
    Ok((StatusCode::CREATED, axum::Json(v)))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<HookPath>,
) -> ApiResult<axum::Json<Value>> {
    let id = param_id(&path, "webhookId")?;
    let at = scope_ref(&path);
    let (_, hook) = host_hooks::find(&state.host(), &caller.principal(), at, id).await?;
    Ok(axum::Json(webhook_json(&hook, state.clock.now_ms())))
}

/// Changes the given fields; saving clears a pause or disablement (the owner has acted).
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<HookPath>,
    Json(body): Json<HookBody>,
) -> ApiResult<axum::Json<Value>> {
    let id = param_id(&path, "webhookId")?;
    let input = HookInput::from(body);
    let at = scope_ref(&path);
    let hook = host_hooks::update(&state.host(), &caller.principal(), at, id, &input).await?;
    Ok(axum::Json(webhook_json(&hook, state.clock.now_ms())))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<HookPath>,
) -> ApiResult<StatusCode> {
    let id = param_id(&path, "webhookId")?;
    let at = scope_ref(&path);
    host_hooks::delete(&state.host(), &caller.principal(), at, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Active again after Junction paused or disabled it (or its owner deactivated it).
pub async fn enable(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<HookPath>,
) -> ApiResult<axum::Json<Value>> {
    let id = param_id(&path, "webhookId")?;
    let at = scope_ref(&path);
    let hook = host_hooks::enable(&state.host(), &caller.principal(), at, id).await?;
    Ok(axum::Json(webhook_json(&hook, state.clock.now_ms())))
}

/// Sends a test event now and answers with the delivery, its attempt and the receiver's answer.
pub async fn test(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<HookPath>,
) -> ApiResult<axum::Json<Value>> {
    let id = param_id(&path, "webhookId")?;
    let at = scope_ref(&path);
    let d = host_hooks::test(&state.host(), &caller.principal(), at, id).await?;
    Ok(axum::Json(super::repr::delivery_detail(
        &d.delivery,
        &d.body,
        &d.attempts,
    )))
}
