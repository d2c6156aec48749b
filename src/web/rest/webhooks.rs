//! Repository and project webhooks over REST, in Bitbucket Data Center's shape
//! (`/rest/api/1.0/projects/{key}[/repos/{slug}]/webhooks[/{id}]`), plus Junction's additions on
//! the same paths: `test`, `enable`, delivery history and redelivery (`webhook_deliveries.rs`).
//! Managing a repository's hooks needs REPO_ADMIN; a project's, PROJECT_ADMIN.

use super::repr::webhook as webhook_json;
use super::webhook_scope::{load_hook, load_scope, HookPath};
use super::webhook_stats;
use crate::services::audit;
use crate::services::webhooks::manage::{FieldError, HookInput};
use crate::web::auth::Caller;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{Path, Query};
use crate::web::json::Json;
use crate::web::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        ApiError::bad_request(e.message).with_context(e.field)
    }
}

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
    let scope = load_scope(&state, &caller, &path).await?;
    let event = webhook_stats::event_filter(q.event.as_deref())?;
    let with_statistics = webhook_stats::flag(q.statistics.as_deref(), "statistics")?;
    let hooks = state
        .store
        .webhooks_of(scope.project.id, scope.repo_id())
        .await?;
    let now = state.clock.now_ms();
    let mut values = Vec::new();
    for h in hooks.iter().filter(|h| {
        event.as_deref().is_none_or(|e| {
            let keys = h.event_keys();
            keys.is_empty() || keys.iter().any(|k| k == e)
        })
    }) {
        let mut v = webhook_json(h, now);
        if with_statistics {
            v["statistics"] = webhook_stats::statistics_of(&state.store, h, now).await?;
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
    let scope = load_scope(&state, &caller, &path).await?;
    let me = caller.user()?;
    let fields = state.webhooks.fields(&body.into(), None)?;
    let hook = state
        .store
        .create_webhook(scope.project.id, scope.repo_id(), &fields, me.id)
        .await?;
    let target = scope.audit_target();
    let details = format!("{} → {}", hook.name, hook.url);
    audit::record(
        &state.store,
        &caller.actor(),
        "webhook.created",
        &target,
        &details,
    )
    .await;
    Ok((
        StatusCode::CREATED,
        axum::Json(webhook_json(&hook, state.clock.now_ms())),
    ))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<HookPath>,
) -> ApiResult<axum::Json<Value>> {
    let (_, hook) = load_hook(&state, &caller, &path).await?;
    Ok(axum::Json(webhook_json(&hook, state.clock.now_ms())))
}

/// Changes the given fields; saving clears a pause or disablement (the owner has acted).
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<HookPath>,
    Json(body): Json<HookBody>,
) -> ApiResult<axum::Json<Value>> {
    let (scope, hook) = load_hook(&state, &caller, &path).await?;
    let fields = state.webhooks.fields(&body.into(), Some(&hook))?;
    let hook = state.store.update_webhook(hook.id, &fields).await?;
    let details = format!("{} → {}", hook.name, hook.url);
    audit::record(
        &state.store,
        &caller.actor(),
        "webhook.updated",
        &scope.audit_target(),
        &details,
    )
    .await;
    Ok(axum::Json(webhook_json(&hook, state.clock.now_ms())))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<HookPath>,
) -> ApiResult<StatusCode> {
    let (scope, hook) = load_hook(&state, &caller, &path).await?;
    state.store.delete_webhook(hook.id).await?;
    audit::record(
        &state.store,
        &caller.actor(),
        "webhook.deleted",
        &scope.audit_target(),
        &hook.name,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Active again after Junction paused or disabled it (or its owner deactivated it).
pub async fn enable(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<HookPath>,
) -> ApiResult<axum::Json<Value>> {
    let (scope, hook) = load_hook(&state, &caller, &path).await?;
    let hook = state.store.enable_webhook(hook.id).await?;
    audit::record(
        &state.store,
        &caller.actor(),
        "webhook.enabled",
        &scope.audit_target(),
        &hook.name,
    )
    .await;
    state.webhooks.wake();
    Ok(axum::Json(webhook_json(&hook, state.clock.now_ms())))
}

/// Sends a test event now and answers with the delivery, its attempt and the receiver's answer.
pub async fn test(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<HookPath>,
) -> ApiResult<axum::Json<Value>> {
    let (scope, hook) = load_hook(&state, &caller, &path).await?;
    let id = state.webhooks.send_test(&hook, caller.user()?).await?;
    audit::record(
        &state.store,
        &caller.actor(),
        "webhook.tested",
        &scope.audit_target(),
        &hook.name,
    )
    .await;
    let (d, body, attempts) = state
        .store
        .delivery_detail("webhook", hook.id, id)
        .await?
        .ok_or_else(|| ApiError::internal("the test delivery vanished"))?;
    Ok(axum::Json(super::repr::delivery_detail(
        &d, &body, &attempts,
    )))
}
