//! Administration → Application links, for links with a URL: identify a remote, create the
//! fitting link, edit, relocate, test, delete (the two-way pairing pages are in `pairing.rs`).
//! Every read and change is an operation of `services::host::applinks`, as over REST.

use super::admin::admin_only;
use super::link_rows::{row, LinkRow};
use super::{render, CsrfForm, Nav, OrPage, UiResult};
use crate::domain::applinks::{redirect_uri, PRESETS};
use crate::domain::oauth2::Scope;
use crate::services::host::applinks::{
    self as host_links, IncomingInput, LinkInput, OutgoingInput,
};
use crate::services::links::discover::Discovery;
use crate::web::auth::Caller;
use crate::web::confirm::{ask_first, Ask};
use crate::web::extract::Path;
use crate::web::flash::see_other_saying;
use crate::web::page::{form_again, FormError};
use crate::web::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

const PAGE: &str = "/admin/application-links";

#[derive(Deserialize)]
pub struct UrlForm {
    url: String,
}

#[derive(Template)]
#[template(path = "admin_link_new.html")]
struct NewLinkPage {
    nav: Nav,
    url: String,
    kind: String,
    application: String,
    advice: String,
    notes: Vec<String>,
    authorize_url: String,
    token_url: String,
    redirect_uri: String,
    presets: Vec<(&'static str, &'static str, bool)>,
    scopes: Vec<(&'static str, bool)>,
    /// The form as typed when it came back (never the secret), its side and its mistake.
    kept: CreateForm,
    error: Option<FormError>,
}

pub(super) fn scope_choices(selected: Scope) -> Vec<(&'static str, bool)> {
    Scope::ALL
        .iter()
        .map(|s| (s.as_str(), *s == selected))
        .collect()
}

/// Step one of creating a link: what is at the URL, and the forms that fit it. A URL that
/// cannot be used or does not answer comes back on the list page's form.
pub async fn discover(
    State(state): State<AppState>,
    caller: Caller,
    CsrfForm(f): CsrfForm<UrlForm>,
) -> UiResult {
    admin_only(&caller, PAGE)?;
    match host_links::discover(&state.host(), &caller.principal(), &f.url).await {
        Ok(d) => Ok(new_link_page(
            &state,
            &caller,
            d,
            CreateForm::default(),
            None,
        )),
        Err(e) => super::links::url_again(&state, &caller, f.url, e).await,
    }
}

/// The forms that fit what answers at the URL, with `kept` as typed when one came back.
fn new_link_page(
    state: &AppState,
    caller: &Caller,
    d: Discovery,
    kept: CreateForm,
    error: Option<FormError>,
) -> axum::response::Response {
    let mut notes = Vec::new();
    if let Some(n) = &d.manifest_note {
        notes.push(n.clone());
    }
    if let Some(o) = d
        .clock_offset_seconds
        .filter(|o| o.abs() > crate::domain::applinks::MAX_CLOCK_SKEW_SECONDS)
    {
        notes.push(format!(
            "The remote's clock is {o:+} seconds off this server's; fix that before linking."
        ));
    }
    let (mut authorize_url, mut token_url) = d
        .oauth
        .as_ref()
        .map(|m| (m.authorization_endpoint.clone(), m.token_endpoint.clone()))
        .unwrap_or_default();
    if error.is_some() {
        authorize_url = kept.authorization_endpoint.clone().unwrap_or_default();
        token_url = kept.token_endpoint.clone().unwrap_or_default();
    }
    let preset = kept.preset.as_deref().unwrap_or("custom");
    let scope = kept
        .scope
        .as_deref()
        .and_then(Scope::parse)
        .unwrap_or(Scope::RepoRead);
    render(&NewLinkPage {
        nav: Nav::of(caller),
        redirect_uri: if authorize_url.is_empty() {
            String::new()
        } else {
            redirect_uri(&state.base_url, &authorize_url)
        },
        url: d.url.clone(),
        kind: d.kind.to_string(),
        application: d.application(),
        advice: d.advice().to_string(),
        notes,
        authorize_url,
        token_url,
        presets: PRESETS
            .iter()
            .map(|p| (p.id, p.name, p.id == preset))
            .collect(),
        scopes: scope_choices(scope),
        kept,
        error,
    })
}

/// The create and edit forms (`side` says which one: `incoming`, `outgoing`, `both`, `edit`).
#[derive(Deserialize, Default, Clone)]
pub struct CreateForm {
    url: String,
    name: Option<String>,
    /// `incoming`, `outgoing` or `both`.
    side: String,
    redirects: Option<String>,
    scope: Option<String>,
    preset: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    authorization_endpoint: Option<String>,
    token_endpoint: Option<String>,
    scopes: Option<String>,
}

fn outgoing_of(f: &CreateForm) -> OutgoingInput {
    OutgoingInput {
        preset: f.preset.clone(),
        client_id: f.client_id.clone(),
        client_secret: f.client_secret.clone(),
        authorization_endpoint: f.authorization_endpoint.clone(),
        token_endpoint: f.token_endpoint.clone(),
        scopes: f.scopes.clone(),
    }
}

/// Step two: creates the link (and shows the incoming credentials once, if any).
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    CsrfForm(f): CsrfForm<CreateForm>,
) -> UiResult {
    admin_only(&caller, PAGE)?;
    let incoming = matches!(f.side.as_str(), "incoming" | "both").then(|| IncomingInput {
        redirects: f
            .redirects
            .as_deref()
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect(),
        scope: f.scope.clone(),
    });
    let outgoing = matches!(f.side.as_str(), "outgoing" | "both").then(|| outgoing_of(&f));
    let input = LinkInput {
        name: f.name.clone().filter(|n| !n.trim().is_empty()),
        url: Some(f.url.clone()),
        incoming,
        outgoing,
    };
    let (host, who) = (state.host(), caller.principal());
    let (link, secret) = match host_links::create(&host, &who, &input).await {
        Ok(made) => made,
        Err(e) => {
            let again = |error| async {
                let d = host_links::discover(&host, &who, &f.url)
                    .await
                    .or_page(&caller)?;
                let kept = CreateForm {
                    client_secret: None,
                    ..f.clone()
                };
                Ok(new_link_page(&state, &caller, d, kept, Some(error)))
            };
            return form_again(e, &caller, again).await;
        }
    };
    let client = host_links::incoming_of(&host, &link)
        .await
        .or_page(&caller)?;
    // The incoming secret is shown once, here.
    let shown = client
        .zip(secret)
        .map(|(c, s)| (link.name.clone(), c.client_id, Some(s)));
    let flash = format!("Created the link {}.", link.name);
    super::links::page(&state, &caller, shown, Some(flash)).await
}

