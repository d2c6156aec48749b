//! JSON shapes of application links: Atlassian's link fields (`id, name, displayUrl, rpcUrl,
//! type, system, primary`) plus what Junction knows more (application, direction, both sides,
//! last status).

use crate::domain::applinks::redirect_uri;
use crate::services::host::applinks::{application_name, direction, last_status};
use crate::store::{AppLink, OAuthClient};
use serde_json::{json, Value};

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
