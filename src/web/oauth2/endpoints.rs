//! Revocation (RFC 7009), introspection (RFC 7662), userinfo, and authorization server metadata
//! (RFC 8414, served under the Data Center path and at the host root).

use super::client_auth::authenticate;
use super::error::OAuthError;
use super::token::{credentials, no_store, parse_form};
use crate::domain::oauth2::Scope;
use crate::domain::Action;
use crate::secret::token_hash;
use crate::web::auth::Caller;
use crate::web::error::ApiResult;
use crate::web::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// Authenticates the client and reads the `token` parameter both endpoints take.
async fn client_and_token(
    state: &AppState,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(crate::store::OAuthClient, String), OAuthError> {
    let form = parse_form(headers, body)?;
    let client = authenticate(&state.store, headers, credentials(&form)).await?;
    let token = form
        .get("token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| OAuthError::invalid_request("token is required."))?;
    Ok((client, token.clone()))
}

/// Ends a token of the authenticated client. A refresh token ends its whole grant. Unknown or
/// foreign tokens answer 200 as well (RFC 7009 §2.2), so the endpoint reveals nothing.
pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let (client, token) = client_and_token(&state, &headers, &body).await?;
    if let Some(t) = state
        .store
        .find_live_oauth_token(&token_hash(&token))
        .await?
    {
        if t.oauth_client_id == client.client_id {
            if t.token_kind == crate::store::OAuthTokenKind::Refresh {
                state.store.revoke_oauth_grant(t.grant_id).await?;
            } else {
                state.store.revoke_oauth_token(t.token_id).await?;
            }
        }
    }
    // An empty JSON object rather than no body: some clients insist on a JSON answer.
    Ok(no_store(axum::Json(json!({})).into_response()))
}

/// Tells the authenticated client whether one of its tokens is live, and for whom.
pub async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let (client, token) = client_and_token(&state, &headers, &body).await?;
    let body = match state
        .store
        .find_live_oauth_token(&token_hash(&token))
        .await?
    {
        Some(t) if t.oauth_client_id == client.client_id => json!({
            "active": true,
            "scope": t.scope,
            "client_id": t.oauth_client_id,
            "username": t.account.slug,
            "sub": t.account.slug,
            "token_type": if t.token_kind == crate::store::OAuthTokenKind::Access { "access_token" } else { "refresh_token" },
            "exp": t.token_expires_at / 1000,
            "iat": t.token_created_at / 1000,
            "iss": state.base_url,
        }),
        _ => json!({"active": false}),
    };
    Ok(no_store(axum::Json(body).into_response()))
}

/// Who the bearer acts for (Data Center has none; clients there read `X-AUSERNAME`).
pub async fn userinfo(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<Value>> {
    caller.check(Action::ViewUsers)?;
    let me = caller.user()?;
    Ok(axum::Json(json!({
        "sub": me.slug,
        "preferred_username": me.slug,
        "name": me.display_name,
        "email": me.email,
        "profile": format!("{}/users/{}", state.base_url, me.slug),
    })))
}

pub async fn metadata(State(state): State<AppState>) -> axum::Json<Value> {
    let base = &state.base_url;
    let api = format!("{base}/rest/oauth2/latest");
    axum::Json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{api}/authorize"),
        "token_endpoint": format!("{api}/token"),
        "revocation_endpoint": format!("{api}/revoke"),
        "introspection_endpoint": format!("{api}/introspect"),
        "userinfo_endpoint": format!("{api}/userinfo"),
        "scopes_supported": Scope::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "code_challenge_methods_supported": crate::domain::oauth2::pkce_methods(state.config.oauth2.allow_plain_pkce),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "authorization_response_iss_parameter_supported": true,
    }))
}
