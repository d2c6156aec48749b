//! A Connect app's descriptor (`atlassian-connect.json`), validated strictly the way Bitbucket
//! Cloud does — required fields, URL rules, known scopes, contexts, modules by type, unknown
//! properties refused — but reporting **every** problem at once, each with its JSON path and a
//! hint, where Bitbucket stops at the first. Modules are checked in `connect_modules.rs`.

use super::connect_modules;
use super::connect_scopes::{ConnectScope, ConnectScopes};
use serde::Serialize;
use serde_json::{Map, Value};

/// One thing wrong with a descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// JSONPath-like: `$.modules.webItems[0].url`.
    pub path: String,
    pub message: String,
    pub hint: String,
}

/// Collects problems while walking a descriptor.
#[derive(Default)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    pub fn add(&mut self, path: &str, message: impl Into<String>, hint: impl Into<String>) {
        self.0.push(Problem {
            path: path.to_string(),
            message: message.into(),
            hint: hint.into(),
        });
    }

    /// Refuses properties outside `allowed`, naming all of them in one problem, as Bitbucket
    /// does ("Additional properties are not allowed ('a', 'b' were unexpected)").
    pub fn only(&mut self, path: &str, obj: &Map<String, Value>, allowed: &[&str]) {
        let extra: Vec<String> = obj
            .keys()
            .filter(|k| !allowed.contains(&k.as_str()))
            .map(|k| format!("'{k}'"))
            .collect();
        if !extra.is_empty() {
            let verb = if extra.len() == 1 { "was" } else { "were" };
            self.add(
                path,
                format!(
                    "Additional properties are not allowed ({} {verb} unexpected).",
                    extra.join(", ")
                ),
                format!("Allowed here: {}.", allowed.join(", ")),
            );
        }
    }

    /// A required string: present, a string, not blank, at most `max` characters.
    pub fn string<'a>(
        &mut self,
        obj: &'a Map<String, Value>,
        parent: &str,
        key: &str,
        max: usize,
        required: bool,
    ) -> Option<&'a str> {
        let path = format!("{parent}.{key}");
        match obj.get(key) {
            None | Some(Value::Null) if required => {
                self.add(
                    &path,
                    format!("'{key}' is required."),
                    format!("Add \"{key}\" to the object at {parent}."),
                );
                None
            }
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => {
                self.add(
                    &path,
                    format!("'{key}' must not be empty."),
                    "Give it a value.",
                );
                None
            }
            Some(Value::String(s)) if s.chars().count() > max => {
                self.add(
                    &path,
                    format!(
                        "'{key}' is {} characters long; at most {max} are allowed.",
                        s.chars().count()
                    ),
                    "Shorten it.",
                );
                None
            }
            Some(Value::String(s)) => Some(s),
            Some(other) => {
                self.add(
                    &path,
                    format!("'{key}' must be a string, not {}.", kind(other)),
                    "Write it as a JSON string in double quotes.",
                );
                None
            }
        }
    }

    /// An object-valued property; `None` (with a problem) if it is something else.
    pub fn object<'a>(&mut self, v: &'a Value, path: &str) -> Option<&'a Map<String, Value>> {
        match v {
            Value::Object(o) => Some(o),
            other => {
                self.add(
                    path,
                    format!("Expected an object, found {}.", kind(other)),
                    "Write it as a JSON object: { … }.",
                );
                None
            }
        }
    }
}

/// The JSON type of a value, in words.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authentication {
    Jwt,
    None,
}

/// The lifecycle callbacks, as absolute URLs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lifecycle {
    pub installed: Option<String>,
    pub uninstalled: Option<String>,
    pub enabled: Option<String>,
    pub disabled: Option<String>,
}

/// A descriptor that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct Descriptor {
    pub key: String,
    pub name: String,
    pub description: String,
    pub vendor_name: Option<String>,
    pub vendor_url: Option<String>,
    /// Normalised: no trailing slash.
    pub base_url: String,
    pub authentication: Authentication,
    pub lifecycle: Lifecycle,
    /// As declared; a descriptor without `scopes` asks for all of them.
    pub scopes: ConnectScopes,
    /// The descriptor as given, kept for modules (part 2) and re-validation.
    pub raw: Value,
}

