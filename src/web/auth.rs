//! Authentication: every request resolves to one `Caller` here, from a session cookie, HTTP Basic
//! (password or access token) or a Bearer access token. Handlers receive the `Caller` and ask it
//! to authorize; none looks at credentials itself.

use super::error::ApiError;
use super::state::AppState;
use crate::domain::{self, authorize, Action, Ceiling, ResourceFacts, ScopedGrant, Subject};
use crate::secret::{constant_time_eq, token_hash, TokenKind};
use crate::services::host::app_calls::{authenticate as authenticate_app, SignedRequest};
use crate::services::host::Principal;
use crate::services::{audit, sign_in};
use crate::store::{Account, Project, Repository};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use std::net::SocketAddr;
use std::sync::Arc;

pub const SESSION_COOKIE: &str = "junction_session";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Anonymous,
    Session {
        id: i64,
        csrf: String,
    },
    Password,
    AccessToken {
        id: i64,
    },
    /// An OAuth 2.0 access token Junction issued to a client on this grant.
    OAuth {
        grant_id: i64,
    },
    /// A Connect app's JWT, signed with this installation's shared secret.
    Connect {
        app: Arc<crate::store::connect::AppCaller>,
    },
    /// An installed app acting for the person viewing its page (`AP.request`), which that
    /// person granted.
    AppForPerson {
        installation_id: i64,
    },
}

/// Set only by Junction itself on a request it makes for an app's page (`AP.request`, after
/// the person's grant): never from anything a client sends.
#[derive(Debug, Clone, Copy)]
pub struct OnBehalf {
    pub user_id: i64,
    pub installation_id: i64,
    /// The app's scopes: what the person's permissions are capped to.
    pub ceiling: Ceiling,
}

#[derive(Debug, Clone)]
pub struct Caller {
    pub user: Option<Account>,
    pub subject: Subject,
    pub grants: Arc<Vec<ScopedGrant>>,
    /// Service accounts may be confined to some projects and repositories.
    pub restriction: Option<Arc<domain::Restriction>>,
    pub credential: Credential,
    pub ip: String,
    /// What the previous page did, to say on this one (`web/flash.rs`).
    pub flash: Option<String>,
}

impl Caller {
    fn anonymous(ip: String) -> Self {
        Self {
            user: None,
            subject: Subject::ANONYMOUS,
            grants: Arc::new(Vec::new()),
            restriction: None,
            credential: Credential::Anonymous,
            ip,
            flash: None,
        }
    }

    /// The caller as the host service layer sees it.
    pub fn principal(&self) -> Principal<'_> {
        Principal {
            user: self.user.as_ref(),
            subject: &self.subject,
            grants: &self.grants,
            restriction: self.restriction.as_deref(),
            ip: &self.ip,
        }
    }

    pub fn user(&self) -> Result<&Account, ApiError> {
        self.user.as_ref().ok_or_else(ApiError::unauthenticated)
    }

    pub fn actor(&self) -> audit::Actor<'_> {
        audit::Actor {
            id: self.user.as_ref().map(|u| u.id),
            name: self.user.as_ref().map_or("anonymous", |u| u.slug.as_str()),
            ip: &self.ip,
        }
    }

    /// An action not about one project or repository.
    pub fn check(&self, action: Action) -> Result<(), ApiError> {
        authorize(&self.subject, action, None)
            .map_err(|d| ApiError::from_denial(d, ApiError::unauthenticated))
    }

    pub fn project_facts(&self, p: &Project) -> ResourceFacts {
        self.principal().project_facts(p)
    }

    pub fn repo_facts(&self, r: &Repository) -> ResourceFacts {
        self.principal().repo_facts(r)
    }

    pub fn can_project(&self, p: &Project, action: Action) -> bool {
        self.principal().can_project(p, action)
    }

    pub fn can_repo(&self, r: &Repository, action: Action) -> bool {
        self.principal().can_repo(r, action)
    }

    pub fn check_project(&self, p: &Project, action: Action) -> Result<(), ApiError> {
        Ok(self.principal().check_project(p, action)?)
    }

    pub fn check_repo(&self, r: &Repository, action: Action) -> Result<(), ApiError> {
        Ok(self.principal().check_repo(r, action)?)
    }

    /// The session the request came with, if any (a password change keeps it).
    pub fn session_id(&self) -> Option<i64> {
        match self.credential {
            Credential::Session { id, .. } => Some(id),
            _ => None,
        }
    }

    /// The CSRF token forms must echo (sessions only).
    pub fn csrf_token(&self) -> Option<&str> {
        match &self.credential {
            Credential::Session { csrf, .. } => Some(csrf),
            _ => None,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| {
            ApiError::internal("authentication middleware is not installed on this route")
        })
    }
}

