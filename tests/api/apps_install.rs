//! Installing Connect apps through the install link: development mode, descriptor problems shown
//! before consent, the consent page, the synchronous `installed` callback (unsigned the first
//! time, signed with the previous secret after), nothing left when it fails, the redirect back
//! with the clientKey, and the stable clientKey across re-installs.

use crate::both_backends;
use crate::connect_app::*;
use crate::harness::TestApp;
use junction::store::connect::InstallState;
use reqwest::StatusCode;
use serde_json::json;

async fn account_id(app: &TestApp, slug: &str) -> i64 {
    app.store.find_account(slug).await.unwrap().unwrap().id
}

async fn a_link_opened_without_development_mode_explains_and_offers_it(app: TestApp) {
    let fake = FakeApp::start(json!(["account"])).await;
    let b = person(&app, "dana").await;
    let link = install_link(&fake, false);
    let (status, html) = page(&app, &b, &link).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        html.contains("needs development mode, which is off for your account"),
        "{html}"
    );
    assert_eq!(hidden(&html, "next"), link.replace('&', "&amp;"));
    // The button turns it on and comes back to the same link, now the consent page.
    let r = post_form(
        &app,
        &b,
        &link,
        "/account/apps/development-mode",
        &[("on", "yes"), ("next", &link)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], link.as_str());
    let (status, html) = page(&app, &b, &link).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Install Reviewer?"));
    assert!(
        fake.lifecycle().is_empty(),
        "nothing is installed by looking"
    );
}

async fn the_consent_page_names_the_app_the_account_and_every_scope(app: TestApp) {
    let fake = FakeApp::start(json!(["account", "pullrequest", "webhook"])).await;
    let b = person(&app, "erin").await;
    development_mode(&app, &b).await;
    let (status, html) = page(&app, &b, &install_link(&fake, true)).await;
    assert_eq!(status, StatusCode::OK);
    for words in [
        "Install Reviewer?",
        "Example Ltd",
        "Reviews pull requests",
        "Your account (erin)",
        "Read your account information",
        "Read your repositories and their pull requests",
        "Read and modify your repositories&#x27; webhooks",
    ] {
        assert!(html.contains(words), "{words} missing from {html}");
    }
    assert_eq!(hidden(&html, "scopes"), "account pullrequest webhook");
}

async fn granting_installs_calls_installed_first_and_returns_with_the_client_key(app: TestApp) {
    let fake = FakeApp::start(json!(["account", "repository"])).await;
    let b = person(&app, "fay").await;
    development_mode(&app, &b).await;
    let r = install(&app, &b, &fake, "fay").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let body = fake.installed();
    let ck = body["clientKey"].as_str().unwrap().to_string();
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let expected: String = url::form_urlencoded::byte_serialize(ck.as_bytes()).collect();
    assert_eq!(
        location,
        format!("{}/done?client_key={expected}", fake.base)
    );
    // The first install is not signed: the app has no secret yet.
    let call = &fake.lifecycle()[0];
    assert_eq!(call.path, "/installed");
    assert_eq!(call.header("authorization"), "");
    assert_eq!(call.header("content-type"), "application/json");
    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "actor",
            "baseApiUrl",
            "baseUrl",
            "clientKey",
            "eventType",
            "key",
            "principal",
            "productType",
            "publicKey",
            "sharedSecret",
            "user"
        ]
    );
    assert_eq!(body["key"], KEY);
    assert_eq!(body["productType"], "bitbucket");
    assert_eq!(body["eventType"], "installed");
    assert_eq!(body["baseUrl"], app.base);
    assert_eq!(body["principal"]["type"], "user");
    assert_eq!(body["principal"]["username"], "fay");
    assert_eq!(body["actor"]["nickname"], "fay");
    assert!(
        ck.starts_with("ari:cloud:bitbucket::app/{") && ck.ends_with(&format!("}}/{KEY}")),
        "{ck}"
    );
    // Stored enabled, the secret only as ciphertext.
    let row = app
        .store
        .connect_installation(KEY, account_id(&app, "fay").await)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.state, InstallState::Enabled);
    assert_eq!(row.client_key, ck);
    assert_eq!(row.scopes, "account repository");
    let secret = body["sharedSecret"].as_str().unwrap();
    assert!(secret.len() >= 32 && secret.len() <= 128);
    assert!(!row.shared_secret.contains(secret));
}

