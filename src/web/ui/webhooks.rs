//! Webhook pages for a repository (`/projects/{key}/repos/{slug}/settings/hooks`) and a project
//! (`/projects/{key}/settings/hooks`): list and create, one hook (health notice with one-click
//! enable, edit, send test event, delete, its deliveries, redeliver failed since a time), and one
//! delivery with every attempt. Every change goes through the REST handlers.

use super::{render, see_other, CsrfForm, Nav, OrPage, UiError, UiResult};
use crate::clock::display;
use crate::domain::webhooks::{new_secret, standard_secret, EVENT_KEYS};
use crate::web::auth::Caller;
use crate::web::extract::{Path, Query};
use crate::web::json::Json;
use crate::web::rest::webhook_deliveries as rest_deliveries;
use crate::web::rest::webhook_scope::HookPath;
use crate::web::rest::webhook_stats as rest_stats;
use crate::web::rest::webhooks::{self as rest, HookBody, HookConfiguration};
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
    fn from_json(v: &Value) -> Self {
        let events: Vec<String> = v["events"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let all_events = events.iter().any(|e| e == "*");
        let status = v["status"].as_str().unwrap_or("").to_string();
        let notice = match status.as_str() {
            "disabled" => Some(format!(
                "Junction disabled this webhook on {}: {} Fix the receiver, then enable it again.",
                v["disabledDate"].as_i64().map(display).unwrap_or_default(),
                v["disabledReason"].as_str().unwrap_or("")
            )),
            "paused" => Some(format!(
                "Paused after {} failed deliveries in a row; deliveries resume at {}. Enable it to resume now.",
                v["consecutiveFailures"],
                v["pausedUntil"].as_i64().map(display).unwrap_or_default()
            )),
            _ => None,
        };
        Self {
            id: v["id"].as_i64().unwrap_or_default(),
            name: v["name"].as_str().unwrap_or("").to_string(),
            url: v["url"].as_str().unwrap_or("").to_string(),
            events: if all_events {
                "All events".into()
            } else {
                events.join(", ")
            },
            status,
            notice,
            has_secret: v["hasSecret"].as_bool().unwrap_or(false),
            active: v["active"].as_bool().unwrap_or(false),
            ordered: v["ordered"].as_bool().unwrap_or(false),
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
) -> Result<Vec<(String, String)>, crate::store::StoreError> {
    let now = state.clock.now_ms();
    Ok(state
        .store
        .troubled_webhooks(repo.project_id, Some(repo.id))
        .await?
        .iter()
        .map(|h| {
            let view = HookView::from_json(&crate::web::rest::repr::webhook(h, now));
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
    let all = rest::ListParams {
        event: None,
        statistics: None,
    };
    let axum::Json(list) = rest::list(
        State(state.clone()),
        caller.clone(),
        Path(path.clone()),
        crate::web::extract::Query(all),
    )
    .await
    .or_page(caller)?;
    let (base, scope) = scope_of(path);
    let hooks = list["values"]
        .as_array()
        .map(|a| a.iter().map(HookView::from_json).collect())
        .unwrap_or_default();
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
fn hook_body(fields: &[(String, String)]) -> (HookBody, Option<String>) {
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
        HookBody {
            name: get("name"),
            url: get("url"),
            events: Some(events),
            active: Some(get("active").is_some()),
            ordered: Some(get("ordered").is_some()),
            configuration: Some(HookConfiguration { secret }),
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
    let (body, generated) = hook_body(&fields);
    let typed = body
        .configuration
        .as_ref()
        .and_then(|c| c.secret.clone())
        .flatten();
    match rest::create(
        State(state.clone()),
        caller.clone(),
        Path(path.clone()),
        Json(body),
    )
    .await
    {
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

/// Bad input and conflicts are shown on the form, next to what was typed; everything else
/// (not signed in, not allowed, not found) is an error page.
fn on_the_form(e: &crate::web::error::ApiError) -> bool {
    matches!(
        e.status,
        axum::http::StatusCode::BAD_REQUEST | axum::http::StatusCode::CONFLICT
    )
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
    fn from_json(v: &Value) -> Self {
        let outcome = match (v["lastStatus"].as_i64(), v["lastError"].as_str()) {
            (_, Some(e)) => e.to_string(),
            (Some(s), None) => format!("HTTP {s}"),
            (None, None) => String::new(),
        };
        Self {
            id: v["id"].as_i64().unwrap_or_default(),
            event: v["eventKey"].as_str().unwrap_or("").to_string(),
            state: v["state"].as_str().unwrap_or("").to_string(),
            attempts: v["attempts"].as_i64().unwrap_or_default(),
            created: v["createdDate"].as_i64().map(display).unwrap_or_default(),
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
    let axum::Json(h) = rest::get(State(state.clone()), caller.clone(), Path(path.clone()))
        .await
        .or_page(caller)?;
    let params = rest_deliveries::ListParams {
        page: crate::web::paging::PageParams {
            start: Some(0),
            limit: Some(100),
        },
        state: filter.clone().filter(|s| !s.is_empty()),
        since: None,
    };
    let axum::Json(list) = rest_deliveries::list(
        State(state.clone()),
        caller.clone(),
        Path(path.clone()),
        Query(params),
    )
    .await
    .or_page(caller)?;
    let axum::Json(stats) =
        rest_stats::statistics(State(state.clone()), caller.clone(), Path(path.clone()))
            .await
            .or_page(caller)?;
    let count = |k: &str| stats["counts"][k].as_i64().unwrap_or_default();
    let (base, scope) = scope_of(path);
    Ok(render(&HookPage {
        nav: Nav::of(caller),
        base,
        scope,
        hook: HookView::from_json(&h),
        form: HookView::from_json(&h),
        deliveries: list["values"]
            .as_array()
            .map(|a| a.iter().map(DeliveryRow::from_json).collect())
            .unwrap_or_default(),
        tabs: [
            ("", "All"),
            ("failed", "Failed"),
            ("pending", "Queued"),
            ("succeeded", "Succeeded"),
        ]
        .into_iter()
        .map(|(s, label)| (s, label, filter.as_deref().unwrap_or("") == s))
        .collect(),
        last_day: (count("successes"), count("failures"), count("errors")),
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
    let st = || State(state.clone());
    let p = || Path(path.clone());
    let outcome = match path.get("action").map(String::as_str) {
        Some("update") => {
            let (body, _) = hook_body(&fields);
            rest::update(st(), caller.clone(), p(), Json(body))
                .await
                .map(|_| ())
        }
        Some("enable") => rest::enable(st(), caller.clone(), p()).await.map(|_| ()),
        Some("test") => rest::test(st(), caller.clone(), p()).await.map(|_| ()),
        Some("delete") => {
            rest::delete(st(), caller.clone(), p())
                .await
                .or_page(&caller)?;
            return Ok(see_other(&base));
        }
        Some("redeliver-failed") => {
            let since = fields
                .iter()
                .find(|(k, _)| k == "since")
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_default();
            // A browser's datetime-local has no zone or seconds: read it as UTC.
            let since = if since.len() == 16 && since.as_bytes().get(10) == Some(&b'T') {
                format!("{since}:00Z")
            } else {
                since
            };
            let mut q = std::collections::HashMap::new();
            q.insert("since".to_string(), since);
            rest_deliveries::redeliver_failed(
                st(),
                caller.clone(),
                p(),
                Query(q),
                Default::default(),
            )
            .await
            .map(|_| ())
        }
        _ => return Err(UiError::no_such_action(&caller)),
    };
    match outcome {
        Ok(()) => Ok(see_other(&here)),
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

fn header_list(v: &Value) -> Vec<(String, String)> {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
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
    let axum::Json(d) =
        rest_deliveries::get(State(state.clone()), caller.clone(), Path(path.clone()))
            .await
            .or_page(&caller)?;
    let (base, scope) = scope_of(&path);
    let id = path.get("webhookId").cloned().unwrap_or_default();
    let body = d["body"].as_str().unwrap_or("");
    let body = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| body.to_string());
    let attempts = d["attemptList"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|t| AttemptView {
                    number: t["number"].as_i64().unwrap_or_default(),
                    started: t["startedDate"].as_i64().map(display).unwrap_or_default(),
                    duration_ms: t["durationMs"].as_i64().unwrap_or_default(),
                    status: t["responseStatus"]
                        .as_i64()
                        .map(|s| s.to_string())
                        .unwrap_or_else(|| "no response".into()),
                    error: t["error"].as_str().unwrap_or("").to_string(),
                    request_headers: header_list(&t["requestHeaders"]),
                    response_headers: header_list(&t["responseHeaders"]),
                    response_body: t["responseBody"].as_str().unwrap_or("").to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    let row = DeliveryRow::from_json(&d);
    Ok(render(&DeliveryPage {
        nav: Nav::of(&caller),
        hook_url: format!("{base}/{id}"),
        scope,
        can_redeliver: matches!(row.state.as_str(), "succeeded" | "failed"),
        delivery: row,
        message_id: d["webhookId"].as_str().unwrap_or("").to_string(),
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
    rest_deliveries::redeliver(State(state.clone()), caller.clone(), Path(path.clone()))
        .await
        .map(|_| ())
        .or_page(&caller)?;
    let (base, _) = scope_of(&path);
    let id = path.get("webhookId").cloned().unwrap_or_default();
    Ok(see_other(&format!("{base}/{id}")))
}
