//! The signed-in user's own account: `PUT /rest/api/1.0/users` (profile) and
//! `PUT /rest/api/1.0/users/credentials` (password).

use super::repr;
use crate::domain::{Action, DisplayName, Email};
use crate::services::{audit, passwords};
use crate::web::auth::Caller;
use crate::web::error::{ApiError, ApiResult};
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
    caller.check(Action::CreateOwnCredential)?;
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
    match state
        .sign_in
        .check_password(
            &state.store,
            &state.config.security,
            &me.slug,
            &old,
            &caller.ip,
        )
        .await
    {
        Ok(_) | Err(crate::services::sign_in::SignInError::PasswordChangeRequired(_)) => {}
        Err(
            e @ (crate::services::sign_in::SignInError::Invalid
            | crate::services::sign_in::SignInError::Throttled { .. }),
        ) => {
            return Err(
                ApiError::bad_request(format!("The current password is not right. {e}"))
                    .with_context("oldPassword"),
            )
        }
        Err(e) => return Err(e.into()),
    }
    let hash = state
        .passwords
        .hash(new)
        .await?
        .map_err(ApiError::internal)?;
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