/// Middleware: resolves the caller, enforces CSRF on cookie-authenticated REST writes, and adds
/// `X-AUSERNAME` to every authenticated response.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let ip = state.client_address.of(peer, req.headers());
    // The one request a password that must be replaced may make over REST: replacing it.
    let changing_password =
        req.method() == Method::PUT && req.uri().path() == "/rest/api/1.0/users/credentials";
    let signed = SignedRequest {
        method: req.method().as_str(),
        path: req.uri().path(),
        query: req.uri().query().unwrap_or(""),
        context_allowed: false,
    };
    let cloud = crate::web::cloud::is_cloud_path(req.uri().path());
    let resolved = match req.extensions().get::<OnBehalf>().copied() {
        Some(on) => for_app_on_behalf(&state, on, ip).await,
        None => resolve(&state, req.headers(), &signed, ip, changing_password).await,
    };
    let mut caller = match resolved {
        Ok(c) => c,
        Err(e) if cloud => return crate::web::cloud::CloudError(e).into_response(),
        Err(e) => return e.into_response(),
    };
    caller.flash = crate::web::flash::read(req.headers());
    if let Credential::Session { csrf, .. } = &caller.credential {
        let path = req.uri().path();
        let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
        if unsafe_method && path.starts_with("/rest/") && !rest_csrf_ok(req.headers(), csrf) {
            return ApiError::forbidden(
                "XSRF check failed: browser requests that change data must carry the header X-Atlassian-Token: no-check.",
            )
            .with_context("X-Atlassian-Token")
            .into_response();
        }
    }
    let username = caller.user.as_ref().map(|u| u.slug.clone());
    req.extensions_mut().insert(caller);
    let mut resp = next.run(req).await;
    if let Some(name) = username.and_then(|n| HeaderValue::from_str(&n).ok()) {
        resp.headers_mut().insert("X-AUSERNAME", name);
    }
    resp
}

/// A cross-site form cannot set custom headers, so requiring one blocks CSRF on the REST API;
/// the session's own token is accepted too.
fn rest_csrf_ok(headers: &HeaderMap, csrf: &str) -> bool {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    header("X-Atlassian-Token").is_some_and(|v| v.eq_ignore_ascii_case("no-check"))
        || header("X-CSRF-Token").is_some_and(|v| constant_time_eq(v, csrf))
}

async fn resolve(
    state: &AppState,
    headers: &HeaderMap,
    signed: &SignedRequest<'_>,
    ip: String,
    changing_password: bool,
) -> Result<Caller, ApiError> {
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let auth = auth.to_str().map_err(|_| invalid_credentials())?;
        let (scheme, value) = auth.split_once(' ').ok_or_else(invalid_credentials)?;
        return if scheme.eq_ignore_ascii_case("jwt") {
            from_connect_jwt(state, value.trim(), signed, ip).await
        } else if scheme.eq_ignore_ascii_case("bearer")
            && value.trim().starts_with(TokenKind::AppAccess.prefix())
        {
            from_app_token(state, value.trim(), ip)
                .await
                .map_err(ApiError::bearer_refused)
        } else if scheme.eq_ignore_ascii_case("bearer")
            && value.trim().starts_with(TokenKind::OAuthAccess.prefix())
        {
            from_oauth_token(state, value.trim(), ip)
                .await
                .map_err(ApiError::bearer_refused)
        } else if scheme.eq_ignore_ascii_case("bearer") {
            from_token(state, value.trim(), ip)
                .await
                .map_err(ApiError::bearer_refused)
        } else if scheme.eq_ignore_ascii_case("basic") {
            from_basic(state, value.trim(), ip, changing_password).await
        } else {
            Err(invalid_credentials())
        };
    }
    // Connect apps may sign a GET in its query instead (`?jwt=`), as iframes and ACE do.
    if let Some(token) = query_jwt(signed.query) {
        return from_connect_jwt(state, &token, signed, ip).await;
    }
    if let Some(token) = cookie(headers, SESSION_COOKIE) {
        let hash = token_hash(token);
        if let Some((session, account)) = state
            .store
            .find_session(&hash, state.session_idle_ms())
            .await?
        {
            let credential = Credential::Session {
                id: session.id,
                csrf: session.csrf_token,
            };
            return for_user(state, account, Ceiling::Full, credential, ip).await;
        }
    }
    Ok(Caller::anonymous(ip))
}