async fn a_reinstall_keeps_the_client_key_and_is_signed_with_the_previous_secret(app: TestApp) {
    let fake = FakeApp::start(json!(["account"])).await;
    let b = person(&app, "gil").await;
    development_mode(&app, &b).await;
    assert_eq!(
        install(&app, &b, &fake, "gil").await.status(),
        StatusCode::SEE_OTHER
    );
    let first = fake.installed();
    assert_eq!(
        install(&app, &b, &fake, "gil").await.status(),
        StatusCode::SEE_OTHER
    );
    let second = fake.installed();
    assert_eq!(first["clientKey"], second["clientKey"]);
    assert_ne!(first["sharedSecret"], second["sharedSecret"]);
    let claims = fake
        .last_installed_token(&app, first["sharedSecret"].as_str().unwrap())
        .expect("signed with the first secret, qsh of POST /installed");
    assert_eq!(claims.iss, first["clientKey"].as_str().unwrap());
    assert_eq!(claims.sub, None);
    assert_eq!(claims.exp - claims.iat.unwrap(), 3600);
}

async fn installing_again_after_removal_is_signed_with_the_last_secret(app: TestApp) {
    let fake = FakeApp::start(json!(["account"])).await;
    let b = person(&app, "quinn").await;
    development_mode(&app, &b).await;
    assert_eq!(
        install(&app, &b, &fake, "quinn").await.status(),
        StatusCode::SEE_OTHER
    );
    let first = fake.installed();
    crate::connect_app::remove(&app, &b, first["clientKey"].as_str().unwrap()).await;
    assert_eq!(
        install(&app, &b, &fake, "quinn").await.status(),
        StatusCode::SEE_OTHER
    );
    let again = fake.installed();
    assert_eq!(
        again["clientKey"], first["clientKey"],
        "the clientKey survives removal"
    );
    assert!(fake
        .last_installed_token(&app, first["sharedSecret"].as_str().unwrap())
        .is_ok());
}

async fn a_failed_installed_callback_leaves_nothing_installed_and_says_why(app: TestApp) {
    let fake = FakeApp::start(json!(["account"])).await;
    fake.answer_lifecycle(500);
    let b = person(&app, "hal").await;
    development_mode(&app, &b).await;
    let r = install(&app, &b, &fake, "hal").await;
    assert_eq!(r.status(), StatusCode::BAD_GATEWAY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("The app&#x27;s installed callback at"),
        "{html}"
    );
    assert!(html.contains("it answered HTTP 500"), "{html}");
    assert!(html.contains("Nothing was changed."), "{html}");
    let row = app
        .store
        .connect_installation(KEY, account_id(&app, "hal").await)
        .await
        .unwrap();
    assert_eq!(row, None);
}

async fn descriptor_problems_are_all_shown_before_any_consent(app: TestApp) {
    let fake = FakeApp::start(json!(["account", "repositories"])).await;
    fake.edit(|d| {
        d["terms"] = json!("x");
        d["modules"]["webItems"] = json!([{"key": "bad key"}]);
    });
    let b = person(&app, "ivy").await;
    development_mode(&app, &b).await;
    let (status, html) = page(&app, &b, &install_link(&fake, false)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for path in [
        "<code>$</code>",
        "<code>$.scopes[1]</code>",
        "<code>$.modules.webItems[0].key</code>",
        "<code>$.modules.webItems[0].url</code>",
    ] {
        assert!(html.contains(path), "{path} missing from {html}");
    }
    assert!(html.contains("&#x27;repositories&#x27; is not a scope."));
    assert!(!html.contains("name=\"decision\""), "no consent form");
}

async fn a_redirect_outside_the_app_is_refused(app: TestApp) {
    let fake = FakeApp::start(json!(["account"])).await;
    let b = person(&app, "jo").await;
    development_mode(&app, &b).await;
    let link = format!(
        "/site/addons/authorize?descriptor_uri={}&redirect_uri=https%3A%2F%2Fevil.example%2F",
        url::form_urlencoded::byte_serialize(fake.descriptor_url().as_bytes()).collect::<String>()
    );
    let (status, html) = page(&app, &b, &link).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        html.contains("is not within the app&#x27;s baseUrl"),
        "{html}"
    );
}

