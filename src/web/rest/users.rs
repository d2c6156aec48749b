//! Users: `/rest/api/1.0/users` for licensed users; `/rest/api/1.0/admin/users` and
//! `/rest/api/1.0/admin/groups` (teams) for administrators.

use super::repr;
use crate::domain::{Action, DisplayName, Email, GlobalPermission, Slug};
use crate::services::{audit, passwords};
use crate::store::{Account, AccountKind, StoreError};
use crate::web::auth::Caller;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::Path;
use crate::web::extract::Query;
use crate::web::json::Json;
use crate::web::paging::{page, PageParams};
use crate::web::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;

fn no_such_user(slug: &str) -> ApiError {
    ApiError::not_found(
        "com.atlassian.bitbucket.user.NoSuchUserException",
        format!("User {slug} does not exist."),
    )
}

pub async fn find_user(state: &AppState, slug: &str) -> ApiResult<Account> {
    state
        .store
        .find_account(&slug.to_ascii_lowercase())
        .await?
        .filter(|a| a.kind == "user")
        .ok_or_else(|| no_such_user(slug))
}

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

#[derive(Deserialize)]
pub struct FilterParams {
    #[serde(flatten)]
    pub page: PageParams,
    pub filter: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<FilterParams>,
) -> ApiResult<axum::Json<Value>> {
    caller.check(Action::ViewUsers)?;
    let req = q.page.request()?;
    let users = state
        .store
        .list_accounts(AccountKind::User, q.filter.as_deref())
        .await?;
    let values: Vec<Value> = users
        .iter()
        .filter(|u| u.active)
        .map(|u| repr::account(&state.base_url, u))
        .collect();
    Ok(axum::Json(page(req, values)))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    caller.check(Action::ViewUsers)?;
    let user = find_user(&state, &slug).await?;
    Ok(axum::Json(repr::account(&state.base_url, &user)))
}

pub async fn admin_list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<FilterParams>,
) -> ApiResult<axum::Json<Value>> {
    caller.check(Action::AdminSystem)?;
    let req = q.page.request()?;
    let users = state
        .store
        .list_accounts(AccountKind::User, q.filter.as_deref())
        .await?;
    let values: Vec<Value> = users
        .iter()
        .map(|u| repr::account(&state.base_url, u))
        .collect();
    Ok(axum::Json(page(req, values)))
}

/// Bitbucket creates users with query parameters.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct NewUserParams {
    pub name: Option<String>,
    pub password: Option<String>,
    pub display_name: Option<String>,
    pub email_address: Option<String>,
}

pub struct NewUser {
    pub slug: Slug,
    pub display_name: DisplayName,
    pub email: Option<Email>,
    pub password: String,
}

impl NewUser {
    pub fn parse(
        name: &str,
        display_name: Option<&str>,
        email: Option<&str>,
        password: &str,
    ) -> ApiResult<Self> {
        let slug = Slug::parse("name", name)?;
        let display_name = DisplayName::parse(
            "displayName",
            display_name
                .filter(|d| !d.trim().is_empty())
                .unwrap_or(name),
        )?;
        let email = email
            .filter(|e| !e.trim().is_empty())
            .map(Email::parse)
            .transpose()?;
        passwords::check_policy(password)
            .map_err(|m| ApiError::bad_request(m).with_context("password"))?;
        Ok(Self {
            slug,
            display_name,
            email,
            password: password.to_string(),
        })
    }
}

/// Creates a user (licensed, or with a higher global permission). Shared by REST, UI and CLI.
pub async fn create_user(
    state: &AppState,
    caller: &Caller,
    new: NewUser,
    global: GlobalPermission,
) -> ApiResult<Account> {
    let hash = passwords::hash(new.password)
        .await
        .map_err(ApiError::internal)?;
    let created = state
        .store
        .create_user(
            new.slug.as_str(),
            new.display_name.as_str(),
            new.email.as_ref().map(|e| e.as_str()),
            Some(&hash),
            Some(global),
        )
        .await;
    let user = match created {
        Err(StoreError::Duplicate) => {
            return Err(ApiError::conflict(
                "com.atlassian.bitbucket.user.DuplicateUserException",
                format!("The name {} is already taken by a user or team.", new.slug),
            )
            .with_context("name"))
        }
        other => other?,
    };
    audit::record(
        &state.store,
        &caller.actor(),
        "user.created",
        &format!("user:{}", user.slug),
        global.as_str(),
    )
    .await;
    Ok(user)
}

