//! App webhooks: an installed app's `webhooks` modules receive events through the delivery
//! pipeline as Connect sends them (body wrapped as `{"event", "data"}`, `Authorization: JWT`
//! with `iss = aud = clientKey` and the request's `qsh`), and only events its scopes cover, of
//! repositories its account reaches, while it is enabled.

use crate::both_backends;
use crate::connect_app::{
    client_key_of, development_mode, install, installation_of, page, FakeApp,
};
use crate::harness::{admin, TestApp};
use crate::receiver::{eventually, Received};
use junction::domain::{connect_jwt, connect_qsh};
use junction::store::connect::InstallState;
use junction::store::SubscriberKind;
use reqwest::StatusCode;
use serde_json::json;

/// uma may write PRJ/code (with `main` and `feature`); OTHER/elsewhere is not hers.
async fn uma_with_a_repository(app: &TestApp) -> reqwest::Client {
    app.user("uma").await;
    let b = crate::oauth2::browser(app, "uma", "uma-password").await;
    development_mode(app, &b).await;
    for (key, slug) in [("PRJ", "code"), ("OTHER", "elsewhere")] {
        app.project(key, false).await;
        app.repo(key, slug, false).await;
        app.branches(key, slug, &["main", "feature"]).await;
    }
    app.grant("/rest/api/1.0/projects/PRJ/repos/code", "uma", "REPO_WRITE")
        .await;
    b
}

async fn installed(app: &TestApp, b: &reqwest::Client, fake: &FakeApp) -> String {
    let r = install(app, b, fake, "uma").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    client_key_of(r.headers()["location"].to_str().unwrap())
}

