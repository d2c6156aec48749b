//! Which installed apps' UI modules a person sees on a page, and the frames they get.
//!
//! An installation shows to a person when it is enabled and installed in their own account or
//! a team they belong to; on a repository (or its pull requests) only when the installation's
//! account reaches that repository by its grants — the same decision, `account_may_on_repo`,
//! that lets its webhooks through. A module then shows when its `conditions` hold for the
//! viewer (each fact decided by `authorize()`); account settings pages and the configure page
//! only to people who administer the account the app is installed in.

use super::pulls::PullRequestView;
use super::{Host, HostError, HostResult, Missing, Principal};
use crate::domain::authz::account_may_on_repo;
use crate::domain::connect_descriptor::resolve;
use crate::domain::connect_scopes::ConnectScopes;
use crate::domain::connect_ui::{
    scope_for_context, substitute, ui_modules, Condition, Location, ModuleType, RepoFacts,
    UiModule, ViewFacts,
};
use crate::domain::Action;
use crate::services::apps::iframe::{under_base, Frame};
use crate::store::connect::{Installation, InstallationRow};
use crate::store::{Account, Repository};
use serde_json::{json, Value};

/// The page a module is shown on.
#[derive(Clone, Copy)]
pub enum Place<'a> {
    Repository(&'a Repository),
    PullRequest(&'a PullRequestView),
    /// A page about no resource: general pages, account settings, configure, after install.
    Account,
    /// A person's profile (`target_user`): profile tabs.
    Profile(&'a Account),
}

impl<'a> Place<'a> {
    fn repository(self) -> Option<&'a Repository> {
        match self {
            Self::Repository(r) => Some(r),
            Self::PullRequest(v) => Some(&v.repo),
            Self::Account | Self::Profile(_) => None,
        }
    }

    /// Where Junction serves a module's full page here.
    fn page(self, installation_id: i64, key: &str) -> String {
        match self {
            Self::Repository(r) => format!(
                "/projects/{}/repos/{}/apps/{installation_id}/{key}",
                r.project_key, r.slug
            ),
            Self::PullRequest(v) => format!(
                "/projects/{}/repos/{}/pull-requests/{}/apps/{installation_id}/{key}",
                v.repo.project_key, v.repo.slug, v.pr.number
            ),
            // Under `pages/`: `/apps/{id}/grant` and the like are Junction's own.
            Self::Account => format!("/apps/{installation_id}/pages/{key}"),
            Self::Profile(a) => format!("/users/{}/apps/{installation_id}/{key}", a.slug),
        }
    }
}

/// Where a shown module leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An iframe on this page: its `src`, token included.
    Frame(String),
    /// A Junction page holding the module's iframe.
    Page(String),
    /// A link off Junction (a web item's absolute URL outside the app): no token.
    External(String),
}

/// One module a person sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub installation_id: i64,
    pub app_name: String,
    pub key: String,
    pub name: String,
    pub kind: ModuleType,
    pub location: Option<Location>,
    pub target: Target,
    /// The app's origin (scheme, host, port), which the page's `frame-src` must allow and the
    /// only origin the page believes the frame's messages from.
    pub origin: String,
    pub app_key: String,
    /// Where this place's module pages are (`…/apps/{id}/`): AP's dialogs and navigation.
    pub page_base: String,
    /// For frames: the context `AP.context.getContext()` answers (the objects the app's scopes
    /// allow), as JSON; empty otherwise.
    pub context: String,
}

/// An installation that reaches this place, with its modules and what the viewer may do.
struct Reaching {
    installation: Installation,
    account_slug: String,
    /// The context objects at this place, worked out once for all the installation's modules.
    context: std::cell::OnceCell<Value>,
    scopes: ConnectScopes,
    modules: Vec<UiModule>,
    facts: ViewFacts,
}

/// The modules `who` sees on `place`, lightest first, that `wanted` picks (by type and
/// location): panels with their iframe `src` (signed), pages and items as links.
pub async fn shown(
    host: &Host<'_>,
    who: &Principal<'_>,
    place: Place<'_>,
    wanted: impl Fn(&UiModule) -> bool,
) -> HostResult<Vec<Shown>> {
    let Some(viewer) = who.user else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for r in reaching(host, who, viewer, place).await? {
        for m in r
            .modules
            .iter()
            .filter(|m| wanted(m) && visible(m, &r.facts))
        {
            out.push(show(host, viewer, place, &r, m, false)?);
        }
    }
    Ok(out)
}

/// One module's full page (`/apps/{id}/{key}` and its repository and pull request forms), its
/// target the frame: not found unless `who` sees it here.
pub async fn page(
    host: &Host<'_>,
    who: &Principal<'_>,
    place: Place<'_>,
    installation_id: i64,
    key: &str,
) -> HostResult<Shown> {
    let viewer = who.user()?;
    let missing = || HostError::NotFound(Missing::AppModule(key.to_string()));
    let r = reaching(host, who, viewer, place)
        .await?
        .into_iter()
        .find(|r| r.installation.id == installation_id)
        .ok_or_else(missing)?;
    let m = r
        .modules
        .iter()
        .find(|m| m.key == key && visible(m, &r.facts) && has_page(m, place))
        .ok_or_else(missing)?;
    show(host, viewer, place, &r, m, true)
}

