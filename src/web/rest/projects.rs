//! `/rest/api/1.0/projects`: list, get, create, update, delete.

use super::repr;
use crate::domain::Action;
use crate::store::Project;
use crate::web::auth::Caller;
use crate::web::error::ApiResult;
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

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Json(body): Json<ProjectBody>,
) -> ApiResult<axum::Json<Value>> {
    let change = host_projects::ProjectChange {
        key: body.key,
        name: body.name,
        description: body.description,
        public: body.public,
    };
    let updated = host_projects::update(&state.host(), &caller.principal(), &key, change).await?;
    Ok(axum::Json(json!(repr::project(&state.base_url, &updated))))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> ApiResult<StatusCode> {
    host_projects::delete(&state.host(), &caller.principal(), &key).await?;
    Ok(StatusCode::NO_CONTENT)
}
