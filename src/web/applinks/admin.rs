//! Administering application links over REST: Atlassian's `/rest/applinks/3.0/applinks` and
//! `status/{id}`, and Junction's own `/rest/junction/1.0/applinks` for the rest (discover,
//! create, edit, delete, relocate, credentials, Test connection).

use super::repr::link_json;
use crate::domain::applinks::{normalize_base_url, preset, redirect_uri};
use crate::domain::{Action, DisplayName};
use crate::services::audit;
use crate::services::links::discover::Discovery;
use crate::services::links::pairing::fields_of;
use crate::services::links::LinkError;
use crate::store::{AppLink, LinkFields, OAuthClient, Outgoing};
use crate::web::auth::Caller;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{Path, Query};
use crate::web::json::Json;
use crate::web::oauth2::clients::{self, ClientBody};
use crate::web::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};

pub fn no_such_link(id: &str) -> ApiError {
    ApiError::not_found(
        "com.atlassian.applinks.api.TypeNotInstalledException",
        format!("There is no application link {id}."),
    )
}

pub async fn find(state: &AppState, caller: &Caller, id: &str) -> ApiResult<AppLink> {
    caller.check(Action::AdminSystem)?;
    state
        .store
        .find_link(id)
        .await?
        .ok_or_else(|| no_such_link(id))
}

async fn incoming_of(state: &AppState, l: &AppLink) -> ApiResult<Option<OAuthClient>> {
    match l.incoming_client {
        Some(id) => Ok(state.store.find_oauth_client_by_id(id).await?),
        None => Ok(None),
    }
}

pub async fn json_of(state: &AppState, l: &AppLink) -> ApiResult<Value> {
    let c = incoming_of(state, l).await?;
    Ok(link_json(l, c.as_ref(), &state.base_url))
}

async fn record(state: &AppState, caller: &Caller, action: &str, l: &AppLink, details: &str) {
    audit::record(
        &state.store,
        &caller.actor(),
        action,
        &format!("applink:{}", l.link_id),
        &format!("{} ({}){details}", l.name, l.url),
    )
    .await;
}

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

#[derive(Deserialize)]
pub struct UrlQuery {
    pub url: String,
}

/// Checks a URL a person typed and says what answers there. A redirect is refused: Junction
/// never follows one, so a link cannot be steered to an address other than the one entered.
pub async fn discover_url(state: &AppState, raw: &str) -> ApiResult<Discovery> {
    let url = normalize_base_url(raw).map_err(|m| ApiError::bad_request(m).with_context("url"))?;
    state.links.outbound.check_url(&url)?;
    let d = state.links.discover(&url).await?;
    if let Some(loc) = &d.redirected_to {
        return Err(ApiError::bad_request(format!(
            "{url} redirects to {loc}. Junction does not follow redirects; enter the address of the application itself."
        ))
        .with_context("url"));
    }
    Ok(d)
}

