//! Creating application links: what is at a URL (`discover`), the redirect URI an outgoing side
//! will use, and `POST /rest/junction/1.0/applinks` with an incoming side, an outgoing side or
//! both. The URL is checked and the remote identified first; a failure leaves nothing behind.

use super::lookup::{json_of, record};
use crate::domain::applinks::{default_link_name, normalize_base_url, preset, redirect_uri};
use crate::domain::{Action, DisplayName};
use crate::services::links::discover::Discovery;
use crate::store::{LinkFields, Outgoing};
use crate::web::auth::Caller;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::Query;
use crate::web::json::Json;
use crate::web::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};
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
    let mut v = serde_json::to_value(&d).map_err(ApiError::internal)?;
    v["application"] = json!(d.application());
    v["advice"] = json!(d.advice());
    v["linkTypes"] = json!(d.link_types());
    if let Some(m) = &d.oauth {
        v["redirectUri"] = json!(redirect_uri(&state.base_url, &m.authorization_endpoint));
    }
    Ok(axum::Json(v))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RedirectQuery {
    pub preset: Option<String>,
    pub authorization_endpoint: Option<String>,
}

/// `GET /rest/junction/1.0/applinks/redirect-uri?preset=&authorizationEndpoint=`: the redirect
/// URI an outgoing link will use, known before the remote side is configured.
pub async fn redirect_uri_for(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<RedirectQuery>,
) -> ApiResult<axum::Json<Value>> {
    caller.check(Action::AdminSystem)?;
    let fixed = q
        .preset
        .as_deref()
        .and_then(preset)
        .map(|p| p.authorize_url)
        .unwrap_or("");
    let endpoint = match q.authorization_endpoint.as_deref().map(str::trim) {
        Some(e) if !e.is_empty() => e.to_string(),
        _ if !fixed.is_empty() => fixed.to_string(),
        _ => {
            return Err(ApiError::bad_request(
                "authorizationEndpoint is required for a custom provider.",
            )
            .with_context("authorizationEndpoint"))
        }
    };
    state
        .links
        .outbound
        .check_url(&endpoint)
        .map_err(|e| ApiError::from(e).with_context("authorizationEndpoint"))?;
    Ok(axum::Json(json!({
        "authorizationEndpoint": endpoint,
        "redirectUri": redirect_uri(&state.base_url, &endpoint),
    })))
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
pub(super) fn outgoing_from(
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
    caller.check(Action::AdminCredentials)?;
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
        None => default_link_name(d.manifest.as_ref().map(|m| m.name.as_str()), &d.url),
    };
    let mut secret = None;
    let incoming_client = match &b.incoming {
        Some(i) => {
            let (c, s) = state
                .links
                .create_incoming_client(&name, &i.redirects, i.scope.as_deref())
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
