//! Data Center's build statuses: `…/commits/{commitId}/builds` (post; read all, or one with
//! `?key=`) and the legacy `/rest/build-status/1.0/commits/{commitId}`, which names no
//! repository. The rules are `services/host/commit_statuses.rs`'s.

use crate::domain::build_status::StatusInput;
use crate::services::host::commit_statuses as statuses;
use crate::store::commit_statuses::CommitStatus;
use crate::web::auth::Caller;
use crate::web::error::ApiResult;
use crate::web::extract::{Path, Query};
use crate::web::json::Json as JsonBody;
use crate::web::paging::{page, PageParams};
use crate::web::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

/// What Jenkins, Bamboo and others post (`buildNumber`, `duration`, `testResults`, … are
/// accepted and not kept).
#[derive(Deserialize, Default)]
pub struct BuildBody {
    key: Option<String>,
    state: Option<String>,
    url: Option<String>,
    name: Option<String>,
    description: Option<String>,
    #[serde(rename = "ref")]
    refname: Option<String>,
}

impl From<BuildBody> for StatusInput {
    fn from(b: BuildBody) -> Self {
        StatusInput {
            key: b.key,
            state: b.state,
            url: b.url,
            name: b.name,
            description: b.description,
            refname: b.refname,
        }
    }
}

/// A status in Data Center's shape.
pub fn build_json(s: &CommitStatus) -> Value {
    json!({
        "key": s.status_key,
        "state": s.state.0.data_center(),
        "url": s.url,
        "name": s.name,
        "description": s.description,
        "ref": s.refname,
        "dateAdded": s.updated_at,
    })
}

#[derive(Deserialize)]
pub struct KeyQuery {
    key: Option<String>,
    #[serde(flatten)]
    page: PageParams,
}

pub async fn post(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, slug, commit)): Path<(String, String, String)>,
    JsonBody(b): JsonBody<BuildBody>,
) -> ApiResult<StatusCode> {
    statuses::post(
        &state.host(),
        &caller.principal(),
        (&key, &slug),
        &commit,
        b.into(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, slug, commit)): Path<(String, String, String)>,
    Query(q): Query<KeyQuery>,
) -> ApiResult<Json<Value>> {
    let (host, who) = (state.host(), caller.principal());
    if let Some(status_key) = &q.key {
        let (_, s) = statuses::get(&host, &who, (&key, &slug), &commit, status_key).await?;
        return Ok(Json(build_json(&s)));
    }
    let req = q.page.request()?;
    let (_, all) = statuses::list(&host, &who, (&key, &slug), &commit).await?;
    Ok(Json(page(req, all.iter().map(build_json).collect())))
}

pub async fn post_legacy(
    State(state): State<AppState>,
    caller: Caller,
    Path(commit): Path<String>,
    JsonBody(b): JsonBody<BuildBody>,
) -> ApiResult<StatusCode> {
    statuses::post_legacy(&state.host(), &caller.principal(), &commit, b.into()).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn get_legacy(
    State(state): State<AppState>,
    caller: Caller,
    Path(commit): Path<String>,
    Query(q): Query<PageParams>,
) -> ApiResult<Json<Value>> {
    let req = q.request()?;
    let all = statuses::list_legacy(&state.host(), &caller.principal(), &commit).await?;
    Ok(Json(page(req, all.iter().map(build_json).collect())))
}
