//! What the token endpoint refuses to issue: a wider scope on refresh (checked before the token
//! rotates, so the grant survives), and anything for a deactivated person.

use crate::harness::*;
use reqwest::StatusCode;
use serde_json::Value;

async fn refresh(app: &TestApp, c: &Value, token: &str, scope: Option<&str>) -> Response {
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", token)];
    if let Some(s) = scope {
        form.push(("scope", s));
    }
    app.token_endpoint(c, &form).await
}

async fn a_wider_scope_on_refresh_leaves_the_grant_intact(app: TestApp) {
    let (c, code) = app.oauth_code("admin", "REPO_READ").await;
    let tokens = app.exchange_code(&c, &code).await.body;
    let rt = tokens["refresh_token"].as_str().unwrap();
    let r = refresh(&app, &c, rt, Some("REPO_ADMIN")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["error"], "invalid_scope");
    let r = refresh(&app, &c, rt, Some("NOT_A_SCOPE")).await;
    assert_eq!(r.body["error"], "invalid_scope");
    // The same refresh token still works, and the access token it came with too.
    let access = Auth::Bearer(tokens["access_token"].as_str().unwrap().into());
    assert_eq!(
        app.get("/rest/api/1.0/projects", &access).await.status,
        StatusCode::OK
    );
    let r = refresh(&app, &c, rt, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["scope"], "REPO_READ");
    // A narrower scope may be asked for.
    let r = refresh(
        &app,
        &c,
        r.body["refresh_token"].as_str().unwrap(),
        Some("PUBLIC_REPOS"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

async fn set_active(app: &TestApp, user: &str, active: bool) {
    let action = if active { "activate" } else { "deactivate" };
    let r = app
        .post(
            &format!("/rest/junction/1.0/admin/users/{user}/{action}"),
            &admin(),
            serde_json::json!({}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
}

async fn nothing_is_issued_to_a_deactivated_person(app: TestApp) {
    app.user("alice").await;
    let (c, code) = app.oauth_code("alice", "REPO_READ").await;
    let tokens = app.exchange_code(&c, &code).await.body;
    let rt = tokens["refresh_token"].as_str().unwrap().to_string();
    let access = Auth::Bearer(tokens["access_token"].as_str().unwrap().into());
    let (c2, pending) = app.oauth_code("alice", "REPO_READ").await;
    set_active(&app, "alice", false).await;

    let r = refresh(&app, &c, &rt, None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["error"], "invalid_grant");
    assert!(
        r.body["error_description"]
            .as_str()
            .unwrap()
            .contains("deactivated"),
        "{}",
        r.text
    );
    let r = app.exchange_code(&c2, &pending).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["error"], "invalid_grant");
    assert_eq!(
        app.get("/rest/api/1.0/projects", &access).await.status,
        StatusCode::UNAUTHORIZED
    );

    // Reactivation restores what she had authorized before (the refresh token was never
    // rotated while she was away); the code that was pending at deactivation stays spent.
    set_active(&app, "alice", true).await;
    assert_eq!(
        app.get("/rest/api/1.0/projects", &access).await.status,
        StatusCode::OK
    );
    let r = refresh(&app, &c, &rt, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app.exchange_code(&c2, &pending).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

crate::both_backends!(
    a_wider_scope_on_refresh_leaves_the_grant_intact,
    nothing_is_issued_to_a_deactivated_person,
);
