//! Teams (Bitbucket's "groups"): `/rest/api/1.0/admin/groups` for administrators, and
//! `/rest/junction/1.0/teams/{team}[/members]` for administrators and the team's own admins.

use super::repr;
use crate::domain::{Action, DisplayName, Slug};
use crate::services::audit;
use crate::store::{Account, AccountKind, StoreError};
use crate::web::auth::Caller;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::Path;
use crate::web::extract::Query;
use crate::web::json::Json;
use crate::web::paging::page;
use crate::web::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;

use super::users::{find_user, FilterParams};

pub async fn find_team(state: &AppState, slug: &str) -> ApiResult<Account> {
    state
        .store
        .find_account(&slug.to_ascii_lowercase())
        .await?
        .filter(|a| a.kind == "team")
        .ok_or_else(|| {
            ApiError::not_found(
                "com.atlassian.bitbucket.user.NoSuchGroupException",
                format!("Team {slug} does not exist."),
            )
        })
}

pub async fn admin_list_teams(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<FilterParams>,
) -> ApiResult<axum::Json<Value>> {
    caller.check(Action::AdminSystem)?;
    let req = q.page.request()?;
    let teams = state
        .store
        .list_accounts(AccountKind::Team, q.filter.as_deref())
        .await?;
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
    caller.check(Action::AdminSystem)?;
    let name = q.name.as_deref().unwrap_or("");
    let slug = Slug::parse("name", name)?;
    let team = match state
        .store
        .create_team(slug.as_str(), name.trim(), caller.user()?.id)
        .await
    {
        Err(StoreError::Duplicate) => {
            return Err(ApiError::conflict(
                "com.atlassian.bitbucket.user.DuplicateGroupException",
                format!("The name {slug} is already taken by a user or team."),
            )
            .with_context("name"))
        }
        other => other?,
    };
    audit::record(
        &state.store,
        &caller.actor(),
        "team.created",
        &format!("team:{}", team.slug),
        "",
    )
    .await;
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
    let team = find_team(&state, &team).await?;
    check_team_admin(&state, &caller, &team).await?;
    let user = find_user(&state, b.user.as_deref().unwrap_or("")).await?;
    let role = match b.role.as_deref().unwrap_or("member") {
        r @ ("member" | "admin") => r,
        other => {
            return Err(ApiError::bad_request(format!(
                "'{other}' is not a team role; use member or admin."
            ))
            .with_context("role"))
        }
    };
    state.store.set_team_member(team.id, user.id, role).await?;
    audit::record(
        &state.store,
        &caller.actor(),
        "team.member_set",
        &format!("team:{}", team.slug),
        &format!("{}={role}", user.slug),
    )
    .await;
    members(&state, &team).await
}

pub async fn remove_team_member(
    State(state): State<AppState>,
    caller: Caller,
    Path((team, user)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let team = find_team(&state, &team).await?;
    check_team_admin(&state, &caller, &team).await?;
    let user = find_user(&state, &user).await?;
    if !state.store.remove_team_member(team.id, user.id).await? {
        return Err(ApiError::not_found(
            "com.atlassian.bitbucket.NoSuchEntityException",
            format!("{} is not a member of {}.", user.slug, team.slug),
        ));
    }
    audit::record(
        &state.store,
        &caller.actor(),
        "team.member_removed",
        &format!("team:{}", team.slug),
        &user.slug,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_team_members(
    State(state): State<AppState>,
    caller: Caller,
    Path(team): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    caller.check(Action::ViewUsers)?;
    let team = find_team(&state, &team).await?;
    members(&state, &team).await
}

async fn members(state: &AppState, team: &Account) -> ApiResult<axum::Json<Value>> {
    let members = state.store.team_members(team.id).await?;
    let values: Vec<Value> = members
        .iter()
        .map(|m| serde_json::json!({"user": m.slug, "displayName": m.display_name, "role": m.role}))
        .collect();
    Ok(axum::Json(
        serde_json::json!({"team": repr::team(team), "members": values}),
    ))
}

/// System admins manage every team; a team's own admins manage theirs.
async fn check_team_admin(state: &AppState, caller: &Caller, team: &Account) -> ApiResult<()> {
    let me = caller.user()?;
    let is_team_admin = state
        .store
        .team_members(team.id)
        .await?
        .iter()
        .any(|m| m.user_id == me.id && m.role == "admin");
    let facts = crate::domain::ResourceFacts {
        level: if is_team_admin {
            crate::domain::Level::Admin
        } else {
            crate::domain::Level::None
        },
        ..Default::default()
    };
    crate::domain::authorize(&caller.subject, Action::AdminTeam, Some(&facts))
        .map_err(|d| ApiError::from_denial(d, ApiError::unauthenticated))
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
    let team = find_team(&state, &team).await?;
    check_team_admin(&state, &caller, &team).await?;
    let name = DisplayName::parse("displayName", b.display_name.as_deref().unwrap_or(""))?;
    let updated = state
        .store
        .update_account(team.id, name.as_str(), None)
        .await?;
    audit::record(
        &state.store,
        &caller.actor(),
        "team.updated",
        &format!("team:{}", team.slug),
        name.as_str(),
    )
    .await;
    Ok(axum::Json(repr::team(&updated)))
}

/// Activates or deactivates a team. A deactivated team's grants stop applying to its members.
pub async fn set_team_active(
    state: &AppState,
    caller: &Caller,
    slug: &str,
    active: bool,
) -> ApiResult<Account> {
    caller.check(Action::AdminSystem)?;
    let team = find_team(state, slug).await?;
    super::users::change_active(state, caller, &team, active).await
}

pub async fn admin_deactivate_team(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(repr::team(
        &set_team_active(&state, &caller, &slug, false).await?,
    )))
}

pub async fn admin_activate_team(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(repr::team(
        &set_team_active(&state, &caller, &slug, true).await?,
    )))
}
