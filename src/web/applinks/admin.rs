//! Administering application links over REST: Atlassian's `/rest/applinks/3.0/applinks`, and
//! Junction's own `/rest/junction/1.0/applinks/{id}` to read, edit, relocate, delete and view
//! credentials. Creating is in `create.rs`, Test connection and status in `status.rs`.

use super::create::{outgoing_from, LinkBody, UrlQuery};
use super::lookup::{find, incoming_of, json_of, record};
use crate::domain::applinks::{normalize_base_url, redirect_uri};
use crate::domain::{Action, DisplayName};
use crate::services::host::oauth_clients::{self as host_clients, ClientInput};
use crate::store::OAuthClient;
use crate::web::auth::Caller;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::Path;
use crate::web::json::Json;
use crate::web::state::AppState;
use axum::extract::State;
use serde_json::{json, Value};
/// `GET /rest/applinks/3.0/applinks`
pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<axum::Json<Value>> {
    caller.check(Action::AdminSystem)?;
    let mut out = Vec::new();
    for l in state.store.list_links().await? {
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
    let link = find(&state, &caller, &id).await?;
    if b.incoming.is_some() || b.outgoing.is_some() {
        // Either side's settings are the link's credentials (a new incoming client, a remote
        // secret Junction acts with).
        caller.check(Action::AdminCredentials)?;
    }
    if b.url
        .as_deref()
        .is_some_and(|u| normalize_base_url(u).ok().as_deref() != Some(link.url.as_str()))
    {
        return Err(ApiError::bad_request(
            "Use relocate to change a link's URL; it keeps every user's authorization.",
        )
        .with_context("url"));
    }
    let mut fields = link.fields();
    if let Some(n) = &b.name {
        fields.name = DisplayName::parse("name", n)?.as_str().to_string();
    }
    if let Some(o) = &b.outgoing {
        fields.outgoing = Some(outgoing_from(&state, o, link.outgoing().as_ref())?);
    }
    // The incoming client is changed first: it is the side that can refuse (redirect rules).
    match (&b.incoming, incoming_of(&state, &link).await?) {
        (Some(i), Some(c)) => {
            let body = ClientInput {
                name: Some(fields.name.clone()),
                redirects: Some(i.redirects.clone()),
                scope: i.scope.clone(),
                ..Default::default()
            };
            update_client(&state, &caller, &c, body).await?;
        }
        (None, Some(c)) if c.name != fields.name => {
            let body = ClientInput {
                name: Some(fields.name.clone()),
                ..Default::default()
            };
            update_client(&state, &caller, &c, body).await?;
        }
        (Some(i), None) => {
            let (c, _) = state
                .links
                .create_incoming_client(&fields.name, &i.redirects, i.scope.as_deref())
                .await?;
            fields.incoming_client = Some(c.id);
        }
        _ => {}
    }
    let updated = state.links.save_link(&link, &fields).await?;
    record(&state, &caller, "applinks.link_updated", &updated, "").await;
    Ok(axum::Json(json_of(&state, &updated).await?))
}

/// Changes a link's incoming client through the OAuth client operation (its rules, its audit).
async fn update_client(
    state: &AppState,
    caller: &Caller,
    c: &OAuthClient,
    input: ClientInput,
) -> ApiResult<()> {
    host_clients::update(&state.host(), &caller.principal(), &c.client_id, &input).await?;
    Ok(())
}

/// `DELETE /rest/junction/1.0/applinks/{id}`: revokes at the remote what people authorized
/// Junction to do there (where it offers RFC 7009), then removes the link, its incoming client
/// (every token issued to the remote dies) and every person's tokens; says what is left on the
/// remote side, which Junction cannot remove.
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let link = find(&state, &caller, &id).await?;
    let revoked_there = state.links.revoke_remote_tokens(&link).await;
    let connected = state.store.delete_link(&link).await?;
    record(&state, &caller, "applinks.link_deleted", &link, "").await;
    let mut remains = Vec::new();
    if let Some(o) = link.outgoing() {
        let left = (connected as usize).saturating_sub(revoked_there);
        remains.push(format!(
            "On {}: the incoming link (client ID {}) Junction used to call it{}. Delete that link there.",
            link.url,
            o.client_id,
            if left > 0 {
                format!(", and the authorizations {left} Junction user(s) granted there, which it did not confirm revoking")
            } else {
                String::new()
            }
        ));
    }
    if link.incoming_client.is_some() {
        remains.push(format!(
            "On {}: its outgoing link to Junction; it will now fail with invalid_client. Delete it there.",
            link.url
        ));
    }
    Ok(axum::Json(json!({
        "deleted": link.link_id,
        "revokedHere": {
            "incomingClient": link.incoming_client.is_some(),
            "connectedUsers": connected,
            "revokedAtRemote": revoked_there,
        },
        "remainsOnRemote": remains,
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
    let link = find(&state, &caller, &id).await?;
    let url =
        normalize_base_url(&q.url).map_err(|m| ApiError::bad_request(m).with_context("url"))?;
    state.links.outbound.check_url(&url)?;
    if let Some(c) = incoming_of(&state, &link).await? {
        let moved: Vec<String> = c
            .redirect_list()
            .into_iter()
            .map(|r| match r.strip_prefix(&link.url) {
                Some(rest) => format!("{url}{rest}"),
                None => r,
            })
            .collect();
        let body = ClientInput {
            redirects: Some(moved),
            ..Default::default()
        };
        update_client(&state, &caller, &c, body).await?;
    }
    let mut fields = link.fields();
    fields.url = url.clone();
    let updated = state.links.save_link(&link, &fields).await?;
    record(
        &state,
        &caller,
        "applinks.link_relocated",
        &updated,
        &format!(" moved from {}", link.url),
    )
    .await;
    Ok(axum::Json(json_of(&state, &updated).await?))
}

/// `GET /rest/junction/1.0/applinks/{id}/credentials`: the incoming client's ID and secret and
/// the outgoing client ID, decrypted. Every view is audited.
pub async fn credentials(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    caller.check(Action::AdminCredentials)?;
    let link = find(&state, &caller, &id).await?;
    let mut v = json!({"id": link.link_id, "name": link.name});
    if let Some(c) = incoming_of(&state, &link).await? {
        let secret = match &c.secret_encrypted {
            Some(e) => Some(state.master_key.decrypt(e).map_err(ApiError::internal)?),
            None => None,
        };
        v["incoming"] = json!({
            "clientId": c.client_id,
            "clientSecret": secret,
            "authorizationEndpoint": state.links.authorize_url(),
            "tokenEndpoint": state.links.token_url(),
            "redirects": c.redirect_list(),
        });
    }
    if let Some(o) = link.outgoing() {
        v["outgoing"] = json!({"clientId": o.client_id, "redirectUri": redirect_uri(&state.base_url, &o.authorize_url)});
    }
    record(&state, &caller, "applinks.credentials_viewed", &link, "").await;
    Ok(axum::Json(v))
}
