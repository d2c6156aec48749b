//! `POST /rest/oauth2/latest/token`: the `authorization_code` and `refresh_token` grants.
//! Codes are single-use (a replay revokes what they issued); refresh tokens rotate, and a
//! rotated one presented again revokes the whole grant.

use super::client_auth::{authenticate, PostedCredentials};
use super::error::OAuthError;
use crate::domain::oauth2::{pkce_matches, ScopeSet};
use crate::secret::{new_token, token_hash, TokenKind};
use crate::store::{OAuthClient, Redeemed, Rotated};
use crate::web::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::collections::HashMap;

/// Parses an `application/x-www-form-urlencoded` body; a parameter sent twice is an error
/// (RFC 6749 §3.2).
pub fn parse_form(
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<HashMap<String, String>, OAuthError> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(OAuthError::invalid_request(
            "Send the parameters as application/x-www-form-urlencoded.",
        ));
    }
    let mut out = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        if out.insert(k.to_string(), v.to_string()).is_some() {
            return Err(OAuthError::invalid_request(format!(
                "The parameter {k} was sent more than once."
            )));
        }
    }
    Ok(out)
}

const USER_INACTIVE: &str = "The person who authorized this application is deactivated; nothing is issued until an administrator reactivates them.";

pub fn credentials(form: &HashMap<String, String>) -> PostedCredentials<'_> {
    PostedCredentials {
        client_id: form.get("client_id").map(String::as_str),
        client_secret: form.get("client_secret").map(String::as_str),
    }
}

pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let form = parse_form(&headers, &body)?;
    let client = authenticate(&state.store, &headers, credentials(&form)).await?;
    let param = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
    match param("grant_type") {
        Some("authorization_code") => authorization_code(&state, &client, &form).await,
        Some("refresh_token") => refresh_token(&state, &client, &form).await,
        Some("client_credentials") => client_credentials(&state, &client, &form).await,
        Some(other) => Err(OAuthError::new(
            "unsupported_grant_type",
            format!("The grant type '{other}' is not supported; use authorization_code, refresh_token or client_credentials."),
        )),
        None => Err(OAuthError::invalid_request("grant_type is required.")),
    }
}

async fn authorization_code(
    state: &AppState,
    client: &OAuthClient,
    form: &HashMap<String, String>,
) -> Result<Response, OAuthError> {
    let code = form
        .get("code")
        .ok_or_else(|| OAuthError::invalid_request("code is required."))?;
    let redirect_uri = form
        .get("redirect_uri")
        .ok_or_else(|| OAuthError::invalid_request("redirect_uri is required."))?;
    let (grant_id, issued_to, expected_redirect, challenge, expired) = match crate::services::oauth2::redeem_code(&state.store, &token_hash(code)).await? {
        Redeemed::Fresh { grant_id, client, redirect_uri, challenge, expired, user_active } => {
            if !user_active {
                // Nothing is issued to a deactivated person; the pending code's grant ends.
                let _ = state.store.revoke_oauth_grant(grant_id).await;
                return Err(OAuthError::invalid_grant(USER_INACTIVE));
            }
            (grant_id, client, redirect_uri, challenge, expired)
        }
        Redeemed::Replayed { .. } => {
            return Err(OAuthError::invalid_grant(
                "This authorization code was already used; every token issued from it has been revoked.",
            ))
        }
        Redeemed::Unknown => return Err(OAuthError::invalid_grant("The authorization code is not valid.")),
    };
    // From here on the code is spent: any failure leaves it unusable.
    let fail = |msg: &'static str| async move {
        let _ = state.store.revoke_oauth_grant(grant_id).await;
        Err(OAuthError::invalid_grant(msg))
    };
    if issued_to != client.id {
        return fail("The authorization code was issued to another client.").await;
    }
    if expired {
        return fail("The authorization code has expired; start the authorization again.").await;
    }
    if *redirect_uri != expected_redirect {
        return fail("redirect_uri does not match the one used to obtain the code.").await;
    }
    if let Some((challenge, method)) = challenge {
        let verifier = form.get("code_verifier").map(String::as_str).unwrap_or("");
        if !pkce_matches(verifier, &challenge, &method) {
            return fail("code_verifier does not match the code_challenge.").await;
        }
    }
    let scope = state.store.grant_scope(grant_id).await?;
    issue(state, grant_id, &scope).await
}

