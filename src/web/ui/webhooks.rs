//! Webhook pages for a repository (`/projects/{key}/repos/{slug}/settings/hooks`) and a project
//! (`/projects/{key}/settings/hooks`): list and create, one hook (health notice with one-click
//! enable, edit, send test event, delete, its deliveries, redeliver failed since a time), and one
//! delivery with every attempt. Every read and change is an operation of
//! `services::host::{webhooks, webhook_deliveries}`, the same the REST handlers call.

use super::{render, CsrfForm, Nav, OrPage, UiError, UiResult};
use crate::clock::display;
use crate::domain::webhooks::{new_secret, standard_secret, EVENT_KEYS};
use crate::services::host::webhook_deliveries::{
    self as host_deliveries, parse_since, parse_state, DeliveryFilter,
};
use crate::services::host::webhooks::{self as host_hooks, HookStatus};
use crate::services::host::HostError;
use crate::services::webhooks::manage::HookInput;
use crate::store::{Attempt, Delivery, Webhook};
use crate::web::auth::Caller;
use crate::web::confirm::{ask_first, confirmed, Ask};
use crate::web::error::ApiError;
use crate::web::extract::{Path, Query};
use crate::web::flash::see_other_saying;
use crate::web::hook_path::{param_id, scope_ref, HookPath};
use crate::web::page::on_the_form;
use crate::web::state::AppState;
use askama::Template;
use axum::extract::State;
use serde_json::Value;

/// One event's checkbox on the hook form.
#[derive(Clone)]
pub struct EventBox {
    pub key: &'static str,
    pub on: bool,
}

/// A hook as the pages show it (and the form's values; blank for a new one).
#[derive(Clone, Default)]
pub struct HookView {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub events: String,
    pub status: String,
    pub notice: Option<String>,
    pub has_secret: bool,
    pub active: bool,
    pub ordered: bool,
    pub subscribed: Vec<EventBox>,
    pub all_events: bool,
}

impl HookView {
    fn of(h: &Webhook, now: i64) -> Self {
        let events = h.event_keys();
        let all_events = events.is_empty();
        let status = HookStatus::of(h, now);
        let notice = match &status {
            HookStatus::Disabled { at, reason } => Some(format!(
                "Junction disabled this webhook on {}: {reason} Fix the receiver, then enable it again.",
                display(*at)
            )),
            HookStatus::Paused { until } => Some(format!(
                "Paused after {} failed deliveries in a row; deliveries resume at {}. Enable it to resume now.",
                h.consecutive_failures,
                display(*until)
            )),
            HookStatus::Enabled | HookStatus::Inactive => None,
        };
        Self {
            id: h.id,
            name: h.name.clone(),
            url: h.url.clone(),
            events: if all_events {
                "All events".into()
            } else {
                events.join(", ")
            },
            status: status.as_str().to_string(),
            notice,
            has_secret: h.secret_encrypted.is_some(),
            active: h.active,
            ordered: h.ordered,
            subscribed: EVENT_KEYS
                .iter()
                .map(|k| EventBox {
                    key: k,
                    on: events.iter().any(|e| e == k),
                })
                .collect(),
            all_events,
        }
    }
}

/// What a repository's owner is told on its page about hooks Junction paused or disabled
/// (the repository's own and its project's), each linking to the hook.
pub async fn troubles(
    state: &AppState,
    repo: &crate::store::Repository,
) -> Result<Vec<(String, String)>, HostError> {
    let now = state.clock.now_ms();
    Ok(host_hooks::troubled(&state.host(), repo)
        .await?
        .iter()
        .map(|h| {
            let view = HookView::of(h, now);
            let href = match h.repo_id {
                Some(_) => format!(
                    "/projects/{}/repos/{}/settings/hooks/{}",
                    repo.project_key, repo.slug, h.id
                ),
                None => format!("/projects/{}/settings/hooks/{}", repo.project_key, h.id),
            };
            (
                href,
                format!(
                    "Webhook \"{}\": {}",
                    h.name,
                    view.notice.unwrap_or_default()
                ),
            )
        })
        .collect())
}

