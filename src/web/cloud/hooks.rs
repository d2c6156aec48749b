//! A repository's webhooks on `/2.0` (`…/hooks`, `…/hooks/{uid}`), in Cloud's shape, over the
//! same host operations (and rules: REPO_ADMIN, the `webhook` or `repository:admin` scope) as
//! Data Center's REST and the pages.

use super::paths::RepoPath;
use super::{CloudPage, CloudResult, PageQuery};
use crate::services::host::webhooks::{self as host_hooks, ScopeRef};
use crate::services::host::{HostError, Missing};
use crate::services::webhooks::manage::HookInput;
use crate::store::Webhook;
use crate::web::auth::Caller;
use crate::web::extract::Query;
use crate::web::json::Json as JsonBody;
use crate::web::state::AppState;
use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
pub struct HookPath {
    workspace: String,
    repo_slug: String,
    uid: String,
}

/// `{uuid}`, as Cloud names a subscription.
fn braced(uuid: &str) -> String {
    format!("{{{}}}", uuid.trim_matches(|c| c == '{' || c == '}'))
}

fn hook_json(state: &AppState, ws: &str, slug: &str, h: &Webhook) -> Value {
    let uid = braced(&h.uuid);
    let events: Vec<String> = h.event_keys();
    json!({
        "type": "webhook_subscription",
        "uuid": uid,
        "url": h.url,
        "description": h.name,
        "subject_type": "repository",
        "active": h.active,
        "events": if events.is_empty() { vec!["*".to_string()] } else { events },
        "secret_set": h.secret_encrypted.is_some(),
        "created_at": crate::clock::iso8601(h.created_at),
        "links": { "self": { "href": format!("{}/2.0/repositories/{}/{}/hooks/{}", state.base_url,
            ws.to_ascii_lowercase(), slug, url::form_urlencoded::byte_serialize(uid.as_bytes()).collect::<String>()) } },
    })
}

#[derive(Deserialize, Default)]
pub struct HookBody {
    description: Option<String>,
    url: Option<String>,
    active: Option<bool>,
    events: Option<Vec<String>>,
    secret: Option<String>,
}

impl HookBody {
    fn input(self) -> HookInput {
        HookInput {
            name: self.description,
            url: self.url,
            events: self.events,
            active: self.active,
            ordered: None,
            secret: self.secret.map(Some),
        }
    }
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<RepoPath>,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<PageQuery>,
) -> CloudResult<Json<Value>> {
    let page = CloudPage::parse(&q)?;
    let (key, slug) = p.names(&state, &caller).await?;
    let at = ScopeRef {
        key: &key,
        slug: Some(&slug),
    };
    let hooks = host_hooks::list(&state.host(), &caller.principal(), at, None).await?;
    let values = hooks
        .iter()
        .map(|h| hook_json(&state, &key, &slug, h))
        .collect();
    Ok(Json(page.slice(&state.base_url, &uri, values)))
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<RepoPath>,
    JsonBody(b): JsonBody<HookBody>,
) -> CloudResult<Response> {
    let (key, slug) = p.names(&state, &caller).await?;
    let at = ScopeRef {
        key: &key,
        slug: Some(&slug),
    };
    let h = host_hooks::create(&state.host(), &caller.principal(), at, &b.input()).await?;
    Ok((
        StatusCode::CREATED,
        Json(hook_json(&state, &key, &slug, &h)),
    )
        .into_response())
}

/// The hook whose uuid is `uid` (braces or not).
async fn by_uid(
    state: &AppState,
    caller: &Caller,
    key: &str,
    slug: &str,
    p: &HookPath,
) -> CloudResult<Webhook> {
    let at = ScopeRef {
        key,
        slug: Some(slug),
    };
    let hooks = host_hooks::list(&state.host(), &caller.principal(), at, None).await?;
    let want = braced(&p.uid);
    hooks
        .into_iter()
        .find(|h| braced(&h.uuid).eq_ignore_ascii_case(&want))
        .ok_or_else(|| HostError::NotFound(Missing::Webhook(0)).into())
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<HookPath>,
) -> CloudResult<Json<Value>> {
    let (key, slug) = super::paths::names(&state, &caller, &p.workspace, &p.repo_slug).await?;
    let h = by_uid(&state, &caller, &key, &slug, &p).await?;
    Ok(Json(hook_json(&state, &key, &slug, &h)))
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<HookPath>,
    JsonBody(b): JsonBody<HookBody>,
) -> CloudResult<Json<Value>> {
    let (key, slug) = super::paths::names(&state, &caller, &p.workspace, &p.repo_slug).await?;
    let h = by_uid(&state, &caller, &key, &slug, &p).await?;
    let at = ScopeRef {
        key: &key,
        slug: Some(&slug),
    };
    let h = host_hooks::update(&state.host(), &caller.principal(), at, h.id, &b.input()).await?;
    Ok(Json(hook_json(&state, &key, &slug, &h)))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<HookPath>,
) -> CloudResult<StatusCode> {
    let (key, slug) = super::paths::names(&state, &caller, &p.workspace, &p.repo_slug).await?;
    let h = by_uid(&state, &caller, &key, &slug, &p).await?;
    let at = ScopeRef {
        key: &key,
        slug: Some(&slug),
    };
    host_hooks::delete(&state.host(), &caller.principal(), at, h.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
