//! Signing in and out. The sign-in form is protected against login CSRF with a double-submit
//! cookie (there is no session yet to hold a token); sessions are `HttpOnly`, `SameSite=Lax`, and
//! `Secure` when Junction is reached over https.

use super::{next_target, render, CsrfForm, Nav, UiError, UiResult};
use crate::secret::{constant_time_eq, new_token, token_hash, TokenKind};
use crate::services::{audit, sign_in};
use crate::web::auth::{cookie, Caller, Credential, SESSION_COOKIE};
use crate::web::state::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::Form;
use serde::Deserialize;

const LOGIN_CSRF_COOKIE: &str = "junction_login_csrf";

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    nav: Nav,
    csrf: String,
    next: String,
    username: String,
    error: Option<String>,
    /// The password was for one sign-in only: the form asks for a new one as well.
    change: bool,
}

#[derive(Deserialize)]
pub struct NextParam {
    next: Option<String>,
}

fn cookie_header(
    state: &AppState,
    name: &str,
    value: &str,
    max_age: Option<i64>,
    same_site: &str,
) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite={same_site}");
    if let Some(age) = max_age {
        c += &format!("; Max-Age={age}");
    }
    if state.secure_cookies() {
        c += "; Secure";
    }
    c
}

fn login_page(
    state: &AppState,
    next: String,
    username: String,
    error: Option<String>,
    status: StatusCode,
) -> axum::response::Response {
    form_page(state, next, username, error, status, false)
}

fn form_page(
    state: &AppState,
    next: String,
    username: String,
    error: Option<String>,
    status: StatusCode,
    change: bool,
) -> axum::response::Response {
    let csrf = new_token(TokenKind::Csrf);
    let page = LoginPage {
        nav: Nav::default(),
        csrf: csrf.clone(),
        next,
        username,
        error,
        change,
    };
    let set = cookie_header(state, LOGIN_CSRF_COOKIE, &csrf, Some(3600), "Strict");
    (status, [(header::SET_COOKIE, set)], render(&page)).into_response()
}

pub async fn form(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<NextParam>,
) -> UiResult {
    let next = next_target(&state, &caller, q.next.as_deref())?;
    if caller.user.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    Ok(login_page(
        &state,
        next,
        String::new(),
        None,
        StatusCode::OK,
    ))
}

#[derive(Deserialize)]
pub struct SignInForm {
    csrf: String,
    next: Option<String>,
    username: String,
    password: String,
    /// Only when the password must be replaced at this sign-in.
    new_password: Option<String>,
    new_password_confirm: Option<String>,
}

pub async fn sign_in(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Form(f): Form<SignInForm>,
) -> UiResult {
    let next = next_target(&state, &caller, f.next.as_deref())?;
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    if expected.is_empty() || !constant_time_eq(expected, &f.csrf) {
        let msg = "The sign-in form expired. Please try again.".to_string();
        return Ok(login_page(
            &state,
            next,
            f.username,
            Some(msg),
            StatusCode::FORBIDDEN,
        ));
    }
    let account = match state
        .sign_in
        .check_password(
            &state.store,
            &state.config.security,
            &f.username,
            &f.password,
            &caller.ip,
        )
        .await
    {
        Ok(a) => a,
        Err(sign_in::SignInError::PasswordChangeRequired(account)) => {
            match replace_one_time_password(&state, &account, &f, &caller.ip).await {
                Ok(()) => account,
                Err((message, status)) => {
                    return Ok(form_page(
                        &state,
                        next,
                        f.username,
                        Some(message),
                        status,
                        true,
                    ))
                }
            }
        }
        Err(e @ sign_in::SignInError::Invalid) => {
            return Ok(login_page(
                &state,
                next,
                f.username,
                Some(e.to_string()),
                StatusCode::UNAUTHORIZED,
            ))
        }
        Err(e) => {
            // Throttled or busy: the form again, with the reason and when to retry.
            let api = crate::web::error::ApiError::from(e);
            if api.status.is_server_error() && api.retry_after.is_none() {
                return Err(UiError::from_api(api, &caller));
            }
            let mut page = login_page(&state, next, f.username, Some(api.message), api.status);
            if let Some(s) = api.retry_after {
                page.headers_mut().insert(header::RETRY_AFTER, s.into());
            }
            return Ok(page);
        }
    };
    let token = new_token(TokenKind::Session);
    let csrf = new_token(TokenKind::Csrf);
    let created = state
        .store
        .create_session(
            account.id,
            &token_hash(&token),
            &csrf,
            state.session_idle_ms(),
        )
        .await;
    if let Err(e) = created {
        return Err(UiError::from_api(e.into(), &caller));
    }
    let actor = audit::Actor {
        id: Some(account.id),
        name: &account.slug,
        ip: &caller.ip,
    };
    audit::record(
        &state.store,
        &actor,
        "auth.sign_in",
        &format!("user:{}", account.slug),
        "",
    )
    .await;
    let session = cookie_header(&state, SESSION_COOKIE, &token, None, "Lax");
    let clear = cookie_header(&state, LOGIN_CSRF_COOKIE, "", Some(0), "Strict");
    let mut resp = Redirect::to(&next).into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        session.parse().expect("cookie is a valid header"),
    );
    resp.headers_mut().append(
        header::SET_COOKIE,
        clear.parse().expect("cookie is a valid header"),
    );
    Ok(resp)
}

/// The person proved the one-time password; the new one they chose replaces it (and ends every
/// other session). Errors are shown on the form, which then asks for both passwords again.
async fn replace_one_time_password(
    state: &AppState,
    account: &crate::store::Account,
    f: &SignInForm,
    ip: &str,
) -> Result<(), (String, StatusCode)> {
    use crate::services::host::accounts::{check_new_password, store_password};
    let said = |e: crate::services::host::HostError| {
        let e = crate::web::error::ApiError::from(e);
        (e.message, e.status)
    };
    let chosen = f.new_password.clone().unwrap_or_default();
    if chosen.is_empty() {
        let msg = sign_in::SignInError::PasswordChangeRequired(account.clone()).to_string();
        return Err((msg, StatusCode::FORBIDDEN));
    }
    check_new_password(&chosen, f.new_password_confirm.as_deref().unwrap_or("")).map_err(said)?;
    if chosen == f.password {
        let msg = "Choose a password other than the one-time password.".to_string();
        return Err((msg, StatusCode::BAD_REQUEST));
    }
    let details = "one-time password replaced";
    store_password(&state.host(), account, ip, chosen, None, details)
        .await
        .map_err(said)
}

pub async fn sign_out(
    State(state): State<AppState>,
    caller: Caller,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> UiResult {
    if let Credential::Session { id, .. } = caller.credential {
        let _ = state.store.delete_session(id).await;
        audit::record(
            &state.store,
            &caller.actor(),
            "auth.sign_out",
            &format!("user:{}", caller.actor().name),
            "",
        )
        .await;
    }
    let clear = cookie_header(&state, SESSION_COOKIE, "", Some(0), "Lax");
    Ok(([(header::SET_COOKIE, clear)], Redirect::to("/login")).into_response())
}