/// Where the pages of a scope live, and what to call it.
fn scope_of(path: &HookPath) -> (String, String) {
    let key = path.get("key").cloned().unwrap_or_default();
    match path.get("slug") {
        Some(slug) => (
            format!("/projects/{key}/repos/{slug}/settings/hooks"),
            format!("{key}/{slug}"),
        ),
        None => (
            format!("/projects/{key}/settings/hooks"),
            format!("project {key}"),
        ),
    }
}

#[derive(Template)]
#[template(path = "webhooks.html")]
struct ListPage {
    nav: Nav,
    base: String,
    scope: String,
    hooks: Vec<HookView>,
    form: HookView,
    error: Option<String>,
    created_secret: Option<(String, String)>,
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<HookPath>,
) -> UiResult {
    list_page(&state, &caller, &path, None, None).await
}

async fn list_page(
    state: &AppState,
    caller: &Caller,
    path: &HookPath,
    error: Option<String>,
    created_secret: Option<(String, String)>,
) -> UiResult {
    let hooks = host_hooks::list(&state.host(), &caller.principal(), scope_ref(path), None)
        .await
        .or_page(caller)?;
    let now = state.clock.now_ms();
    let hooks = hooks.iter().map(|h| HookView::of(h, now)).collect();
    let (base, scope) = scope_of(path);
    Ok(render(&ListPage {
        nav: Nav::of(caller),
        base,
        scope,
        hooks,
        form: HookView {
            active: true,
            subscribed: EVENT_KEYS
                .iter()
                .map(|k| EventBox { key: k, on: false })
                .collect(),
            ..HookView::default()
        },
        error,
        created_secret,
    }))
}

