//! Installed apps inside Junction's pages: the panels and links a page shows
//! (`AppUi::on`), the full pages that hold one module's iframe (`/apps/{id}/{key}` and its
//! repository and pull request forms), and the Content-Security-Policy that lets exactly those
//! apps' origins be framed.

use super::{render, Nav, OrPage, UiResult};
use crate::domain::connect_ui::{Location, ModuleType, UiModule};
use crate::services::host::app_modules::{self, Place, Shown, Target};
use crate::services::host::pulls::{self as host_pulls, PrRef};
use crate::services::host::repositories;
use crate::web::auth::Caller;
use crate::web::extract::{Path, Query};
use crate::web::page::CsrfForm;
use crate::web::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

/// The least an app's page needs: its scripts and forms, its own origin (its cookies and
/// storage), and new windows for links it opens. Never top navigation: the AP bridge asks the
/// host page to move instead.
pub const SANDBOX: &str = "allow-scripts allow-forms allow-same-origin allow-popups";

/// A link an app adds to a page.
pub struct AppLink {
    pub installation_id: i64,
    pub label: String,
    pub app: String,
    pub href: String,
    pub external: bool,
}

/// One app iframe on a page, with what the host script (`static/ap-host.js`) needs to answer
/// it: the only origin its messages are believed from, its channel, its installation, where
/// its app's other pages are at this place, and its context.
pub struct FrameView {
    pub id: String,
    pub title: String,
    pub app: String,
    pub src: String,
    pub origin: String,
    pub channel: String,
    pub installation_id: i64,
    pub app_key: String,
    pub page_base: String,
    pub context: String,
}

impl FrameView {
    fn of(s: &Shown, id: String, src: String) -> Self {
        Self {
            id,
            title: s.name.clone(),
            app: s.app_name.clone(),
            src,
            origin: s.origin.clone(),
            channel: s.channel(),
            installation_id: s.installation_id,
            app_key: s.app_key.clone(),
            page_base: s.page_base.clone(),
            context: s.context.clone(),
        }
    }
}

/// What apps add to one page.
#[derive(Default)]
pub struct AppUi {
    pub links: Vec<AppLink>,
    pub admin_links: Vec<AppLink>,
    pub panels: Vec<FrameView>,
    origins: Vec<String>,
}

impl AppUi {
    /// The modules `caller` sees at `place`: `links_at` and `panels_at` name the locations this
    /// page renders. A failure to read them costs the page nothing but the apps' parts.
    pub async fn on(
        state: &AppState,
        caller: &Caller,
        place: Place<'_>,
        links_at: &[Location],
        panels_at: &[Location],
    ) -> Self {
        let wanted = |m: &UiModule| match m.kind {
            ModuleType::WebPanel => m.location.is_some_and(|l| panels_at.contains(&l)),
            ModuleType::RepoPage | ModuleType::WebItem => {
                m.location.is_some_and(|l| links_at.contains(&l))
            }
            ModuleType::AdminPage => m.location == Some(Location::RepoAdmin),
            _ => false,
        };
        Self::read(state, caller, place, wanted).await
    }

    /// What apps add at `place`, picked by `wanted`. A failure to read them costs the page
    /// nothing but the apps' parts.
    async fn read(
        state: &AppState,
        caller: &Caller,
        place: Place<'_>,
        wanted: impl Fn(&UiModule) -> bool,
    ) -> Self {
        match app_modules::shown(&state.host(), &caller.principal(), place, wanted).await {
            Ok(shown) => Self::of(shown),
            Err(e) => {
                tracing::warn!(error = ?e, "could not read the apps shown on a page");
                Self::default()
            }
        }
    }

    /// The pages of `kinds` apps add outside repositories, as links: the installed apps page
    /// lists configure, settings and general pages; the dashboard, general pages.
    pub async fn account_links(
        state: &AppState,
        caller: &Caller,
        kinds: &[ModuleType],
    ) -> Vec<AppLink> {
        let wanted = |m: &UiModule| {
            kinds.contains(&m.kind)
                && (m.kind != ModuleType::AdminPage || m.location == Some(Location::AccountAdmin))
        };
        Self::read(state, caller, Place::Account, wanted)
            .await
            .links
    }

