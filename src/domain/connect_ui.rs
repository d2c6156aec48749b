//! Connect UI modules (pages, panels, links shown inside Junction's pages): where each may be
//! placed, the `conditions` Junction evaluates (and which it refuses at install, because a
//! condition Junction cannot judge would show a module where the app never meant it), and the
//! context parameters written into a module's URL — only those the app's scopes allow, as
//! Bitbucket does ("If the required scopes are not specified the context parameters won't be
//! replaced"): a parameter the scopes do not cover becomes empty, never the value.

use super::connect_descriptor::{kind, Problems};
use super::connect_scopes::{ConnectScope, ConnectScopes};
use serde_json::{Map, Value};

/// The module types shown as iframes or links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleType {
    WebItem,
    WebPanel,
    RepoPage,
    AdminPage,
    GeneralPage,
    ProfileTab,
    ConfigurePage,
    PostInstallRedirect,
}

impl ModuleType {
    const ALL: [(ModuleType, &'static str); 8] = [
        (Self::WebItem, "webItems"),
        (Self::WebPanel, "webPanels"),
        (Self::RepoPage, "repoPages"),
        (Self::AdminPage, "adminPages"),
        (Self::GeneralPage, "generalPages"),
        (Self::ProfileTab, "profileTabs"),
        (Self::ConfigurePage, "configurePage"),
        (Self::PostInstallRedirect, "postInstallRedirect"),
    ];

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(_, n)| *n == name).map(|(t, _)| *t)
    }

    /// The locations a module of this type may name; empty: `location` is not used.
    fn locations(self) -> &'static [Location] {
        use Location::*;
        match self {
            Self::WebItem => &[
                RepoNavigation,
                RepoActions,
                PrSummaryActions,
                PrSummaryInfo,
                CommitSummaryActions,
                CommitSummaryInfo,
            ],
            Self::WebPanel => &[RepoOverviewPanel, PrOverviewPanel],
            Self::RepoPage => &[RepoNavigation],
            Self::AdminPage => &[AccountAdmin, RepoAdmin],
            _ => &[],
        }
    }

    /// Where a module of this type goes when it names no location.
    fn default_location(self) -> Option<Location> {
        match self {
            Self::RepoPage => Some(Location::RepoNavigation),
            Self::AdminPage => Some(Location::AccountAdmin),
            _ => None,
        }
    }
}

/// Bitbucket's named locations. Junction renders the repository, pull request and account
/// ones; it has no commit page yet, so modules placed there install but have nowhere to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    RepoNavigation,
    RepoActions,
    RepoOverviewPanel,
    RepoAdmin,
    PrSummaryActions,
    PrSummaryInfo,
    PrOverviewPanel,
    CommitSummaryActions,
    CommitSummaryInfo,
    AccountAdmin,
}

impl Location {
    const NAMES: [(Location, &'static str); 10] = [
        (Self::RepoNavigation, "org.bitbucket.repository.navigation"),
        (Self::RepoActions, "org.bitbucket.repository.actions"),
        (
            Self::RepoOverviewPanel,
            "org.bitbucket.repository.overview.informationPanel",
        ),
        (Self::RepoAdmin, "org.bitbucket.repository.admin"),
        (
            Self::PrSummaryActions,
            "org.bitbucket.pullrequest.summary.actions",
        ),
        (
            Self::PrSummaryInfo,
            "org.bitbucket.pullrequest.summary.info",
        ),
        (
            Self::PrOverviewPanel,
            "org.bitbucket.pullrequest.overview.informationPanel",
        ),
        (
            Self::CommitSummaryActions,
            "org.bitbucket.commit.summary.actions",
        ),
        (Self::CommitSummaryInfo, "org.bitbucket.commit.summary.info"),
        (Self::AccountAdmin, "org.bitbucket.account.admin"),
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Self::NAMES.iter().find(|(_, n)| *n == s).map(|(l, _)| *l)
    }

    pub fn as_str(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(l, _)| *l == self)
            .map_or("", |(_, n)| n)
    }
}

/// A repository permission a `has_permission` condition asks of the viewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepoNeed {
    Read,
    Write,
    Admin,
}

/// One condition as Junction evaluates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// `user_logged_in`.
    SignedIn {
        invert: bool,
    },
    /// `has_permission` with `permission` read, write or admin, on the repository shown.
    Repo {
        need: RepoNeed,
        invert: bool,
    },
    /// `has_account_permission` / `has_workspace_permission` with `permission: admin`: the
    /// viewer administers the account the app is installed in.
    AccountAdmin {
        invert: bool,
    },
    All(Vec<Condition>),
    Any(Vec<Condition>),
}

