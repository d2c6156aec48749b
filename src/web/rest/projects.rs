//! `/rest/api/1.0/projects`: list, get, create, update, delete.

use super::repr;
use crate::domain::names::{bounded_text, parse_optional};
use crate::domain::{Action, DisplayName, ProjectKey};
use crate::services::audit;
use crate::store::{Project, ProjectChanges, StoreError};
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

use crate::services::host::projects as host_projects;
pub use crate::services::host::projects::MAX_DESCRIPTION;

/// Finds a project and checks the caller may do `action` on it.
pub async fn load(
    state: &AppState,
    caller: &Caller,
    key: &str,
    action: Action,
) -> ApiResult<Project> {
    Ok(host_projects::find(&state.host(), &caller.principal(), key, action).await?)
}

#[derive(Deserialize)]
pub struct ListParams {
    #[serde(flatten)]
    pub page: PageParams,
    pub name: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListParams>,
) -> ApiResult<axum::response::Response> {
    let req = q.page.request()?;
    let name = q.name.as_deref();
    let found = host_projects::list(&state.host(), &caller.principal(), name, window(req)).await?;
    let page = paged(req, found);
    let base = &state.base_url;
    Ok(page.respond(page.rows.iter().map(|p| repr::project(base, p)).collect()))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let project = load(&state, &caller, &key, Action::ViewProject).await?;
    Ok(axum::Json(json!(repr::project(&state.base_url, &project))))
}

#[derive(Deserialize)]
pub struct ProjectBody {
    pub key: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub public: Option<bool>,
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<ProjectBody>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let new = host_projects::NewProject {
        key: body.key,
        name: body.name,
        description: body.description,
        public: body.public.unwrap_or(false),
    };
    let project = host_projects::create(&state.host(), &caller.principal(), new).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!(repr::project(&state.base_url, &project))),
    ))
}

/// Says which of key and name is taken.
async fn project_taken(state: &AppState, new_key: Option<&str>) -> ApiError {
    host_projects::taken(&state.host(), new_key).await.into()
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Json(body): Json<ProjectBody>,
) -> ApiResult<axum::Json<Value>> {
    let project = load(&state, &caller, &key, Action::AdminProject).await?;
    let changes = ProjectChanges {
        key: parse_optional(body.key.as_deref(), ProjectKey::parse)?,
        name: parse_optional(body.name.as_deref(), |n| DisplayName::parse("name", n))?,
        description: body
            .description
            .as_deref()
            .map(|d| bounded_text("description", d, MAX_DESCRIPTION))
            .transpose()?,
        public: body.public,
    };
    let new_key = changes.key.clone().filter(|k| *k != project.key);
    let updated = match state.store.update_project(project.id, &changes).await {
        Err(StoreError::Duplicate) => return Err(project_taken(&state, new_key.as_deref()).await),
        other => other?,
    };
    audit::record(
        &state.store,
        &caller.actor(),
        "project.updated",
        &format!("project:{}", updated.key),
        "",
    )
    .await;
    Ok(axum::Json(json!(repr::project(&state.base_url, &updated))))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> ApiResult<StatusCode> {
    let project = load(&state, &caller, &key, Action::DeleteProject).await?;
    if !state.store.delete_empty_project(project.id).await? {
        return Err(ApiError::conflict(
            "com.atlassian.bitbucket.IntegrityException",
            format!("Project {} cannot be deleted because it still has repositories; delete or move them first.", project.key),
        ));
    }
    audit::record(
        &state.store,
        &caller.actor(),
        "project.deleted",
        &format!("project:{}", project.key),
        "",
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}
