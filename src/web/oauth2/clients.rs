//! Incoming links as OAuth 2.0 clients, in the Data Center shape:
//! `/rest/oauth2/latest/client` (list, create), `client/{clientId}` (get, update, delete),
//! `client/reset/{clientId}` (new secret), and Junction's `client/{clientId}/credentials`
//! (view the secret again; audited).

use crate::domain::oauth2::ScopeSet;
use crate::services::host::oauth_clients::{self as host_clients, ClientInput};
use crate::store::OAuthClient;
use crate::web::auth::Caller;
use crate::web::error::ApiResult;
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

impl From<ClientBody> for ClientInput {
    fn from(b: ClientBody) -> Self {
        ClientInput {
            name: b.name,
            redirects: b.redirects,
            scope: b.scope.or_else(|| b.scopes.map(|list| list.join(" "))),
            confidential: b.confidential,
        }
    }
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(b): Json<ClientBody>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let input = ClientInput::from(b);
    let (client, secret) = host_clients::create(&state.host(), &caller.principal(), &input).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(client_json(&client, secret.as_deref())),
    ))
}

pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<axum::Json<Value>> {
    let clients = host_clients::list(&state.host(), &caller.principal()).await?;
    let values: Vec<Value> = clients.iter().map(|c| client_json(c, None)).collect();
    Ok(axum::Json(json!(values)))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let client = host_clients::find(&state.host(), &caller.principal(), &id).await?;
    Ok(axum::Json(client_json(&client, None)))
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(b): Json<ClientBody>,
) -> ApiResult<axum::Json<Value>> {
    let input = ClientInput::from(b);
    let updated = host_clients::update(&state.host(), &caller.principal(), &id, &input).await?;
    Ok(axum::Json(client_json(&updated, None)))
}

/// Deleting a client revokes every grant and token it holds.
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    host_clients::delete(&state.host(), &caller.principal(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn reset_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let (client, secret) =
        host_clients::reset_secret(&state.host(), &caller.principal(), &id).await?;
    Ok(axum::Json(client_json(&client, Some(&secret))))
}

/// Shows the secret again, decrypted with the master key. Every view is audited.
pub async fn credentials(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let (client, secret) =
        host_clients::credentials(&state.host(), &caller.principal(), &id).await?;
    Ok(axum::Json(client_json(&client, secret.as_deref())))
}

/// `GET client/{clientId}/grants`: who has authorized this client and still holds live tokens.
pub async fn grants(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let grants = host_clients::grants(&state.host(), &caller.principal(), &id).await?;
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
    host_clients::revoke_grants(&state.host(), &caller.principal(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