/// The hook form's fields: checkboxes repeat `events`, so the form is read as pairs.
fn hook_input(fields: &[(String, String)]) -> (HookInput, Option<String>) {
    let get = |k: &str| {
        fields
            .iter()
            .find(|(f, _)| f == k)
            .map(|(_, v)| v.trim().to_string())
    };
    let mut events: Vec<String> = fields
        .iter()
        .filter(|(f, _)| f == "events")
        .map(|(_, v)| v.clone())
        .collect();
    if get("all_events").is_some() {
        events = vec!["*".into()];
    }
    let generated = (get("secret_mode").as_deref() == Some("generate")).then(new_secret);
    let secret = match get("secret_mode").as_deref() {
        Some("generate") => Some(generated.clone()),
        Some("remove") => Some(None),
        Some("set") => Some(get("secret").filter(|s| !s.is_empty())),
        _ => None,
    };
    (
        HookInput {
            name: get("name"),
            url: get("url"),
            events: Some(events),
            active: Some(get("active").is_some()),
            ordered: Some(get("ordered").is_some()),
            secret,
        },
        generated,
    )
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<HookPath>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> UiResult {
    let (input, generated) = hook_input(&fields);
    let typed = input.secret.clone().flatten();
    let (host, who, at) = (state.host(), caller.principal(), scope_ref(&path));
    let created = host_hooks::create(&host, &who, at, &input).await;
    match created.map_err(ApiError::from) {
        Ok(_) => {
            // A secret is shown once, with its Standard Webhooks (whsec_) form.
            let shown = generated.or(typed).map(|s| {
                let standard = standard_secret(&s);
                (s, standard)
            });
            list_page(&state, &caller, &path, None, shown).await
        }
        Err(e) if on_the_form(&e) => {
            let mut page = list_page(&state, &caller, &path, Some(e.message), None).await?;
            *page.status_mut() = e.status;
            Ok(page)
        }
        Err(e) => Err(UiError::from_api(e, &caller)),
    }
}

pub struct DeliveryRow {
    pub id: i64,
    pub event: String,
    pub state: String,
    pub attempts: i64,
    pub created: String,
    pub outcome: String,
}

impl DeliveryRow {
    fn of(d: &Delivery) -> Self {
        let outcome = match (d.last_status, &d.last_error) {
            (_, Some(e)) => e.clone(),
            (Some(s), None) => format!("HTTP {s}"),
            (None, None) => String::new(),
        };
        Self {
            id: d.id,
            event: d.event_key.clone(),
            state: d.state.as_str().to_string(),
            attempts: d.attempts,
            created: display(d.created_at),
            outcome,
        }
    }
}

#[derive(Template)]
#[template(path = "webhook.html")]
struct HookPage {
    nav: Nav,
    base: String,
    scope: String,
    hook: HookView,
    form: HookView,
    deliveries: Vec<DeliveryRow>,
    /// (filter, label, current)
    tabs: Vec<(&'static str, &'static str, bool)>,
    /// Attempts in the last day: (delivered, answered otherwise, no answer).
    last_day: (i64, i64, i64),
    error: Option<String>,
}

#[derive(serde::Deserialize)]
pub struct HookQuery {
    state: Option<String>,
}

pub async fn hook(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<HookPath>,
    Query(q): Query<HookQuery>,
) -> UiResult {
    hook_page(&state, &caller, &path, q.state, None).await
}

async fn hook_page(
    state: &AppState,
    caller: &Caller,
    path: &HookPath,
    filter: Option<String>,
    error: Option<String>,
) -> UiResult {
    let (host, who, at) = (state.host(), caller.principal(), scope_ref(path));
    let id = param_id(path, "webhookId").or_page(caller)?;
    let state_filter = filter.as_deref().filter(|s| !s.is_empty());
    let listed = DeliveryFilter {
        state: state_filter.map(parse_state).transpose().or_page(caller)?,
        since: None,
        start: 0,
        limit: 100,
    };
    let (h, stats) = host_deliveries::statistics(&host, &who, at, id)
        .await
        .or_page(caller)?;
    let deliveries = host_deliveries::list(&host, &who, at, id, listed)
        .await
        .or_page(caller)?;
    let now = state.clock.now_ms();
    let (base, scope) = scope_of(path);
    Ok(render(&HookPage {
        nav: Nav::of(caller),
        base,
        scope,
        hook: HookView::of(&h, now),
        form: HookView::of(&h, now),
        deliveries: deliveries.iter().map(DeliveryRow::of).collect(),
        tabs: [
            ("", "All"),
            ("failed", "Failed"),
            ("pending", "Queued"),
            ("succeeded", "Succeeded"),
        ]
        .into_iter()
        .map(|(s, label)| (s, label, filter.as_deref().unwrap_or("") == s))
        .collect(),
        last_day: (
            stats.counts.successes,
            stats.counts.failures,
            stats.counts.errors,
        ),
        error,
    }))
}

/// The hook page's buttons: update, enable, test, delete, redeliver-failed.
pub async fn action(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<HookPath>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> UiResult {
    let (base, _) = scope_of(&path);
    let id = path.get("webhookId").cloned().unwrap_or_default();
    let here = format!("{base}/{id}");
    let hook_id = param_id(&path, "webhookId").or_page(&caller)?;
    let (host, who, at) = (state.host(), caller.principal(), scope_ref(&path));
    // Each button says on the next page what it did.
    let outcome: Result<String, HostError> = match path.get("action").map(String::as_str) {
        Some("update") => {
            let (input, _) = hook_input(&fields);
            host_hooks::update(&host, &who, at, hook_id, &input)
                .await
                .map(|h| format!("Saved the webhook {}.", h.name))
        }
        Some("enable") => host_hooks::enable(&host, &who, at, hook_id)
            .await
            .map(|h| format!("Enabled the webhook {}: deliveries resume now.", h.name)),
        Some("test") => host_hooks::test(&host, &who, at, hook_id).await.map(|d| {
            format!(
                "Sent a test event (delivery {}); it is listed below.",
                d.delivery.id
            )
        }),
        Some("delete") if !confirmed(&fields) => {
            let (_, hook) = host_hooks::find(&host, &who, at, hook_id)
                .await
                .or_page(&caller)?;
            let ask = Ask {
                question: format!("Delete the webhook {}?", hook.name),
                consequence: "Its settings and its whole delivery history go; deliveries still queued are dropped. This cannot be undone.",
                button: "Delete",
                action: &format!("{here}/delete"),
                back: &here,
            };
            return Ok(ask_first(&caller, &ask, &fields));
        }
        Some("delete") => {
            let hook = host_hooks::delete(&host, &who, at, hook_id)
                .await
                .or_page(&caller)?;
            let said = format!(
                "Deleted the webhook {} and its delivery history.",
                hook.name
            );
            return Ok(see_other_saying(&base, &said));
        }
        Some("redeliver-failed") => {
            let since = fields
                .iter()
                .find(|(k, _)| k == "since")
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_default();
            match parse_since(&since) {
                Ok(t) => host_deliveries::redeliver_failed(&host, &who, at, hook_id, t)
                    .await
                    .map(|n| format!("Queued {n} failed deliveries again.")),
                Err(e) => Err(e),
            }
        }
        _ => return Err(UiError::no_such_action(&caller)),
    };
    let outcome = outcome.map_err(ApiError::from);
    match outcome {
        Ok(said) => Ok(see_other_saying(&here, &said)),
        Err(e) if on_the_form(&e) => {
            let mut page = hook_page(&state, &caller, &path, None, Some(e.message)).await?;
            *page.status_mut() = e.status;
            Ok(page)
        }
        Err(e) => Err(UiError::from_api(e, &caller)),
    }
}

pub struct AttemptView {
    pub number: i64,
    pub started: String,
    pub duration_ms: i64,
    pub status: String,
    pub error: String,
    pub request_headers: Vec<(String, String)>,
    pub response_headers: Vec<(String, String)>,
    pub response_body: String,
}

impl AttemptView {
    fn of(a: &Attempt) -> Self {
        Self {
            number: a.number,
            started: display(a.started_at),
            duration_ms: a.duration_ms,
            status: a
                .response_status
                .map_or_else(|| "no response".into(), |s| s.to_string()),
            error: a.error.clone().unwrap_or_default(),
            request_headers: header_list(&a.request_headers),
            response_headers: a
                .response_headers
                .as_deref()
                .map(header_list)
                .unwrap_or_default(),
            response_body: a.response_body.clone().unwrap_or_default(),
        }
    }
}

/// Headers as stored: a JSON object of names to values.
fn header_list(stored: &str) -> Vec<(String, String)> {
    serde_json::from_str::<serde_json::Map<String, Value>>(stored)
        .map(|m| {
            m.into_iter()
                .map(|(k, v)| (k, v.as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default()
}

#[derive(Template)]
#[template(path = "webhook_delivery.html")]
struct DeliveryPage {
    nav: Nav,
    hook_url: String,
    scope: String,
    delivery: DeliveryRow,
    message_id: String,
    body: String,
    attempts: Vec<AttemptView>,
    can_redeliver: bool,
}

pub async fn delivery(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<HookPath>,
) -> UiResult {
    let hook_id = param_id(&path, "webhookId").or_page(&caller)?;
    let id = param_id(&path, "deliveryId").or_page(&caller)?;
    let at = scope_ref(&path);
    let d = host_deliveries::get(&state.host(), &caller.principal(), at, hook_id, id)
        .await
        .or_page(&caller)?;
    let (base, scope) = scope_of(&path);
    let body = serde_json::from_str::<Value>(&d.body)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| d.body.clone());
    let attempts = d.attempts.iter().map(AttemptView::of).collect();
    let row = DeliveryRow::of(&d.delivery);
    Ok(render(&DeliveryPage {
        nav: Nav::of(&caller),
        hook_url: format!("{base}/{hook_id}"),
        scope,
        can_redeliver: matches!(row.state.as_str(), "succeeded" | "failed"),
        delivery: row,
        message_id: d.delivery.event_uuid,
        body,
        attempts,
    }))
}

pub async fn redeliver(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<HookPath>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> UiResult {
    let hook_id = param_id(&path, "webhookId").or_page(&caller)?;
    let id = param_id(&path, "deliveryId").or_page(&caller)?;
    let at = scope_ref(&path);
    host_deliveries::redeliver(&state.host(), &caller.principal(), at, hook_id, id)
        .await
        .or_page(&caller)?;
    let said = format!("Delivery {id} is queued again; it will be attempted shortly.");
    let (base, _) = scope_of(&path);
    Ok(see_other_saying(&format!("{base}/{hook_id}"), &said))
}