const TOP_LEVEL: &[&str] = &[
    "key",
    "name",
    "description",
    "vendor",
    "baseUrl",
    "authentication",
    "lifecycle",
    "modules",
    "scopes",
    "contexts",
    "links",
    "apiMigrations",
    "apiVersion",
    "enableLicensing",
];

pub const KEY_MAX: usize = 64;

/// Validates a descriptor, returning every problem found when there is any.
pub fn validate(raw: &Value) -> Result<Descriptor, Vec<Problem>> {
    let mut p = Problems::default();
    let Some(obj) = p.object(raw, "$") else {
        return Err(p.0);
    };
    p.only("$", obj, TOP_LEVEL);
    let key = p.string(obj, "$", "key", KEY_MAX, true);
    if let Some(k) = key.filter(|k| {
        !k.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
    }) {
        p.add(
            "$.key",
            format!("'{k}' is not a valid app key."),
            "Use only letters, digits, '-', '.' and '_', e.g. \"com.example.my-app\".",
        );
    }
    let name = p.string(obj, "$", "name", 255, true);
    let description = p.string(obj, "$", "description", 1000, true);
    let (vendor_name, vendor_url) = vendor(&mut p, obj);
    let base_url = p
        .string(obj, "$", "baseUrl", 2048, true)
        .and_then(|u| base_url(&mut p, u));
    let authentication = authentication(&mut p, obj);
    let lifecycle = base_url
        .as_deref()
        .map(|b| lifecycle(&mut p, obj, b, authentication))
        .unwrap_or_default();
    let scopes = scopes(&mut p, obj);
    contexts(&mut p, obj);
    if let Some(links) = obj.get("links").and_then(|l| p.object(l, "$.links")) {
        p.only(
            "$.links",
            links,
            &["self", "homepage", "documentation", "source"],
        );
    }
    if let Some(modules) = obj.get("modules") {
        connect_modules::check(&mut p, modules, scopes);
    }
    if !p.0.is_empty() {
        return Err(p.0);
    }
    Ok(Descriptor {
        key: key.unwrap_or_default().to_string(),
        name: name.unwrap_or_default().to_string(),
        description: description.unwrap_or_default().to_string(),
        vendor_name,
        vendor_url,
        base_url: base_url.unwrap_or_default(),
        authentication: authentication.unwrap_or(Authentication::Jwt),
        lifecycle,
        scopes,
        raw: raw.clone(),
    })
}

fn vendor(p: &mut Problems, obj: &Map<String, Value>) -> (Option<String>, Option<String>) {
    let Some(v) = obj.get("vendor").and_then(|v| p.object(v, "$.vendor")) else {
        return (None, None);
    };
    p.only("$.vendor", v, &["name", "url"]);
    let name = p
        .string(v, "$.vendor", "name", 255, false)
        .map(str::to_string);
    let url = p
        .string(v, "$.vendor", "url", 2048, false)
        .map(str::to_string);
    (name, url)
}

/// `baseUrl`: absolute https, or http on a loopback host (a developer's own machine); no query,
/// fragment or credentials; one trailing slash dropped.
fn base_url(p: &mut Problems, text: &str) -> Option<String> {
    let Ok(url) = url::Url::parse(text) else {
        p.add(
            "$.baseUrl",
            format!("'{text}' is not an absolute URL."),
            "Give the full address the app is served at, e.g. \"https://my-app.example.com\".",
        );
        return None;
    };
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    let ok_scheme = url.scheme() == "https" || (url.scheme() == "http" && loopback);
    if !ok_scheme {
        p.add(
            "$.baseUrl",
            format!("'{text}' must use https."),
            "Apps are reached over https; plain http is accepted only for localhost while developing.",
        );
        return None;
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        p.add(
            "$.baseUrl",
            format!("'{text}' must not carry a query, fragment or user name."),
            "Give only scheme, host, port and path.",
        );
        return None;
    }
    Some(text.trim_end_matches('/').to_string())
}

fn authentication(p: &mut Problems, obj: &Map<String, Value>) -> Option<Authentication> {
    let a = match obj.get("authentication") {
        None => {
            p.add(
                "$.authentication",
                "'authentication' is required.",
                "Add \"authentication\": {\"type\": \"jwt\"}.",
            );
            return None;
        }
        Some(a) => p.object(a, "$.authentication")?,
    };
    p.only("$.authentication", a, &["type"]);
    let t = p.string(a, "$.authentication", "type", 16, true)?;
    match t.to_ascii_lowercase().as_str() {
        "jwt" => Some(Authentication::Jwt),
        "none" => Some(Authentication::None),
        _ => {
            p.add(
                "$.authentication.type",
                format!("'{t}' is not an authentication type."),
                "Use \"jwt\" (or \"none\" for an app that never calls Junction).",
            );
            None
        }
    }
}

