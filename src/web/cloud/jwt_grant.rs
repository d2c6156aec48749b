//! `POST /site/oauth2/access_token` with `grant_type=urn:bitbucket:oauth2:jwt` and
//! `Authorization: JWT …`: Bitbucket Cloud's exchange of an app's JWT for a short-lived access
//! token acting as the installation (within its scopes, dying with it). Errors as RFC 6749 §5.2.

use crate::services::host::app_calls;
use crate::web::auth::{Caller, Credential};
use crate::web::oauth2::error::OAuthError;
use crate::web::state::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

pub const JWT_GRANT: &str = "urn:bitbucket:oauth2:jwt";

#[derive(Deserialize)]
pub struct GrantForm {
    grant_type: Option<String>,
}

pub async fn exchange(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<Response, OAuthError> {
    let grant = serde_urlencoded::from_bytes::<GrantForm>(&body)
        .ok()
        .and_then(|f| f.grant_type);
    if grant.as_deref() != Some(JWT_GRANT) {
        return Err(OAuthError::new(
            "unsupported_grant_type",
            format!("This endpoint exchanges an app's JWT: send grant_type={JWT_GRANT}."),
        ));
    }
    let Credential::Connect { app } = &caller.credential else {
        return Err(OAuthError::invalid_request(
            "Sign the request with the app's JWT (Authorization: JWT …).",
        ));
    };
    let installation = &app.installation;
    let (token, expires_in) = app_calls::exchange(&state.host(), installation)
        .await
        .map_err(|e| {
            OAuthError::new("server_error", crate::web::error::ApiError::from(e).message)
        })?;
    let scopes = installation.scopes.clone();
    Ok(axum::Json(json!({
        "access_token": token,
        "token_type": "bearer",
        "expires_in": expires_in,
        "scopes": scopes,
    }))
    .into_response())
}
