//! A real browser — Debian's `chromium` driven by npm `playwright-core` (tests/node/browser/
//! apps.js) — using an unmodified atlassian-connect-express app inside Junction: the panel the
//! app's own JWT middleware accepted, `AP.resize`, `AP.flag`, `AP.request` refused before the
//! person grants access, served after, refused again after revoking, `AP.navigator.go`, a
//! stranger's message ignored; axe-core finds nothing serious on the pages around apps.
//! Screenshots at 1280×900 and 390×844 land in target/browser-artifacts/.

use crate::apps_ace::{grant, start_ace, uma_on_prj_code};
use crate::both_backends;
use crate::connect_app::{client_key_of, install_link, installation_of};
use crate::harness::TestApp;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Debian's chromium, or `JUNCTION_TEST_CHROMIUM`.
fn chromium() -> Option<String> {
    let wanted = std::env::var("JUNCTION_TEST_CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let found = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {wanted}"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if found.is_none() {
        crate::harness::missing(
            &format!(
                "{wanted} is not installed: run scripts/test.sh, which installs Debian's chromium"
            ),
            "JUNCTION_TEST_SKIP_BROWSER",
        );
    }
    found
}

/// Every page a person or an administrator opens, `[name, path, who]`.
fn tour(id: i64, install: &str) -> Value {
    json!([
        ["sign-in", "/login", "nobody"],
        ["dashboard", "/", "uma"],
        ["project", "/projects/PRJ", "uma"],
        ["repository", "/projects/PRJ/repos/code", "uma"],
        [
            "pull-request",
            "/projects/PRJ/repos/code/pull-requests/1",
            "uma"
        ],
        [
            "app-page",
            format!("/projects/PRJ/repos/code/apps/{id}/ace-page"),
            "uma"
        ],
        ["grant-access", format!("/apps/{id}/grant"), "uma"],
        ["install-consent", install, "uma"],
        ["profile", "/account", "uma"],
        ["password", "/account/password", "uma"],
        ["access-tokens", "/account/tokens", "uma"],
        [
            "authorized-applications",
            "/account/authorized-applications",
            "uma"
        ],
        [
            "connected-applications",
            "/account/connected-applications",
            "uma"
        ],
        ["installed-apps", "/account/apps", "uma"],
        [
            "app-webhooks",
            format!("/account/apps/{id}/webhooks"),
            "uma"
        ],
        ["app-authorizations", "/account/app-authorizations", "uma"],
        ["users", "/admin/users", "admin"],
        ["teams", "/admin/teams", "admin"],
        ["global-permissions", "/admin/permissions", "admin"],
        ["audit-log", "/admin/audit", "admin"],
        ["application-links", "/admin/application-links", "admin"],
        ["app-catalog", "/admin/apps", "admin"],
        [
            "repository-webhooks",
            "/projects/PRJ/repos/code/settings/hooks",
            "admin"
        ],
    ])
}

async fn a_person_uses_an_ace_app_in_a_real_browser(app: TestApp) {
    let Some(chromium) = chromium() else { return };
    let Some(ace) = start_ace(&app).await else {
        return;
    };
    let b = uma_on_prj_code(&app).await;
    app.branches("PRJ", "code", &["main", "feature"]).await;
    let pr = app
        .post(
            "/rest/api/1.0/projects/PRJ/repos/code/pull-requests",
            &crate::harness::basic("uma", "uma-password"),
            json!({"title": "Add feature", "fromRef": {"id": "feature"}, "toRef": {"id": "main"}}),
        )
        .await;
    assert_eq!(pr.status, StatusCode::CREATED, "{}", pr.text);
    let r = grant(&app, &b, &ace, "uma").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let client_key = client_key_of(r.headers()["location"].to_str().unwrap());
    let id = installation_of(&app, &client_key).await.id;

    let backend = format!("{:?}", app.backend).to_lowercase();
    let artifacts = format!(
        "{}/target/browser-artifacts/{backend}",
        env!("CARGO_MANIFEST_DIR")
    );
    let install = install_link(
        &crate::connect_app::FakeApp::start(json!(["repository"])).await,
        false,
    );
    let config = json!({
        "base": app.base, "user": "uma", "password": "uma-password",
        "chromium": chromium, "artifacts": artifacts,
        "admin": ["admin", crate::harness::ADMIN_PASSWORD],
        "tour": tour(id, &install),
    });
    let out = tokio::process::Command::new("node")
        .arg("browser/apps.js")
        .arg(config.to_string())
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/node"))
        .output()
        .await
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let seen: Value = serde_json::from_str(stdout.lines().last().unwrap_or(""))
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    assert!(
        seen["error"].is_null(),
        "{}",
        seen["error"].as_str().unwrap_or("")
    );

    let uma = app
        .get("/2.0/user", &crate::harness::basic("uma", "uma-password"))
        .await
        .body["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        seen["greeting"],
        format!("panel for PRJ/code in {client_key} as {uma}")
    );
    assert_eq!(seen["panelHeight"], 321.0);
    assert_eq!(seen["heightAfterStranger"], "321px");
    assert_eq!(seen["flag"], "×\nSaved\n<b>not html</b>");
    assert_eq!(seen["flagHasMarkup"], false);
    assert_eq!(seen["context"], "context PRJ/code");
    assert_eq!(seen["token"], format!("verified {uma}"));
    assert_eq!(seen["cookie"], "cookie v1");
    assert_eq!(
        seen["dialogGreeting"],
        format!("panel for PRJ/code in {client_key} as {uma}")
    );
    assert_eq!(seen["dialogClosed"], r#"closed {"done":true}"#);
    assert_eq!(seen["beforeGrant"], "refused 403");
    assert_eq!(
        seen["grantPage"],
        format!("/apps/{id}/grant?next=%2Fprojects%2FPRJ%2Frepos%2Fcode")
    );
    assert_eq!(seen["backAt"], "/projects/PRJ/repos/code");
    assert_eq!(seen["afterGrant"], "repo prj/code");
    assert_eq!(seen["afterRevoke"], "refused 403");
    assert_eq!(seen["askedAgain"], true);
    assert_eq!(
        seen["navigatedTo"],
        format!("/projects/PRJ/repos/code/apps/{id}/ace-page")
    );
    assert_eq!(
        seen["pageGreeting"],
        format!("panel for PRJ/code in {client_key} as {uma}")
    );
    let serious: Vec<(&String, &Value)> = seen["axe"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, v)| v != &&json!([]))
        .collect();
    assert!(
        serious.is_empty(),
        "axe-core found serious or critical problems: {serious:#?}"
    );
    assert_eq!(seen["axe"].as_object().unwrap().len(), 23);
    assert!(seen["screenshots"].as_array().unwrap().len() >= 56);
}

both_backends!(
    spawn_linkable;
    a_person_uses_an_ace_app_in_a_real_browser,
);