fn lifecycle(
    p: &mut Problems,
    obj: &Map<String, Value>,
    base: &str,
    auth: Option<Authentication>,
) -> Lifecycle {
    let names = ["installed", "uninstalled", "enabled", "disabled"];
    let Some(l) = obj
        .get("lifecycle")
        .and_then(|l| p.object(l, "$.lifecycle"))
    else {
        if obj.get("lifecycle").is_none() {
            p.add(
                "$.lifecycle",
                "'lifecycle' is required.",
                "Add \"lifecycle\": {\"installed\": \"/installed\", \"uninstalled\": \"/uninstalled\"}.",
            );
        }
        return Lifecycle::default();
    };
    p.only("$.lifecycle", l, &names);
    let mut url = |name: &str| {
        let given = p.string(l, "$.lifecycle", name, 2048, false)?;
        match resolve(base, given) {
            Some(u) => Some(u),
            None => {
                p.add(
                    &format!("$.lifecycle.{name}"),
                    format!("'{given}' is neither a path nor an absolute http(s) URL."),
                    "Give a path relative to baseUrl, e.g. \"/installed\".",
                );
                None
            }
        }
    };
    let out = Lifecycle {
        installed: url("installed"),
        uninstalled: url("uninstalled"),
        enabled: url("enabled"),
        disabled: url("disabled"),
    };
    if out.installed.is_none() && auth == Some(Authentication::Jwt) && l.get("installed").is_none()
    {
        p.add(
            "$.lifecycle.installed",
            "'installed' is required for an app that uses JWT.",
            "The installed callback is how the app receives its shared secret: add \"installed\": \"/installed\".",
        );
    }
    out
}

/// A module or lifecycle URL: absolute http(s) as is, anything else relative to `base`.
pub fn resolve(base: &str, given: &str) -> Option<String> {
    if given.starts_with("http://") || given.starts_with("https://") {
        return url::Url::parse(given).ok().map(|u| u.to_string());
    }
    if given.contains("://") || given.starts_with("//") || given.chars().any(char::is_control) {
        return None;
    }
    let sep = if given.starts_with('/') { "" } else { "/" };
    Some(format!("{base}{sep}{given}"))
}

fn scopes(p: &mut Problems, obj: &Map<String, Value>) -> ConnectScopes {
    let Some(v) = obj.get("scopes") else {
        return ConnectScopes::all();
    };
    let Value::Array(items) = v else {
        p.add(
            "$.scopes",
            format!("'scopes' must be an array, not {}.", kind(v)),
            "List scopes as strings, e.g. [\"account\", \"repository\"].",
        );
        return ConnectScopes::default();
    };
    let mut out = Vec::new();
    for (i, s) in items.iter().enumerate() {
        match s.as_str().map(|t| (t, ConnectScope::parse(t))) {
            Some((_, Some(scope))) => out.push(scope),
            Some((t, None)) => p.add(
                &format!("$.scopes[{i}]"),
                format!("'{t}' is not a scope."),
                format!(
                    "Known scopes: {}.",
                    ConnectScope::ALL.map(ConnectScope::as_str).join(", ")
                ),
            ),
            None => p.add(
                &format!("$.scopes[{i}]"),
                format!("A scope must be a string, not {}.", kind(s)),
                "Write it in double quotes.",
            ),
        }
    }
    out.into_iter().collect()
}

fn contexts(p: &mut Problems, obj: &Map<String, Value>) {
    let Some(v) = obj.get("contexts") else { return };
    let Value::Array(items) = v else {
        p.add(
            "$.contexts",
            format!("'contexts' must be an array, not {}.", kind(v)),
            "Use [\"account\"].",
        );
        return;
    };
    for (i, c) in items.iter().enumerate() {
        if !matches!(c.as_str(), Some("account" | "personal")) {
            p.add(
                &format!("$.contexts[{i}]"),
                format!("{c} is not a context."),
                "Use \"account\" (\"personal\" is deprecated but accepted).",
            );
        }
    }
}

#[cfg(test)]
#[path = "connect_descriptor_tests.rs"]
mod tests;
