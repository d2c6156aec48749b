//! A repository's code over REST, in Data Center's shapes: branches (and the default one),
//! tags, commits (`until`/`since`, paged), one commit, `browse` (a directory's children or a
//! file's lines) and `raw` (a file's bytes). Reads through `services::host::browse`.

use super::git_repr;
use crate::domain::git::RefKind;
use crate::services::host::browse::{self, EntryKind, Found};
use crate::web::auth::Caller;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{Path, Query};
use crate::web::paging::{page, page_of, PageParams};
use crate::web::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

type RepoPath = (String, String);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefQuery {
    filter_text: Option<String>,
    #[serde(flatten)]
    page: PageParams,
}

async fn refs_of(
    state: &AppState,
    caller: &Caller,
    path: &RepoPath,
    kind: RefKind,
    q: &RefQuery,
) -> ApiResult<Json<Value>> {
    let req = q.page.request()?;
    let host = state.host();
    let repo = browse::readable(&host, &caller.principal(), &path.0, &path.1).await?;
    let refs = browse::refs(&host, &repo).await?;
    let filter = q.filter_text.as_deref().unwrap_or("").to_lowercase();
    let mut values: Vec<(bool, Value)> = refs
        .iter()
        .filter(|(name, _)| RefKind::of(name) == Some(kind))
        .filter(|(name, _)| {
            crate::domain::git::short_name(name)
                .to_lowercase()
                .contains(&filter)
        })
        .map(|(name, target)| {
            (
                *name != repo.default_branch,
                git_repr::git_ref(name, target, Some(&repo.default_branch)),
            )
        })
        .collect();
    // The default branch first, then by name (the map is in name order already).
    values.sort_by_key(|(not_default, _)| *not_default);
    Ok(Json(page(
        req,
        values.into_iter().map(|(_, v)| v).collect(),
    )))
}

pub async fn branches(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<RepoPath>,
    Query(q): Query<RefQuery>,
) -> ApiResult<Json<Value>> {
    refs_of(&state, &caller, &path, RefKind::Branch, &q).await
}

pub async fn tags(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<RepoPath>,
    Query(q): Query<RefQuery>,
) -> ApiResult<Json<Value>> {
    refs_of(&state, &caller, &path, RefKind::Tag, &q).await
}

/// `GET …/branches/default` and `…/default-branch`: the default branch, if it exists yet.
pub async fn default_branch(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<RepoPath>,
) -> ApiResult<Json<Value>> {
    let host = state.host();
    let repo = browse::readable(&host, &caller.principal(), &path.0, &path.1).await?;
    let refs = browse::refs(&host, &repo).await?;
    match refs.get(&repo.default_branch) {
        Some(target) => Ok(Json(git_repr::git_ref(
            &repo.default_branch,
            target,
            Some(&repo.default_branch),
        ))),
        None => Err(ApiError::not_found(
            "com.atlassian.bitbucket.repository.NoDefaultBranchException",
            format!(
                "The default branch {} has not been pushed yet.",
                crate::domain::git::short_name(&repo.default_branch)
            ),
        )),
    }
}

#[derive(Deserialize)]
pub struct CommitQuery {
    until: Option<String>,
    since: Option<String>,
    #[serde(flatten)]
    page: PageParams,
}

pub async fn commits(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<RepoPath>,
    Query(q): Query<CommitQuery>,
) -> ApiResult<Json<Value>> {
    let req = q.page.request()?;
    let host = state.host();
    let repo = browse::readable(&host, &caller.principal(), &path.0, &path.1).await?;
    let (commits, more) = browse::commits(
        &host,
        &repo,
        q.until.as_deref(),
        q.since.as_deref(),
        req.start as usize,
        req.limit as usize,
    )
    .await?;
    Ok(Json(page_of(
        req,
        commits.iter().map(git_repr::commit).collect::<Vec<_>>(),
        more,
    )))
}

pub async fn commit(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, slug, id)): Path<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let host = state.host();
    let repo = browse::readable(&host, &caller.principal(), &key, &slug).await?;
    Ok(Json(git_repr::commit(
        &browse::commit(&host, &repo, &id).await?,
    )))
}

#[derive(Deserialize)]
pub struct AtQuery {
    at: Option<String>,
    #[serde(flatten)]
    page: PageParams,
}

/// `browse` at the root.
pub async fn browse_root(
    state: State<AppState>,
    caller: Caller,
    Path((key, slug)): Path<RepoPath>,
    q: Query<AtQuery>,
) -> ApiResult<Json<Value>> {
    browse_path(state, caller, Path((key, slug, String::new())), q).await
}

pub async fn browse_path(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, slug, path)): Path<(String, String, String)>,
    Query(q): Query<AtQuery>,
) -> ApiResult<Json<Value>> {
    let req = q.page.request()?;
    let host = state.host();
    let repo = browse::readable(&host, &caller.principal(), &key, &slug).await?;
    match browse::find(&host, &repo, q.at.as_deref(), &path).await? {
        Found::Directory(entries) => {
            let values: Vec<Value> = entries
                .iter()
                .map(|e| {
                    let kind = match e.kind {
                        EntryKind::Directory => "DIRECTORY",
                        EntryKind::File => "FILE",
                        EntryKind::Submodule => "SUBMODULE",
                    };
                    let mut v = json!({ "path": git_repr::path(&e.name), "contentId": e.object, "type": kind });
                    if let Some(size) = e.size {
                        v["size"] = json!(size);
                    }
                    v
                })
                .collect();
            Ok(Json(
                json!({ "path": git_repr::path(&path), "revision": q.at.as_deref().unwrap_or(&repo.default_branch), "children": page(req, values) }),
            ))
        }
        Found::File(bytes) if bytes.contains(&0) => Ok(Json(
            json!({ "binary": true, "path": git_repr::path(&path) }),
        )),
        Found::File(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let lines: Vec<Value> = text.lines().map(|l| json!({ "text": l })).collect();
            // Data Center pages a file's lines under `lines`.
            let mut body = page(req, lines);
            if let Some(lines) = body.as_object_mut().and_then(|o| o.remove("values")) {
                body["lines"] = lines;
            }
            Ok(Json(body))
        }
    }
}

/// `raw/{path}`: the file's bytes. Never rendered by a browser as a page of Junction's: sent
/// as plain text or as a download, with `nosniff` and a sandboxing policy.
pub async fn raw(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, slug, path)): Path<(String, String, String)>,
    Query(q): Query<AtQuery>,
) -> ApiResult<Response> {
    let host = state.host();
    let repo = browse::readable(&host, &caller.principal(), &key, &slug).await?;
    match browse::find(&host, &repo, q.at.as_deref(), &path).await? {
        Found::File(bytes) => {
            let text = !bytes.contains(&0) && std::str::from_utf8(&bytes).is_ok();
            let content_type = if text {
                "text/plain; charset=utf-8"
            } else {
                "application/octet-stream"
            };
            Ok((
                [
                    (header::CONTENT_TYPE, content_type),
                    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                    (
                        header::CONTENT_SECURITY_POLICY,
                        "sandbox; default-src 'none'",
                    ),
                ],
                bytes,
            )
                .into_response())
        }
        Found::Directory(_) => Err(ApiError::bad_request(format!(
            "'{path}' is a directory; browse it instead."
        ))
        .with_context("path")),
    }
}
