//! Repositories: `/rest/api/1.0/projects/{key}/repos[/{slug}]` and the `/rest/api/1.0/repos` search.

use super::projects::{self, MAX_DESCRIPTION};
use super::repr;
use crate::domain::names::{bounded_text, parse_optional};
use crate::domain::{Action, DisplayName, Slug};
use crate::services::audit;
use crate::services::host::repositories::{self as host_repos, Needed};
use crate::store::{RepoFilter, Repository, RepositoryChanges, StoreError};
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

fn repo_taken() -> ApiError {
    crate::services::host::HostError::repository_taken().into()
}

fn parse_branch(raw: Option<&str>) -> ApiResult<Option<String>> {
    Ok(host_repos::default_branch(raw)?)
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
    let repo = load(&state, &caller, &key, &slug, Action::AdminRepo).await?;
    let changes = RepositoryChanges {
        slug: parse_optional(body.slug.as_deref(), |s| Slug::parse("slug", s))?,
        name: parse_optional(body.name.as_deref(), |n| DisplayName::parse("name", n))?,
        description: body
            .description
            .as_deref()
            .map(|d| bounded_text("description", d, MAX_DESCRIPTION))
            .transpose()?,
        public: body.public,
        default_branch: parse_branch(body.default_branch.as_deref())?,
    };
    let updated = match state
        .store
        .update_repository(repo.id, &changes, &state.emit(caller.user()?))
        .await
    {
        Err(StoreError::Duplicate) => return Err(repo_taken()),
        other => other?,
    };
    let target = format!("repo:{}/{}", updated.project_key, updated.slug);
    audit::record(&state.store, &caller.actor(), "repo.updated", &target, "").await;
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
    let repo = load(&state, &caller, &key, &slug, Action::DeleteRepo).await?;
    state
        .store
        .delete_repository(repo.id, &state.emit(caller.user()?))
        .await?;
    let target = format!("repo:{}/{}", repo.project_key, repo.slug);
    audit::record(&state.store, &caller.actor(), "repo.deleted", &target, "").await;
    Ok(StatusCode::ACCEPTED)
}