async fn refresh_token(
    state: &AppState,
    client: &OAuthClient,
    form: &HashMap<String, String>,
) -> Result<Response, OAuthError> {
    let presented = form
        .get("refresh_token")
        .ok_or_else(|| OAuthError::invalid_request("refresh_token is required."))?;
    let hash = token_hash(presented);
    let requested = match form.get("scope").filter(|s| !s.is_empty()) {
        Some(s) => Some(ScopeSet::parse(s).map_err(|m| OAuthError::new("invalid_scope", m))?),
        None => None,
    };
    // Another client's token, or a request the token cannot satisfy, is refused without
    // touching it: rotating first would make the next normal refresh look like a replay.
    if let Some(live) = state.store.find_live_oauth_token(&hash).await? {
        if live.oauth_client_id != client.client_id
            || live.token_kind != crate::store::OAuthTokenKind::Refresh
        {
            return Err(OAuthError::invalid_grant("The refresh token is not valid."));
        }
        let granted = ScopeSet::parse(&live.scope).map_err(OAuthError::server_error)?;
        if requested.is_some_and(|r| !granted.implies(r)) {
            return Err(OAuthError::new(
                "invalid_scope",
                "A refresh cannot widen the scope that was granted.",
            ));
        }
    }
    let (grant_id, scope) = match crate::services::oauth2::rotate_refresh_token(&state.store, &hash).await? {
        Rotated::Fresh { grant_id, client: owner, scope } if owner == client.id => (grant_id, scope),
        Rotated::Fresh { .. } | Rotated::Unknown => return Err(OAuthError::invalid_grant("The refresh token is not valid.")),
        Rotated::UserInactive => return Err(OAuthError::invalid_grant(USER_INACTIVE)),
        Rotated::Reused { .. } => {
            return Err(OAuthError::invalid_grant(
                "This refresh token was already used; the authorization has been revoked. Ask the user to authorize again.",
            ))
        }
    };
    if let Some(requested) = requested {
        let granted = ScopeSet::parse(&scope).map_err(OAuthError::server_error)?;
        if !granted.implies(requested) {
            return Err(OAuthError::new(
                "invalid_scope",
                "A refresh cannot widen the scope that was granted.",
            ));
        }
    }
    issue(state, grant_id, &scope).await
}

/// Client credentials: only a service account's client may use them; the token acts as that
/// account, within the client's scope (or less, if asked), and has no refresh token.
async fn client_credentials(
    state: &AppState,
    client: &OAuthClient,
    form: &HashMap<String, String>,
) -> Result<Response, OAuthError> {
    let account = state
        .store
        .service_account_of_client(client.id)
        .await?
        .ok_or_else(|| {
            OAuthError::new(
                "unauthorized_client",
                "Only service accounts' clients may use the client_credentials grant.",
            )
        })?;
    if !account.active {
        return Err(OAuthError::new(
            "unauthorized_client",
            "This service account is deactivated.",
        ));
    }
    let allowed = ScopeSet::parse(&client.scope).map_err(OAuthError::server_error)?;
    let scope = match form.get("scope").filter(|s| !s.is_empty()) {
        Some(s) => ScopeSet::parse(s).map_err(|m| OAuthError::new("invalid_scope", m))?,
        None => allowed,
    };
    if !allowed.implies(scope) {
        return Err(OAuthError::new(
            "invalid_scope",
            format!("This client may ask for at most {}.", allowed.as_str()),
        ));
    }
    let grant = state
        .store
        .service_grant(client.id, account.id, scope.as_str())
        .await?;
    let access_secs = i64::from(state.config.oauth2.access_token_minutes) * 60;
    let access = new_token(TokenKind::OAuthAccess);
    let expires = state.clock.now_ms() + access_secs * 1000;
    state
        .store
        .issue_oauth_tokens(grant, (&token_hash(&access), expires), None)
        .await?;
    let body = json!({"access_token": access, "token_type": "bearer", "expires_in": access_secs, "scope": scope.as_str()});
    Ok(no_store(axum::Json(body).into_response()))
}

/// Issues a new access and refresh token on a grant and answers with them.
async fn issue(state: &AppState, grant_id: i64, scope: &str) -> Result<Response, OAuthError> {
    let now = state.clock.now_ms();
    let access_secs = i64::from(state.config.oauth2.access_token_minutes) * 60;
    let refresh_ms = i64::from(state.config.oauth2.refresh_token_days) * 86_400_000;
    let access = new_token(TokenKind::OAuthAccess);
    let refresh = new_token(TokenKind::OAuthRefresh);
    state
        .store
        .issue_oauth_tokens(
            grant_id,
            (&token_hash(&access), now + access_secs * 1000),
            Some((&token_hash(&refresh), now + refresh_ms)),
        )
        .await?;
    let body = json!({
        "access_token": access,
        "token_type": "bearer",
        "expires_in": access_secs,
        "refresh_token": refresh,
        "scope": scope,
    });
    Ok(no_store(axum::Json(body).into_response()))
}

/// Token responses must not be cached (RFC 6749 §5.1).
pub fn no_store(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp.headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}