/// What the page knows about the person viewing, each decided by `authorize()` (or team
/// membership) before the conditions are read.
#[derive(Debug, Clone, Copy, Default)]
pub struct ViewFacts {
    pub signed_in: bool,
    /// `None`: the page shows no repository (a `has_permission` condition fails there).
    pub repo: Option<RepoFacts>,
    pub account_admin: bool,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct RepoFacts {
    pub read: bool,
    pub write: bool,
    pub admin: bool,
}

impl Condition {
    pub fn holds(&self, f: &ViewFacts) -> bool {
        let flip = |b: bool, invert: bool| b != invert;
        match self {
            Self::SignedIn { invert } => flip(f.signed_in, *invert),
            Self::Repo { need, invert } => {
                let has = f.repo.is_some_and(|r| match need {
                    RepoNeed::Read => r.read,
                    RepoNeed::Write => r.write,
                    RepoNeed::Admin => r.admin,
                });
                flip(has, *invert)
            }
            Self::AccountAdmin { invert } => flip(f.account_admin, *invert),
            Self::All(all) => all.iter().all(|c| c.holds(f)),
            Self::Any(any) => any.iter().any(|c| c.holds(f)),
        }
    }
}

/// Bitbucket's conditions Junction does not evaluate: refused at install by name.
const UNSUPPORTED: &[&str] = &[
    "has_issue_permission",
    "meets_access_requirements",
    "property_exists",
    "has_file",
    "scm",
    "user_has_premium",
    "has_addon",
    "flag_is_active",
    "has_feature",
];

const SUPPORTED: &str =
    "user_logged_in, has_permission (read, write, admin), has_account_permission and has_workspace_permission (admin), and \"and\"/\"or\" of these";

/// Reads `conditions` (a list: all must hold), adding a problem for anything Junction would
/// not judge as the app means it.
pub fn conditions(
    p: &mut Problems,
    v: &Value,
    path: &str,
    scopes: ConnectScopes,
) -> Vec<Condition> {
    let Value::Array(items) = v else {
        p.add(
            path,
            format!("'conditions' must be an array, not {}.", kind(v)),
            "Write [ {\"condition\": \"user_logged_in\"} ].",
        );
        return Vec::new();
    };
    items
        .iter()
        .enumerate()
        .filter_map(|(i, c)| condition(p, c, &format!("{path}[{i}]"), scopes))
        .collect()
}

fn condition(p: &mut Problems, v: &Value, path: &str, scopes: ConnectScopes) -> Option<Condition> {
    let m = p.object(v, path)?;
    for (word, all) in [("and", true), ("or", false)] {
        if let Some(inner) = m.get(word) {
            p.only(path, m, &[word]);
            let list = conditions(p, inner, &format!("{path}.{word}"), scopes);
            return Some(if all {
                Condition::All(list)
            } else {
                Condition::Any(list)
            });
        }
    }
    p.only(path, m, &["condition", "params", "invert"]);
    let invert = match m.get("invert") {
        None | Some(Value::Bool(false)) => false,
        Some(Value::Bool(true)) => true,
        Some(other) => {
            p.add(
                &format!("{path}.invert"),
                format!("'invert' must be true or false, not {}.", kind(other)),
                "Write \"invert\": true.",
            );
            false
        }
    };
    let Some(name) = m.get("condition").and_then(Value::as_str) else {
        p.add(
            &format!("{path}.condition"),
            "A condition needs a 'condition' name, or 'and'/'or' of conditions.",
            format!("Junction evaluates {SUPPORTED}."),
        );
        return None;
    };
    let permission = m
        .get("params")
        .and_then(Value::as_object)
        .and_then(|o: &Map<String, Value>| o.get("permission"))
        .and_then(Value::as_str);
    let needs = |p: &mut Problems, scope: ConnectScope| {
        if !scopes.expanded().contains(scope) {
            p.add(
                &format!("{path}.condition"),
                format!(
                    "The condition '{name}' needs the '{}' scope, which the app does not ask for.",
                    scope.as_str()
                ),
                format!(
                    "Add \"{}\" to scopes, or remove the condition.",
                    scope.as_str()
                ),
            );
        }
    };
    let bad_permission = |p: &mut Problems, allowed: &str| {
        p.add(
            &format!("{path}.params.permission"),
            format!(
                "The condition '{name}' takes permission {allowed}, not {}.",
                permission.map_or("nothing".to_string(), |s| format!("'{s}'"))
            ),
            format!(
                "Write \"params\": {{\"permission\": \"{}\"}}.",
                allowed.split(',').next().unwrap_or("").trim()
            ),
        );
    };
    match name {
        "user_logged_in" => Some(Condition::SignedIn { invert }),
        "has_permission" => {
            needs(p, ConnectScope::Repository);
            let need = match permission {
                Some("read") => RepoNeed::Read,
                Some("write") => RepoNeed::Write,
                Some("admin") => RepoNeed::Admin,
                _ => {
                    bad_permission(p, "read, write or admin");
                    return None;
                }
            };
            Some(Condition::Repo { need, invert })
        }
        "has_account_permission" | "has_workspace_permission" => {
            needs(p, ConnectScope::Account);
            if permission != Some("admin") {
                bad_permission(p, "admin");
                return None;
            }
            Some(Condition::AccountAdmin { invert })
        }
        other => {
            let why = if UNSUPPORTED.contains(&other) {
                format!("Junction does not evaluate the condition '{other}'.")
            } else {
                format!("'{other}' is not a condition.")
            };
            p.add(
                &format!("{path}.condition"),
                why,
                format!(
                    "Remove it, or use what Junction evaluates: {SUPPORTED}. A module is never shown on a guess."
                ),
            );
            None
        }
    }
}

/// Checks a UI module's `location` for its type.
pub fn location(p: &mut Problems, t: ModuleType, v: &Value, path: &str) {
    let allowed = t.locations();
    if allowed.is_empty() {
        return;
    }
    let names = || {
        allowed
            .iter()
            .map(|l| l.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match v.as_str() {
        Some(s) if Location::parse(s).is_some_and(|l| allowed.contains(&l)) => {}
        Some(s) => p.add(
            path,
            format!("'{s}' is not a location this module type can be placed in."),
            format!("Use one of: {}.", names()),
        ),
        None => p.add(
            path,
            format!("'location' must be a string, not {}.", kind(v)),
            format!("Use one of: {}.", names()),
        ),
    }
}

/// One UI module of an installed app, read from its (already validated) descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UiModule {
    pub kind: ModuleType,
    pub key: String,
    pub name: String,
    /// As declared: relative to `baseUrl` (or absolute), with `{context.parameters}`.
    pub url: String,
    pub location: Option<Location>,
    pub conditions: Vec<Condition>,
    pub weight: i64,
}

impl UiModule {
    pub fn shown(&self, f: &ViewFacts) -> bool {
        self.conditions.iter().all(|c| c.holds(f))
    }
}

/// The UI modules of a descriptor, lightest `weight` first (then by key, so the order is
/// stable). Anything malformed is skipped: descriptors are validated before they are stored.
pub fn ui_modules(raw: &Value, scopes: ConnectScopes) -> Vec<UiModule> {
    let Some(modules) = raw.get("modules").and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (type_name, value) in modules {
        let Some(kind) = ModuleType::from_name(type_name) else {
            continue;
        };
        let list: Vec<&Value> = match value {
            Value::Array(items) => items.iter().collect(),
            single @ Value::Object(_) => vec![single],
            _ => continue,
        };
        for m in list {
            let (Some(key), Some(url)) = (
                m.get("key").and_then(Value::as_str),
                m.get("url").and_then(Value::as_str),
            ) else {
                continue;
            };
            let name = m
                .pointer("/name/value")
                .and_then(Value::as_str)
                .unwrap_or(key)
                .to_string();
            let location = match m.get("location").and_then(Value::as_str) {
                Some(l) => Location::parse(l),
                None => kind.default_location(),
            };
            let mut ignored = Problems::default();
            let conditions = m
                .get("conditions")
                .map(|c| conditions(&mut ignored, c, "$", scopes))
                .unwrap_or_default();
            out.push(UiModule {
                kind,
                key: key.to_string(),
                name,
                url: url.to_string(),
                location,
                conditions,
                weight: m.get("weight").and_then(Value::as_i64).unwrap_or(100),
            });
        }
    }
    out.sort_by(|a, b| a.weight.cmp(&b.weight).then_with(|| a.key.cmp(&b.key)));
    out
}

/// The scope a context parameter's object needs; `None`: not a context parameter.
pub fn scope_for_context(object: &str) -> Option<ConnectScope> {
    Some(match object {
        "user" | "target_user" | "workspace" | "principal" => ConnectScope::Account,
        "repository" | "branch" | "commit" | "file" | "directory" => ConnectScope::Repository,
        "pullrequest" => ConnectScope::PullRequest,
        "issue" => ConnectScope::Issue,
        "snippet" => ConnectScope::Snippet,
        _ => return None,
    })
}

/// Writes `{object.path}` parameters of a module URL from `context` (an object of the API's
/// JSON shapes, `{"repository": {...}, "user": {...}}`): the value at that path, percent-encoded,
/// when the app's scopes cover the object; empty otherwise, and for anything unknown.
pub fn substitute(template: &str, scopes: ConnectScopes, context: &Value) -> String {
    let scopes = scopes.expanded();
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else {
            break;
        };
        out.push_str(&rest[..open]);
        let name = rest[open + 1..close].trim();
        let object = name.split('.').next().unwrap_or("");
        let allowed = scope_for_context(object).is_some_and(|s| scopes.contains(s));
        if allowed {
            let pointer = format!("/{}", name.replace('.', "/"));
            match context.pointer(&pointer) {
                Some(Value::String(s)) => out.push_str(&super::connect_qsh::encode(s)),
                Some(v @ (Value::Number(_) | Value::Bool(_))) => out.push_str(&v.to_string()),
                _ => {}
            }
        }
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
#[path = "connect_ui_tests.rs"]
mod tests;