    /// The profile tabs apps add to `target`'s profile, as links.
    pub async fn profile_tabs(
        state: &AppState,
        caller: &Caller,
        target: &crate::store::Account,
    ) -> Vec<AppLink> {
        let wanted = |m: &UiModule| m.kind == ModuleType::ProfileTab;
        Self::read(state, caller, Place::Profile(target), wanted)
            .await
            .links
    }

    fn of(shown: Vec<Shown>) -> Self {
        let mut ui = Self::default();
        for s in shown {
            if !ui.origins.contains(&s.origin) {
                ui.origins.push(s.origin.clone());
            }
            let link = |href: String, external: bool| AppLink {
                installation_id: s.installation_id,
                label: s.name.clone(),
                app: s.app_name.clone(),
                href,
                external,
            };
            match (&s.target, s.kind) {
                (Target::Frame(src), _) => {
                    let id = format!("app-panel-{}-{}", s.installation_id, s.key);
                    ui.panels.push(FrameView::of(&s, id, src.clone()))
                }
                (Target::Page(href), ModuleType::AdminPage) => {
                    ui.admin_links.push(link(href.clone(), false))
                }
                (Target::Page(href), _) => ui.links.push(link(href.clone(), false)),
                (Target::External(href), _) => ui.links.push(link(href.clone(), true)),
            }
        }
        ui
    }

    /// The iframe `sandbox` every app frame gets.
    pub fn sandbox(&self) -> &'static str {
        SANDBOX
    }
}

/// Renders a page holding `apps` with a policy that frames exactly their origins.
pub fn render_with<T: Template>(page: &T, apps: &AppUi) -> Response {
    framing(render(page), &apps.origins)
}

/// `frame-src` names the apps framed here and nothing else; everything else as every page.
fn framing(mut page: Response, origins: &[String]) -> Response {
    if origins.is_empty() {
        return page;
    }
    let policy = format!(
        "frame-ancestors 'none'; default-src 'self'; style-src 'self' 'unsafe-inline'; frame-src {}",
        origins.join(" ")
    );
    if let Ok(v) = HeaderValue::from_str(&policy) {
        page.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, v);
    }
    page
}

#[derive(Template)]
#[template(path = "app_page.html")]
struct AppPage {
    nav: Nav,
    /// (label, href) leading back to where the page belongs.
    crumbs: Vec<(String, String)>,
    /// The module's frame (`f`: the name `app_frame.html` reads).
    f: FrameView,
    sandbox: &'static str,
}

#[derive(Deserialize)]
pub struct PageQuery {
    /// `src`: the frame as JSON (AP.dialog opens a module with it), not the page.
    #[serde(rename = "as")]
    answer: Option<String>,
}

fn app_page(
    caller: &Caller,
    shown: Shown,
    crumbs: Vec<(String, String)>,
    q: &PageQuery,
) -> Response {
    let origins = [shown.origin.clone()];
    let src = match &shown.target {
        Target::Frame(src) => src.clone(),
        Target::Page(href) | Target::External(href) => href.clone(),
    };
    let id = format!("app-frame-{}-{}", shown.installation_id, shown.key);
    let frame = FrameView::of(&shown, id, src);
    if q.answer.as_deref() == Some("src") {
        return Json(json!({
            "src": frame.src, "title": frame.title, "app": frame.app, "origin": frame.origin,
            "channel": frame.channel, "installation": frame.installation_id,
            "appKey": frame.app_key, "pageBase": frame.page_base, "context": frame.context,
        }))
        .into_response();
    }
    let page = AppPage {
        nav: Nav::of(caller),
        crumbs,
        f: frame,
        sandbox: SANDBOX,
    };
    framing(render(&page), &origins)
}