async fn from_basic(
    state: &AppState,
    encoded: &str,
    ip: String,
    changing_password: bool,
) -> Result<Caller, ApiError> {
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| invalid_credentials())?;
    let text = String::from_utf8(decoded).map_err(|_| invalid_credentials())?;
    let (username, password) = text.split_once(':').ok_or_else(invalid_credentials)?;
    // A token as the password, as git and other Basic-only clients give it. A personal access
    // token names its owner itself, so any username goes with it (clients often send a fixed
    // one); an OAuth access token goes with `x-token-auth` (Bitbucket Cloud's name) or its
    // owner's username.
    if password.starts_with(TokenKind::Personal.prefix()) {
        return from_token(state, password, ip).await;
    }
    if password.starts_with(TokenKind::OAuthAccess.prefix()) {
        let caller = from_oauth_token(state, password, ip).await?;
        let owner = caller.user.as_ref().map(|a| a.slug.as_str());
        return if username == OAUTH_BASIC_USERNAME
            || owner.is_some_and(|o| o.eq_ignore_ascii_case(username))
        {
            Ok(caller)
        } else {
            Err(invalid_credentials())
        };
    }
    match state
        .sign_in
        .check_password(
            &state.store,
            &state.config.security,
            username,
            password,
            &ip,
        )
        .await
    {
        Ok(account) => for_user(state, account, Ceiling::Full, Credential::Password, ip).await,
        Err(sign_in::SignInError::PasswordChangeRequired(account)) if changing_password => {
            for_user(state, account, Ceiling::Full, Credential::Password, ip).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The username that goes with an OAuth access token given as a Basic password.
pub const OAUTH_BASIC_USERNAME: &str = "x-token-auth";

/// A personal access token, from `Bearer` or as the Basic password.
async fn from_token(state: &AppState, token: &str, ip: String) -> Result<Caller, ApiError> {
    let owner = state
        .store
        .use_access_token(&token_hash(token))
        .await?
        .ok_or_else(invalid_credentials)?;
    let permissions = crate::domain::access_tokens::TokenPermissions::from_stored(
        &owner.token.permission,
        owner.token.scopes.as_deref(),
    )
    .ok_or_else(invalid_credentials)?;
    let credential = Credential::AccessToken { id: owner.token.id };
    for_user(state, owner.account, permissions.ceiling(), credential, ip).await
}

/// An OAuth 2.0 access token: the ceiling is its grant's scope; the user's own permissions
/// still apply on top (`authorize` intersects them).
async fn from_oauth_token(state: &AppState, token: &str, ip: String) -> Result<Caller, ApiError> {
    let t = state
        .store
        .find_live_oauth_token(&token_hash(token))
        .await?
        .ok_or_else(invalid_credentials)?;
    if t.token_kind != crate::store::OAuthTokenKind::Access {
        return Err(invalid_credentials());
    }
    let scope = crate::domain::oauth2::ScopeSet::parse(&t.scope).map_err(ApiError::internal)?;
    state
        .store
        .touch_oauth_grant(t.grant_id, t.grant_last_used_at)
        .await?;
    let restriction = if t.is_service {
        state
            .store
            .service_account_restriction(t.account.id)
            .await?
            .map(Arc::new)
    } else {
        None
    };
    let mut caller = for_user(
        state,
        t.account,
        scope.ceiling(),
        Credential::OAuth {
            grant_id: t.grant_id,
        },
        ip,
    )
    .await?;
    caller.restriction = restriction;
    Ok(caller)
}

fn query_jwt(query: &str) -> Option<String> {
    if !query.contains("jwt=") {
        return None;
    }
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "jwt")
        .map(|(_, v)| v.into_owned())
}

/// A Connect JWT: the installation acts with its account's reach, capped by its scopes.
async fn from_connect_jwt(
    state: &AppState,
    token: &str,
    signed: &SignedRequest<'_>,
    ip: String,
) -> Result<Caller, ApiError> {
    let app = authenticate_app(&state.host(), token, signed)
        .await
        .map_err(|e| ApiError::from(e).jwt_refused())?;
    for_app(state, app, ip).await
}

/// An access token an app exchanged its JWT for: the installation, as with its JWT.
async fn from_app_token(state: &AppState, token: &str, ip: String) -> Result<Caller, ApiError> {
    let app = crate::services::host::app_calls::from_access_token(&state.host(), token)
        .await?
        .ok_or_else(invalid_credentials)?;
    for_app(state, app, ip).await
}

/// An installation acts with its account's grants, capped by its scopes.
async fn for_app(
    state: &AppState,
    app: Arc<crate::store::connect::AppCaller>,
    ip: String,
) -> Result<Caller, ApiError> {
    let ceiling = app.ceiling;
    let account = app.account.clone();
    for_user(state, account, ceiling, Credential::Connect { app }, ip).await
}

/// The person an app acts for, with the app's scopes as ceiling.
async fn for_app_on_behalf(state: &AppState, on: OnBehalf, ip: String) -> Result<Caller, ApiError> {
    let account = state
        .store
        .account_by_id(on.user_id)
        .await?
        .filter(|a| a.active)
        .ok_or_else(invalid_credentials)?;
    let credential = Credential::AppForPerson {
        installation_id: on.installation_id,
    };
    for_user(state, account, on.ceiling, credential, ip).await
}

async fn for_user(
    state: &AppState,
    account: Account,
    ceiling: Ceiling,
    credential: Credential,
    ip: String,
) -> Result<Caller, ApiError> {
    let grants = state.store.grants_of_user(account.id).await?;
    let subject = Subject {
        user_id: Some(account.id),
        global: domain::global_of(&grants),
        ceiling,
    };
    Ok(Caller {
        user: Some(account),
        subject,
        grants: Arc::new(grants),
        restriction: None,
        credential,
        ip,
        flash: None,
    })
}

fn invalid_credentials() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::UNAUTHORIZED,
        "com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException",
        "Authentication failed. Please check your credentials and try again.",
    )
}

/// The value of one cookie, if present.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}
