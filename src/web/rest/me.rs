//! The signed-in user's own account: `PUT /rest/api/1.0/users` (profile) and
//! `PUT /rest/api/1.0/users/credentials` (password).

use super::repr;

use crate::services::host::accounts::{self, PasswordChange, ProfileChange};
use crate::web::auth::Caller;
use crate::web::error::ApiResult;
use crate::web::json::Json;
use crate::web::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;

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
    let change = ProfileChange {
        display_name: b.display_name,
        email: b.email,
    };
    let updated = accounts::update_profile(&state.host(), &caller.principal(), change).await?;
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
    let change = PasswordChange {
        old: b.old_password.unwrap_or_default(),
        new: b.password.unwrap_or_default(),
        confirm: b.password_confirm.unwrap_or_default(),
    };
    accounts::change_password(
        &state.host(),
        &caller.principal(),
        change,
        caller.session_id(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
