//! `GET /rest/oauth2/latest/authorize` and the consent decision
//! (`POST /plugins/servlet/oauth2/consent`). Errors go back to the client's redirect URI with
//! `state` (RFC 6749 §4.1.2.1) — except an unknown client or unregistered redirect URI, which get
//! an error page and never a redirect. Responses carry `iss` (RFC 9207).

use crate::domain::oauth2::{pkce_methods, redirect_allowed, valid_pkce_value, Scope, ScopeSet};
use crate::secret::{new_token, token_hash, TokenKind};
use crate::services::audit;
use crate::store::OAuthClient;
use crate::web::auth::Caller;
use crate::web::error::ApiError;
use crate::web::extract::Query;
use crate::web::page::{render, CsrfForm, Nav, OrPage, UiError, UiResult};
use crate::web::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
}

/// A request that passed every check.
struct Valid {
    client: OAuthClient,
    redirect_uri: String,
    scope: ScopeSet,
    challenge: Option<(String, String)>,
    state: Option<String>,
}

enum Invalid {
    /// Client or redirect URI unknown: shown to the person, never redirected.
    Page(String),
    /// Sent back to the client.
    Redirect {
        redirect_uri: String,
        error: &'static str,
        description: String,
        state: Option<String>,
    },
}

async fn validate(state: &AppState, p: &AuthorizeParams) -> Result<Valid, Invalid> {
    let client_id = p
        .client_id
        .as_deref()
        .ok_or_else(|| Invalid::Page("The request has no client_id.".into()))?;
    let client = match state.store.find_oauth_client(client_id).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return Err(Invalid::Page(
                "No application with this client_id is linked to Junction.".into(),
            ))
        }
        Err(e) => return Err(Invalid::Page(ApiError::from(e).message)),
    };
    let registered = client.redirect_list();
    let redirect_uri = match p.redirect_uri.as_deref() {
        Some(r) if redirect_allowed(&registered, r) => r.to_string(),
        Some(_) => {
            return Err(Invalid::Page(
                "The redirect_uri is not registered for this application.".into(),
            ))
        }
        None if registered.len() == 1 => registered[0].clone(),
        None => {
            return Err(Invalid::Page(
                "This application has several redirect URLs; the request must name one.".into(),
            ))
        }
    };
    let back = |error: &'static str, description: String| Invalid::Redirect {
        redirect_uri: redirect_uri.clone(),
        error,
        description,
        state: p.state.clone(),
    };
    if p.response_type.as_deref() != Some("code") {
        return Err(back(
            "unsupported_response_type",
            "Only response_type=code is supported.".into(),
        ));
    }
    let allowed = ScopeSet::parse(&client.scope).map_err(|m| back("server_error", m))?;
    let scope = match p.scope.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => ScopeSet::parse(s).map_err(|m| back("invalid_scope", m))?,
        None => allowed,
    };
    if !allowed.implies(scope) {
        return Err(back(
            "invalid_scope",
            format!("This application may ask for at most {}.", allowed.as_str()),
        ));
    }
    let challenge = match p.code_challenge.as_deref() {
        Some(c) => {
            // RFC 7636 §4.3: no method means plain.
            let method = p.code_challenge_method.as_deref().unwrap_or("plain");
            let accepted = pkce_methods(state.config.oauth2.allow_plain_pkce);
            if !accepted.contains(&method) {
                return Err(back(
                    "invalid_request",
                    format!("code_challenge_method must be {}; send the SHA-256 of the verifier as the challenge with code_challenge_method=S256.", accepted.join(" or ")),
                ));
            }
            if !valid_pkce_value(c) {
                return Err(back(
                    "invalid_request",
                    "code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~].".into(),
                ));
            }
            Some((c.to_string(), method.to_string()))
        }
        None if !client.confidential => {
            return Err(back(
                "invalid_request",
                "Public clients must use PKCE (code_challenge).".into(),
            ))
        }
        None => None,
    };
    Ok(Valid {
        client,
        redirect_uri,
        scope,
        challenge,
        state: p.state.clone(),
    })
}

fn redirect_to(state: &AppState, uri: &str, params: &[(&str, &str)]) -> Response {
    let Ok(mut url) = url::Url::parse(uri) else {
        return (StatusCode::BAD_REQUEST, "invalid redirect").into_response();
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
        q.append_pair("iss", &state.base_url);
    }
    no_store(Redirect::to(url.as_str()).into_response())
}

