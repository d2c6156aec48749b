//! A pull request's code over REST, in Data Center's shapes: `/commits` (paged), `/changes`
//! and `/diff`. Reads through `services::host::pull_code`.

use super::git_repr;
use super::pulls::{at, PrPath};
use crate::domain::diff::parse_unified;
use crate::services::host::pull_code;
use crate::web::auth::Caller;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{Path, Query};
use crate::web::paging::{page_of, PageParams};
use crate::web::state::AppState;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

pub async fn commits(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<PrPath>,
    Query(q): Query<PageParams>,
) -> ApiResult<Json<Value>> {
    let req = q.request()?;
    let (commits, more) = pull_code::commits(
        &state.host(),
        &caller.principal(),
        at(&path),
        req.start as usize,
        req.limit as usize,
    )
    .await?;
    let values: Vec<Value> = commits.iter().map(git_repr::commit).collect();
    Ok(Json(page_of(req, values, more)))
}

pub async fn changes(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<PrPath>,
    Query(q): Query<PageParams>,
) -> ApiResult<Json<Value>> {
    let req = q.request()?;
    let (c, changes) = pull_code::changes(&state.host(), &caller.principal(), at(&path)).await?;
    let values: Vec<Value> = changes
        .iter()
        .map(|(kind, p)| json!({ "path": git_repr::path(p), "type": kind.as_str(), "nodeType": "FILE" }))
        .collect();
    let mut body = crate::web::paging::page(req, values);
    body["fromHash"] = json!(c.from_hash);
    body["toHash"] = json!(c.to_hash);
    Ok(Json(body))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiffParams {
    context_lines: Option<u32>,
}

/// At most this many context lines are asked for (Data Center's default is 10).
const MAX_CONTEXT: u32 = 1000;

pub async fn diff(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<PrPath>,
    Query(q): Query<DiffParams>,
) -> ApiResult<Json<Value>> {
    let context = q.context_lines.unwrap_or(10);
    if context > MAX_CONTEXT {
        return Err(
            ApiError::bad_request(format!("contextLines must be at most {MAX_CONTEXT}."))
                .with_context("contextLines"),
        );
    }
    let (c, text) = pull_code::diff(&state.host(), &caller.principal(), at(&path), context).await?;
    let files = parse_unified(&text);
    Ok(Json(git_repr::diff(
        &c.from_hash,
        &c.to_hash,
        context,
        &files,
    )))
}
