//! Code on `/2.0`: `refs/branches`, `commits[/{revision}]`, `commit/{commit}`,
//! `src/{commit}/{path}`, and a pull request's `commits`, `diff` and `diffstat`, in Cloud's
//! shapes. Each reads through the host's browse and pull request code operations.

use super::paths::{PrPath, RepoPath};
use super::{CloudPage, CloudResult, PageQuery};
use crate::clock::iso8601;
use crate::domain::diff::ChangeKind;
use crate::domain::git::Commit;
use crate::services::host::browse::{self, EntryKind, Found};
use crate::services::host::pull_code;
use crate::store::Repository;
use crate::web::auth::Caller;
use crate::web::extract::Query;
use crate::web::state::AppState;
use axum::extract::{OriginalUri, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
pub struct RevisionPath {
    workspace: String,
    repo_slug: String,
    revision: String,
}

#[derive(Deserialize)]
pub struct SrcPath {
    workspace: String,
    repo_slug: String,
    commit: String,
    path: Option<String>,
}

fn repo_href(state: &AppState, r: &Repository) -> String {
    format!(
        "{}/2.0/repositories/{}/{}",
        state.base_url,
        r.project_key.to_ascii_lowercase(),
        r.slug
    )
}

/// A commit in Cloud's shape.
pub fn commit(state: &AppState, r: &Repository, c: &Commit) -> Value {
    let base = repo_href(state, r);
    json!({
        "type": "commit",
        "hash": c.hash,
        "date": iso8601(c.author_at),
        "message": c.message,
        "author": { "type": "author", "raw": format!("{} <{}>", c.author_name, c.author_email) },
        "parents": c.parents.iter().map(|p| json!({"type": "commit", "hash": p,
            "links": {"self": {"href": format!("{base}/commit/{p}")}}})).collect::<Vec<_>>(),
        "repository": { "type": "repository", "full_name": format!("{}/{}", r.project_key.to_ascii_lowercase(), r.slug), "name": r.name },
        "links": { "self": { "href": format!("{base}/commit/{}", c.hash) } },
    })
}

async fn readable(
    state: &AppState,
    caller: &Caller,
    ws: &str,
    slug: &str,
) -> CloudResult<Repository> {
    let (key, slug) = super::paths::names(state, caller, ws, slug).await?;
    Ok(browse::readable(&state.host(), &caller.principal(), &key, &slug).await?)
}

pub async fn branches(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<RepoPath>,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<PageQuery>,
) -> CloudResult<Json<Value>> {
    let page = CloudPage::parse(&q)?;
    let r = readable(&state, &caller, &p.workspace, &p.repo_slug).await?;
    let refs = browse::refs(&state.host(), &r).await?;
    let base = repo_href(&state, &r);
    let values = refs
        .iter()
        .filter_map(|(name, target)| Some((name.strip_prefix("refs/heads/")?, target)))
        .map(|(name, target)| {
            json!({
                "type": "branch",
                "name": name,
                "target": { "type": "commit", "hash": target,
                            "links": {"self": {"href": format!("{base}/commit/{target}")}} },
                "links": { "self": { "href": format!("{base}/refs/branches/{name}") },
                           "commits": { "href": format!("{base}/commits/{name}") } },
            })
        })
        .collect();
    Ok(Json(page.slice(&state.base_url, &uri, values)))
}

async fn log(
    state: &AppState,
    r: &Repository,
    uri: &axum::http::Uri,
    q: &PageQuery,
    until: Option<&str>,
) -> CloudResult<Json<Value>> {
    let page = CloudPage::parse(q)?;
    let (found, more) = browse::commits(
        &state.host(),
        r,
        until,
        None,
        page.start() as usize,
        page.pagelen as usize,
    )
    .await?;
    let values = found.iter().map(|c| commit(state, r, c)).collect();
    Ok(Json(page.known(&state.base_url, uri, values, more)))
}

pub async fn commits(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<RepoPath>,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<PageQuery>,
) -> CloudResult<Json<Value>> {
    let r = readable(&state, &caller, &p.workspace, &p.repo_slug).await?;
    log(&state, &r, &uri, &q, None).await
}

pub async fn commits_of(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<RevisionPath>,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<PageQuery>,
) -> CloudResult<Json<Value>> {
    let r = readable(&state, &caller, &p.workspace, &p.repo_slug).await?;
    log(&state, &r, &uri, &q, Some(&p.revision)).await
}

pub async fn one_commit(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<RevisionPath>,
) -> CloudResult<Json<Value>> {
    let r = readable(&state, &caller, &p.workspace, &p.repo_slug).await?;
    let c = browse::commit(&state.host(), &r, &p.revision).await?;
    Ok(Json(commit(&state, &r, &c)))
}

/// A file's bytes, or a directory's entries (paged), at a commit.
pub async fn src(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<SrcPath>,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<PageQuery>,
) -> CloudResult<Response> {
    let page = CloudPage::parse(&q)?;
    let r = readable(&state, &caller, &p.workspace, &p.repo_slug).await?;
    let path = p.path.unwrap_or_default();
    let hash = browse::resolve(&state.host(), &r, Some(&p.commit)).await?;
    match browse::find(&state.host(), &r, Some(&hash), &path).await? {
        Found::File(bytes) => {
            Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response())
        }
        Found::Directory(entries) => {
            let dir = path.trim_matches('/');
            let values = entries
                .iter()
                .map(|e| {
                    let full = if dir.is_empty() {
                        e.name.clone()
                    } else {
                        format!("{dir}/{}", e.name)
                    };
                    let kind = match e.kind {
                        EntryKind::Directory => "commit_directory",
                        _ => "commit_file",
                    };
                    let mut v = json!({ "type": kind, "path": full,
                                         "commit": { "type": "commit", "hash": hash } });
                    if let Some(size) = e.size.filter(|_| e.kind == EntryKind::File) {
                        v["size"] = json!(size);
                    }
                    v
                })
                .collect();
            Ok(Json(page.slice(&state.base_url, &uri, values)).into_response())
        }
    }
}