pub async fn admin_create(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<NewUserParams>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    caller.check(Action::AdminSystem)?;
    let new = NewUser::parse(
        p.name.as_deref().unwrap_or(""),
        p.display_name.as_deref(),
        p.email_address.as_deref(),
        p.password.as_deref().unwrap_or(""),
    )?;
    let user = create_user(&state, &caller, new, GlobalPermission::LicensedUser).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(repr::account(&state.base_url, &user)),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateUserBody {
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
}

/// `PUT /rest/api/1.0/admin/users`: change a user's display name or e-mail.
pub async fn admin_update(
    State(state): State<AppState>,
    caller: Caller,
    Json(b): Json<UpdateUserBody>,
) -> ApiResult<axum::Json<Value>> {
    caller.check(Action::AdminSystem)?;
    let user = find_user(&state, b.name.as_deref().unwrap_or("")).await?;
    let display = match b.display_name.as_deref() {
        Some(d) => DisplayName::parse("displayName", d)?.to_string(),
        None => user.display_name.clone(),
    };
    let email = match b.email.as_deref() {
        Some("") => None,
        Some(e) => Some(Email::parse(e)?.to_string()),
        None => user.email.clone(),
    };
    let updated = state
        .store
        .update_account(user.id, &display, email.as_deref())
        .await?;
    audit::record(
        &state.store,
        &caller.actor(),
        "user.updated",
        &format!("user:{}", user.slug),
        "",
    )
    .await;
    Ok(axum::Json(repr::account(&state.base_url, &updated)))
}

/// Activates or deactivates a user. Deactivation ends their sessions and tokens at once.
pub async fn set_active(
    state: &AppState,
    caller: &Caller,
    slug: &str,
    active: bool,
) -> ApiResult<Account> {
    let user = find_user(state, slug).await?;
    if !active && caller.user.as_ref().is_some_and(|me| me.id == user.id) {
        return Err(ApiError::bad_request(
            "You cannot deactivate your own account.",
        ));
    }
    let updated = state.store.set_active(user.id, active).await?;
    let action = if active {
        "user.activated"
    } else {
        "user.deactivated"
    };
    audit::record(
        &state.store,
        &caller.actor(),
        action,
        &format!("user:{}", user.slug),
        "",
    )
    .await;
    Ok(updated)
}

pub async fn admin_deactivate(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    caller.check(Action::AdminSystem)?;
    let user = set_active(&state, &caller, &slug, false).await?;
    Ok(axum::Json(repr::account(&state.base_url, &user)))
}

pub async fn admin_activate(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    caller.check(Action::AdminSystem)?;
    let user = set_active(&state, &caller, &slug, true).await?;
    Ok(axum::Json(repr::account(&state.base_url, &user)))
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
    let updated = state.store.set_active(team.id, active).await?;
    let action = if active {
        "team.activated"
    } else {
        "team.deactivated"
    };
    audit::record(
        &state.store,
        &caller.actor(),
        action,
        &format!("team:{}", team.slug),
        "",
    )
    .await;
    Ok(updated)
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

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MeBody {
    pub display_name: Option<String>,
    pub email: Option<String>,
}

/// `PUT /rest/api/1.0/users`: the signed-in user changes their display name or e-mail.
pub async fn update_me(
    State(state): State<AppState>,
    caller: Caller,
    Json(b): Json<MeBody>,
) -> ApiResult<axum::Json<Value>> {
    caller.check(Action::EditOwnAccount)?;
    let me = caller.user()?;
    let display = match b.display_name.as_deref() {
        Some(d) => DisplayName::parse("displayName", d)?.to_string(),
        None => me.display_name.clone(),
    };
    let email = match b.email.as_deref().map(str::trim) {
        Some("") => None,
        Some(e) => Some(Email::parse(e)?.to_string()),
        None => me.email.clone(),
    };
    let updated = state
        .store
        .update_account(me.id, &display, email.as_deref())
        .await?;
    audit::record(
        &state.store,
        &caller.actor(),
        "user.profile_updated",
        &format!("user:{}", me.slug),
        "",
    )
    .await;
    Ok(axum::Json(repr::account(&state.base_url, &updated)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordBody {
    pub old_password: Option<String>,
    pub password: Option<String>,
    pub password_confirm: Option<String>,
}

/// `PUT /rest/api/1.0/users/credentials`: the signed-in user changes their password. Their other
/// sessions end.
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    Json(b): Json<PasswordBody>,
) -> ApiResult<StatusCode> {
    caller.check(Action::EditOwnAccount)?;
    let me = caller.user()?;
    let new = b.password.unwrap_or_default();
    if Some(&new) != b.password_confirm.as_ref() {
        return Err(
            ApiError::bad_request("The new password and its confirmation differ.")
                .with_context("passwordConfirm"),
        );
    }
    passwords::check_policy(&new).map_err(|m| ApiError::bad_request(m).with_context("password"))?;
    let old = b.old_password.unwrap_or_default();
    match crate::services::sign_in::check_password(
        &state.store,
        &state.config.security,
        &me.slug,
        &old,
        &caller.ip,
    )
    .await
    {
        Ok(_) => {}
        Err(crate::services::sign_in::SignInError::Store(e)) => return Err(e.into()),
        Err(e) => {
            return Err(
                ApiError::bad_request(format!("The current password is not right. {e}"))
                    .with_context("oldPassword"),
            )
        }
    }
    let hash = passwords::hash(new).await.map_err(ApiError::internal)?;
    let keep = match caller.credential {
        crate::web::auth::Credential::Session { id, .. } => Some(id),
        _ => None,
    };
    state.store.set_password(me.id, &hash, keep).await?;
    audit::record(
        &state.store,
        &caller.actor(),
        "user.password_changed",
        &format!("user:{}", me.slug),
        "",
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}
