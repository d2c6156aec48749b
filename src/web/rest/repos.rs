//! Repositories: `/rest/api/1.0/projects/{key}/repos[/{slug}]` and the `/rest/api/1.0/repos` search.

use super::projects;
use super::repr;
use crate::domain::Action;
use crate::services::host::repositories::{self as host_repos, Needed};
use crate::store::{RepoFilter, Repository};
use crate::web::auth::Caller;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::Path;
use crate::web::extract::Query;
use crate::web::json::Json;
use crate::web::paging::{paged, window, PageParams};
use crate::web::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};

/// Finds a repository and checks the caller may do `action` on it.
pub async fn load(
    state: &AppState,
    caller: &Caller,
    key: &str,
    slug: &str,
    action: Action,
) -> ApiResult<Repository> {
    let host = state.host();
    Ok(
        crate::services::host::repositories::find(&host, &caller.principal(), key, slug, action)
            .await?,
    )
}

pub async fn list_in_project(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Query(q): Query<PageParams>,
) -> ApiResult<axum::response::Response> {
    let req = q.request()?;
    let project = projects::load(&state, &caller, &key, Action::ViewProject).await?;
    let filter = RepoFilter {
        project_id: Some(project.id),
        ..RepoFilter::default()
    };
    let (host, who) = (state.host(), caller.principal());
    let found = host_repos::list(&host, &who, Needed::Read, &filter, window(req)).await?;
    let page = paged(req, found);
    let base = &state.base_url;
    Ok(page.respond(
        page.rows
            .iter()
            .map(|r| repr::repository(base, r))
            .collect(),
    ))
}

#[derive(Deserialize)]
pub struct SearchParams {
    #[serde(flatten)]
    pub page: PageParams,
    pub name: Option<String>,
    pub projectname: Option<String>,
    pub permission: Option<String>,
    pub visibility: Option<String>,
}

/// `/rest/api/1.0/repos`: repositories the caller can see, filtered as in Bitbucket.
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<SearchParams>,
) -> ApiResult<axum::response::Response> {
    let req = q.page.request()?;
    let needed = match q.permission.as_deref() {
        None | Some("REPO_READ") => Needed::Read,
        Some("REPO_WRITE") => Needed::Write,
        Some("REPO_ADMIN") => Needed::Admin,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
            "'{other}' is not a repository permission; use REPO_READ, REPO_WRITE or REPO_ADMIN."
        ))
            .with_context("permission"))
        }
    };
    let public = match q.visibility.as_deref() {
        None => None,
        Some("public") => Some(true),
        Some("private") => Some(false),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "'{other}' is not a visibility; use public or private."
            ))
            .with_context("visibility"))
        }
    };
    let filter = RepoFilter {
        project_id: None,
        name: q.name.as_deref(),
        project_name: q.projectname.as_deref(),
        public,
    };
    let (host, who) = (state.host(), caller.principal());
    let found = host_repos::list(&host, &who, needed, &filter, window(req)).await?;
    let page = paged(req, found);
    let base = &state.base_url;
    Ok(page.respond(
        page.rows
            .iter()
            .map(|r| repr::repository(base, r))
            .collect(),
    ))
}

/// The hottest read: serialized straight from the typed representation.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, slug)): Path<(String, String)>,
) -> ApiResult<axum::response::Response> {
    let repo = load(&state, &caller, &key, &slug, Action::ViewRepo).await?;
    Ok(axum::response::IntoResponse::into_response(axum::Json(
        repr::repository(&state.base_url, &repo),
    )))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepoBody {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub description: Option<String>,
    pub public: Option<bool>,
    pub default_branch: Option<String>,
    pub scm_id: Option<String>,
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Json(body): Json<RepoBody>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let new = host_repos::NewRepository {
        name: body.name,
        slug: body.slug,
        description: body.description,
        public: body.public.unwrap_or(false),
        default_branch: body.default_branch,
        scm_id: body.scm_id,
    };
    let repo = host_repos::create(&state.host(), &caller.principal(), &key, new).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!(repr::repository(&state.base_url, &repo))),
    ))
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, slug)): Path<(String, String)>,
    Json(body): Json<RepoBody>,
) -> ApiResult<axum::Json<Value>> {
    let change = host_repos::RepositoryChange {
        name: body.name,
        slug: body.slug,
        description: body.description,
        public: body.public,
        default_branch: body.default_branch,
    };
    let who = caller.principal();
    let updated = host_repos::update(&state.host(), &who, &key, &slug, change).await?;
    Ok(axum::Json(json!(repr::repository(
        &state.base_url,
        &updated
    ))))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, slug)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    host_repos::delete(&state.host(), &caller.principal(), &key, &slug).await?;
    Ok(StatusCode::ACCEPTED)
}
