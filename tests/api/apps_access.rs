//! "Grant access" and `AP.request`: an app's page calls the REST API as the person viewing it
//! only after that person granted it access, within both the app's scopes and the person's own
//! permissions; revoking ends it on the next call. (The browser side: tests/api/browser.rs.)

use crate::both_backends;
use crate::connect_app::{development_mode, install, page, post_form, FakeApp};
use crate::harness::TestApp;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// uma (writes PRJ/code) installed a `repository`-scoped app in her account; her browser and
/// the installation's id.
async fn uma_with_app(app: &TestApp) -> (reqwest::Client, i64) {
    app.user("uma").await;
    let b = crate::oauth2::browser(app, "uma", "uma-password").await;
    development_mode(app, &b).await;
    app.project("PRJ", false).await;
    app.repo("PRJ", "code", false).await;
    app.grant("/rest/api/1.0/projects/PRJ/repos/code", "uma", "REPO_WRITE")
        .await;
    let fake = FakeApp::start(json!(["repository"])).await;
    let r = install(app, &b, &fake, "uma").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let id = app.store.all_connect_installations().await.unwrap()[0]
        .installation
        .id;
    (b, id)
}

/// What the host page's script posts for `AP.request(url, {type, data})`.
async fn ap_request(
    app: &TestApp,
    b: &reqwest::Client,
    id: i64,
    (method, url, data): (&str, &str, &str),
) -> (StatusCode, Value) {
    let r = post_form(
        app,
        b,
        "/account/apps",
        &format!("/apps/{id}/request"),
        &[("url", url), ("type", method), ("data", data)],
    )
    .await;
    let status = r.status();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn grant(app: &TestApp, b: &reqwest::Client, id: i64) {
    let r = post_form(
        app,
        b,
        &format!("/apps/{id}/grant?next=/account/apps"),
        &format!("/apps/{id}/grant"),
        &[("decision", "grant"), ("next", "/account/apps")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/account/apps");
}

const READ_REPO: (&str, &str, &str) = ("GET", "/2.0/repositories/prj/code", "");

async fn an_app_acts_for_a_person_only_after_they_grant_it(app: TestApp) {
    let (b, id) = uma_with_app(&app).await;
    let (status, body) = ap_request(&app, &b, id, READ_REPO).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["errors"][0]["exceptionName"], "APP_ACCESS_NOT_GRANTED");

    // The consent page names what the app may do, in words.
    let (status, html) = page(&app, &b, &format!("/apps/{id}/grant?next=/account/apps")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Let Reviewer act for you?"), "{html}");
    assert!(html.contains("<li>Read your repositories"), "{html}");
    grant(&app, &b, id).await;

    let (status, body) = ap_request(&app, &b, id, READ_REPO).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["full_name"], "prj/code");
    let audit = app
        .store
        .audit_entries(0, 20, Some("app.access_granted"))
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
}

async fn the_app_acts_within_its_scopes_and_the_persons_permissions(app: TestApp) {
    let (b, id) = uma_with_app(&app).await;
    grant(&app, &b, id).await;
    // uma may write, but the app has only `repository`: no pull request for it.
    app.branches("PRJ", "code", &["main", "feature"]).await;
    let pr = json!({"title": "By the app", "source": {"branch": {"name": "feature"}},
                    "destination": {"branch": {"name": "main"}}})
    .to_string();
    let (status, body) = ap_request(
        &app,
        &b,
        id,
        ("POST", "/2.0/repositories/prj/code/pullrequests", &pr),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    // The app may read repositories, but not those uma cannot see.
    app.project("HIDDEN", false).await;
    app.repo("HIDDEN", "secret", false).await;
    let (status, _) =
        ap_request(&app, &b, id, ("GET", "/2.0/repositories/hidden/secret", "")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Nor may it reach anything but the REST API.
    let (status, body) = ap_request(&app, &b, id, ("GET", "/account/tokens", "")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        body["errors"][0]["exceptionName"],
        "APP_REQUEST_OUTSIDE_API"
    );
    // Nor create a credential as her.
    let token = json!({"name": "by-app", "permissions": ["REPO_READ"]}).to_string();
    let (status, body) = ap_request(
        &app,
        &b,
        id,
        ("PUT", "/rest/access-tokens/1.0/users/uma", &token),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

async fn revoking_takes_effect_on_the_next_call(app: TestApp) {
    let (b, id) = uma_with_app(&app).await;
    grant(&app, &b, id).await;
    assert_eq!(ap_request(&app, &b, id, READ_REPO).await.0, StatusCode::OK);
    let (_, html) = page(&app, &b, "/account/app-authorizations").await;
    assert!(
        html.contains(&format!("id=\"authorization-{id}\"")),
        "{html}"
    );
    let r = post_form(
        &app,
        &b,
        "/account/app-authorizations",
        &format!("/account/app-authorizations/{id}/revoke"),
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (status, body) = ap_request(&app, &b, id, READ_REPO).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["errors"][0]["exceptionName"], "APP_ACCESS_NOT_GRANTED");
    let (_, html) = page(&app, &b, "/account/app-authorizations").await;
    assert!(html.contains("id=\"no-authorizations\""), "{html}");
}

async fn a_request_without_the_sessions_csrf_token_is_refused(app: TestApp) {
    let (b, id) = uma_with_app(&app).await;
    grant(&app, &b, id).await;
    let r = b
        .post(format!("{}/apps/{id}/request", app.base))
        .form(&[("url", "/2.0/user"), ("type", "GET")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // And someone who is not shown the app cannot use it, granted or not.
    app.user("ivy").await;
    let ivy = crate::oauth2::browser(&app, "ivy", "ivy-password").await;
    let (status, _) = ap_request(&app, &ivy, id, READ_REPO).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn an_apps_oauth_consumer_is_listed_with_its_authorization(app: TestApp) {
    app.user("uma").await;
    let b = crate::oauth2::browser(&app, "uma", "uma-password").await;
    development_mode(&app, &b).await;
    let client = crate::oauth2::client(&app, "REPO_READ", true).await;
    let client_id = client["clientId"].as_str().unwrap().to_string();
    let fake = FakeApp::start(json!(["repository"])).await;
    fake.edit(|d| d["modules"]["oauthConsumer"] = json!({"clientId": client_id}));
    assert_eq!(
        install(&app, &b, &fake, "uma").await.status(),
        StatusCode::SEE_OTHER
    );
    let (_, html) = page(&app, &b, "/account/app-authorizations").await;
    assert!(html.contains("id=\"no-authorizations\""), "{html}");
    // The app's OAuth consumer asks, on Junction's consent page; uma allows it.
    let got = crate::oauth2::authorize(&app, &b, &client_id, "REPO_READ").await;
    let token = crate::oauth2::exchange(&app, &client, &got["code"]).await;
    assert_eq!(token.status, StatusCode::OK, "{}", token.text);
    let (_, html) = page(&app, &b, "/account/app-authorizations").await;
    let row = format!("id=\"oauth-authorization-{client_id}\"");
    assert!(
        html.contains(&row) && html.contains("<strong>Reviewer</strong>"),
        "{html}"
    );
    let r = post_form(
        &app,
        &b,
        "/account/app-authorizations",
        &format!("/account/authorized-applications/{client_id}/revoke"),
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = page(&app, &b, "/account/app-authorizations").await;
    assert!(!html.contains(&row), "{html}");
}

both_backends!(
    spawn_linkable;
    an_app_acts_for_a_person_only_after_they_grant_it,
    the_app_acts_within_its_scopes_and_the_persons_permissions,
    revoking_takes_effect_on_the_next_call,
    a_request_without_the_sessions_csrf_token_is_refused,
    an_apps_oauth_consumer_is_listed_with_its_authorization,
);
