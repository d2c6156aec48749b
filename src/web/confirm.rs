//! Destructive actions ask first. A form for one (delete, deactivate, revoke, reset a secret)
//! posts without `confirm=yes` the first time; the answer is a page that says what will happen
//! and posts the same form again, confirmed, or goes back. No script is needed.

use crate::web::auth::Caller;
use crate::web::page::{render, Nav};
use askama::Template;
use axum::response::Response;

/// Whether the form says the person confirmed.
pub fn confirmed(fields: &[(String, String)]) -> bool {
    fields.iter().any(|(k, v)| k == "confirm" && v == "yes")
}

/// What to ask before acting.
pub struct Ask<'a> {
    /// The question, e.g. "Delete the webhook ci?"
    pub question: String,
    /// What cannot be undone, in a sentence.
    pub consequence: &'a str,
    /// The button's words, e.g. "Delete".
    pub button: &'a str,
    /// Where the form posts (the action itself).
    pub action: &'a str,
    /// Where "Cancel" goes.
    pub back: &'a str,
}

#[derive(Template)]
#[template(path = "confirm.html")]
struct ConfirmPage<'a> {
    nav: Nav,
    ask: &'a Ask<'a>,
    /// The first form's fields, posted again (not its CSRF token, which the page adds).
    fields: Vec<(String, String)>,
}

/// The page that asks; `fields` are the form's own, carried to the confirmed post.
pub fn ask_first(caller: &Caller, ask: &Ask<'_>, fields: &[(String, String)]) -> Response {
    let fields = fields
        .iter()
        .filter(|(k, _)| k != "csrf" && k != "confirm")
        .cloned()
        .collect();
    render(&ConfirmPage {
        nav: Nav::of(caller),
        ask,
        fields,
    })
}
