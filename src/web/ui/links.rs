//! Administration → Application links: incoming links (OAuth 2.0 clients of Junction) with
//! their credentials, users and actions. Changes go through the OAuth client REST operations.

use super::admin::admin_only;
use super::{render, CsrfForm, Nav, OrPage, UiResult};
use crate::clock::display;
use crate::domain::oauth2::Scope;
use crate::services::host::oauth_clients::{self as host_clients, ClientInput};
use crate::store::OAuthClient;
use crate::web::auth::Caller;
use crate::web::confirm::{ask_first, confirmed, Ask};
use crate::web::error::ApiError;
use crate::web::extract::Path;
use crate::web::flash::see_other_saying;
use crate::web::state::AppState;
use askama::Template;
use axum::extract::State;
use serde::Deserialize;

pub struct LinkRow {
    pub name: String,
    pub client_id: String,
    pub kind: &'static str,
    pub scope: String,
    pub redirects: Vec<String>,
    pub users: usize,
    pub created: String,
}

#[derive(Template)]
#[template(path = "admin_links.html")]
struct LinksPage {
    nav: Nav,
    links: Vec<LinkRow>,
    scopes: Vec<(&'static str, bool)>,
    actions: [(&'static str, &'static str, &'static str); 4],
    /// Credentials to show once, after creation, reset or an (audited) explicit view.
    shown: Option<(String, String, Option<String>)>,
    base_url: String,
    app_links: Vec<super::link_rows::LinkRow>,
    flash: Option<String>,
}

/// The list page: links with a URL, then incoming clients made without one (and not belonging
/// to a link or a service account).
pub async fn page(
    state: &AppState,
    caller: &Caller,
    shown: Option<(String, String, Option<String>)>,
    flash: Option<String>,
) -> UiResult {
    let all = state
        .store
        .list_links()
        .await
        .map_err(ApiError::from)
        .or_page(caller)?;
    let taken: Vec<i64> = all.iter().filter_map(|l| l.incoming_client).collect();
    let services: Vec<i64> = state
        .store
        .list_service_accounts()
        .await
        .map_err(ApiError::from)
        .or_page(caller)?
        .into_iter()
        .map(|(_, c)| c.id)
        .collect();
    let app_links = all.iter().map(super::link_rows::row).collect();
    let list = state
        .store
        .list_oauth_clients()
        .await
        .map_err(ApiError::from)
        .or_page(caller)?;
    let mut links = Vec::new();
    for c in list
        .into_iter()
        .filter(|c| !taken.contains(&c.id) && !services.contains(&c.id))
    {
        let users = state
            .store
            .client_grants(c.id)
            .await
            .map_err(ApiError::from)
            .or_page(caller)?
            .len();
        links.push(LinkRow {
            redirects: c.redirect_list(),
            kind: if c.confidential {
                "Confidential"
            } else {
                "Public (PKCE)"
            },
            name: c.name,
            client_id: c.client_id,
            scope: c.scope,
            users,
            created: display(c.created_at),
        });
    }
    let scopes = Scope::ALL
        .iter()
        .map(|s| (s.as_str(), *s == Scope::RepoRead))
        .collect();
    let actions = [
        ("credentials", "View credentials", "secondary"),
        ("reset", "Reset secret", "secondary"),
        ("revoke", "Revoke all users", "secondary"),
        ("delete", "Delete", "danger"),
    ];
    Ok(render(&LinksPage {
        nav: Nav::of(caller),
        links,
        scopes,
        actions,
        shown,
        base_url: state.base_url.clone(),
        app_links,
        flash,
    }))
}

pub async fn list(State(state): State<AppState>, caller: Caller) -> UiResult {
    admin_only(&caller, "/admin/application-links")?;
    page(&state, &caller, None, None).await
}

#[derive(Deserialize)]
pub struct NewLinkForm {
    name: String,
    redirects: String,
    scope: String,
    public: Option<String>,
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    CsrfForm(f): CsrfForm<NewLinkForm>,
) -> UiResult {
    admin_only(&caller, "/admin/application-links")?;
    let input = ClientInput {
        name: Some(f.name),
        redirects: Some(f.redirects.lines().map(str::to_string).collect()),
        scope: Some(f.scope),
        confidential: Some(f.public.is_none()),
    };
    let (client, secret) = host_clients::create(&state.host(), &caller.principal(), &input)
        .await
        .or_page(&caller)?;
    page(&state, &caller, Some(shown(&client, secret)), None).await
}

/// A client's name, id and (when shown) secret, for the page's one-time panel.
fn shown(c: &OAuthClient, secret: Option<String>) -> (String, String, Option<String>) {
    (c.name.clone(), c.client_id.clone(), secret)
}

/// Per-link actions: `credentials` (view again, audited), `reset`, `revoke` (all users), `delete`.
pub async fn action(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, action)): Path<(String, String)>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> UiResult {
    admin_only(&caller, "/admin/application-links")?;
    let (host, who) = (state.host(), caller.principal());
    let consequence = match action.as_str() {
        "reset" => Some("The current secret stops working at once; the remote application must be given the new one."),
        "revoke" => Some("Every person's authorization of this link ends; each must authorize it again."),
        "delete" => Some("The link and every token issued to it stop working at once. This cannot be undone."),
        _ => None,
    };
    if let Some(consequence) = consequence.filter(|_| !confirmed(&fields)) {
        let verb = match action.as_str() {
            "reset" => "Reset the secret of",
            "revoke" => "Revoke every authorization of",
            _ => "Delete",
        };
        let client = host_clients::find(&host, &who, &id)
            .await
            .or_page(&caller)?;
        let ask = Ask {
            question: format!("{verb} the link {}?", client.name),
            consequence,
            button: verb.split(' ').next().unwrap_or("Confirm"),
            action: &format!("/admin/application-links/{id}/{action}"),
            back: "/admin/application-links",
        };
        return Ok(ask_first(&caller, &ask, &fields));
    }
    match action.as_str() {
        "credentials" => {
            let (client, secret) = host_clients::credentials(&host, &who, &id)
                .await
                .or_page(&caller)?;
            page(&state, &caller, Some(shown(&client, secret)), None).await
        }
        "reset" => {
            let (client, secret) = host_clients::reset_secret(&host, &who, &id)
                .await
                .or_page(&caller)?;
            page(&state, &caller, Some(shown(&client, Some(secret))), None).await
        }
        "revoke" => {
            host_clients::revoke_grants(&host, &who, &id)
                .await
                .or_page(&caller)?;
            let said = "Revoked every person's authorization of this link.";
            Ok(see_other_saying("/admin/application-links", said))
        }
        "delete" => {
            host_clients::delete(&host, &who, &id)
                .await
                .or_page(&caller)?;
            let said = "Deleted the link: every token issued to it stopped working.";
            Ok(see_other_saying("/admin/application-links", said))
        }
        _ => Err(super::UiError::no_such_action(&caller)),
    }
}