async fn an_unreachable_descriptor_is_named(app: TestApp) {
    let b = person(&app, "kai").await;
    development_mode(&app, &b).await;
    let (status, html) = page(
        &app,
        &b,
        "/site/addons/authorize?descriptor_uri=http%3A%2F%2F127.0.0.1%3A9%2Fd.json",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(html.contains("could not be fetched"), "{html}");
}

async fn only_a_team_admin_installs_into_a_team(app: TestApp) {
    let fake = FakeApp::start(json!(["repository"])).await;
    let admin = person(&app, "lee").await;
    let member = person(&app, "max").await;
    let r = app
        .post(
            "/rest/api/1.0/admin/groups?name=crew",
            &crate::harness::admin(),
            json!({}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    for (who, role) in [("lee", "admin"), ("max", "member")] {
        let r = app
            .put(
                "/rest/junction/1.0/teams/crew/members",
                &crate::harness::admin(),
                json!({"user": who, "role": role}),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.text);
    }
    development_mode(&app, &admin).await;
    development_mode(&app, &member).await;
    let (_, html) = page(&app, &admin, &install_link(&fake, false)).await;
    assert!(html.contains("<option value=\"crew\">"), "{html}");
    let (_, html) = page(&app, &member, &install_link(&fake, false)).await;
    assert!(!html.contains("<option value=\"crew\">"), "{html}");
    let r = install(&app, &member, &fake, "crew").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(fake.lifecycle().is_empty());
    let r = install(&app, &admin, &fake, "crew").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(fake.installed()["principal"]["type"], "team");
    assert_eq!(fake.installed()["principal"]["username"], "crew");
}

async fn people_install_catalog_apps_without_development_mode(app: TestApp) {
    let fake = FakeApp::start(json!(["account"])).await;
    let admin = crate::oauth2::browser(&app, "admin", crate::harness::ADMIN_PASSWORD).await;
    let url = fake.descriptor_url();
    let r = post_form(
        &app,
        &admin,
        "/admin/apps",
        "/admin/apps",
        &[("descriptor_url", &url)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = page(&app, &admin, "/admin/apps").await;
    assert!(html.contains(KEY) && html.contains(&url), "{html}");
    // A descriptor that cannot be listed stays on the form, said.
    let r = post_form(
        &app,
        &admin,
        "/admin/apps",
        "/admin/apps",
        &[("descriptor_url", "http://127.0.0.1:9/x.json")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_GATEWAY);
    assert!(r.text().await.unwrap().contains("could not be fetched"));

    let b = person(&app, "nel").await;
    let (_, html) = page(&app, &b, "/account/apps").await;
    assert!(
        html.contains(&format!("/site/addons/authorize?addon_key={KEY}")),
        "{html}"
    );
    let (status, html) = page(&app, &b, &format!("/site/addons/authorize?addon_key={KEY}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Install Reviewer?"));
    // The catalog's own URL needs no development mode either.
    let r = install(&app, &b, &fake, "nel").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (status, html) = page(
        &app,
        &b,
        "/site/addons/authorize?addon_key=com.example.absent",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        html.contains("No app with the key com.example.absent is listed"),
        "{html}"
    );
}

async fn redirecting_and_oversize_descriptors_are_refused_by_name(app: TestApp) {
    let fake = FakeApp::start(json!(["account"])).await;
    fake.redirect_descriptor("https://elsewhere.example/d.json");
    let b = person(&app, "oz").await;
    development_mode(&app, &b).await;
    let (status, html) = page(&app, &b, &install_link(&fake, false)).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(html.contains("answered HTTP 302, redirecting to https://elsewhere.example/d.json (give that URL instead: redirects are not followed)"), "{html}");
    let big = FakeApp::start(json!(["account"])).await;
    big.edit(|d| d["description"] = json!("x".repeat(2 * 1024 * 1024)));
    let (status, html) = page(&app, &b, &install_link(&big, false)).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(html.contains("could not be fetched"), "{html}");
    assert!(html.contains("1048576"), "the limit is named: {html}");
}

/// A server whose outbound calls give up after one second.
async fn impatient(backend: crate::harness::Backend) -> Option<TestApp> {
    TestApp::spawn_at(backend, crate::harness::wall_clock_ms(), |c| {
        crate::harness::allow_loopback(c);
        c.outbound.timeout_seconds = 1;
    })
    .await
}

async fn an_installed_callback_that_times_out_installs_nothing(app: TestApp) {
    let b = person(&app, "pia").await;
    development_mode(&app, &b).await;
    // An app that serves its descriptor at once but takes three seconds over `installed`.
    let called = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = called.clone();
    let base = std::sync::Arc::new(std::sync::OnceLock::<String>::new());
    let b2 = base.clone();
    let router = axum::Router::new()
        .route("/atlassian-connect.json", axum::routing::get(move || {
            let base = b2.get().cloned().unwrap_or_default();
            async move {
                axum::Json(json!({"key": KEY, "name": "Slow", "description": "d", "baseUrl": base,
                    "authentication": {"type": "jwt"}, "lifecycle": {"installed": "/installed"}, "scopes": ["account"]}))
            }
        }))
        .route("/installed", axum::routing::post(move || {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move {
                tokio::time::sleep(std::time::Duration::from_secs(3)).await;
                axum::http::StatusCode::NO_CONTENT
            }
        }));
    let (url, _stop) = crate::remote::serve_on_loopback(router).await;
    base.set(url.clone()).unwrap();
    let descriptor = format!("{url}/atlassian-connect.json");
    let r = install_from(&app, &b, &descriptor, None, "pia").await;
    assert_eq!(r.status(), StatusCode::BAD_GATEWAY);
    let html = r.text().await.unwrap();
    assert!(html.contains("installed callback at"), "{html}");
    assert!(html.contains("did not answer within 1 seconds"), "{html}");
    assert_eq!(called.load(std::sync::atomic::Ordering::SeqCst), 1);
    let row = app
        .store
        .connect_installation(KEY, account_id(&app, "pia").await)
        .await
        .unwrap();
    assert_eq!(row, None);
}

mod timeouts {
    use super::*;
    #[tokio::test]
    async fn sqlite_an_installed_callback_that_times_out_installs_nothing() {
        if let Some(app) = impatient(crate::harness::Backend::Sqlite).await {
            an_installed_callback_that_times_out_installs_nothing(app).await
        }
    }
    #[tokio::test]
    async fn postgres_an_installed_callback_that_times_out_installs_nothing() {
        if let Some(app) = impatient(crate::harness::Backend::Postgres).await {
            an_installed_callback_that_times_out_installs_nothing(app).await
        }
    }
}

both_backends!(
    spawn_linkable;
    a_link_opened_without_development_mode_explains_and_offers_it,
    the_consent_page_names_the_app_the_account_and_every_scope,
    granting_installs_calls_installed_first_and_returns_with_the_client_key,
    a_reinstall_keeps_the_client_key_and_is_signed_with_the_previous_secret,
    a_failed_installed_callback_leaves_nothing_installed_and_says_why,
    descriptor_problems_are_all_shown_before_any_consent,
    a_redirect_outside_the_app_is_refused,
    an_unreachable_descriptor_is_named,
    only_a_team_admin_installs_into_a_team,
    people_install_catalog_apps_without_development_mode,
    redirecting_and_oversize_descriptors_are_refused_by_name,
    installing_again_after_removal_is_signed_with_the_last_secret,
);
