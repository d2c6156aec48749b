//! Users: `/rest/api/1.0/users` for licensed users, `/rest/api/1.0/admin/users` for administrators.
//! Each handler parses, calls `services::host::users`, and renders Data Center's shape.

use super::repr;
use crate::services::host::users::{self as host_users, Audience, NewUser, UserChange};
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
    list_users(&state, &caller, q, Audience::People).await
}

pub async fn admin_list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<FilterParams>,
) -> ApiResult<axum::Json<Value>> {
    list_users(&state, &caller, q, Audience::Administrators).await
}

async fn list_users(
    state: &AppState,
    caller: &Caller,
    q: FilterParams,
    audience: Audience,
) -> ApiResult<axum::Json<Value>> {
    let req = q.page.request()?;
    let principal = caller.principal();
    let users = host_users::list(&state.host(), &principal, q.filter.as_deref(), audience).await?;
    let values = users
        .iter()
        .map(|u| repr::account(&state.base_url, u))
        .collect();
    Ok(axum::Json(page(req, values)))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let user = host_users::get(&state.host(), &caller.principal(), &slug).await?;
    Ok(axum::Json(repr::account(&state.base_url, &user)))
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

/// `POST /rest/api/1.0/admin/users`: the fields as query parameters (Bitbucket's way), or in a
/// JSON body, which keeps the password out of URLs (and proxies' logs). The body wins.
pub async fn admin_create(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<NewUserParams>,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    // Refused before the body is read, so a token learns nothing from a well-formed body.
    caller.check(crate::domain::Action::AdminCredentials)?;
    let b: NewUserParams = if body.iter().all(u8::is_ascii_whitespace) {
        NewUserParams::default()
    } else {
        serde_json::from_slice(&body).map_err(|_| {
            ApiError::bad_request(
                "The body must be a JSON object with name, password, displayName and emailAddress (all strings).",
            )
        })?
    };
    let new = NewUser::parse(
        b.name.or(q.name).as_deref().unwrap_or(""),
        b.display_name.or(q.display_name).as_deref(),
        b.email_address.or(q.email_address).as_deref(),
        b.password.or(q.password).as_deref().unwrap_or(""),
    )?;
    let user = host_users::create(&state.host(), &caller.principal(), new).await?;
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
    let change = UserChange {
        display_name: b.display_name,
        email: b.email,
    };
    let slug = b.name.unwrap_or_default();
    let updated = host_users::update(&state.host(), &caller.principal(), &slug, change).await?;
    Ok(axum::Json(repr::account(&state.base_url, &updated)))
}

pub async fn admin_deactivate(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    set_active(&state, &caller, &slug, false).await
}

pub async fn admin_activate(
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
    let user = host_users::set_active(&state.host(), &caller.principal(), slug, active).await?;
    Ok(axum::Json(repr::account(&state.base_url, &user)))
}
