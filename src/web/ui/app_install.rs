//! The Bitbucket-compatible install link, `/site/addons/authorize?descriptor_uri=…` (or
//! `addon_key=…`) `&redirect_uri=…`: the descriptor is fetched and checked first, and its
//! problems — or why the person may not install it (development mode off) — are shown on this
//! page, before any consent. The consent page names the app, its vendor, the account chosen and
//! every scope in words; installing calls the app's `installed` before anything is stored, and
//! the person is sent back to `redirect_uri?client_key=…` only once the app has its secret.

use super::{render, require_user, CsrfForm, Nav, UiError, UiResult};
use crate::domain::connect_descriptor::Problem;
use crate::domain::connect_scopes::ConnectScopes;
use crate::services::apps::AppError;
use crate::services::host::apps::{self, Offer, Source};
use crate::services::host::HostError;
use crate::store::AccountKind;
use crate::web::auth::Caller;
use crate::web::error::ApiError;
use crate::web::extract::Query;
use crate::web::state::AppState;
use askama::Template;
use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct InstallParams {
    pub descriptor_uri: Option<String>,
    pub addon_key: Option<String>,
    pub redirect_uri: Option<String>,
}

impl InstallParams {
    fn source(&self) -> Result<Source, String> {
        match (self.descriptor_uri.as_deref(), self.addon_key.as_deref()) {
            (Some(u), None) if !u.trim().is_empty() => Ok(Source::Url(u.trim().to_string())),
            (None, Some(k)) if !k.trim().is_empty() => Ok(Source::Catalog(k.trim().to_string())),
            (Some(_), Some(_)) => Err("The link names both descriptor_uri and addon_key; it must name one.".into()),
            _ => Err("The link names no app: it needs descriptor_uri (a descriptor URL) or addon_key (an app the administrator lists).".into()),
        }
    }

    /// The parameters as hidden fields, to post with the decision.
    fn fields(&self) -> Vec<(&'static str, String)> {
        [
            ("descriptor_uri", &self.descriptor_uri),
            ("addon_key", &self.addon_key),
            ("redirect_uri", &self.redirect_uri),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.clone().map(|v| (k, v)))
        .collect()
    }

    /// This link again, on Junction (for "try again" and development mode's `next`).
    fn link(&self) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in self.fields() {
            q.append_pair(k, &v);
        }
        format!("/site/addons/authorize?{}", q.finish())
    }
}

#[derive(Template)]
#[template(path = "app_consent.html")]
struct ConsentPage {
    nav: Nav,
    name: String,
    vendor: Option<String>,
    description: String,
    base_url: String,
    params: Vec<(&'static str, String)>,
    accounts: Vec<(String, String)>,
    scopes: Vec<&'static str>,
    scopes_text: String,
    all_scopes: bool,
}

#[derive(Template)]
#[template(path = "app_problem.html")]
struct ProblemPage<'a> {
    nav: Nav,
    title: &'a str,
    message: String,
    problems: &'a [Problem],
    development_mode_next: Option<String>,
    retry: Option<String>,
}

/// Why the app cannot be installed, on the page the link opened.
fn problem(caller: &Caller, p: &InstallParams, e: HostError) -> UiResult {
    let HostError::App(app) = e else {
        return Err(UiError::from_api(ApiError::from(e), caller));
    };
    let status = crate::web::error::app_status(&app);
    let page = ProblemPage {
        nav: Nav::of(caller),
        title: "This app cannot be installed",
        message: headline(&app),
        problems: app.problems(),
        development_mode_next: matches!(app, AppError::DevelopmentModeOff).then(|| p.link()),
        retry: matches!(app, AppError::ScopesChanged | AppError::Callback { .. }).then(|| p.link()),
    };
    Ok((status, render(&page)).into_response())
}