impl Shown {
    /// `xdm_c` of its frame.
    pub fn channel(&self) -> String {
        crate::services::apps::iframe::channel(&self.app_key, &self.key)
    }
}

/// Where a person goes after installing `i`: its `postInstallRedirect` page, if it has one.
pub fn after_install(i: &Installation) -> Option<String> {
    let raw: Value = serde_json::from_str(&i.descriptor).ok()?;
    let key = raw.pointer("/modules/postInstallRedirect/key")?.as_str()?;
    Some(Place::Account.page(i.id, key))
}

/// Whether a module has a full page at this place.
fn has_page(m: &UiModule, place: Place<'_>) -> bool {
    use ModuleType::*;
    match (place, m.kind) {
        (Place::Account, GeneralPage | ConfigurePage | PostInstallRedirect) => true,
        (Place::Profile(_), ProfileTab) => true,
        (Place::Account, AdminPage) => m.location == Some(Location::AccountAdmin),
        (Place::Repository(_), RepoPage) => true,
        (Place::Repository(_), AdminPage) => m.location == Some(Location::RepoAdmin),
        (Place::Repository(_), WebItem) => matches!(
            m.location,
            Some(Location::RepoNavigation | Location::RepoActions)
        ),
        (Place::PullRequest(_), WebItem) => matches!(
            m.location,
            Some(Location::PrSummaryActions | Location::PrSummaryInfo)
        ),
        _ => false,
    }
}

/// Whether judging `m` needs to know if the viewer administers the installation's account.
fn needs_account_admin(m: &UiModule) -> bool {
    fn asks(c: &Condition) -> bool {
        match c {
            Condition::AccountAdmin { .. } => true,
            Condition::All(list) | Condition::Any(list) => list.iter().any(asks),
            _ => false,
        }
    }
    matches!(m.kind, ModuleType::ConfigurePage | ModuleType::AdminPage)
        || m.conditions.iter().any(asks)
}

/// Conditions, and settings pages kept for who administers what they configure: the
/// repository's administrators for a repository settings page, the account's for the rest.
fn visible(m: &UiModule, f: &ViewFacts) -> bool {
    let allowed = match (m.kind, m.location) {
        (ModuleType::AdminPage, Some(Location::RepoAdmin)) => f.repo.is_some_and(|r| r.admin),
        (ModuleType::AdminPage | ModuleType::ConfigurePage, _) => f.account_admin,
        _ => true,
    };
    allowed && m.shown(f)
}

async fn reaching(
    host: &Host<'_>,
    who: &Principal<'_>,
    viewer: &Account,
    place: Place<'_>,
) -> HostResult<Vec<Reaching>> {
    let installations = host.store.connect_installations_seen_by(viewer.id).await?;
    if installations.is_empty() {
        return Ok(Vec::new());
    }
    // Only settings pages and account conditions ask; most pages need no query for it.
    let mut administered: Option<Vec<i64>> = None;
    let repo = place.repository().map(|r| RepoFacts {
        read: who.can_repo(r, Action::ViewRepo),
        write: who.can_repo(r, Action::WriteRepo),
        admin: who.can_repo(r, Action::AdminRepo),
    });
    let mut out = Vec::with_capacity(installations.len());
    for row in installations.iter() {
        let InstallationRow {
            installation,
            account_slug,
            ..
        } = row;
        let scopes = ConnectScopes::from_text(&installation.scopes);
        if let Some(r) = place.repository() {
            let grants = host.store.grants_of_user(installation.account_id).await?;
            let reaches = account_may_on_repo(
                installation.account_id,
                &grants,
                scopes.ceiling(),
                Action::ViewRepo,
                (r.project_id, r.id),
                false,
            );
            if !reaches {
                continue;
            }
        }
        let Ok(raw) = serde_json::from_str::<Value>(&installation.descriptor) else {
            continue;
        };
        let modules = ui_modules(&raw, scopes);
        let account_admin = if modules.iter().any(needs_account_admin) {
            if administered.is_none() {
                let teams = host.store.teams_administered_by(viewer.id).await?;
                administered = Some(teams.iter().map(|t| t.id).chain([viewer.id]).collect());
            }
            administered
                .as_ref()
                .is_some_and(|a| a.contains(&installation.account_id))
        } else {
            false
        };
        let facts = ViewFacts {
            signed_in: true,
            repo,
            account_admin,
        };
        out.push(Reaching {
            context: std::cell::OnceCell::new(),
            account_slug: account_slug.clone(),
            modules,
            scopes,
            installation: installation.clone(),
            facts,
        });
    }
    Ok(out)
}