fn no_store(mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn invalid(state: &AppState, caller: &Caller, e: Invalid) -> UiResult {
    match e {
        Invalid::Page(message) => Err(UiError {
            status: StatusCode::BAD_REQUEST,
            message,
            nav: Box::new(Nav::of(caller)),
            next: None,
        }),
        Invalid::Redirect {
            redirect_uri,
            error,
            description,
            state: st,
        } => {
            let mut params = vec![
                ("error", error),
                ("error_description", description.as_str()),
            ];
            if let Some(s) = st.as_deref() {
                params.push(("state", s));
            }
            Ok(redirect_to(state, &redirect_uri, &params))
        }
    }
}

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentPage {
    nav: Nav,
    client_name: String,
    redirect_host: String,
    scopes: Vec<&'static str>,
    params: Vec<(&'static str, String)>,
}

pub async fn authorize(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Query(p): Query<AuthorizeParams>,
) -> UiResult {
    let valid = match validate(&state, &p).await {
        Ok(v) => v,
        Err(e) => return invalid(&state, &caller, e),
    };
    let Some(user) = caller.user.clone() else {
        let here = uri
            .path_and_query()
            .map(|pq| pq.as_str().to_string())
            .unwrap_or_default();
        let next: String = url::form_urlencoded::byte_serialize(here.as_bytes()).collect();
        return Ok(no_store(
            Redirect::to(&format!("/login?next={next}")).into_response(),
        ));
    };
    // Remembered consent covering this request: no prompt.
    let remembered = state
        .store
        .remembered_consent(valid.client.id, user.id)
        .await
        .map_err(ApiError::from)
        .or_page(&caller)?;
    if remembered
        .and_then(|s| ScopeSet::parse(&s).ok())
        .is_some_and(|s| s.implies(valid.scope))
    {
        return issue_code(&state, &caller, valid).await;
    }
    let redirect_host = url::Url::parse(&valid.redirect_uri)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    let params = [
        ("response_type", Some("code".to_string())),
        ("client_id", p.client_id.clone()),
        ("redirect_uri", Some(valid.redirect_uri.clone())),
        ("scope", Some(valid.scope.as_str().to_string())),
        ("state", p.state.clone()),
        ("code_challenge", p.code_challenge.clone()),
        (
            "code_challenge_method",
            valid.challenge.as_ref().map(|c| c.1.clone()),
        ),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    let page = ConsentPage {
        nav: Nav::of(&caller),
        client_name: valid.client.name.clone(),
        redirect_host,
        scopes: valid
            .scope
            .expanded()
            .into_iter()
            .map(Scope::describe)
            .collect(),
        params,
    };
    Ok(no_store(render(&page)))
}

#[derive(Deserialize)]
pub struct ConsentForm {
    #[serde(flatten)]
    params: AuthorizeParams,
    decision: String,
}

/// The person's answer on the consent page. Everything is validated again: the form is input.
pub async fn consent(
    State(state): State<AppState>,
    caller: Caller,
    CsrfForm(f): CsrfForm<ConsentForm>,
) -> UiResult {
    let valid = match validate(&state, &f.params).await {
        Ok(v) => v,
        Err(e) => return invalid(&state, &caller, e),
    };
    if f.decision != "allow" {
        let mut params = vec![
            ("error", "access_denied"),
            ("error_description", "The user denied the request."),
        ];
        if let Some(s) = valid.state.as_deref() {
            params.push(("state", s));
        }
        return Ok(redirect_to(&state, &valid.redirect_uri, &params));
    }
    let details = format!("{} ({})", valid.client.name, valid.scope.as_str());
    audit::record(
        &state.store,
        &caller.actor(),
        "oauth2.consent_granted",
        &format!("client:{}", valid.client.client_id),
        &details,
    )
    .await;
    issue_code(&state, &caller, valid).await
}

async fn issue_code(state: &AppState, caller: &Caller, v: Valid) -> UiResult {
    let user = caller.user().or_page(caller)?;
    let code = new_token(TokenKind::OAuthCode);
    let expires = state.clock.now_ms() + i64::from(state.config.oauth2.code_ttl_seconds) * 1000;
    let challenge = v.challenge.as_ref().map(|(c, m)| (c.as_str(), m.as_str()));
    state
        .store
        .create_grant_with_code(
            v.client.id,
            user.id,
            v.scope.as_str(),
            &token_hash(&code),
            &v.redirect_uri,
            challenge,
            expires,
        )
        .await
        .map_err(ApiError::from)
        .or_page(caller)?;
    let mut params = vec![("code", code.as_str())];
    if let Some(s) = v.state.as_deref() {
        params.push(("state", s));
    }
    Ok(redirect_to(state, &v.redirect_uri, &params))
}