pub async fn pr_commits(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<PrPath>,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<PageQuery>,
) -> CloudResult<Json<Value>> {
    let page = CloudPage::parse(&q)?;
    let (key, slug) = p.names(&state, &caller).await?;
    let at = p.at(&key, &slug);
    let who = caller.principal();
    let host = state.host();
    let (found, more) = pull_code::commits(
        &host,
        &who,
        at,
        page.start() as usize,
        page.pagelen as usize,
    )
    .await?;
    let r = browse::readable(&host, &who, &key, &slug).await?;
    let values = found.iter().map(|c| commit(&state, &r, c)).collect();
    Ok(Json(page.known(&state.base_url, &uri, values, more)))
}

pub async fn pr_diff(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<PrPath>,
) -> CloudResult<Response> {
    let (key, slug) = p.names(&state, &caller).await?;
    let at = p.at(&key, &slug);
    let (_, text) = pull_code::diff(&state.host(), &caller.principal(), at, 3).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
}

pub async fn pr_diffstat(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<PrPath>,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<PageQuery>,
) -> CloudResult<Json<Value>> {
    let page = CloudPage::parse(&q)?;
    let (key, slug) = p.names(&state, &caller).await?;
    let at = p.at(&key, &slug);
    let (_, changed) = pull_code::changes(&state.host(), &caller.principal(), at).await?;
    let values = changed
        .iter()
        .map(|(kind, path)| {
            let file = json!({ "type": "commit_file", "path": path });
            let (status, old, new) = match kind {
                ChangeKind::Add => ("added", Value::Null, file),
                ChangeKind::Delete => ("removed", file, Value::Null),
                ChangeKind::Modify => ("modified", file.clone(), file),
            };
            json!({ "type": "diffstat", "status": status, "old": old, "new": new })
        })
        .collect();
    Ok(Json(page.slice(&state.base_url, &uri, values)))
}