#[derive(Template)]
#[template(path = "admin_link.html")]
struct LinkPage {
    nav: Nav,
    link: LinkRow,
    out: Option<crate::store::Outgoing>,
    redirect_uri: String,
    incoming_client: String,
    incoming_redirects: String,
    scopes: Vec<(&'static str, bool)>,
    /// The edit form's name (as stored, or as typed when it came back).
    name: String,
    edit_error: Option<FormError>,
    /// The relocate form's URL and its mistake.
    new_url: String,
    relocate_error: Option<FormError>,
}

/// A form of the link page that came back: which, with what was typed.
enum Kept {
    Edit(Box<CreateForm>),
    Relocate(String),
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> UiResult {
    admin_only(&caller, PAGE)?;
    link_page(&state, &caller, &id, None).await
}

/// The link's page; `kept` is a form that came back with its mistake.
async fn link_page(
    state: &AppState,
    caller: &Caller,
    id: &str,
    kept: Option<(Kept, FormError)>,
) -> UiResult {
    let (host, who) = (state.host(), caller.principal());
    let l = host_links::find(&host, &who, id).await.or_page(caller)?;
    let client = host_links::incoming_of(&host, &l).await.or_page(caller)?;
    let mut out = l.outgoing();
    let mut selected = client
        .as_ref()
        .and_then(|c| Scope::parse(&c.scope))
        .unwrap_or(Scope::RepoRead);
    let mut page = LinkPage {
        nav: Nav::of(caller),
        redirect_uri: out
            .as_ref()
            .map(|o| redirect_uri(&state.base_url, &o.authorize_url))
            .unwrap_or_default(),
        out: None,
        incoming_client: client
            .as_ref()
            .map(|c| c.client_id.clone())
            .unwrap_or_default(),
        incoming_redirects: client
            .as_ref()
            .map(|c| c.redirects.clone())
            .unwrap_or_default(),
        scopes: Vec::new(),
        name: l.name.clone(),
        edit_error: None,
        new_url: l.url.clone(),
        relocate_error: None,
        link: row(&l),
    };
    match kept {
        Some((Kept::Edit(f), error)) => {
            page.name = f.name.clone().unwrap_or_default();
            if let Some(r) = &f.redirects {
                page.incoming_redirects = r.clone();
            }
            selected = f
                .scope
                .as_deref()
                .and_then(Scope::parse)
                .unwrap_or(selected);
            if let Some(o) = out.as_mut() {
                let typed = |v: &Option<String>, was: &mut String| {
                    if let Some(v) = v {
                        *was = v.clone();
                    }
                };
                typed(&f.client_id, &mut o.client_id);
                typed(&f.authorization_endpoint, &mut o.authorize_url);
                typed(&f.token_endpoint, &mut o.token_url);
                typed(&f.scopes, &mut o.scopes);
            }
            page.edit_error = Some(error);
        }
        Some((Kept::Relocate(url), error)) => {
            page.new_url = url;
            page.relocate_error = Some(error);
        }
        None => {}
    }
    page.out = out;
    page.scopes = scope_choices(selected);
    Ok(render(&page))
}

/// Edits a link: the name, and the outgoing side's settings (secret kept unless re-entered).
pub async fn edit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<CreateForm>,
) -> UiResult {
    admin_only(&caller, PAGE)?;
    let input = LinkInput {
        name: f.name.clone(),
        url: None,
        incoming: f.redirects.as_ref().map(|r| IncomingInput {
            redirects: r.lines().map(str::to_string).collect(),
            scope: f.scope.clone(),
        }),
        outgoing: f.client_id.is_some().then(|| outgoing_of(&f)),
    };
    match host_links::update(&state.host(), &caller.principal(), &id, &input).await {
        Ok(_) => Ok(see_other_saying(&format!("{PAGE}/{id}"), "Saved the link.")),
        Err(e) => {
            let kept = CreateForm {
                client_secret: None,
                ..f
            };
            let again = |error| {
                link_page(
                    &state,
                    &caller,
                    &id,
                    Some((Kept::Edit(Box::new(kept)), error)),
                )
            };
            form_again(e, &caller, again).await
        }
    }
}

/// Per-link actions: `test`, `authorize` (interactive test), `credentials`, `relocate`, `delete`.
pub async fn action(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, action)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<std::collections::HashMap<String, String>>,
) -> UiResult {
    admin_only(&caller, PAGE)?;
    let (host, who) = (state.host(), caller.principal());
    match action.as_str() {
        "test" => {
            let (status, _) = host_links::test(&host, &who, &id).await.or_page(&caller)?;
            let message = if status.working {
                status.summary
            } else {
                format!("{}: {}", status.summary, status.cause)
            };
            let flash = format!("Test connection: {message}");
            super::links::page(&state, &caller, None, Some(flash)).await
        }
        "authorize" => {
            let url = host_links::start_test_authorization(&host, &who, &id)
                .await
                .or_page(&caller)?;
            Ok(Redirect::to(&url).into_response())
        }
        "credentials" => {
            let c = host_links::credentials(&host, &who, &id)
                .await
                .or_page(&caller)?;
            let shown = match c.incoming {
                Some((client, secret)) => (c.link.name, client.client_id, secret),
                None => (c.link.name, "(no incoming side)".to_string(), None),
            };
            super::links::page(&state, &caller, Some(shown), None).await
        }
        "relocate" => {
            let url = f.get("url").cloned().unwrap_or_default();
            match host_links::relocate(&host, &who, &id, &url).await {
                Ok(l) => {
                    let said = format!("Relocated the link to {}.", l.url);
                    Ok(see_other_saying(&format!("{PAGE}/{id}"), &said))
                }
                Err(e) => {
                    let again =
                        |error| link_page(&state, &caller, &id, Some((Kept::Relocate(url), error)));
                    form_again(e, &caller, again).await
                }
            }
        }
        "delete" if f.get("confirm").map(String::as_str) != Some("yes") => {
            let link = host_links::find(&host, &who, &id).await.or_page(&caller)?;
            let ask = Ask {
                question: format!("Delete the application link {}?", link.name),
                consequence: "Junction revokes at the remote what people authorized there, removes the link, its incoming client and every person's tokens. This cannot be undone.",
                button: "Delete",
                action: &format!("/admin/links/{id}/delete"),
                back: &format!("/admin/links/{id}"),
            };
            let fields: Vec<(String, String)> = f.into_iter().collect();
            Ok(ask_first(&caller, &ask, &fields))
        }
        "delete" => {
            let d = host_links::delete(&host, &who, &id)
                .await
                .or_page(&caller)?;
            let remains = if d.remains_on_remote.is_empty() {
                "nothing".to_string()
            } else {
                d.remains_on_remote.join(" ")
            };
            let flash = format!("Deleted. Junction revoked everything it held for this link. Still to remove on the remote: {remains}");
            super::links::page(&state, &caller, None, Some(flash)).await
        }
        _ => Err(super::UiError::no_such_action(&caller)),
    }
}