async fn open_pull_request(app: &TestApp, key: &str, slug: &str) {
    let r = app
        .post(
            &format!("/rest/api/1.0/projects/{key}/repos/{slug}/pull-requests"),
            &admin(),
            json!({"title": "Add feature", "fromRef": {"id": "feature"}, "toRef": {"id": "main"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

async fn describe_repository(app: &TestApp, key: &str, slug: &str) {
    let r = app
        .put(
            &format!("/rest/api/1.0/projects/{key}/repos/{slug}"),
            &admin(),
            json!({"description": "now described"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

/// The webhook calls the fake app received, in order.
fn hooks(fake: &FakeApp) -> Vec<Received> {
    fake.lifecycle()
        .into_iter()
        .filter(|r| r.path == "/hook")
        .collect()
}

async fn next_hook(fake: &FakeApp, n: usize) -> Received {
    eventually("an app webhook delivery", || async {
        hooks(fake).get(n).cloned()
    })
    .await
}

/// Every delivery made for the installation's modules, as the history keeps them.
async fn app_deliveries(app: &TestApp, installation_id: i64) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for h in app.store.app_hooks_of(installation_id).await.unwrap() {
        for d in app
            .store
            .deliveries_of(SubscriberKind::App, h.id, None, None, 0, 100)
            .await
            .unwrap()
        {
            out.push((d.event_key, d.state.as_str().to_string()));
        }
    }
    out
}

async fn a_subscribed_event_arrives_wrapped_and_signed_as_connect_sends_it(app: TestApp) {
    let b = uma_with_a_repository(&app).await;
    let fake = FakeApp::start(json!(["pullrequest"])).await;
    let client_key = installed(&app, &b, &fake).await;
    open_pull_request(&app, "PRJ", "code").await;

    let got = next_hook(&fake, 0).await;
    assert_eq!(got.header("user-agent"), "Bitbucket-Webhooks/2.0");
    assert_eq!(got.header("x-event-key"), "pullrequest:created");
    assert_eq!(got.header("x-attempt-number"), "1");
    let body = got.json();
    assert_eq!(body["event"], "pullrequest:created");
    assert_eq!(body["data"]["pullrequest"]["title"], "Add feature");
    assert_eq!(body["data"]["repository"]["full_name"], "PRJ/code");

    let i = installation_of(&app, &client_key).await;
    let modules = app.store.app_hooks_of(i.id).await.unwrap();
    assert_eq!(got.header("x-hook-uuid"), modules[0].uuid);
    let secret = fake.installed()["sharedSecret"]
        .as_str()
        .unwrap()
        .to_string();
    let token = got.header("authorization").strip_prefix("JWT ").unwrap();
    let canonical = connect_qsh::canonical_request("POST", "/hook", "", "");
    let now = junction::clock::Clock::now_ms(&app.clock) / 1000;
    let claims = connect_jwt::verify(
        token,
        secret.as_bytes(),
        now,
        &connect_jwt::Expected {
            canonical_request: &canonical,
            context_allowed: false,
        },
    )
    .expect("the webhook's JWT verifies with the installation's secret");
    assert_eq!(claims.iss, client_key);
    assert_eq!(
        claims.aud,
        Some(connect_jwt::Audience::One(client_key.into()))
    );
    let history = eventually("the delivery recorded", || async {
        let d = app_deliveries(&app, i.id).await;
        (d.first().map(|(_, s)| s.as_str()) == Some("succeeded")).then_some(d)
    })
    .await;
    assert_eq!(
        history,
        [("pullrequest:created".to_string(), "succeeded".to_string())]
    );
}

async fn events_beyond_the_scopes_or_the_reach_are_not_delivered(app: TestApp) {
    let b = uma_with_a_repository(&app).await;
    // `repository` only, subscribed to everything.
    let fake = FakeApp::start(json!(["repository"])).await;
    fake.edit(|d| d["modules"]["webhooks"] = json!([{"event": "*", "url": "/hook"}]));
    let client_key = installed(&app, &b, &fake).await;
    open_pull_request(&app, "PRJ", "code").await; // needs `pullrequest`
    describe_repository(&app, "OTHER", "elsewhere").await; // not uma's
    describe_repository(&app, "PRJ", "code").await;

    let got = next_hook(&fake, 0).await;
    assert_eq!(got.header("x-event-key"), "repo:updated");
    assert_eq!(got.json()["data"]["repository"]["full_name"], "PRJ/code");
    // Fan-out takes events in order: the earlier two were judged before this one was sent.
    let i = installation_of(&app, &client_key).await;
    let history: Vec<String> = app_deliveries(&app, i.id)
        .await
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(history, ["repo:updated"]);
}

/// ivy reaches ELSE/shared only through her team `devs`; her personal install follows her.
async fn a_team_grant_reaches_its_members_apps(app: TestApp) {
    app.user("ivy").await;
    let b = crate::oauth2::browser(&app, "ivy", "ivy-password").await;
    development_mode(&app, &b).await;
    app.project("ELSE", false).await;
    app.repo("ELSE", "shared", false).await;
    let made = app
        .post("/rest/api/1.0/admin/groups?name=devs", &admin(), json!({}))
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let granted = app
        .call(
            reqwest::Method::PUT,
            "/rest/api/1.0/projects/ELSE/repos/shared/permissions/groups?name=devs&permission=REPO_READ",
            &admin(),
            None,
        )
        .await;
    assert_eq!(granted.status, StatusCode::NO_CONTENT, "{}", granted.text);
    let joined = app
        .put(
            "/rest/junction/1.0/teams/devs/members",
            &admin(),
            json!({"user": "ivy"}),
        )
        .await;
    assert_eq!(joined.status, StatusCode::OK, "{}", joined.text);
    let fake = FakeApp::start(json!(["repository"])).await;
    fake.edit(|d| d["modules"]["webhooks"] = json!([{"event": "repo:updated", "url": "/hook"}]));
    let r = install(&app, &b, &fake, "ivy").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    describe_repository(&app, "ELSE", "shared").await;
    let got = next_hook(&fake, 0).await;
    assert_eq!(got.json()["data"]["repository"]["full_name"], "ELSE/shared");
}

async fn a_disabled_app_receives_nothing_until_enabled_again(app: TestApp) {
    let b = uma_with_a_repository(&app).await;
    let fake = FakeApp::start(json!(["repository"])).await;
    fake.edit(|d| d["modules"]["webhooks"] = json!([{"event": "repo:updated", "url": "/hook"}]));
    let client_key = installed(&app, &b, &fake).await;
    let i = installation_of(&app, &client_key).await;
    app.store
        .set_connect_installation_state(i.id, InstallState::Disabled, None)
        .await
        .unwrap();
    describe_repository(&app, "PRJ", "code").await;
    app.store
        .set_connect_installation_state(i.id, InstallState::Enabled, None)
        .await
        .unwrap();
    let r = app
        .put(
            "/rest/api/1.0/projects/PRJ/repos/code",
            &admin(),
            json!({"description": "described again"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);

    let got = next_hook(&fake, 0).await;
    assert_eq!(
        got.json()["data"]["repository"]["description"],
        "described again"
    );
    assert_eq!(app_deliveries(&app, i.id).await.len(), 1);
}

async fn the_developer_sees_the_deliveries_on_the_installed_app_page(app: TestApp) {
    let b = uma_with_a_repository(&app).await;
    let fake = FakeApp::start(json!(["pullrequest"])).await;
    fake.answer_lifecycle(500);
    let client_key = installed_after_answering(&app, &b, &fake).await;
    open_pull_request(&app, "PRJ", "code").await;
    next_hook(&fake, 0).await;
    let i = installation_of(&app, &client_key).await;
    let path = format!("/account/apps/{}/webhooks", i.id);
    let html = eventually("the failed attempt on the page", || async {
        let (status, html) = page(&app, &b, &path).await;
        assert_eq!(status, StatusCode::OK);
        (html.contains("The receiver answered 500") && html.contains("1 failed in a row"))
            .then_some(html)
    })
    .await;
    assert!(html.contains("<code>pullrequest:created</code>"), "{html}");
    // Someone who does not manage the installation is told it does not exist.
    app.user("ivy").await;
    let other = crate::oauth2::browser(&app, "ivy", "ivy-password").await;
    assert_eq!(page(&app, &other, &path).await.0, StatusCode::NOT_FOUND);
}

/// Installs while the app answers 2xx, then lets it answer as the test set.
async fn installed_after_answering(app: &TestApp, b: &reqwest::Client, fake: &FakeApp) -> String {
    let answer = fake.lifecycle_status();
    fake.answer_lifecycle(204);
    let key = installed(app, b, fake).await;
    fake.answer_lifecycle(answer);
    key
}

both_backends!(
    spawn_linkable;
    the_developer_sees_the_deliveries_on_the_installed_app_page,
    a_subscribed_event_arrives_wrapped_and_signed_as_connect_sends_it,
    events_beyond_the_scopes_or_the_reach_are_not_delivered,
    a_team_grant_reaches_its_members_apps,
    a_disabled_app_receives_nothing_until_enabled_again,
);
