//! Administration → Application links: incoming links (OAuth 2.0 clients of Junction) with
//! their credentials, users and actions. Changes go through the OAuth client REST operations.

use super::admin::admin_only;
use super::{render, CsrfForm, Nav, OrPage, UiResult};
use crate::clock::display;
use crate::domain::oauth2::Scope;
use crate::services::host::applinks as host_links;
use crate::services::host::oauth_clients::{self as host_clients, ClientInput};
use crate::services::host::service_accounts as host_service;
use crate::store::OAuthClient;
use crate::web::auth::Caller;
use crate::web::confirm::{ask_first, confirmed, Ask};
use crate::web::extract::Path;
use crate::web::flash::see_other_saying;
use crate::web::page::{form_again, FormError};
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
    forms: ListForms,
}

/// The list page's two forms as typed, and the mistake of the one that came back.
#[derive(Default)]
pub struct ListForms {
    /// The URL of "Create link" (discovery).
    pub url: String,
    pub url_error: Option<FormError>,
    /// The incoming link without a URL.
    pub client: NewLinkForm,
    pub client_error: Option<FormError>,
}

/// The list page: links with a URL, then incoming clients made without one (and not belonging
/// to a link or a service account).
pub async fn page(
    state: &AppState,
    caller: &Caller,
    shown: Option<(String, String, Option<String>)>,
    flash: Option<String>,
) -> UiResult {
    page_with(state, caller, shown, flash, ListForms::default()).await
}

/// The list page again with `url` in the "Create link" form and why it could not be used.
pub async fn url_again(
    state: &AppState,
    caller: &Caller,
    url: String,
    e: crate::services::host::HostError,
) -> UiResult {
    let again = |error| {
        let forms = ListForms {
            url,
            url_error: Some(error),
            ..ListForms::default()
        };
        page_with(state, caller, None, None, forms)
    };
    form_again(e, caller, again).await
}

/// The list page with its forms as `forms` has them.
pub async fn page_with(
    state: &AppState,
    caller: &Caller,
    shown: Option<(String, String, Option<String>)>,
    flash: Option<String>,
    forms: ListForms,
) -> UiResult {
    let (host, who) = (state.host(), caller.principal());
    let all = host_links::list(&host, &who).await.or_page(caller)?;
    let taken: Vec<i64> = all.iter().filter_map(|l| l.incoming_client).collect();
    let services: Vec<i64> = host_service::list(&host, &who)
        .await
        .or_page(caller)?
        .into_iter()
        .map(|(_, c)| c.id)
        .collect();
    let app_links = all.iter().map(super::link_rows::row).collect();
    let list = host_clients::list(&host, &who).await.or_page(caller)?;
    let mut links = Vec::new();
    for c in list
        .into_iter()
        .filter(|c| !taken.contains(&c.id) && !services.contains(&c.id))
    {
        let users = host_clients::grants_of(&host, &who, &c)
            .await
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
    let chosen = Scope::parse(&forms.client.scope).unwrap_or(Scope::RepoRead);
    let scopes = super::applinks::scope_choices(chosen);
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
        forms,
    }))
}

pub async fn list(State(state): State<AppState>, caller: Caller) -> UiResult {
    admin_only(&caller, "/admin/application-links")?;
    page(&state, &caller, None, None).await
}

#[derive(Deserialize, Default, Clone)]
pub struct NewLinkForm {
    pub name: String,
    pub redirects: String,
    pub scope: String,
    pub public: Option<String>,
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    CsrfForm(f): CsrfForm<NewLinkForm>,
) -> UiResult {
    admin_only(&caller, "/admin/application-links")?;
    let input = ClientInput {
        name: Some(f.name.clone()),
        redirects: Some(f.redirects.lines().map(str::to_string).collect()),
        scope: Some(f.scope.clone()),
        confidential: Some(f.public.is_none()),
    };
    match host_clients::create(&state.host(), &caller.principal(), &input).await {
        Ok((client, secret)) => page(&state, &caller, Some(shown(&client, secret)), None).await,
        Err(e) => {
            let forms = |error| ListForms {
                client: f,
                client_error: Some(error),
                ..ListForms::default()
            };
            let again = |error| page_with(&state, &caller, None, None, forms(error));
            form_again(e, &caller, again).await
        }
    }
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
