//! Software nobody here wrote, against the running server: the PyPI package
//! `atlassian-python-api`, installed by scripts/test.sh into .venv.

use crate::harness::*;
use reqwest::StatusCode;

/// The Python interpreter with the test clients installed; missing fails (see `missing`).
pub fn python() -> Option<String> {
    match std::env::var("JUNCTION_TEST_PYTHON") {
        Ok(p) => Some(p),
        Err(_) => {
            missing(
                "JUNCTION_TEST_PYTHON is not set: run the tests with scripts/test.sh",
                "JUNCTION_TEST_SKIP_INTEROP",
            );
            None
        }
    }
}

async fn atlassian_python_api_reviews_and_merges(app: TestApp) {
    let Some(python) = python() else { return };
    app.project("INTEROP", false).await;
    app.repo("INTEROP", "service", false).await;
    app.branches("INTEROP", "service", &["feature/login"]).await;
    app.repo("INTEROP", "client-lib", false).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.grant("/rest/api/1.0/projects/INTEROP", "alice", "PROJECT_WRITE")
        .await;
    app.grant("/rest/api/1.0/projects/INTEROP", "bob", "PROJECT_READ")
        .await;
    let (Auth::Bearer(alice_token), _) = app.token(&alice, "write").await else {
        unreachable!()
    };
    let (Auth::Bearer(bob_token), _) = app.token(&bob, "read").await else {
        unreachable!()
    };
    let out = run_client(
        &python,
        "python/bitbucket_client.py",
        &[
            ("JUNCTION_URL", &app.base),
            ("ALICE_TOKEN", &alice_token),
            ("BOB_TOKEN", &bob_token),
        ],
    )
    .await;
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["state"], "MERGED");
    // The server agrees.
    let r = app
        .get(
            "/rest/api/1.0/projects/INTEROP/repos/service/pull-requests/1",
            &admin(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["state"], "MERGED");
    assert_eq!(r.body["reviewers"][0]["user"]["name"], "bob");
    assert_eq!(r.body["reviewers"][0]["status"], "APPROVED");
    assert_eq!(r.body["author"]["user"]["name"], "alice");
}

async fn authlib_runs_the_code_flow_through_the_real_forms(app: TestApp) {
    let Some(python) = python() else { return };
    app.project("P", false).await;
    app.repo("P", "r", false).await;
    app.user("alice").await;
    app.grant("/rest/api/1.0/projects/P", "alice", "PROJECT_ADMIN")
        .await;
    let redirect = "http://localhost:9/callback";
    let c = app
        .post(
            "/rest/oauth2/latest/client",
            &admin(),
            serde_json::json!({"name": "authlib", "redirects": [redirect], "scope": "REPO_WRITE"}),
        )
        .await;
    assert_eq!(c.status, StatusCode::CREATED);
    // authlib refuses plain http unless told this is a test setup.
    let out = run_oauth_client(
        &python,
        "python/oauth2_client.py",
        &app,
        &c.body,
        redirect,
        &[("AUTHLIB_INSECURE_TRANSPORT", "1")],
    )
    .await;
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["scope"], "REPO_READ");
    // The revocation reached the store: alice has no authorized application left.
    let alice = app.store.find_account("alice").await.unwrap().unwrap();
    assert!(app
        .store
        .authorized_apps(alice.id)
        .await
        .unwrap()
        .is_empty());
}

/// Runs a client program on a script under tests/ with the given environment, fails the test
/// with its output if it fails, and returns what it printed.
pub async fn run_client(program: &str, script: &str, env: &[(&str, &str)]) -> std::process::Output {
    let out = tokio::process::Command::new(program)
        .arg(format!("{}/tests/{script}", env!("CARGO_MANIFEST_DIR")))
        .envs(env.iter().copied())
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{script} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs one of the OAuth client programs under tests/ against the server as alice.
async fn run_oauth_client(
    program: &str,
    script: &str,
    app: &TestApp,
    client: &serde_json::Value,
    redirect: &str,
    extra_env: &[(&str, &str)],
) -> std::process::Output {
    let mut env = vec![
        ("JUNCTION_URL", app.base.as_str()),
        ("CLIENT_ID", client["clientId"].as_str().unwrap()),
        ("CLIENT_SECRET", client["clientSecret"].as_str().unwrap()),
        ("REDIRECT_URI", redirect),
        ("USERNAME", "alice"),
        ("PASSWORD", "alice-password"),
    ];
    env.extend_from_slice(extra_env);
    run_client(program, script, &env).await
}

/// The Node.js interop packages, installed by scripts/test.sh into tests/node/node_modules.
fn node_ready() -> bool {
    let installed = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/node/node_modules/simple-oauth2"
    ))
    .exists();
    if !installed {
        missing(
            "tests/node/node_modules is missing: run the tests with scripts/test.sh",
            "JUNCTION_TEST_SKIP_INTEROP",
        );
    }
    installed
}

async fn simple_oauth2_runs_the_code_flow(app: TestApp) {
    if !node_ready() {
        return;
    }
    app.project("P", false).await;
    app.repo("P", "r", false).await;
    app.user("alice").await;
    app.grant("/rest/api/1.0/projects/P", "alice", "PROJECT_READ")
        .await;
    let redirect = "http://localhost:9/node-callback";
    let c = app
        .post(
            "/rest/oauth2/latest/client",
            &admin(),
            serde_json::json!({"name": "node", "redirects": [redirect], "scope": "REPO_READ"}),
        )
        .await;
    run_oauth_client(
        "node",
        "node/oauth2_client.js",
        &app,
        &c.body,
        redirect,
        &[],
    )
    .await;
    let alice = app.store.find_account("alice").await.unwrap().unwrap();
    assert!(
        app.store
            .authorized_apps(alice.id)
            .await
            .unwrap()
            .is_empty(),
        "revoked"
    );
}

crate::both_backends!(
    atlassian_python_api_reviews_and_merges,
    authlib_runs_the_code_flow_through_the_real_forms,
    simple_oauth2_runs_the_code_flow,
);
