//! The page kit every server-rendered page uses, whichever surface it belongs to (the pages in
//! `web/ui`, the consent page in `web/oauth2`, the link callbacks in `web/applinks`): the
//! navigation bar, errors as pages, rendering, the CSRF-checked form extractor, where to go
//! next. It knows no routes, so nothing that routes imports back into it.

use super::auth::Caller;
use super::error::ApiError;
use super::state::AppState;
use crate::secret::constant_time_eq;
use askama::Template;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;

/// What the layout needs on every page: who is signed in, their CSRF token, what to show.
#[derive(Debug, Clone, Default)]
pub struct Nav {
    pub user: Option<String>,
    pub display_name: String,
    pub csrf: String,
    pub admin: bool,
    pub flash: Option<String>,
}

impl Nav {
    pub fn of(caller: &Caller) -> Self {
        Self {
            user: caller.user.as_ref().map(|u| u.slug.clone()),
            display_name: caller
                .user
                .as_ref()
                .map(|u| u.display_name.clone())
                .unwrap_or_default(),
            csrf: caller.csrf_token().unwrap_or_default().to_string(),
            admin: caller.check(crate::domain::Action::AdminSystem).is_ok(),
            flash: caller.flash.clone(),
        }
    }
}

/// An error shown as a page. Unauthenticated visitors are sent to sign in instead.
pub struct UiError {
    pub status: StatusCode,
    pub message: String,
    pub nav: Box<Nav>,
    pub next: Option<String>,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    nav: &'a Nav,
    status: u16,
    reason: &'a str,
    message: &'a str,
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        if self.status == StatusCode::UNAUTHORIZED && self.nav.user.is_none() {
            let next = self.next.unwrap_or_else(|| "/".into());
            let target = format!(
                "/login?next={}",
                url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            );
            return Redirect::to(&target).into_response();
        }
        let page = ErrorPage {
            nav: &self.nav,
            status: self.status.as_u16(),
            reason: self.status.canonical_reason().unwrap_or("Error"),
            message: &self.message,
        };
        (self.status, render(&page)).into_response()
    }
}

/// A mistake in a form, shown next to it (the form keeps what was typed).
#[derive(Debug, Clone, Default)]
pub struct FormError {
    /// The field at fault (its REST name, e.g. `key`), or empty.
    pub field: String,
    pub message: String,
}

impl FormError {
    /// Whether `field` is the one at fault (for `aria-invalid`).
    pub fn is(&self, field: &str) -> bool {
        self.field == field
    }
}

/// Bad input, conflicts and anything said about one field (a name that does not exist, a URL
/// that does not answer) belong on the form, next to what was typed; everything else (not
/// signed in, not allowed, the page's own subject not found, a failure) is an error page.
pub fn on_the_form(e: &ApiError) -> bool {
    match e.status {
        StatusCode::BAD_REQUEST | StatusCode::CONFLICT => true,
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => false,
        _ => e.context.is_some(),
    }
}

/// Splits a host error into one the form shows (with its status) or an error page.
pub fn form_error(
    e: crate::services::host::HostError,
    caller: &Caller,
) -> Result<(StatusCode, FormError), UiError> {
    let e = ApiError::from(e);
    if on_the_form(&e) {
        let field = e.context.clone().unwrap_or_default();
        Ok((
            e.status,
            FormError {
                field,
                message: e.message,
            },
        ))
    } else {
        Err(UiError::from_api(e, caller))
    }
}

/// The answer to a form a host operation refused: its page again, built by `page` with the
/// mistake (the form's own values kept by the caller), under the error's status; or an error
/// page when the refusal is not about the input.
pub async fn form_again<F>(
    e: crate::services::host::HostError,
    caller: &Caller,
    page: impl FnOnce(FormError) -> F,
) -> UiResult
where
    F: std::future::Future<Output = UiResult>,
{
    let (status, error) = form_error(e, caller)?;
    let mut response = page(error).await?;
    *response.status_mut() = status;
    Ok(response)
}

