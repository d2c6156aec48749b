use super::*;
use serde_json::json;

fn good() -> Value {
    json!({
        "key": "com.example.reviewer",
        "name": "Reviewer",
        "description": "Reviews pull requests",
        "vendor": {"name": "Example", "url": "https://example.com"},
        "baseUrl": "https://reviewer.example.com/app/",
        "authentication": {"type": "JWT"},
        "lifecycle": {"installed": "/installed", "uninstalled": "https://other.example.com/gone"},
        "scopes": ["account", "pullrequest"],
        "contexts": ["account"],
        "modules": {
            "webhooks": [{"event": "pullrequest:created", "url": "/hook"}],
            "repoPages": [{"key": "page-1", "name": {"value": "Page"}, "url": "/p?r={repository.uuid}"}],
            "configurePage": {"key": "configure", "url": "/configure"}
        }
    })
}

fn paths(v: &Value) -> Vec<String> {
    validate(v)
        .unwrap_err()
        .into_iter()
        .map(|p| p.path)
        .collect()
}

#[test]
fn a_good_descriptor_is_read_with_its_urls_resolved() {
    let d = validate(&good()).unwrap();
    assert_eq!(d.key, "com.example.reviewer");
    assert_eq!(d.base_url, "https://reviewer.example.com/app");
    assert_eq!(d.authentication, Authentication::Jwt);
    assert_eq!(
        d.lifecycle.installed.as_deref(),
        Some("https://reviewer.example.com/app/installed")
    );
    assert_eq!(
        d.lifecycle.uninstalled.as_deref(),
        Some("https://other.example.com/gone")
    );
    assert_eq!(d.scopes.to_text(), "account pullrequest");
}

#[test]
fn missing_scopes_ask_for_all() {
    let mut v = good();
    v.as_object_mut().unwrap().remove("scopes");
    assert_eq!(validate(&v).unwrap().scopes, ConnectScopes::all());
}

#[test]
fn every_problem_is_reported_at_once_with_its_path() {
    let v = json!({
        "key": "bad key!",
        "name": "",
        "baseUrl": "http://example.com",
        "authentication": {"type": "oauth"},
        "lifecycle": {"installed": "/i"},
        "scopes": ["account", "project:write", 7],
        "contexts": ["galaxy"],
        "terms": "x",
        "privacy": "y",
        "links": {"self": "x", "support": "y"},
        "modules": {
            "webItems": [{"key": "a b", "url": "/x"}],
            "webhooks": [{"event": "repo:exploded", "url": "/h"}],
            "configurePage": [],
            "dashboards": []
        }
    });
    let found = paths(&v);
    for want in [
        "$",
        "$.key",
        "$.name",
        "$.description",
        "$.baseUrl",
        "$.authentication.type",
        "$.scopes[1]",
        "$.scopes[2]",
        "$.contexts[0]",
        "$.links",
        "$.modules.webItems[0].key",
        "$.modules.webItems[0].name",
        "$.modules.webItems[0].location",
        "$.modules.webhooks[0].event",
        "$.modules.configurePage",
        "$.modules.dashboards",
    ] {
        assert!(
            found.contains(&want.to_string()),
            "{want} missing from {found:?}"
        );
    }
}

#[test]
fn unknown_properties_are_named_together_with_a_hint() {
    let mut v = good();
    v["terms"] = json!("t");
    v["privacy"] = json!("p");
    let problems = validate(&v).unwrap_err();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].path, "$");
    assert_eq!(
        problems[0].message,
        "Additional properties are not allowed ('privacy', 'terms' were unexpected)."
    );
    assert!(problems[0].hint.starts_with("Allowed here: key, name,"));
}

#[test]
fn an_unknown_scope_names_the_known_ones() {
    let mut v = good();
    v["scopes"] = json!(["repositories"]);
    let problems = validate(&v).unwrap_err();
    assert_eq!(problems[0].path, "$.scopes[0]");
    assert_eq!(problems[0].message, "'repositories' is not a scope.");
    assert!(problems[0].hint.contains("repository:write"));
}

#[test]
fn module_keys_are_unique_across_types() {
    let mut v = good();
    v["modules"]["adminPages"] = json!([{"key": "page-1", "name": {"value": "A"}, "url": "/a"}]);
    let problems = validate(&v).unwrap_err();
    assert_eq!(problems.len(), 1);
    assert!(problems[0].message.contains("already used at $.modules."));
}

#[test]
fn long_keys_and_events_are_refused() {
    let mut v = good();
    v["key"] = json!("k".repeat(65));
    v["modules"]["webhooks"][0]["event"] = json!("e".repeat(65));
    v["modules"]["repoPages"][0]["key"] = json!("m".repeat(129));
    assert_eq!(
        paths(&v),
        [
            "$.key",
            "$.modules.repoPages[0].key",
            "$.modules.webhooks[0].event"
        ]
    );
}

#[test]
fn http_is_only_for_loopback() {
    let mut v = good();
    v["baseUrl"] = json!("http://127.0.0.1:3000");
    assert!(validate(&v).is_ok());
    v["baseUrl"] = json!("http://app.example.com");
    assert_eq!(paths(&v), ["$.baseUrl"]);
    v["baseUrl"] = json!("ftp://app.example.com");
    assert_eq!(paths(&v), ["$.baseUrl"]);
}

#[test]
fn jwt_apps_need_an_installed_callback() {
    let mut v = good();
    v["lifecycle"] = json!({"uninstalled": "/u"});
    assert_eq!(paths(&v), ["$.lifecycle.installed"]);
    v["authentication"] = json!({"type": "none"});
    assert!(validate(&v).is_ok());
}

#[test]
fn a_descriptor_that_is_not_an_object_says_so() {
    let problems = validate(&json!([1])).unwrap_err();
    assert_eq!(problems[0].path, "$");
    assert_eq!(problems[0].message, "Expected an object, found an array.");
}

#[test]
fn lifecycle_urls_that_are_no_urls_are_refused() {
    assert_eq!(resolve("https://a.b", "javascript://x"), None);
    assert_eq!(resolve("https://a.b", "//evil.example/x"), None);
    assert_eq!(
        resolve("https://a.b/c", "d").as_deref(),
        Some("https://a.b/c/d")
    );
}
