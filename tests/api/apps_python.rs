//! A Connect app written in Python with PyPI atlassian-jwt (tests/python/connect_app.py):
//! installed through the install link, it calls Junction with `encode_token` tokens (the other
//! claim shape: iss = aud = clientKey, no sub) and verifies the re-install and uninstall Junction
//! signed with `atlassian_jwt.Authenticator`.

use crate::apps_ace::grant;
use crate::both_backends;
use crate::connect_app::{client_key_of, development_mode, remove, AppProcess};
use crate::harness::TestApp;
use reqwest::StatusCode;

async fn a_python_atlassian_jwt_app_calls_in_its_claim_shape(app: TestApp) {
    let Some(python) = crate::interop::python() else {
        return;
    };
    let mut cmd = tokio::process::Command::new(python);
    cmd.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/connect_app.py"
    ));
    let py = AppProcess::start(cmd).await;
    app.user("vic").await;
    let b = crate::oauth2::browser(&app, "vic", "vic-password").await;
    development_mode(&app, &b).await;
    app.project("PRJ", false).await;
    app.repo("PRJ", "code", false).await;
    app.grant("/rest/api/1.0/projects/PRJ/repos/code", "vic", "REPO_READ")
        .await;

    let r = grant(&app, &b, &py, "vic").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let client_key = client_key_of(&location);

    let me = py.call(&client_key, "/2.0/user").await;
    assert_eq!(me["status"], 200, "{me}");
    assert_eq!(me["body"]["username"], "vic");
    let repo = py
        .call(&client_key, "/2.0/repositories/prj/code?fields=name")
        .await;
    assert_eq!(repo["status"], 200, "{repo}");
    assert_eq!(repo["body"]["slug"], "code");

    // Re-install and uninstall, each verified by the app with the secret it holds.
    assert_eq!(
        grant(&app, &b, &py, "vic").await.status(),
        StatusCode::SEE_OTHER
    );
    remove(&app, &b, &client_key).await;
    let events = py.probe("/probe/events").await;
    let seen: Vec<(String, bool)> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["event"].as_str().unwrap().to_string(),
                e["signed"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("installed".into(), false),
            ("installed".into(), true),
            ("uninstalled".into(), true)
        ],
        "{events}"
    );
}

both_backends!(spawn_linkable; a_python_atlassian_jwt_app_calls_in_its_claim_shape);
