//! Bitbucket Cloud's commit statuses: `…/commit/{node}/statuses` (all, paged) and
//! `…/commit/{node}/statuses/build[/{key}]` (post, read, replace), over the same host
//! operations as Data Center's builds.

use super::paths::names;
use super::{CloudPage, CloudResult, PageQuery};
use crate::domain::build_status::StatusInput;
use crate::services::host::commit_statuses as statuses;
use crate::web::auth::Caller;
use crate::web::extract::Query;
use crate::web::json::Json as JsonBody;
use crate::web::state::AppState;
use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
pub struct CommitPath {
    workspace: String,
    repo_slug: String,
    node: String,
}

#[derive(Deserialize)]
pub struct StatusPath {
    workspace: String,
    repo_slug: String,
    node: String,
    key: String,
}

#[derive(Deserialize, Default)]
pub struct StatusBody {
    key: Option<String>,
    state: Option<String>,
    url: Option<String>,
    name: Option<String>,
    description: Option<String>,
    refname: Option<String>,
}

impl StatusBody {
    fn input(self, key: Option<String>) -> StatusInput {
        StatusInput {
            key: key.or(self.key),
            state: self.state,
            url: self.url,
            name: self.name,
            description: self.description,
            refname: self.refname,
        }
    }
}

/// `POST …/statuses/build`: 201 with the status (created or replaced).
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<CommitPath>,
    JsonBody(b): JsonBody<StatusBody>,
) -> CloudResult<Response> {
    let names = names(&state, &caller, &p.workspace, &p.repo_slug).await?;
    let host = state.host();
    let (repo, s, _) = statuses::post(
        &host,
        &caller.principal(),
        (&names.0, &names.1),
        &p.node,
        b.input(None),
    )
    .await?;
    let body = host.webhooks.payloads().commit_status(&repo, &s);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `PUT …/statuses/build/{key}`: replaces (or creates) the status with this key.
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<StatusPath>,
    JsonBody(b): JsonBody<StatusBody>,
) -> CloudResult<Json<Value>> {
    let names = names(&state, &caller, &p.workspace, &p.repo_slug).await?;
    let host = state.host();
    let (repo, s, _) = statuses::post(
        &host,
        &caller.principal(),
        (&names.0, &names.1),
        &p.node,
        b.input(Some(p.key)),
    )
    .await?;
    Ok(Json(host.webhooks.payloads().commit_status(&repo, &s)))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<StatusPath>,
) -> CloudResult<Json<Value>> {
    let names = names(&state, &caller, &p.workspace, &p.repo_slug).await?;
    let host = state.host();
    let (repo, s) = statuses::get(
        &host,
        &caller.principal(),
        (&names.0, &names.1),
        &p.node,
        &p.key,
    )
    .await?;
    Ok(Json(host.webhooks.payloads().commit_status(&repo, &s)))
}

/// `GET …/commit/{node}/statuses`, newest first.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<CommitPath>,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<PageQuery>,
) -> CloudResult<Json<Value>> {
    let page = CloudPage::parse(&q)?;
    let names = names(&state, &caller, &p.workspace, &p.repo_slug).await?;
    let host = state.host();
    let (repo, all) =
        statuses::list(&host, &caller.principal(), (&names.0, &names.1), &p.node).await?;
    let payloads = host.webhooks.payloads();
    let values = all
        .iter()
        .map(|s| payloads.commit_status(&repo, s))
        .collect();
    Ok(Json(page.slice(&state.base_url, &uri, values)))
}
