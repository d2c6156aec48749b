//! `/2.0/repositories/{workspace}` and `/2.0/repositories/{workspace}/{repo_slug}`.

use super::paths::RepoPath;
use super::{repr, CloudPage, CloudResult, PageQuery};
use crate::domain::Action;
use crate::services::host::repositories::{self, Needed};
use crate::services::host::workspaces::{self, Workspace};
use crate::store::RepoFilter;
use crate::web::auth::Caller;
use crate::web::extract::Query;
use crate::web::state::AppState;
use axum::extract::{OriginalUri, Path, State};
use axum::Json;
use serde_json::Value;

/// The repositories of a workspace the credential may read (a personal space holds none).
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(workspace): Path<String>,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<PageQuery>,
) -> CloudResult<Json<Value>> {
    let page = CloudPage::parse(&q)?;
    let host = state.host();
    let who = caller.principal();
    let repos = match workspaces::find(&host, &who, &workspace).await? {
        Workspace::Project(p) => {
            let filter = RepoFilter {
                project_id: Some(p.id),
                ..Default::default()
            };
            repositories::list(&host, &who, Needed::Read, &filter, page.window()).await?
        }
        Workspace::Personal(_) => Vec::new(),
    };
    let payloads = state.webhooks.payloads();
    let values = repos
        .iter()
        .map(|r| repr::repository(payloads, &state.base_url, r))
        .collect();
    Ok(Json(page.render(&state.base_url, &uri, values, None)))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<RepoPath>,
) -> CloudResult<Json<Value>> {
    let (key, slug) = p.names(&state, &caller).await?;
    let r = repositories::find(
        &state.host(),
        &caller.principal(),
        &key,
        &slug,
        Action::ViewRepo,
    )
    .await?;
    Ok(Json(repr::repository(
        state.webhooks.payloads(),
        &state.base_url,
        &r,
    )))
}
