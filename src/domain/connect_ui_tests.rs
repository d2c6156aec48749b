use super::*;
use crate::domain::connect_descriptor::validate;
use serde_json::json;

fn scopes(text: &str) -> ConnectScopes {
    ConnectScopes::from_text(text)
}

fn descriptor(scopes: &[&str], modules: Value) -> Value {
    json!({
        "key": "com.example.panels",
        "name": "Panels",
        "description": "Shows panels",
        "baseUrl": "https://panels.example.com",
        "authentication": {"type": "jwt"},
        "lifecycle": {"installed": "/installed"},
        "scopes": scopes,
        "modules": modules,
    })
}

fn problems(d: &Value) -> Vec<(String, String)> {
    validate(d)
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|p| (p.path, p.message))
        .collect()
}

#[test]
fn context_parameters_are_written_when_the_scopes_cover_them() {
    let context = json!({
        "repository": {"uuid": "{1-2}", "full_name": "prj/code"},
        "pullrequest": {"id": 7},
        "user": {"uuid": "{u}"},
    });
    let url = "/p?r={repository.uuid}&n={repository.full_name}&pr={pullrequest.id}&u={user.uuid}";
    assert_eq!(
        substitute(url, scopes("pullrequest account"), &context),
        "/p?r=%7B1-2%7D&n=prj%2Fcode&pr=7&u=%7Bu%7D"
    );
}

#[test]
fn a_parameter_the_scopes_do_not_cover_is_left_empty() {
    let context = json!({"repository": {"uuid": "{1-2}"}, "pullrequest": {"id": 7}});
    assert_eq!(
        substitute(
            "/p?r={repository.uuid}&pr={pullrequest.id}",
            scopes("repository"),
            &context
        ),
        "/p?r=%7B1-2%7D&pr="
    );
    assert_eq!(
        substitute("/p?r={repository.uuid}", scopes("account"), &context),
        "/p?r="
    );
}

#[test]
fn unknown_parameters_and_paths_are_empty_and_unclosed_braces_stay() {
    let context = json!({"repository": {"uuid": "x"}});
    assert_eq!(
        substitute(
            "/p?a={nothing.here}&b={repository.nope}&c={repository",
            scopes("repository"),
            &context
        ),
        "/p?a=&b=&c={repository"
    );
}

#[test]
fn locations_are_checked_by_module_type() {
    let d = descriptor(
        &["repository"],
        json!({
            "webPanels": [
                {"key": "ok", "name": {"value": "A"}, "url": "/a", "location": "org.bitbucket.repository.overview.informationPanel"},
                {"key": "nowhere", "name": {"value": "B"}, "url": "/b", "location": "org.bitbucket.somewhere.else"},
                {"key": "wrong-type", "name": {"value": "C"}, "url": "/c", "location": "org.bitbucket.repository.actions"}
            ]
        }),
    );
    let found = problems(&d);
    assert_eq!(
        found.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
        [
            "$.modules.webPanels[1].location",
            "$.modules.webPanels[2].location"
        ]
    );
    assert!(found[0].1.contains("'org.bitbucket.somewhere.else'"));
}

#[test]
fn conditions_junction_cannot_judge_are_refused_with_the_ones_it_can() {
    let d = descriptor(
        &["repository"],
        json!({"repoPages": [{"key": "p", "name": {"value": "P"}, "url": "/p",
            "conditions": [{"condition": "has_file", "params": {"file": "x"}}, {"condition": "made_up"}]}]}),
    );
    let found = problems(&d);
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].0, "$.modules.repoPages[0].conditions[0].condition");
    assert_eq!(
        found[0].1,
        "Junction does not evaluate the condition 'has_file'."
    );
    assert_eq!(found[1].1, "'made_up' is not a condition.");
}

#[test]
fn a_condition_needs_its_scope_and_a_known_permission() {
    let d = descriptor(
        &["account"],
        json!({"repoPages": [{"key": "p", "name": {"value": "P"}, "url": "/p",
            "conditions": [{"condition": "has_permission", "params": {"permission": "write"}},
                           {"condition": "has_account_permission", "params": {"permission": "owner"}}]}]}),
    );
    let found = problems(&d);
    assert_eq!(found.len(), 2);
    assert!(
        found[0].1.contains("needs the 'repository' scope"),
        "{found:?}"
    );
    assert_eq!(
        found[1].0,
        "$.modules.repoPages[0].conditions[1].params.permission"
    );
}

#[test]
fn conditions_combine_and_invert() {
    let mut p = Problems::default();
    let c = conditions(
        &mut p,
        &json!([{"or": [{"condition": "has_permission", "params": {"permission": "admin"}},
                        {"condition": "has_workspace_permission", "params": {"permission": "admin"}}]},
                {"condition": "user_logged_in"}]),
        "$",
        scopes("repository account"),
    );
    assert!(p.0.is_empty());
    let reader = ViewFacts {
        signed_in: true,
        repo: Some(RepoFacts {
            read: true,
            write: false,
            admin: false,
        }),
        account_admin: false,
    };
    assert!(!c.iter().all(|c| c.holds(&reader)));
    let team_admin = ViewFacts {
        account_admin: true,
        ..reader
    };
    assert!(c.iter().all(|c| c.holds(&team_admin)));
    let inverted = conditions(
        &mut p,
        &json!([{"condition": "user_logged_in", "invert": true}]),
        "$",
        scopes(""),
    );
    assert!(!inverted[0].holds(&reader));
    assert!(inverted[0].holds(&ViewFacts::default()));
}

#[test]
fn a_repository_condition_fails_where_no_repository_is_shown() {
    let c = Condition::Repo {
        need: RepoNeed::Read,
        invert: false,
    };
    assert!(!c.holds(&ViewFacts {
        signed_in: true,
        ..Default::default()
    }));
}

#[test]
fn modules_are_read_in_weight_order_with_default_locations() {
    let d = descriptor(
        &["repository"],
        json!({
            "repoPages": [{"key": "page", "name": {"value": "Page"}, "url": "/p", "weight": 50}],
            "webPanels": [{"key": "panel", "name": {"value": "Panel"}, "url": "/panel",
                           "location": "org.bitbucket.repository.overview.informationPanel"}],
            "adminPages": [{"key": "admin", "name": {"value": "Admin"}, "url": "/admin", "weight": 10}],
            "configurePage": {"key": "configure", "url": "/configure"},
            "webhooks": [{"event": "repo:push", "url": "/hook"}]
        }),
    );
    let m = ui_modules(&d, scopes("repository"));
    let seen: Vec<(&str, ModuleType, Option<Location>)> = m
        .iter()
        .map(|m| (m.key.as_str(), m.kind, m.location))
        .collect();
    assert_eq!(
        seen,
        [
            ("admin", ModuleType::AdminPage, Some(Location::AccountAdmin)),
            ("page", ModuleType::RepoPage, Some(Location::RepoNavigation)),
            ("configure", ModuleType::ConfigurePage, None),
            (
                "panel",
                ModuleType::WebPanel,
                Some(Location::RepoOverviewPanel)
            ),
        ]
    );
    assert_eq!(m[2].name, "configure");
}