/// What `m` shows as here: a panel (or, `framed`, a module's own page) as its frame, with the
/// context AP answers; items and pages as links.
fn show(
    host: &Host<'_>,
    viewer: &Account,
    place: Place<'_>,
    r: &Reaching,
    m: &UiModule,
    framed: bool,
) -> HostResult<Shown> {
    let i = &r.installation;
    let mut context = String::new();
    let target = match m.kind {
        _ if framed || m.kind == ModuleType::WebPanel => {
            context = allowed_context(host, viewer, place, r).to_string();
            Target::Frame(frame_src(host, viewer, place, r, m)?)
        }
        ModuleType::WebItem => {
            let url = module_url(host, viewer, place, r, m);
            if under_base(&i.base_url, &url) {
                Target::Page(place.page(i.id, &m.key))
            } else {
                Target::External(url)
            }
        }
        _ => Target::Page(place.page(i.id, &m.key)),
    };
    Ok(Shown {
        installation_id: i.id,
        app_name: i.name.clone(),
        key: m.key.clone(),
        name: m.name.clone(),
        kind: m.kind,
        location: m.location,
        target,
        origin: origin(&i.base_url),
        app_key: i.app_key.clone(),
        page_base: place.page(i.id, ""),
        context,
    })
}

/// The module's URL under the app's `baseUrl`, its context parameters written as the app's
/// scopes allow.
fn module_url(
    host: &Host<'_>,
    viewer: &Account,
    place: Place<'_>,
    r: &Reaching,
    m: &UiModule,
) -> String {
    let written = substitute(&m.url, r.scopes, r.context(host, viewer, place));
    resolve(&r.installation.base_url, &written).unwrap_or(written)
}

fn frame_src(
    host: &Host<'_>,
    viewer: &Account,
    place: Place<'_>,
    r: &Reaching,
    m: &UiModule,
) -> HostResult<String> {
    let i = &r.installation;
    let secret = super::apps::decrypt(host, i)?;
    let viewer_id = host.webhooks.payloads().uuid("account", viewer.id);
    let frame = Frame {
        app_base_url: &i.base_url,
        client_key: &i.client_key,
        secret: &secret,
        app_key: &i.app_key,
        module_key: &m.key,
        host_base_url: host.base_url,
        viewer: Some(&viewer_id),
        now_s: super::apps::now_s(host),
    };
    Ok(frame.src(&module_url(host, viewer, place, r, m)))
}

/// The objects context parameters are read from, in the `/2.0` API's shapes.
fn context(host: &Host<'_>, viewer: &Account, place: Place<'_>, r: &Reaching) -> Value {
    let payloads = host.webhooks.payloads();
    let user = payloads.user(viewer);
    let mut c = json!({ "user": user, "principal": user, "target_user": user });
    match place {
        Place::Repository(r) | Place::PullRequest(PullRequestView { repo: r, .. }) => {
            let repo = payloads.repository(r);
            c["workspace"] = repo["workspace"].clone();
            c["branch"] =
                json!({ "name": crate::domain::pull_request::display_id(&r.default_branch) });
            c["repository"] = repo;
        }
        Place::Profile(target) => {
            c["target_user"] = payloads.user(target);
        }
        Place::Account => {
            c["workspace"] = json!({
                "type": "workspace",
                "uuid": payloads.uuid("account", r.installation.account_id),
                "slug": r.account_slug,
            });
        }
    }
    if let Place::PullRequest(v) = place {
        c["pullrequest"] = payloads.pull_request(&v.repo, &v.pr, &v.participants, None);
    }
    c
}

/// The context objects the app's scopes allow, for `AP.context.getContext()`.
fn allowed_context(host: &Host<'_>, viewer: &Account, place: Place<'_>, r: &Reaching) -> Value {
    let scopes = r.scopes.expanded();
    match r.context(host, viewer, place) {
        Value::Object(all) => all
            .iter()
            .filter(|(k, _)| scope_for_context(k).is_some_and(|s| scopes.contains(s)))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        other => other.clone(),
    }
}

impl Reaching {
    fn context(&self, host: &Host<'_>, viewer: &Account, place: Place<'_>) -> &Value {
        self.context
            .get_or_init(|| context(host, viewer, place, self))
    }
}

/// A context token for the app's page to call its own backend (`AP.context.getToken()`):
/// `qsh` is `context-qsh`, `sub` the viewer; only for installations the viewer is shown.
pub async fn context_token(
    host: &Host<'_>,
    who: &Principal<'_>,
    installation_id: i64,
) -> HostResult<String> {
    let viewer = who.user()?;
    let (i, _) = super::app_access::seen(host, who, installation_id).await?;
    let secret = super::apps::decrypt(host, &i)?;
    let now = super::apps::now_s(host);
    let claims = json!({
        "iss": i.client_key,
        "aud": i.client_key,
        "sub": host.webhooks.payloads().uuid("account", viewer.id),
        "iat": now,
        "exp": now + crate::services::apps::iframe::FRAME_TOKEN_SECONDS,
        "qsh": crate::domain::connect_jwt::CONTEXT_QSH,
    });
    Ok(crate::domain::connect_jwt::sign(&claims, secret.as_bytes()))
}

/// `scheme://host[:port]` of a URL (what CSP `frame-src` names).
fn origin(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default()
}
