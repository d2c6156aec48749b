//! Flash messages: what a page did, said on the page the browser is redirected to. The message
//! travels in a short-lived cookie set on the redirect (`see_other_saying`), is read into the
//! `Caller` with the session, shown by the layout (`Nav::flash`, escaped like all page text),
//! and cleared by the first page that is not itself a redirect. It holds no secret: a person
//! can only flash words at themselves.

use axum::extract::Request;
use axum::http::header::SET_COOKIE;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

pub const COOKIE_NAME: &str = "junction_flash";
/// Longer messages are cut: a flash is a sentence, not a document.
const MAX_CHARS: usize = 300;

/// The flash message a request carries, if any.
pub fn read(headers: &axum::http::HeaderMap) -> Option<String> {
    let raw = crate::web::auth::cookie(headers, COOKIE_NAME)?;
    let text: String = url::form_urlencoded::parse(format!("m={raw}").as_bytes())
        .find(|(k, _)| k == "m")
        .map(|(_, v)| v.into_owned())?;
    let text: String = text.chars().take(MAX_CHARS).collect();
    (!text.trim().is_empty()).then_some(text)
}

/// A 303 to `to` that says `message` on the page it lands on.
pub fn see_other_saying(to: &str, message: &str) -> Response {
    let mut r = Redirect::to(to).into_response();
    let value: String = url::form_urlencoded::byte_serialize(message.as_bytes()).collect();
    let cookie = format!("{COOKIE_NAME}={value}; Path=/; Max-Age=60; HttpOnly; SameSite=Lax");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().append(SET_COOKIE, v);
    }
    r
}

/// Middleware for pages: once a page that is not a redirect has been answered to a request
/// carrying a flash, the flash is spent.
pub async fn spend(req: Request, next: Next) -> Response {
    let carried = crate::web::auth::cookie(req.headers(), COOKIE_NAME).is_some();
    let mut resp = next.run(req).await;
    if carried && !resp.status().is_redirection() {
        let clear = format!("{COOKIE_NAME}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
        if let Ok(v) = HeaderValue::from_str(&clear) {
            resp.headers_mut().append(SET_COOKIE, v);
        }
    }
    resp
}
