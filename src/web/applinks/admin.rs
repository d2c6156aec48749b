//! Administering application links over REST: Atlassian's `/rest/applinks/3.0/applinks`, and
//! Junction's own `/rest/junction/1.0/applinks/{id}` to read, edit, relocate, delete and view
//! credentials. Creating is in `create.rs`, Test connection and status in `status.rs`.

use super::create::{LinkBody, UrlQuery};
use super::lookup::{find, json_of};
use crate::services::host::applinks::{self as host_links, LinkInput};
use crate::web::auth::Caller;
use crate::web::error::ApiResult;
use crate::web::extract::Path;
use crate::web::json::Json;
use crate::web::state::AppState;
use axum::extract::State;
use serde_json::{json, Value};
/// `GET /rest/applinks/3.0/applinks`
pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<axum::Json<Value>> {
    let mut out = Vec::new();
    for l in host_links::list(&state.host(), &caller.principal()).await? {
        out.push(json_of(&state, &l).await?);
    }
    Ok(axum::Json(json!(out)))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let l = find(&state, &caller, &id).await?;
    Ok(axum::Json(json_of(&state, &l).await?))
}

/// `PUT /rest/junction/1.0/applinks/{id}`: name, incoming scope/redirects, outgoing settings
/// (the client secret is kept unless a new one is sent). The URL changes only by relocating.
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(b): Json<LinkBody>,
) -> ApiResult<axum::Json<Value>> {
    let input = LinkInput::from(b);
    let updated = host_links::update(&state.host(), &caller.principal(), &id, &input).await?;
    Ok(axum::Json(json_of(&state, &updated).await?))
}

/// `DELETE /rest/junction/1.0/applinks/{id}`: revokes at the remote what people authorized
/// Junction to do there, then removes the link, its incoming client and every person's tokens;
/// says what is left on the remote side, which Junction cannot remove.
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let d = host_links::delete(&state.host(), &caller.principal(), &id).await?;
    Ok(axum::Json(json!({
        "deleted": d.link.link_id,
        "revokedHere": {
            "incomingClient": d.link.incoming_client.is_some(),
            "connectedUsers": d.connected_users,
            "revokedAtRemote": d.revoked_at_remote,
        },
        "remainsOnRemote": d.remains_on_remote,
    })))
}

/// `POST /rest/junction/1.0/applinks/{id}/relocate` `{url}`: a new URL, same link, same id,
/// same users' authorizations. The incoming side's redirect URLs move with it.
pub async fn relocate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(q): Json<UrlQuery>,
) -> ApiResult<axum::Json<Value>> {
    let updated = host_links::relocate(&state.host(), &caller.principal(), &id, &q.url).await?;
    Ok(axum::Json(json_of(&state, &updated).await?))
}

/// `GET /rest/junction/1.0/applinks/{id}/credentials`: the incoming client's ID and secret and
/// the outgoing client ID, decrypted. Every view is audited.
pub async fn credentials(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let c = host_links::credentials(&state.host(), &caller.principal(), &id).await?;
    let mut v = json!({"id": c.link.link_id, "name": c.link.name});
    if let Some((client, secret)) = &c.incoming {
        v["incoming"] = json!({
            "clientId": client.client_id,
            "clientSecret": secret,
            "authorizationEndpoint": state.links.authorize_url(),
            "tokenEndpoint": state.links.token_url(),
            "redirects": client.redirect_list(),
        });
    }
    if let Some((client_id, redirect)) = &c.outgoing {
        v["outgoing"] = json!({"clientId": client_id, "redirectUri": redirect});
    }
    Ok(axum::Json(v))
}