/// Turns REST errors into pages for this caller.
pub trait OrPage<T> {
    fn or_page(self, caller: &Caller) -> Result<T, UiError>;
}

impl<T> OrPage<T> for Result<T, ApiError> {
    fn or_page(self, caller: &Caller) -> Result<T, UiError> {
        self.map_err(|e| UiError::from_api(e, caller))
    }
}

/// Host operations' errors read on a page as they do over REST.
impl<T> OrPage<T> for crate::services::host::HostResult<T> {
    fn or_page(self, caller: &Caller) -> Result<T, UiError> {
        self.map_err(|e| UiError::from_api(e.into(), caller))
    }
}

impl UiError {
    /// A form posted to an action the page does not have.
    pub fn no_such_action(caller: &Caller) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            message: "There is no such action.".into(),
            nav: Box::new(Nav::of(caller)),
            next: None,
        }
    }

    pub fn from_api(e: ApiError, caller: &Caller) -> Self {
        UiError {
            status: e.status,
            message: e.message,
            nav: Box::new(Nav::of(caller)),
            next: None,
        }
    }
}

pub type UiResult = Result<Response, UiError>;

pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    nav: Nav,
    title: &'a str,
    text: &'a str,
}

/// A page that only says something (an outcome, a feature not there yet).
pub fn message_page(caller: &Caller, title: &str, text: &str) -> Response {
    render(&MessagePage {
        nav: Nav::of(caller),
        title,
        text,
    })
}

/// Redirects after a successful form post (POST → redirect → GET).
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// A form body whose `csrf` field must match the session's token.
pub struct CsrfForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for CsrfForm<T> {
    type Rejection = UiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, UiError> {
        let caller = req.extensions().get::<Caller>().cloned();
        let nav = caller.as_ref().map(Nav::of).unwrap_or_default();
        let fail = |status: StatusCode, message: &str| UiError {
            status,
            message: message.into(),
            nav: Box::new(nav.clone()),
            next: None,
        };
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(fail(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Forms must be sent as application/x-www-form-urlencoded.",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| fail(StatusCode::PAYLOAD_TOO_LARGE, "The form is too large."))?;
        let fields: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
        let sent = fields
            .iter()
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        let expected = caller.as_ref().and_then(|c| c.csrf_token()).unwrap_or("");
        if caller.as_ref().is_none_or(|c| c.user.is_none()) {
            return Err(fail(StatusCode::UNAUTHORIZED, "Sign in first."));
        }
        if expected.is_empty() || !constant_time_eq(sent, expected) {
            return Err(fail(StatusCode::FORBIDDEN, "This form has expired or did not come from Junction. Go back, reload the page and try again."));
        }
        serde_urlencoded::from_bytes(&bytes)
            .map(CsrfForm)
            .map_err(|e| {
                fail(
                    StatusCode::BAD_REQUEST,
                    &format!("The form is incomplete: {e}"),
                )
            })
    }
}

/// Requires a signed-in user for a page; otherwise sends them to sign in and back.
pub fn require_user(caller: &Caller, here: &str) -> Result<(), UiError> {
    if caller.user.is_some() {
        Ok(())
    } else {
        Err(UiError {
            status: StatusCode::UNAUTHORIZED,
            message: String::new(),
            nav: Box::default(),
            next: Some(here.into()),
        })
    }
}

/// The page to go to next, from a request's `next`: Junction's own origin only
/// (`domain::redirect`); control characters are a 400.
pub fn next_target(
    state: &AppState,
    caller: &Caller,
    raw: Option<&str>,
) -> Result<String, UiError> {
    crate::domain::redirect::same_origin_target(&state.base_url, raw).map_err(|e| UiError {
        status: StatusCode::BAD_REQUEST,
        message: e.to_string(),
        nav: Box::new(Nav::of(caller)),
        next: None,
    })
}
