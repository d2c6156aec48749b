//! Account → Apps: the installations a person manages (their own account's and their teams';
//! every one for administrators) with enable, disable and remove; the administrator's catalog
//! to install from; development mode with "Install app from URL"; and a page that validates a
//! descriptor before installing.

use super::{next_target, render, require_user, CsrfForm, Nav, OrPage, UiError, UiResult};
use crate::clock::display;
use crate::domain::connect_scopes::ConnectScopes;
use crate::services::host::app_installations as apps;
use crate::store::connect::InstallState;
use crate::web::auth::Caller;
use crate::web::confirm::{ask_first, confirmed, Ask};
use crate::web::extract::Path;
use crate::web::flash::see_other_saying;
use crate::web::state::AppState;
use askama::Template;
use axum::extract::State;
use sha2::{Digest, Sha256};

pub struct Row {
    pub id: i64,
    pub name: String,
    pub key: String,
    pub vendor: Option<String>,
    pub account: String,
    pub version: String,
    pub scopes: Vec<&'static str>,
    pub installed_at: String,
    pub installed_by: Option<String>,
    pub status: &'static str,
    pub enabled: bool,
}

#[derive(Template)]
#[template(path = "account_installed_apps.html")]
struct AppsPage {
    nav: Nav,
    rows: Vec<Row>,
    catalog: Vec<(String, String)>,
    development_mode: bool,
    /// Pages the installed apps add (configure, settings, general pages, profile tabs).
    pages: Vec<super::app_frames::AppLink>,
}

pub async fn page(State(state): State<AppState>, caller: Caller) -> UiResult {
    require_user(&caller, "/account/apps")?;
    let (host, who) = (state.host(), caller.principal());
    let rows = apps::list(&host, &who)
        .await
        .or_page(&caller)?
        .into_iter()
        .map(|r| {
            let i = r.installation;
            // Connect descriptors carry no version: the descriptor's digest tells versions apart.
            let version = hex::encode(&Sha256::digest(i.descriptor.as_bytes())[..4]);
            Row {
                id: i.id,
                key: i.app_key,
                vendor: i.vendor,
                account: match r.account_kind {
                    crate::store::AccountKind::Team => format!("team {}", r.account_slug),
                    crate::store::AccountKind::User => r.account_slug,
                },
                version,
                scopes: ConnectScopes::from_text(&i.scopes)
                    .iter()
                    .map(|s| s.as_str())
                    .collect(),
                installed_at: display(i.installed_at),
                installed_by: r.installed_by_slug,
                status: match i.state {
                    InstallState::Enabled => "Enabled",
                    InstallState::Disabled => "Disabled",
                    InstallState::Uninstalled => "Removed",
                },
                enabled: i.state == InstallState::Enabled,
                name: i.name,
            }
        })
        .collect();
    let catalog = crate::services::host::app_catalog::list(&host, &who)
        .await
        .or_page(&caller)?
        .into_iter()
        .map(|a| (a.app_key, a.name))
        .collect();
    let development_mode = apps::development_mode(&host, &who).await.or_page(&caller)?;
    let pages = {
        use crate::domain::connect_ui::ModuleType::*;
        let kinds = [ConfigurePage, AdminPage, GeneralPage];
        super::app_frames::AppUi::account_links(&state, &caller, &kinds).await
    };
    Ok(render(&AppsPage {
        pages,
        nav: Nav::of(&caller),
        rows,
        catalog,
        development_mode,
    }))
}

