//! Creating application links: what is at a URL (`discover`), the redirect URI an outgoing side
//! will use, and `POST /rest/junction/1.0/applinks` with an incoming side, an outgoing side or
//! both. The URL is checked and the remote identified first; a failure leaves nothing behind.

use super::lookup::json_of;
use crate::domain::applinks::{preset, redirect_uri};
use crate::domain::Action;
use crate::services::host::applinks::{
    self as host_links, IncomingInput, LinkInput, OutgoingInput,
};
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

/// `GET /rest/junction/1.0/applinks/discover?url=`: what is at a URL and which link types fit.
pub async fn discover(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<UrlQuery>,
) -> ApiResult<axum::Json<Value>> {
    let d = host_links::discover(&state.host(), &caller.principal(), &q.url).await?;
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

impl From<IncomingBody> for IncomingInput {
    fn from(b: IncomingBody) -> Self {
        IncomingInput {
            redirects: b.redirects,
            scope: b.scope,
        }
    }
}

impl From<OutgoingBody> for OutgoingInput {
    fn from(b: OutgoingBody) -> Self {
        OutgoingInput {
            preset: b.preset,
            client_id: b.client_id,
            client_secret: b.client_secret,
            authorization_endpoint: b.authorization_endpoint,
            token_endpoint: b.token_endpoint,
            scopes: b.scopes,
        }
    }
}

impl From<LinkBody> for LinkInput {
    fn from(b: LinkBody) -> Self {
        LinkInput {
            name: b.name,
            url: b.url,
            incoming: b.incoming.map(Into::into),
            outgoing: b.outgoing.map(Into::into),
        }
    }
}

/// `POST /rest/junction/1.0/applinks`: a link with an incoming side, an outgoing side or both.
/// The URL is checked and the remote identified first; a failure leaves nothing behind.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(b): Json<LinkBody>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let input = LinkInput::from(b);
    let (link, secret) = host_links::create(&state.host(), &caller.principal(), &input).await?;
    let mut v = json_of(&state, &link).await?;
    if let Some(s) = secret {
        v["incoming"]["clientSecret"] = json!(s);
    }
    Ok((StatusCode::CREATED, axum::Json(v)))
}
