//! The two-way link pages: on A, starting the pairing; on B, the approval its admin sees; back
//! on A, the landing page that tests A's side. The protocol is `services::links::pairing`.

use super::admin::admin_only;
use super::applinks::scope_choices;
use super::{render, CsrfForm, Nav, OrPage, UiResult};
use crate::domain::oauth2::Scope;
use crate::services::host::applinks as host_links;
use crate::web::auth::Caller;
use crate::web::extract::{Path, Query};
use crate::web::page::{form_again, FormError};
use crate::web::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

const PAGE: &str = "/admin/application-links";

#[derive(Deserialize)]
pub struct PairForm {
    url: String,
    scope: Option<String>,
}

/// On A: starts pairing and sends the admin to the other server to approve.
pub async fn pair(
    State(state): State<AppState>,
    caller: Caller,
    CsrfForm(f): CsrfForm<PairForm>,
) -> UiResult {
    admin_only(&caller, PAGE)?;
    let scope = f.scope.as_deref();
    match host_links::begin_pairing(&state.host(), &caller.principal(), &f.url, scope).await {
        Ok((_, next)) => Ok(Redirect::to(&next).into_response()),
        // Back to where the URL was entered, with it and the reason.
        Err(e) => super::links::url_again(&state, &caller, f.url, e).await,
    }
}

#[derive(Deserialize)]
pub struct ApproveQuery {
    peer: String,
    pairing: String,
}

#[derive(Template)]
#[template(path = "admin_link_pair.html")]
struct ApprovePage {
    nav: Nav,
    peer: String,
    pairing: String,
    application: String,
    scopes: Vec<(&'static str, bool)>,
    error: Option<FormError>,
}

/// On B: what A asks, for B's admin to approve.
pub async fn approve_form(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ApproveQuery>,
) -> UiResult {
    let here = format!(
        "{PAGE}/pair?{}",
        serde_urlencoded::to_string([("peer", &q.peer), ("pairing", &q.pairing)])
            .unwrap_or_default()
    );
    admin_only(&caller, &here)?;
    approve_page(&state, &caller, &q.peer, q.pairing, Scope::RepoRead, None).await
}

/// What the other server asks, with the scope chosen and the mistake when approving failed.
async fn approve_page(
    state: &AppState,
    caller: &Caller,
    peer: &str,
    pairing: String,
    scope: Scope,
    error: Option<FormError>,
) -> UiResult {
    let d = host_links::discover(&state.host(), &caller.principal(), peer)
        .await
        .or_page(caller)?;
    Ok(render(&ApprovePage {
        nav: Nav::of(caller),
        application: d.application(),
        peer: d.url,
        pairing,
        scopes: scope_choices(scope),
        error,
    }))
}

#[derive(Deserialize)]
pub struct ApproveForm {
    peer: String,
    pairing: String,
    scope: String,
}

/// On B: approves. Both servers end with an incoming and an outgoing link to each other; B
/// tests its side and sends the admin back to A, which tests its side.
pub async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    CsrfForm(f): CsrfForm<ApproveForm>,
) -> UiResult {
    admin_only(&caller, PAGE)?;
    let (host, who) = (state.host(), caller.principal());
    match host_links::approve_pairing(&host, &who, &f.peer, &f.pairing, &f.scope).await {
        Ok((_, peer_link, peer_url)) => {
            Ok(Redirect::to(&format!("{peer_url}{PAGE}/{peer_link}/paired")).into_response())
        }
        Err(e) => {
            let scope = Scope::parse(&f.scope).unwrap_or(Scope::RepoRead);
            let again =
                |error| approve_page(&state, &caller, &f.peer, f.pairing, scope, Some(error));
            form_again(e, &caller, again).await
        }
    }
}

/// On A, when the admin comes back: tests this side and shows the list.
pub async fn paired(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> UiResult {
    admin_only(&caller, &format!("{PAGE}/{id}/paired"))?;
    let (s, l) = host_links::test(&state.host(), &caller.principal(), &id)
        .await
        .or_page(&caller)?;
    let flash = format!(
        "Linked both ways with {}. Test connection: {}",
        l.name, s.summary
    );
    super::links::page(&state, &caller, None, Some(flash)).await
}