/// `GET /rest/junction/1.0/applinks/discover?url=`: what is at a URL and which link types fit.
pub async fn discover(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<UrlQuery>,
) -> ApiResult<axum::Json<Value>> {
    caller.check(Action::AdminSystem)?;
    let d = discover_url(&state, &q.url).await?;
    let advice = match d.kind {
        "junction" => "Another Junction server: link both ways in one step (pair); each side gets an incoming and an outgoing link.",
        "atlassian" => "An Atlassian Data Center product: create an incoming link here, an incoming link there, and enter each side's credentials as the other's outgoing link.",
        "oauth2" => "An OAuth 2.0 authorization server: create an outgoing link so people can connect their accounts; its endpoints are filled in from its metadata.",
        _ => "A generic application: create an incoming link if it should act in Junction for people (it gets a client ID and secret), an outgoing link if Junction should call it.",
    };
    let mut v = serde_json::to_value(&d).map_err(ApiError::internal)?;
    v["application"] = json!(d.application());
    v["advice"] = json!(advice);
    v["linkTypes"] = json!(match d.kind {
        "junction" => vec!["pair", "incoming", "outgoing"],
        "oauth2" => vec!["outgoing", "incoming"],
        _ => vec!["incoming", "outgoing"],
    });
    if let Some(m) = &d.oauth {
        v["redirectUri"] = json!(redirect_uri(&state.base_url, &m.authorization_endpoint));
    }
    Ok(axum::Json(v))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct IncomingBody {
    pub redirects: Vec<String>,
    pub scope: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
pub struct OutgoingBody {
    pub preset: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    pub scopes: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct LinkBody {
    pub name: Option<String>,
    pub url: Option<String>,
    pub incoming: Option<IncomingBody>,
    pub outgoing: Option<OutgoingBody>,
}

fn required(v: &Option<String>, field: &str, what: &str) -> ApiResult<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or_else(|| ApiError::bad_request(format!("{what} is required.")).with_context(field))
}

/// The outgoing side from a body; `current` keeps the stored secret when none is sent.
fn outgoing_from(
    state: &AppState,
    b: &OutgoingBody,
    current: Option<&Outgoing>,
) -> ApiResult<Outgoing> {
    let preset_id = b.preset.clone().unwrap_or_else(|| "custom".into());
    let p = preset(&preset_id)
        .filter(|_| preset_id != "junction")
        .ok_or_else(|| {
            ApiError::bad_request("preset must be google, microsoft or custom.")
                .with_context("outgoing.preset")
        })?;
    let or_preset = |v: &Option<String>, fixed: &str| {
        v.clone()
            .filter(|s| !s.trim().is_empty())
            .or_else(|| (!fixed.is_empty()).then(|| fixed.to_string()))
    };
    let authorize_url = required(
        &or_preset(&b.authorization_endpoint, p.authorize_url),
        "outgoing.authorizationEndpoint",
        "The authorization endpoint",
    )?;
    let token_url = required(
        &or_preset(&b.token_endpoint, p.token_url),
        "outgoing.tokenEndpoint",
        "The token endpoint",
    )?;
    for (field, u) in [
        ("outgoing.authorizationEndpoint", &authorize_url),
        ("outgoing.tokenEndpoint", &token_url),
    ] {
        state
            .links
            .outbound
            .check_url(u)
            .map_err(|e| ApiError::from(e).with_context(field))?;
    }
    let secret = match (b.client_secret.as_deref().map(str::trim), current) {
        (Some(s), _) if !s.is_empty() => state.master_key.encrypt(s),
        (_, Some(c)) => c.secret_encrypted.clone(),
        _ => {
            return Err(ApiError::bad_request("The client secret is required.")
                .with_context("outgoing.clientSecret"))
        }
    };
    Ok(Outgoing {
        preset: preset_id,
        client_id: required(&b.client_id, "outgoing.clientId", "The client ID")?,
        secret_encrypted: secret,
        authorize_url,
        token_url,
        scopes: required(
            &or_preset(&b.scopes, p.scopes),
            "outgoing.scopes",
            "At least one scope",
        )?,
    })
}

/// `POST /rest/junction/1.0/applinks`: a link with an incoming side, an outgoing side or both.
/// The URL is checked and the remote identified first; a failure leaves nothing behind.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(b): Json<LinkBody>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    caller.check(Action::AdminSystem)?;
    let raw = required(&b.url, "url", "The application's URL")?;
    if b.incoming.is_none() && b.outgoing.is_none() {
        return Err(ApiError::bad_request(
            "Say how the application connects: incoming (it calls Junction), outgoing (Junction calls it), or both.",
        )
        .with_context("incoming"));
    }
    let outgoing = b
        .outgoing
        .as_ref()
        .map(|o| outgoing_from(&state, o, None))
        .transpose()?;
    let d = discover_url(&state, &raw).await?;
    let name = match &b.name {
        Some(n) => DisplayName::parse("name", n)?.as_str().to_string(),
        None => match &d.manifest {
            Some(m) => crate::services::links::pairing::peer_link_name(&m.name, &d.url),
            None => url::Url::parse(&d.url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_else(|| d.url.clone()),
        },
    };
    let mut secret = None;
    let incoming_client = match &b.incoming {
        Some(i) => {
            let (c, s) = state
                .links
                .create_incoming_client(
                    &name,
                    &i.redirects,
                    i.scope.as_deref().unwrap_or("REPO_READ"),
                )
                .await?;
            secret = Some(s);
            Some(c.id)
        }
        None => None,
    };
    let link = state
        .links
        .create_link(&LinkFields {
            name,
            url: d.url.clone(),
            type_id: d
                .manifest
                .as_ref()
                .map_or("generic".into(), |m| m.type_id.clone()),
            app_name: d.manifest.as_ref().map(|m| m.name.clone()),
            app_version: d.manifest.as_ref().map(|m| m.version.clone()),
            incoming_client,
            outgoing,
        })
        .await?;
    record(&state, &caller, "applinks.link_created", &link, "").await;
    let mut v = json_of(&state, &link).await?;
    if let Some(s) = secret {
        v["incoming"]["clientSecret"] = json!(s);
    }
    Ok((StatusCode::CREATED, axum::Json(v)))
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
    if b.url
        .as_deref()
        .is_some_and(|u| normalize_base_url(u).ok().as_deref() != Some(link.url.as_str()))
    {
        return Err(ApiError::bad_request(
            "Use relocate to change a link's URL; it keeps every user's authorization.",
        )
        .with_context("url"));
    }
    let mut fields = fields_of(&link);
    if let Some(n) = &b.name {
        fields.name = DisplayName::parse("name", n)?.as_str().to_string();
    }
    if let Some(o) = &b.outgoing {
        fields.outgoing = Some(outgoing_from(&state, o, link.outgoing().as_ref())?);
    }
    // The incoming client is changed first: it is the side that can refuse (redirect rules).
    match (&b.incoming, incoming_of(&state, &link).await?) {
        (Some(i), Some(c)) => {
            let body = ClientBody {
                name: Some(fields.name.clone()),
                redirects: Some(i.redirects.clone()),
                scope: i.scope.clone(),
                ..Default::default()
            };
            update_client(&state, &caller, &c, body).await?;
        }
        (None, Some(c)) if c.name != fields.name => {
            let body = ClientBody {
                name: Some(fields.name.clone()),
                ..Default::default()
            };
            update_client(&state, &caller, &c, body).await?;
        }
        (Some(i), None) => {
            let (c, _) = state
                .links
                .create_incoming_client(
                    &fields.name,
                    &i.redirects,
                    i.scope.as_deref().unwrap_or("REPO_READ"),
                )
                .await?;
            fields.incoming_client = Some(c.id);
        }
        _ => {}
    }
    let updated = match state.store.update_link(link.id, &fields).await {
        Ok(l) => l,
        Err(e) => {
            if link.incoming_client.is_none() {
                state.links.drop_client(fields.incoming_client).await;
            }
            return Err(match e {
                crate::store::StoreError::Duplicate => LinkError::Duplicate(fields.name).into(),
                e => e.into(),
            });
        }
    };
    record(&state, &caller, "applinks.link_updated", &updated, "").await;
    Ok(axum::Json(json_of(&state, &updated).await?))
}

/// Changes a link's incoming client through the OAuth client operation (its rules, its audit).
async fn update_client(
    state: &AppState,
    caller: &Caller,
    c: &OAuthClient,
    body: ClientBody,
) -> ApiResult<()> {
    clients::update(
        State(state.clone()),
        caller.clone(),
        Path(c.client_id.clone()),
        Json(body),
    )
    .await
    .map(|_| ())
}

/// `DELETE /rest/junction/1.0/applinks/{id}`: removes the link, its incoming client (every
/// token issued to the remote dies) and every user's tokens at the remote; says what is left
/// on the remote side, which Junction cannot remove.
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let link = find(&state, &caller, &id).await?;
    let connected = state.store.delete_link(&link).await?;
    record(&state, &caller, "applinks.link_deleted", &link, "").await;
    let mut remains = Vec::new();
    if let Some(o) = link.outgoing() {
        remains.push(format!(
            "On {}: the incoming link (client ID {}) Junction used to call it, and the authorizations {connected} Junction user(s) granted there. Delete that link there to revoke them.",
            link.url, o.client_id
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
        let body = ClientBody {
            redirects: Some(moved),
            ..Default::default()
        };
        update_client(&state, &caller, &c, body).await?;
    }
    let mut fields = fields_of(&link);
    fields.url = url.clone();
    let updated = state.store.update_link(link.id, &fields).await?;
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

/// `POST /rest/junction/1.0/applinks/{id}/test` and `GET /rest/applinks/3.0/status/{id}`
/// both run the checks and keep the result for the admin page.
pub async fn run_test(
    state: &AppState,
    link: &AppLink,
) -> ApiResult<crate::domain::applinks::LinkStatus> {
    let status = state.links.test_connection(link).await;
    let text = serde_json::to_string(&status).map_err(ApiError::internal)?;
    state.store.set_link_status(link.id, &text).await?;
    Ok(status)
}

pub async fn test(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let link = find(&state, &caller, &id).await?;
    let status = run_test(&state, &link).await?;
    let mut v = serde_json::to_value(&status).map_err(ApiError::internal)?;
    v["success"] = json!(status.working);
    v["message"] = json!(if status.working {
        status.summary.clone()
    } else {
        format!("{}: {}", status.summary, status.cause)
    });
    Ok(axum::Json(v))
}

/// `GET /rest/applinks/3.0/status/{id}` in Atlassian's shape, with Junction's diagnostics.
pub async fn status(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let link = find(&state, &caller, &id).await?;
    let s = run_test(&state, &link).await?;
    let auth = |enabled: bool| json!({"enabled": enabled, "twoLoEnabled": false, "twoLoImpersonationEnabled": false});
    let (inc, out) = (link.incoming_client.is_some(), link.outgoing().is_some());
    let error =
        (!s.working).then(|| json!({"category": s.category, "type": s.kind, "details": s.cause}));
    Ok(axum::Json(json!({
        "link": json_of(&state, &link).await?,
        "working": s.working,
        "localAuthentication": {"incoming": auth(inc), "outgoing": auth(out)},
        "remoteAuthentication": if link.type_id == "junction" {
            json!({"incoming": auth(out), "outgoing": auth(inc)})
        } else { Value::Null },
        "error": error,
        "diagnostics": s,
    })))
}

/// `GET /rest/junction/1.0/applinks/{id}/credentials`: the incoming client's ID and secret and
/// the outgoing client ID, decrypted. Every view is audited.
pub async fn credentials(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
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
