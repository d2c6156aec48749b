//! Incoming links as OAuth 2.0 clients, in the Data Center shape:
//! `/rest/oauth2/latest/client` (list, create), `client/{clientId}` (get, update, delete),
//! `client/reset/{clientId}` (new secret), and Junction's `client/{clientId}/credentials`
//! (view the secret again; audited).

use crate::domain::oauth2::{check_redirect_uri, ScopeSet};
use crate::domain::{Action, DisplayName};
use crate::services::audit;
use crate::store::{OAuthClient, StoreError};
use crate::web::auth::Caller;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::Path;
use crate::web::json::Json;
use crate::web::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};

pub fn client_json(c: &OAuthClient, secret: Option<&str>) -> Value {
    let mut v = json!({
        "id": c.client_id,
        "clientId": c.client_id,
        "name": c.name,
        "redirects": c.redirect_list(),
        "scope": c.scope,
        "scopes": ScopeSet::parse(&c.scope).map(|s| s.expanded().iter().map(|x| x.as_str()).collect::<Vec<_>>()).unwrap_or_default(),
        "confidential": c.confidential,
        "createdDate": c.created_at,
    });
    if let Some(s) = secret {
        v["clientSecret"] = json!(s);
    }
    v
}

fn no_such_client(id: &str) -> ApiError {
    ApiError::not_found(
        "com.atlassian.oauth2.provider.api.client.ClientNotFoundException",
        format!("There is no OAuth 2.0 client {id}."),
    )
}

pub async fn find(state: &AppState, caller: &Caller, client_id: &str) -> ApiResult<OAuthClient> {
    caller.check(Action::AdminSystem)?;
    state
        .store
        .find_oauth_client(client_id)
        .await?
        .ok_or_else(|| no_such_client(client_id))
}

#[derive(Deserialize, Default)]
pub struct ClientBody {
    pub name: Option<String>,
    pub redirects: Option<Vec<String>>,
    /// Space-separated scopes (Data Center), or `scopes` as a list.
    pub scope: Option<String>,
    pub scopes: Option<Vec<String>>,
    /// Public clients (no secret) must use PKCE. Default: confidential.
    pub confidential: Option<bool>,
}

struct Checked {
    name: DisplayName,
    redirects: Vec<String>,
    scope: ScopeSet,
}

fn check(b: &ClientBody, current: Option<&OAuthClient>) -> ApiResult<Checked> {
    let name = match (b.name.as_deref(), current) {
        (Some(n), _) => DisplayName::parse("name", n)?,
        (None, Some(c)) => DisplayName::parse("name", &c.name)?,
        (None, None) => return Err(ApiError::bad_request("name is required.").with_context("name")),
    };
    let redirects = match (&b.redirects, current) {
        (Some(r), _) => r
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        (None, Some(c)) => c.redirect_list(),
        (None, None) => Vec::new(),
    };
    if redirects.is_empty() {
        return Err(
            ApiError::bad_request("At least one redirect URL is required.")
                .with_context("redirects"),
        );
    }
    for r in &redirects {
        check_redirect_uri(r).map_err(|m| ApiError::bad_request(m).with_context("redirects"))?;
    }
    let raw = match (&b.scope, &b.scopes, current) {
        (Some(s), _, _) => s.clone(),
        (None, Some(list), _) => list.join(" "),
        (None, None, Some(c)) => c.scope.clone(),
        (None, None, None) => String::new(),
    };
    let scope =
        ScopeSet::parse(&raw).map_err(|m| ApiError::bad_request(m).with_context("scope"))?;
    Ok(Checked {
        name,
        redirects,
        scope,
    })
}

fn name_taken() -> ApiError {
    ApiError::conflict(
        "com.atlassian.oauth2.provider.api.client.DuplicateClientException",
        "Another application link already has this name.",
    )
    .with_context("name")
}

fn new_secret(state: &AppState) -> (String, String, String) {
    crate::crypto::new_client_secret(&state.master_key)
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(b): Json<ClientBody>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    caller.check(Action::AdminCredentials)?;
    let c = check(&b, None)?;
    let confidential = b.confidential.unwrap_or(true);
    let client_id = crate::secret::new_client_id();
    let (secret, hash, encrypted) = if confidential {
        let (s, h, e) = new_secret(&state);
        (Some(s), Some(h), Some(e))
    } else {
        (None, None, None)
    };
    let created = state
        .store
        .create_oauth_client(
            &client_id,
            c.name.as_str(),
            confidential,
            hash.as_deref(),
            encrypted.as_deref(),
            &c.redirects,
            c.scope.as_str(),
        )
        .await;
    let client = match created {
        Err(StoreError::Duplicate) => return Err(name_taken()),
        other => other?,
    };
    audit::record(
        &state.store,
        &caller.actor(),
        "oauth2.client_created",
        &format!("client:{client_id}"),
        client.name.as_str(),
    )
    .await;
    Ok((
        StatusCode::CREATED,
        axum::Json(client_json(&client, secret.as_deref())),
    ))
}

pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<axum::Json<Value>> {
    caller.check(Action::AdminSystem)?;
    let clients = state.store.list_oauth_clients().await?;
    Ok(axum::Json(json!(clients
        .iter()
        .map(|c| client_json(c, None))
        .collect::<Vec<_>>())))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let client = find(&state, &caller, &id).await?;
    Ok(axum::Json(client_json(&client, None)))
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(b): Json<ClientBody>,
) -> ApiResult<axum::Json<Value>> {
    let client = find(&state, &caller, &id).await?;
    if b.confidential.is_some_and(|c| c != client.confidential) {
        return Err(ApiError::bad_request(
            "A client cannot change between confidential and public; create a new one.",
        )
        .with_context("confidential"));
    }
    let c = check(&b, Some(&client))?;
    let was = ScopeSet::parse(&client.scope).map_err(ApiError::internal)?;
    if !was.implies(c.scope) {
        // A wider scope widens every credential of the client (its secret, a service account's).
        caller.check(Action::AdminCredentials)?;
    }
    let updated = match state
        .store
        .update_oauth_client(client.id, c.name.as_str(), &c.redirects, c.scope.as_str())
        .await
    {
        Err(StoreError::Duplicate) => return Err(name_taken()),
        other => other?,
    };
    audit::record(
        &state.store,
        &caller.actor(),
        "oauth2.client_updated",
        &format!("client:{id}"),
        updated.name.as_str(),
    )
    .await;
    Ok(axum::Json(client_json(&updated, None)))
}

/// Deleting a client revokes every grant and token it holds.
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let client = find(&state, &caller, &id).await?;
    state.store.delete_oauth_client(client.id).await?;
    audit::record(
        &state.store,
        &caller.actor(),
        "oauth2.client_deleted",
        &format!("client:{id}"),
        client.name.as_str(),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn reset_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    caller.check(Action::AdminCredentials)?;
    let client = find(&state, &caller, &id).await?;
    if !client.confidential {
        return Err(ApiError::bad_request("Public clients have no secret."));
    }
    let (secret, hash, encrypted) = new_secret(&state);
    let updated = state
        .store
        .reset_oauth_client_secret(client.id, &hash, &encrypted)
        .await?;
    audit::record(
        &state.store,
        &caller.actor(),
        "oauth2.client_secret_reset",
        &format!("client:{id}"),
        client.name.as_str(),
    )
    .await;
    Ok(axum::Json(client_json(&updated, Some(&secret))))
}

/// Shows the secret again, decrypted with the master key. Every view is audited.
pub async fn credentials(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    caller.check(Action::AdminCredentials)?;
    let client = find(&state, &caller, &id).await?;
    let secret = match &client.secret_encrypted {
        Some(enc) => Some(state.master_key.decrypt(enc).map_err(ApiError::internal)?),
        None => None,
    };
    audit::record(
        &state.store,
        &caller.actor(),
        "oauth2.client_credentials_viewed",
        &format!("client:{id}"),
        client.name.as_str(),
    )
    .await;
    Ok(axum::Json(client_json(&client, secret.as_deref())))
}

/// `GET client/{clientId}/grants`: who has authorized this client and still holds live tokens.
pub async fn grants(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let client = find(&state, &caller, &id).await?;
    let grants = state.store.client_grants(client.id).await?;
    let values: Vec<Value> = grants
        .iter()
        .map(|g| json!({"user": g.slug, "displayName": g.display_name, "scope": g.scope, "grantedDate": g.granted_at, "lastUsedDate": g.last_used_at}))
        .collect();
    Ok(axum::Json(json!(values)))
}

/// `DELETE client/{clientId}/grants`: revokes every user's authorization of this client.
pub async fn revoke_grants(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let client = find(&state, &caller, &id).await?;
    state.store.revoke_client_grants(client.id).await?;
    audit::record(
        &state.store,
        &caller.actor(),
        "oauth2.client_grants_revoked",
        &format!("client:{id}"),
        client.name.as_str(),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}
