//! Hardening by default: private SQLite files, HSTS over https, PKCE S256 only, passwords for
//! new users accepted in the body.

use crate::harness::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn sqlite_files_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.project("P", false).await; // a write, so the WAL exists
    let db = app.database_url.trim_start_matches("sqlite://").to_string();
    for file in [db.clone(), format!("{db}-wal"), format!("{db}-shm")] {
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{file} is {mode:o}");
    }
}

#[tokio::test]
async fn hsts_is_sent_only_when_the_base_url_is_https() {
    let https = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.server.base_url = "https://junction.example.com".into()
    })
    .await
    .unwrap();
    let r = https.get("/health", &Auth::None).await;
    assert_eq!(
        r.header("strict-transport-security"),
        Some("max-age=31536000")
    );
    let r = https.get("/login", &Auth::None).await;
    assert_eq!(
        r.header("strict-transport-security"),
        Some("max-age=31536000")
    );
    let http = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let r = http.get("/health", &Auth::None).await;
    assert_eq!(r.header("strict-transport-security"), None);
}

async fn authorize_with(app: &TestApp, client_id: &str, method: Option<&str>) -> reqwest::Response {
    let mut url = format!(
        "{}/rest/oauth2/latest/authorize?response_type=code&client_id={client_id}&redirect_uri=http://localhost:8765/callback&state=s&code_challenge=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        app.base
    );
    if let Some(m) = method {
        url += &format!("&code_challenge_method={m}");
    }
    app.client.get(url).send().await.unwrap()
}

async fn pkce_plain_is_refused_unless_configured(app: TestApp) {
    let (c, _) = app.oauth_code("admin", "REPO_READ").await;
    let id = c["clientId"].as_str().unwrap();
    for method in [Some("plain"), None] {
        let r = authorize_with(&app, id, method).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{method:?}");
        let location = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
        let q: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
        assert_eq!(q["error"], "invalid_request", "{method:?}");
        assert!(
            q["error_description"].contains("code_challenge_method must be S256"),
            "{q:?}"
        );
    }
    accepted(&app, id, "S256", json!(["S256"])).await;
}

/// `method` goes on to sign-in, and the metadata lists `advertised`.
async fn accepted(app: &TestApp, client_id: &str, method: &str, advertised: serde_json::Value) {
    let r = authorize_with(app, client_id, Some(method)).await;
    let location = r.headers()["location"].to_str().unwrap();
    assert!(location.starts_with("/login?next="), "{method}: {location}");
    let meta = app
        .get("/.well-known/oauth-authorization-server", &Auth::None)
        .await;
    assert_eq!(meta.body["code_challenge_methods_supported"], advertised);
}

#[tokio::test]
async fn pkce_plain_is_accepted_when_configured() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.oauth2.allow_plain_pkce = true)
        .await
        .unwrap();
    let (c, _) = app.oauth_code("admin", "REPO_READ").await;
    let id = c["clientId"].as_str().unwrap();
    accepted(&app, id, "plain", json!(["S256", "plain"])).await;
}

async fn a_new_users_password_may_come_in_the_body(app: TestApp) {
    let r = app
        .post(
            "/rest/api/1.0/admin/users",
            &admin(),
            json!({"name": "carol", "password": "carol-password", "displayName": "Carol", "emailAddress": "carol@example.com"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["displayName"], "Carol");
    let carol = basic("carol", "carol-password");
    assert_eq!(
        app.get("/rest/api/1.0/users/carol", &carol).await.status,
        StatusCode::OK
    );
    let r = app
        .call(
            reqwest::Method::POST,
            "/rest/api/1.0/admin/users",
            &admin(),
            Some(json!(["not", "an", "object"])),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.message().contains("JSON object"), "{}", r.text);
    let r = app
        .post(
            "/rest/api/1.0/admin/users",
            &admin(),
            json!({"name": "dave", "password": "short"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.context(), "password");
}

/// The SSRF guard end to end: IPv6 spellings of internal addresses are refused like the
/// addresses they lead to.
async fn ipv6_forms_of_internal_addresses_are_refused(app: TestApp) {
    for host in [
        "[::127.0.0.1]",
        "[::ffff:127.0.0.1]",
        "[2002:7f00:1::]",
        "[fec0::1]",
        "[2001:0:4136:e378:8000:63bf:80ff:fffe]",
        "[64:ff9b::a9fe:a9fe]",
        "[fc00::1]",
    ] {
        let r = app
            .get(
                &format!("/rest/junction/1.0/applinks/discover?url=http://{host}:8080"),
                &admin(),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{host}: {}", r.text);
        assert_eq!(r.exception(), "ADDRESS_NOT_ALLOWED", "{host}");
    }
}

/// REST errors say what is wrong in a person's words, in one JSON shape, never a framework's.
async fn rest_errors_never_leak_framework_words(app: TestApp) {
    app.project("P", false).await;
    let leaks = [
        "Failed to deserialize",
        "expected struct",
        "to a `",
        "invalid type",
        "serde",
    ];
    let no_leak = |r: &Response| {
        for l in leaks {
            assert!(!r.text.contains(l), "{l}: {}", r.text);
        }
    };
    let r = app
        .post(
            "/rest/api/1.0/projects",
            &admin(),
            json!({"key": 5, "name": "X"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.message(), "key must be text, not the number 5.");
    assert_eq!(r.context(), "key");
    no_leak(&r);
    let r = app
        .post("/rest/api/1.0/projects", &admin(), json!(["P"]))
        .await;
    assert_eq!(
        r.message(),
        "The request body must be an object, not a list."
    );
    no_leak(&r);
    let r = app
        .get(
            "/rest/api/1.0/projects/P/repos/r/pull-requests/abc",
            &admin(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.message(),
        "The URL has \"abc\" where a whole number belongs."
    );
    no_leak(&r);
    let r = app.get("/rest/api/1.0/projects?limit=many", &admin()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.message(),
        "The query parameter limit must be a whole number."
    );
    assert_eq!(r.context(), "limit");
    no_leak(&r);
    // A method a route does not take answers the same JSON shape as an unknown route.
    let r = app
        .call(
            reqwest::Method::PATCH,
            "/rest/api/1.0/projects",
            &admin(),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        r.exception(),
        "com.atlassian.bitbucket.rest.MethodNotAllowedException"
    );
    assert_eq!(r.message(), "/rest/api/1.0/projects does not accept PATCH.");
    // (Unknown paths: `health.rs::unknown_path_is_a_json_404`.)
}

crate::both_backends!(
    pkce_plain_is_refused_unless_configured,
    a_new_users_password_may_come_in_the_body,
    ipv6_forms_of_internal_addresses_are_refused,
    rest_errors_never_leak_framework_words,
);
