//! "Grant access" pages: the consent a person gives before an installed app acts for them
//! (`/apps/{id}/grant`, not frameable like every page), and Account → App authorizations,
//! where they see and revoke what they granted.

use super::{next_target, render, require_user, CsrfForm, Nav, OrPage, UiResult};
use crate::clock::display;
use crate::domain::connect_scopes::ConnectScopes;
use crate::services::host::app_access;
use crate::web::auth::Caller;
use crate::web::confirm::{ask_first, confirmed, Ask};
use crate::web::extract::{Path, Query};
use crate::web::flash::see_other_saying;
use crate::web::state::AppState;
use askama::Template;
use axum::extract::State;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "app_grant.html")]
struct GrantPage {
    nav: Nav,
    id: i64,
    name: String,
    vendor: Option<String>,
    account: String,
    scopes: Vec<&'static str>,
    granted: bool,
    next: String,
}

#[derive(Deserialize)]
pub struct NextParam {
    next: Option<String>,
}

fn words(scopes: ConnectScopes) -> Vec<&'static str> {
    scopes.iter().map(|s| s.describe()).collect()
}

/// `GET /apps/{id}/grant?next=…`: what the app would do as the person, Grant or Deny.
pub async fn page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(q): Query<NextParam>,
) -> UiResult {
    require_user(&caller, &format!("/apps/{id}/grant"))?;
    let next = next_target(&state, &caller, q.next.as_deref())?;
    let ask = app_access::ask(&state.host(), &caller.principal(), id)
        .await
        .or_page(&caller)?;
    Ok(render(&GrantPage {
        nav: Nav::of(&caller),
        id,
        scopes: words(ask.scopes),
        name: ask.app_name,
        vendor: ask.vendor,
        account: ask.account_slug,
        granted: ask.granted,
        next,
    }))
}

#[derive(Deserialize)]
pub struct Decision {
    decision: Option<String>,
    next: Option<String>,
}

/// `POST /apps/{id}/grant`: `decision=grant` records it; anything else grants nothing.
pub async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    CsrfForm(d): CsrfForm<Decision>,
) -> UiResult {
    let next = next_target(&state, &caller, d.next.as_deref())?;
    if d.decision.as_deref() != Some("grant") {
        return Ok(see_other_saying(&next, "The app was not given access."));
    }
    let (host, who) = (state.host(), caller.principal());
    app_access::grant(&host, &who, id).await.or_page(&caller)?;
    Ok(see_other_saying(
        &next,
        "The app may now act for you within its scopes.",
    ))
}

pub struct Row {
    pub id: i64,
    pub name: String,
    pub account: String,
    pub scopes: Vec<&'static str>,
    pub granted_at: String,
}

/// An app's OAuth consumer the person authorized (revoked like any OAuth application).
pub struct OAuthRow {
    pub app: String,
    pub client_id: String,
    pub client_name: String,
    pub scopes: Vec<&'static str>,
    pub granted_at: String,
}

#[derive(Template)]
#[template(path = "account_app_authorizations.html")]
struct AuthorizationsPage {
    nav: Nav,
    rows: Vec<Row>,
    oauth: Vec<OAuthRow>,
}

/// Account → App authorizations.
pub async fn list(State(state): State<AppState>, caller: Caller) -> UiResult {
    require_user(&caller, "/account/app-authorizations")?;
    let rows = app_access::list(&state.host(), &caller.principal())
        .await
        .or_page(&caller)?
        .into_iter()
        .map(|a| Row {
            id: a.installation_id,
            name: a.app_name,
            account: a.account_slug,
            scopes: words(ConnectScopes::from_text(&a.scopes)),
            granted_at: display(a.granted_at),
        })
        .collect();
    let oauth = app_access::through_oauth(&state.host(), &caller.principal())
        .await
        .or_page(&caller)?
        .into_iter()
        .map(|(app, a)| OAuthRow {
            app,
            scopes: crate::domain::oauth2::ScopeSet::parse(&a.scope)
                .map(|s| s.expanded().into_iter().map(|x| x.describe()).collect())
                .unwrap_or_default(),
            client_id: a.client_id,
            client_name: a.name,
            granted_at: display(a.granted_at),
        })
        .collect();
    Ok(render(&AuthorizationsPage {
        nav: Nav::of(&caller),
        rows,
        oauth,
    }))
}

/// Revokes (asked first): the app's next call for the person is refused.
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> UiResult {
    if !confirmed(&fields) {
        let action = format!("/account/app-authorizations/{id}/revoke");
        let ask = Ask {
            question: "Revoke this app's access?".into(),
            consequence:
                "The app can no longer act for you; it asks again the next time it needs to.",
            button: "Revoke",
            action: &action,
            back: "/account/app-authorizations",
        };
        return Ok(ask_first(&caller, &ask, &fields));
    }
    app_access::revoke(&state.host(), &caller.principal(), id)
        .await
        .or_page(&caller)?;
    Ok(see_other_saying(
        "/account/app-authorizations",
        "The app's access was revoked.",
    ))
}