/// `/apps/{id}/pages/{key}`: a general page, an account settings page, a configure page, a profile
/// tab, or where an app sends people after installing.
pub async fn account_page(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, key)): Path<(i64, String)>,
    Query(q): Query<PageQuery>,
) -> UiResult {
    let shown = app_modules::page(&state.host(), &caller.principal(), Place::Account, id, &key)
        .await
        .or_page(&caller)?;
    let crumbs = vec![("Apps".to_string(), "/account/apps".to_string())];
    Ok(app_page(&caller, shown, crumbs, &q))
}

/// `/projects/{key}/repos/{slug}/apps/{id}/{module}`: a repository page or item of an app.
pub async fn repository_page(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, slug, id, module)): Path<(String, String, i64, String)>,
    Query(q): Query<PageQuery>,
) -> UiResult {
    let (host, who) = (state.host(), caller.principal());
    let repo = repositories::find(&host, &who, &key, &slug, crate::domain::Action::ViewRepo)
        .await
        .or_page(&caller)?;
    let shown = app_modules::page(&host, &who, Place::Repository(&repo), id, &module)
        .await
        .or_page(&caller)?;
    let crumbs = vec![
        (
            repo.project_name.clone(),
            format!("/projects/{}", repo.project_key),
        ),
        (
            repo.name.clone(),
            format!("/projects/{}/repos/{}", repo.project_key, repo.slug),
        ),
    ];
    Ok(app_page(&caller, shown, crumbs, &q))
}

/// `/projects/{key}/repos/{slug}/pull-requests/{n}/apps/{id}/{module}`.
pub async fn pull_request_page(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, slug, number, id, module)): Path<(String, String, i64, i64, String)>,
    Query(q): Query<PageQuery>,
) -> UiResult {
    let (host, who) = (state.host(), caller.principal());
    let at = PrRef {
        key: &key,
        slug: &slug,
        number,
    };
    let v = host_pulls::get(&host, &who, at).await.or_page(&caller)?;
    let shown = app_modules::page(&host, &who, Place::PullRequest(&v), id, &module)
        .await
        .or_page(&caller)?;
    let r = &v.repo;
    let repo_href = format!("/projects/{}/repos/{}", r.project_key, r.slug);
    let crumbs = vec![
        (r.name.clone(), repo_href.clone()),
        (
            format!("Pull request #{number}"),
            format!("{repo_href}/pull-requests/{number}"),
        ),
    ];
    Ok(app_page(&caller, shown, crumbs, &q))
}

/// `POST /apps/{id}/context-token` (the host script, for `AP.context.getToken()`): a fresh
/// context token for the viewer and this installation.
pub async fn context_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, crate::web::error::ApiError> {
    let token = app_modules::context_token(&state.host(), &caller.principal(), id).await?;
    Ok(Json(json!({ "token": token })).into_response())
}

fn script(body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// The AP script apps load in their frames (Bitbucket's path; ACE's `all-debug.js` too).
pub async fn iframe_script() -> Response {
    script(include_str!("../../../static/ap-iframe.js"))
}

/// The host side of AP, on Junction's pages that frame apps.
pub async fn host_script() -> Response {
    script(include_str!("../../../static/ap-host.js"))
}

/// The CSS kit app pages load to look like Junction.
pub async fn style_kit() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../../static/ap-kit.css"),
    )
        .into_response()
}

/// `/users/{slug}/apps/{id}/{module}`: a profile tab of an app, about that person.
pub async fn profile_tab(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, id, module)): Path<(String, i64, String)>,
    Query(q): Query<PageQuery>,
) -> UiResult {
    let (host, who) = (state.host(), caller.principal());
    let target = crate::services::host::users::get(&host, &who, &slug)
        .await
        .or_page(&caller)?;
    let shown = app_modules::page(&host, &who, Place::Profile(&target), id, &module)
        .await
        .or_page(&caller)?;
    let crumbs = vec![(
        target.display_name.clone(),
        format!("/users/{}", target.slug),
    )];
    Ok(app_page(&caller, shown, crumbs, &q))
}