/// What the page says above the table of problems (which lists each one), or the whole error.
pub fn headline(e: &AppError) -> String {
    match e.problems().len() {
        0 => e.to_string(),
        1 => "The descriptor has 1 problem, shown below with where it is and how to fix it.".into(),
        n => format!(
            "The descriptor has {n} problems, each shown below with where it is and how to fix it."
        ),
    }
}

/// A link that does not name exactly one app.
fn no_app(caller: &Caller, why: String) -> UiError {
    UiError {
        status: StatusCode::BAD_REQUEST,
        message: why,
        nav: Box::new(Nav::of(caller)),
        next: None,
    }
}

/// `GET /site/addons/authorize`: the app checked, then the consent page.
pub async fn authorize(
    State(state): State<AppState>,
    caller: Caller,
    OriginalUri(uri): OriginalUri,
    Query(p): Query<InstallParams>,
) -> UiResult {
    require_user(&caller, &uri.to_string())?;
    let source = p.source().map_err(|why| no_app(&caller, why))?;
    let offer = match apps::offer(
        &state.host(),
        &caller.principal(),
        &source,
        p.redirect_uri.as_deref(),
    )
    .await
    {
        Ok(o) => o,
        Err(e) => return problem(&caller, &p, e),
    };
    Ok(render(&consent(&caller, &p, &offer)))
}

fn consent(caller: &Caller, p: &InstallParams, offer: &Offer) -> ConsentPage {
    let d = &offer.descriptor;
    let accounts = offer
        .accounts
        .iter()
        .map(|a| {
            let label = match a.kind {
                AccountKind::User => format!("Your account ({})", a.slug),
                AccountKind::Team => format!("Team {} ({})", a.display_name, a.slug),
            };
            (a.slug.clone(), label)
        })
        .collect();
    ConsentPage {
        nav: Nav::of(caller),
        name: d.name.clone(),
        vendor: d.vendor_name.clone(),
        description: d.description.clone(),
        base_url: d.base_url.clone(),
        params: p.fields(),
        accounts,
        scopes: d.scopes.iter().map(|s| s.describe()).collect(),
        scopes_text: d.scopes.to_text(),
        all_scopes: d.scopes == ConnectScopes::all(),
    }
}

#[derive(Deserialize)]
pub struct Decision {
    #[serde(flatten)]
    params: InstallParams,
    account: Option<String>,
    scopes: Option<String>,
    decision: Option<String>,
}

/// `POST /site/addons/authorize`: install (the app is called first) or cancel.
pub async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    CsrfForm(d): CsrfForm<Decision>,
) -> UiResult {
    if d.decision.as_deref() != Some("install") {
        return Ok(crate::web::flash::see_other_saying(
            "/account/apps",
            "The app was not installed.",
        ));
    }
    let p = d.params;
    let source = p.source().map_err(|why| no_app(&caller, why))?;
    let (host, who) = (state.host(), caller.principal());
    let installed = async {
        let offer = apps::offer(&host, &who, &source, p.redirect_uri.as_deref()).await?;
        let consented = ConnectScopes::from_text(d.scopes.as_deref().unwrap_or(""));
        let account = d.account.as_deref().unwrap_or("");
        apps::install(&host, &who, &offer, account, consented).await
    }
    .await;
    let i = match installed {
        Ok(i) => i,
        Err(e) => return problem(&caller, &p, e),
    };
    match p.redirect_uri {
        // Checked by `offer` to be within the app's own baseUrl.
        Some(r) => {
            let sep = if r.contains('?') { '&' } else { '?' };
            let key: String =
                url::form_urlencoded::byte_serialize(i.client_key.as_bytes()).collect();
            Ok(Redirect::to(&format!("{r}{sep}client_key={key}")).into_response())
        }
        None => Ok(crate::web::flash::see_other_saying(
            &crate::services::host::app_modules::after_install(&i)
                .unwrap_or_else(|| "/account/apps".into()),
            &format!("Installed {}.", i.name),
        )),
    }
}
