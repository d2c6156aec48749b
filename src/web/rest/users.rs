//! Users: `/rest/api/1.0/users` for licensed users, `/rest/api/1.0/admin/users` for administrators.

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
    list_users(&state, q, false).await
}

/// Users matching the filter; deactivated ones only for administrators.
async fn list_users(
    state: &AppState,
    q: FilterParams,
    include_inactive: bool,
) -> ApiResult<axum::Json<Value>> {
    let req = q.page.request()?;
    let users = state
        .store
        .list_accounts(AccountKind::User, q.filter.as_deref())
        .await?;
    let values: Vec<Value> = users
        .iter()
        .filter(|u| include_inactive || u.active)
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
    list_users(&state, q, true).await
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
    let hash = state
        .passwords
        .hash(new.password)
        .await?
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

/// `POST /rest/api/1.0/admin/users`: the fields as query parameters (Bitbucket's way), or in a
/// JSON body, which keeps the password out of URLs (and proxies' logs). The body wins.
pub async fn admin_create(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<NewUserParams>,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    // A new person's password is a credential.
    caller.check(Action::AdminCredentials)?;
    let b: NewUserParams = if body.iter().all(u8::is_ascii_whitespace) {
        NewUserParams::default()
    } else {
        serde_json::from_slice(&body).map_err(|_| {
            ApiError::bad_request(
                "The body must be a JSON object with name, password, displayName and emailAddress (all strings).",
            )
        })?
    };
    let p = NewUserParams {
        name: b.name.or(q.name),
        password: b.password.or(q.password),
        display_name: b.display_name.or(q.display_name),
        email_address: b.email_address.or(q.email_address),
    };
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
    change_active(state, caller, &user, active).await
}

/// Flips an account's (user's or team's) active flag and audits it as `user.…` or `team.…`.
pub async fn change_active(
    state: &AppState,
    caller: &Caller,
    account: &Account,
    active: bool,
) -> ApiResult<Account> {
    // Deactivating must leave a system administrator, decided in the same transaction.
    let keep: Option<crate::store::SysAdminRule<'_>> =
        (!active && account.kind == "user").then_some(&crate::domain::leaves_a_sys_admin);
    let updated = match state.store.set_active(account.id, active, keep).await? {
        crate::store::Guarded::Done(a) => a,
        crate::store::Guarded::Refused => return Err(super::permissions::last_sys_admin()),
    };
    let action = format!(
        "{}.{}",
        account.kind,
        if active { "activated" } else { "deactivated" }
    );
    let target = format!("{}:{}", account.kind, account.slug);
    audit::record(&state.store, &caller.actor(), &action, &target, "").await;
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
