//! JSON shapes of application links: Atlassian's link fields (`id, name, displayUrl, rpcUrl,
//! type, system, primary`) plus what Junction knows more (application, direction, both sides,
//! last status).

use crate::domain::applinks::{redirect_uri, Direction, LinkStatus};
use crate::store::{AppLink, OAuthClient};
use serde_json::{json, Value};

pub fn application_name(l: &AppLink) -> String {
    crate::domain::applinks::application_label(l.app_name.as_deref(), l.app_version.as_deref())
}

pub fn direction(l: &AppLink) -> Direction {
    Direction::of(l.incoming_client.is_some(), l.outgoing().is_some())
}

pub fn last_status(l: &AppLink) -> Option<LinkStatus> {
    l.last_status
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
}

pub fn link_json(l: &AppLink, incoming: Option<&OAuthClient>, base_url: &str) -> Value {
    let outgoing = l.outgoing().map(|o| {
        json!({
            "preset": o.preset,
            "clientId": o.client_id,
            "authorizationEndpoint": o.authorize_url,
            "tokenEndpoint": o.token_url,
            "scopes": o.scopes,
            "redirectUri": redirect_uri(base_url, &o.authorize_url),
        })
    });
    let incoming = incoming.map(
        |c| json!({"clientId": c.client_id, "scope": c.scope, "redirects": c.redirect_list()}),
    );
    json!({
        "id": l.link_id,
        "name": l.name,
        "displayUrl": l.url,
        "rpcUrl": l.url,
        "type": l.type_id,
        "system": false,
        "primary": false,
        "application": {"name": application_name(l), "typeId": l.type_id},
        "direction": direction(l),
        "incoming": incoming,
        "outgoing": outgoing,
        "status": last_status(l),
        "statusCheckedDate": l.last_checked_at,
        "createdDate": l.created_at,
        "updatedDate": l.updated_at,
    })
}
