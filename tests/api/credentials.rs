//! A credential never creates a credential wider or longer-lived than itself: personal access
//! tokens, passwords, OAuth client secrets, service accounts and link credentials are made (or
//! shown) only to the person — a session or their password — never through a token of any scope.

use crate::harness::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

const SCOPES: [&str; 8] = [
    "PUBLIC_REPOS",
    "ACCOUNT_WRITE",
    "REPO_READ",
    "REPO_WRITE",
    "REPO_ADMIN",
    "PROJECT_ADMIN",
    "ADMIN_WRITE",
    "SYSTEM_ADMIN",
];
const NEEDS_PERSON: &str = "Credentials can only be created, reset or shown to a person who is signed in or gives their password; a token cannot create a credential wider or longer-lived than itself.";

/// The system administrator's tokens: one OAuth token per scope, one access token per permission.
async fn admin_tokens(app: &TestApp) -> Vec<(String, Auth)> {
    let mut out = Vec::new();
    for scope in SCOPES {
        out.push((
            format!("OAuth {scope}"),
            app.oauth_token("admin", scope).await,
        ));
    }
    for permission in ["read", "write", "admin"] {
        out.push((
            format!("PAT {permission}"),
            app.token(&admin(), permission).await.0,
        ));
    }
    out
}

fn assert_refused(r: &Response, what: &str) {
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{what}: {}", r.text);
    assert_eq!(r.message(), NEEDS_PERSON, "{what}");
    assert_forbidden(r, what);
}

fn assert_forbidden(r: &Response, what: &str) {
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{what}: {}", r.text);
    assert_eq!(
        r.exception(),
        "com.atlassian.bitbucket.AuthorisationException",
        "{what}"
    );
}

async fn no_token_creates_an_access_token(app: TestApp) {
    for (what, token) in admin_tokens(&app).await {
        for body in [
            json!({"name": "x", "permissions": ["PROJECT_ADMIN", "REPO_ADMIN"]}),
            json!({"name": "y", "permission": "admin"}),
            json!({"name": "z", "permission": "read", "expiryDays": 1}),
        ] {
            let r = app
                .put("/rest/access-tokens/1.0/users/admin", &token, body)
                .await;
            assert_refused(&r, &what);
        }
    }
    // Only the three access tokens made above exist; none was minted through a token.
    let list = app
        .get("/rest/access-tokens/1.0/users/admin", &admin())
        .await;
    assert_eq!(list.status, StatusCode::OK);
    let names: Vec<&str> = list.body["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(names.iter().all(|n| n.starts_with("t-")), "{names:?}");
}

async fn no_token_changes_a_password(app: TestApp) {
    let alice = app.user("alice").await;
    let body = json!({"oldPassword": "alice-password", "password": "a-new-password", "passwordConfirm": "a-new-password"});
    let mut tokens = vec![("PAT admin".to_string(), app.token(&alice, "admin").await.0)];
    for scope in SCOPES {
        tokens.push((
            format!("OAuth {scope}"),
            app.oauth_token("alice", scope).await,
        ));
    }
    for (what, token) in tokens {
        let r = app
            .put("/rest/api/1.0/users/credentials", &token, body.clone())
            .await;
        assert_refused(&r, &what);
    }
    // The password is unchanged; with the password itself, the person may change it.
    assert_eq!(
        app.get("/rest/api/1.0/users/alice", &alice).await.status,
        StatusCode::OK
    );
    let r = app
        .put("/rest/api/1.0/users/credentials", &alice, body)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
}

async fn no_token_creates_or_reveals_admin_credentials(app: TestApp) {
    let c = app
        .post("/rest/oauth2/latest/client", &admin(), json!({"name": "Existing", "redirects": ["http://localhost:1/cb"], "scope": "REPO_READ"}))
        .await;
    assert_eq!(c.status, StatusCode::CREATED);
    let id = c.body["clientId"].as_str().unwrap().to_string();
    let attempts: Vec<(Method, String, Option<serde_json::Value>)> = vec![
        (
            Method::POST,
            "/rest/oauth2/latest/client".into(),
            Some(
                json!({"name": "Minted", "redirects": ["http://localhost:1/cb"], "scope": "SYSTEM_ADMIN"}),
            ),
        ),
        (
            Method::POST,
            format!("/rest/oauth2/latest/client/reset/{id}"),
            None,
        ),
        (
            Method::GET,
            format!("/rest/oauth2/latest/client/{id}/credentials"),
            None,
        ),
        (
            Method::PUT,
            format!("/rest/oauth2/latest/client/{id}"),
            Some(json!({"scope": "SYSTEM_ADMIN"})),
        ),
        (
            Method::POST,
            "/rest/junction/1.0/service-accounts".into(),
            Some(json!({"name": "robot", "scope": "ADMIN_WRITE"})),
        ),
        (
            Method::POST,
            "/rest/api/1.0/admin/users?name=mallory&password=mallory-password".into(),
            None,
        ),
        (
            Method::POST,
            "/rest/junction/1.0/applinks".into(),
            Some(
                json!({"url": "http://localhost:1", "incoming": {"redirects": ["http://localhost:1/cb"]}}),
            ),
        ),
        (
            Method::GET,
            "/rest/junction/1.0/applinks/any/credentials".into(),
            None,
        ),
        (
            Method::POST,
            "/rest/junction/1.0/applinks/pair".into(),
            Some(json!({"url": "http://localhost:1"})),
        ),
    ];
    for (what, token) in admin_tokens(&app).await {
        for (method, path, body) in &attempts {
            let r = app.call(method.clone(), path, &token, body.clone()).await;
            let what = format!("{what}: {method} {path}");
            // Tokens without an admin scope are refused earlier, for their scope.
            let admin_scope = ["ADMIN_WRITE", "SYSTEM_ADMIN", "PAT admin"]
                .iter()
                .any(|s| what.contains(s));
            if admin_scope || *method != Method::PUT {
                assert_refused(&r, &what);
            } else {
                assert_forbidden(&r, &what);
            }
        }
    }
    // Nothing was created or changed: one client with its scope, no robot, no mallory.
    let clients = app.get("/rest/oauth2/latest/client", &admin()).await;
    let names: Vec<&str> = clients.body.as_array().map_or_else(
        || {
            clients.body["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap())
                .collect()
        },
        |a| a.iter().map(|c| c["name"].as_str().unwrap()).collect(),
    );
    assert!(!names.contains(&"Minted"), "{names:?}");
    let existing = app
        .get(&format!("/rest/oauth2/latest/client/{id}"), &admin())
        .await;
    assert_eq!(existing.body["scope"], "REPO_READ");
    assert!(app.store.find_account("robot").await.unwrap().is_none());
    assert!(app.store.find_account("mallory").await.unwrap().is_none());
}

crate::both_backends!(
    no_token_creates_an_access_token,
    no_token_changes_a_password,
    no_token_creates_or_reveals_admin_credentials,
);