/// `enable`, `disable` or `remove` (asked first) an installation.
pub async fn action(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, action)): Path<(i64, String)>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> UiResult {
    let (host, who) = (state.host(), caller.principal());
    let warning = match action.as_str() {
        "remove" if !confirmed(&fields) => {
            let ask = Ask {
                question: "Remove this app?".into(),
                consequence: "The app is told it was uninstalled and can no longer call Junction; for a team, it is removed for every member. Installing it again keeps its client key.",
                button: "Remove",
                action: &format!("/account/apps/{id}/remove"),
                back: "/account/apps",
            };
            return Ok(ask_first(&caller, &ask, &fields));
        }
        "remove" => apps::uninstall(&host, &who, id).await,
        "enable" => apps::set_enabled(&host, &who, id, true).await,
        "disable" => apps::set_enabled(&host, &who, id, false).await,
        _ => return Err(UiError::no_such_action(&caller)),
    }
    .or_page(&caller)?;
    let done = match action.as_str() {
        "remove" => "The app was removed.",
        "enable" => "The app is enabled.",
        _ => "The app is disabled.",
    };
    let said = match warning {
        Some(w) => format!("{done} The app was not told: {w}"),
        None => done.to_string(),
    };
    Ok(see_other_saying("/account/apps", &said))
}

#[derive(serde::Deserialize)]
pub struct DevelopmentModeForm {
    on: Option<String>,
    next: Option<String>,
}

/// Turns development mode on or off, then goes `next` (the install link that asked for it).
pub async fn development_mode(
    State(state): State<AppState>,
    caller: Caller,
    CsrfForm(f): CsrfForm<DevelopmentModeForm>,
) -> UiResult {
    let on = f.on.as_deref() == Some("yes");
    let next = match f.next.as_deref() {
        Some(n) => next_target(&state, &caller, Some(n))?,
        None => "/account/apps".to_string(),
    };
    apps::set_development_mode(&state.host(), &caller.principal(), on)
        .await
        .or_page(&caller)?;
    let said = if on {
        "Development mode is on: you may install apps from a descriptor URL."
    } else {
        "Development mode is off."
    };
    Ok(see_other_saying(&next, said))
}

/// What validating found, for the page.
pub struct Outcome {
    pub valid: bool,
    pub name: String,
    pub key: String,
    pub scopes: Vec<&'static str>,
    pub message: String,
    pub problems: Vec<crate::domain::connect_descriptor::Problem>,
}

#[derive(Template)]
#[template(path = "app_validate.html")]
struct ValidatePage {
    nav: Nav,
    url: String,
    text: String,
    outcome: Option<Outcome>,
}

pub async fn validate_page(caller: Caller) -> UiResult {
    require_user(&caller, "/account/apps/validate")?;
    Ok(render(&ValidatePage {
        nav: Nav::of(&caller),
        url: String::new(),
        text: String::new(),
        outcome: None,
    }))
}

#[derive(serde::Deserialize)]
pub struct ValidateForm {
    descriptor_url: Option<String>,
    descriptor: Option<String>,
}

pub async fn validate_form(
    State(state): State<AppState>,
    caller: Caller,
    CsrfForm(f): CsrfForm<ValidateForm>,
) -> UiResult {
    use crate::services::apps::{validate, AppError, ToValidate};
    let url = f.descriptor_url.unwrap_or_default().trim().to_string();
    let text = f.descriptor.unwrap_or_default();
    let what = if !text.trim().is_empty() {
        serde_json::from_str(&text)
            .map(ToValidate::Inline)
            .map_err(|e| AppError::NotJson {
                url: "the text given".into(),
                reason: e.to_string(),
            })
    } else {
        Ok(ToValidate::Url(url.clone()))
    };
    let result = match what {
        Ok(w) => validate(&state.links.outbound, w).await,
        Err(e) => Err(e),
    };
    let outcome = match result {
        Ok(d) => Outcome {
            valid: true,
            name: d.name,
            key: d.key,
            scopes: d.scopes.iter().map(|s| s.describe()).collect(),
            message: String::new(),
            problems: Vec::new(),
        },
        Err(e) => Outcome {
            valid: false,
            name: String::new(),
            key: String::new(),
            scopes: Vec::new(),
            message: super::app_install::headline(&e),
            problems: e.problems().to_vec(),
        },
    };
    let status = if outcome.valid {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::BAD_REQUEST
    };
    let page = render(&ValidatePage {
        nav: Nav::of(&caller),
        url,
        text,
        outcome: Some(outcome),
    });
    Ok(axum::response::IntoResponse::into_response((status, page)))
}
