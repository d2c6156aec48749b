//! Teams (Bitbucket's "groups"): `/rest/api/1.0/admin/groups` for administrators, and
//! `/rest/junction/1.0/teams/{team}[/members]` for administrators and the team's own admins.
//! Each handler parses, calls `services::host::teams`, and renders the answer.

use super::repr;
use super::users::FilterParams;
use crate::services::host::teams as host_teams;
use crate::store::{Account, TeamMember};
use crate::web::auth::Caller;
use crate::web::error::ApiResult;
use crate::web::extract::Path;
use crate::web::extract::Query;
use crate::web::json::Json;
use crate::web::paging::page;
use crate::web::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};

pub async fn admin_list_teams(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<FilterParams>,
) -> ApiResult<axum::Json<Value>> {
    let req = q.page.request()?;
    let principal = caller.principal();
    let teams = host_teams::list(&state.host(), &principal, q.filter.as_deref()).await?;
    Ok(axum::Json(page(
        req,
        teams.iter().map(repr::team).collect(),
    )))
}

#[derive(Deserialize)]
pub struct NameParam {
    pub name: Option<String>,
}

/// `POST /rest/api/1.0/admin/groups?name=`: creates a team with the caller as its first admin.
pub async fn admin_create_team(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<NameParam>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let name = q.name.unwrap_or_default();
    let team = host_teams::create(&state.host(), &caller.principal(), &name).await?;
    Ok((StatusCode::CREATED, axum::Json(repr::team(&team))))
}

#[derive(Deserialize)]
pub struct MemberBody {
    pub user: Option<String>,
    pub role: Option<String>,
}

/// `PUT /rest/junction/1.0/teams/{team}/members`: adds a member or changes their role.
pub async fn set_team_member(
    State(state): State<AppState>,
    caller: Caller,
    Path(team): Path<String>,
    Json(b): Json<MemberBody>,
) -> ApiResult<axum::Json<Value>> {
    let user = b.user.unwrap_or_default();
    let role = b.role.as_deref().unwrap_or("member");
    let principal = caller.principal();
    let (team, members) =
        host_teams::set_member(&state.host(), &principal, &team, &user, role).await?;
    Ok(axum::Json(members_json(&team, &members)))
}

pub async fn remove_team_member(
    State(state): State<AppState>,
    caller: Caller,
    Path((team, user)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    host_teams::remove_member(&state.host(), &caller.principal(), &team, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_team_members(
    State(state): State<AppState>,
    caller: Caller,
    Path(team): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let (team, members) = host_teams::members(&state.host(), &caller.principal(), &team).await?;
    Ok(axum::Json(members_json(&team, &members)))
}

fn members_json(team: &Account, members: &[TeamMember]) -> Value {
    let values: Vec<Value> = members
        .iter()
        .map(|m| json!({"user": m.slug, "displayName": m.display_name, "role": m.role}))
        .collect();
    json!({"team": repr::team(team), "members": values})
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TeamBody {
    pub display_name: Option<String>,
}

/// `PUT /rest/junction/1.0/teams/{team}`: renames a team (its display name).
pub async fn update_team(
    State(state): State<AppState>,
    caller: Caller,
    Path(team): Path<String>,
    Json(b): Json<TeamBody>,
) -> ApiResult<axum::Json<Value>> {
    let name = b.display_name.unwrap_or_default();
    let updated = host_teams::rename(&state.host(), &caller.principal(), &team, &name).await?;
    Ok(axum::Json(repr::team(&updated)))
}

pub async fn admin_deactivate_team(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    set_active(&state, &caller, &slug, false).await
}

pub async fn admin_activate_team(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    set_active(&state, &caller, &slug, true).await
}

async fn set_active(
    state: &AppState,
    caller: &Caller,
    slug: &str,
    active: bool,
) -> ApiResult<axum::Json<Value>> {
    let team = host_teams::set_active(&state.host(), &caller.principal(), slug, active).await?;
    Ok(axum::Json(repr::team(&team)))
}
