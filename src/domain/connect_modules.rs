//! The `modules` of a Connect descriptor, checked by type: which types exist, which are one
//! object rather than a list, the fields each needs and allows, key formats and lengths, and
//! keys unique across the app. Problems are collected, never returned at the first.

use super::connect_descriptor::{kind, Problems};
use super::connect_scopes::ConnectScopes;
use super::connect_ui::{self, ModuleType as UiType};
use serde_json::{Map, Value};

/// One module type: its name, whether it is a single object, required and optional fields.
struct ModuleType {
    name: &'static str,
    single: bool,
    required: &'static [&'static str],
    optional: &'static [&'static str],
}

const COMMON: &[&str] = &["conditions", "params", "icon", "weight", "location"];

const TYPES: &[ModuleType] = &[
    ModuleType {
        name: "webhooks",
        single: false,
        required: &["event", "url"],
        optional: &["key", "filter", "excludeBody"],
    },
    ModuleType {
        name: "webItems",
        single: false,
        required: &["key", "name", "url", "location"],
        optional: &["context", "target", "tooltip", "styleClasses"],
    },
    ModuleType {
        name: "webPanels",
        single: false,
        required: &["key", "name", "url", "location"],
        optional: &["tooltip", "layout"],
    },
    ModuleType {
        name: "repoPages",
        single: false,
        required: &["key", "name", "url"],
        optional: &[],
    },
    ModuleType {
        name: "adminPages",
        single: false,
        required: &["key", "name", "url"],
        optional: &[],
    },
    ModuleType {
        name: "generalPages",
        single: false,
        required: &["key", "name", "url"],
        optional: &[],
    },
    ModuleType {
        name: "profileTabs",
        single: false,
        required: &["key", "name", "url"],
        optional: &[],
    },
    ModuleType {
        name: "fileViews",
        single: false,
        required: &["key", "name", "url"],
        optional: &["file_matches"],
    },
    ModuleType {
        name: "linkers",
        single: false,
        required: &["key", "regex", "url"],
        optional: &["name"],
    },
    ModuleType {
        name: "configurePage",
        single: true,
        required: &["key", "url"],
        optional: &["name"],
    },
    ModuleType {
        name: "postInstallRedirect",
        single: true,
        required: &["key", "url"],
        optional: &[],
    },
    ModuleType {
        name: "oauthConsumer",
        single: true,
        required: &["clientId"],
        optional: &["scopes"],
    },
];

pub const MODULE_KEY_MAX: usize = 128;
pub const URL_MAX: usize = 2048;
pub const EVENT_MAX: usize = 64;

/// `scopes`: what the app asks for (conditions need some of them).
pub fn check(p: &mut Problems, modules: &Value, scopes: ConnectScopes) {
    let Some(modules) = p.object(modules, "$.modules") else {
        return;
    };
    let mut keys: Vec<(String, String)> = Vec::new();
    for (type_name, value) in modules {
        let path = format!("$.modules.{type_name}");
        let Some(t) = TYPES.iter().find(|t| t.name == type_name) else {
            p.add(
                &path,
                format!("'{type_name}' is not a module type."),
                format!(
                    "Known types: {}.",
                    TYPES.iter().map(|t| t.name).collect::<Vec<_>>().join(", ")
                ),
            );
            continue;
        };
        match (t.single, value) {
            (true, Value::Object(m)) => module(p, t, m, &path, &mut keys, scopes),
            (false, Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    let at = format!("{path}[{i}]");
                    if let Some(m) = p.object(item, &at) {
                        module(p, t, m, &at, &mut keys, scopes);
                    }
                }
            }
            (true, other) => p.add(
                &path,
                format!("'{type_name}' must be one object, not {}.", kind(other)),
                "An app has at most one of these: write { … }, not [ … ].",
            ),
            (false, other) => p.add(
                &path,
                format!("'{type_name}' must be an array, not {}.", kind(other)),
                "List the modules: [ { … }, { … } ].",
            ),
        }
    }
}

fn module(
    p: &mut Problems,
    t: &ModuleType,
    m: &Map<String, Value>,
    path: &str,
    keys: &mut Vec<(String, String)>,
    scopes: ConnectScopes,
) {
    let allowed: Vec<&str> = t
        .required
        .iter()
        .chain(t.optional)
        .chain(if t.name == "oauthConsumer" {
            &[][..]
        } else {
            COMMON
        })
        .copied()
        .collect();
    p.only(path, m, &allowed);
    for field in t.required {
        if !m.contains_key(*field) {
            p.add(
                &format!("{path}.{field}"),
                format!("'{field}' is required in a {} module.", t.name),
                format!("Add \"{field}\" to the module at {path}."),
            );
        }
    }
    if m.contains_key("key") {
        if let Some(k) = p.string(m, path, "key", MODULE_KEY_MAX, false) {
            if !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                p.add(
                    &format!("{path}.key"),
                    format!("'{k}' is not a valid module key."),
                    "Use only letters, digits and '-', e.g. \"my-repo-page\".",
                );
            } else if let Some((_, first)) = keys.iter().find(|(key, _)| key == k) {
                p.add(
                    &format!("{path}.key"),
                    format!("The module key '{k}' is already used at {first}."),
                    "Module keys must be unique within the app.",
                );
            } else {
                keys.push((k.to_string(), path.to_string()));
            }
        }
    }
    if m.contains_key("url") {
        if let Some(u) = p.string(m, path, "url", URL_MAX, false) {
            if u.contains("://") && !(u.starts_with("https://") || u.starts_with("http://")) {
                p.add(
                    &format!("{path}.url"),
                    format!("'{u}' is neither a path nor an http(s) URL."),
                    "Give a path relative to baseUrl, e.g. \"/page?repo={repository.uuid}\".",
                );
            }
        }
    }
    if t.name == "webhooks" {
        if let Some(e) = p.string(m, path, "event", EVENT_MAX, false) {
            if e != "*" && !crate::domain::webhooks::is_cloud_event(e) {
                p.add(
                    &format!("{path}.event"),
                    format!("'{e}' is not an event."),
                    "Use an event key such as \"repo:push\" or \"pullrequest:created\", or \"*\" for all.",
                );
            }
        }
    }
    if let Some(ui) = UiType::from_name(t.name) {
        if let Some(l) = m.get("location") {
            connect_ui::location(p, ui, l, &format!("{path}.location"));
        }
        if let Some(c) = m.get("conditions") {
            connect_ui::conditions(p, c, &format!("{path}.conditions"), scopes);
        }
    }
    if m.contains_key("name") && t.name != "linkers" {
        name(p, m, path);
    }
}

/// `name` is `{ "value": …, "i18n"?: … }`.
fn name(p: &mut Problems, m: &Map<String, Value>, path: &str) {
    let at = format!("{path}.name");
    let Some(n) = m.get("name").and_then(|n| match n {
        Value::Object(o) => Some(o),
        other => {
            p.add(
                &at,
                format!("'name' must be an object, not {}.", kind(other)),
                "Write it as {\"value\": \"My page\"}.",
            );
            None
        }
    }) else {
        return;
    };
    p.only(&at, n, &["value", "i18n"]);
    p.string(n, &at, "value", 255, true);
}
