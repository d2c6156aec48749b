//! An outgoing application link to software nobody here wrote: npm oidc-provider on loopback.
//! A person connects, calls it through the link, the token is refreshed after expiry, and
//! Test connection names each failure the test causes.

use crate::harness::*;
use crate::remote::*;
use reqwest::StatusCode;
use serde_json::json;

/// Starts the admin's interactive Test authorization (which must send the browser to
/// `authorize_endpoint`) and follows it through the remote up to (not including) Junction's
/// callback, whose URL it returns.
async fn authorized_test_callback(
    app: &TestApp,
    browser: &Browser,
    id: &str,
    authorize_endpoint: &str,
) -> String {
    let r = app
        .post(
            &format!("/rest/junction/1.0/applinks/{id}/test/authorize"),
            &admin(),
            json!({}),
        )
        .await;
    let start = r.body["authorizeUrl"].as_str().unwrap();
    assert!(
        start.starts_with(&format!("{authorize_endpoint}?")),
        "{start}"
    );
    browser.follow_to(start, &app.base).await
}

async fn create(app: &TestApp, body: serde_json::Value) -> String {
    let r = app
        .post("/rest/junction/1.0/applinks", &admin(), body)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["id"].as_str().unwrap().to_string()
}

/// The whole life of an outgoing link to a real OpenID provider, in steps that share the
/// provider, the link and the browsers.
async fn outgoing_link_to_oidc_provider(app: TestApp) {
    let Some(op) = OidcProvider::start(&app.base, 0).await else {
        return;
    };
    let (id, derived) = discover_and_create(&app, &op).await;
    let admin_browser = test_connection_and_authorization(&app, &op, &id, &derived).await;
    link_made_through_the_pages(&app, &op, &admin_browser, &derived).await;
    let (alice, person) = person_connects_and_calls(&app, &id).await;
    failures_are_named(&app, op, &id, &alice).await;
    disconnecting_and_the_admin_page(&app, &id, &alice, &person, &admin_browser).await;
}

/// What is at the URL, and the link made over REST; returns its id and redirect URI.
async fn discover_and_create(app: &TestApp, op: &OidcProvider) -> (String, String) {
    // What is there: an OAuth 2.0 server; the redirect URI to register is shown at once.
    let r = app
        .get(
            &format!("/rest/junction/1.0/applinks/discover?url={}", op.base),
            &admin(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["kind"], "oauth2");
    assert_eq!(r.body["oauth"]["issuer"], op.base.as_str());
    assert_eq!(
        r.body["oauth"]["authorization_endpoint"],
        format!("{}/auth", op.base)
    );
    let derived = junction::domain::applinks::redirect_uri(&app.base, &format!("{}/auth", op.base));
    assert_eq!(r.body["redirectUri"], derived.as_str());

    let r = app
        .post(
            "/rest/junction/1.0/applinks",
            &admin(),
            oidc_link(&op.base, "Identity", OIDC_SECRET),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["direction"], "OUTGOING");
    assert_eq!(r.body["application"]["name"], "Generic application");
    assert_eq!(r.body["outgoing"]["redirectUri"], derived.as_str());
    assert!(!r.text.contains(OIDC_SECRET), "the secret is never echoed");
    let id = r.body["id"].as_str().unwrap().to_string();
    let stored = app.store.find_link(&id).await.unwrap().unwrap();
    assert!(
        stored
            .out_secret_encrypted
            .as_deref()
            .unwrap()
            .starts_with("v1:"),
        "encrypted at rest"
    );
    (id, derived)
}

/// Test connection and the admin's interactive authorization; returns the admin's browser.
async fn test_connection_and_authorization(
    app: &TestApp,
    op: &OidcProvider,
    id: &str,
    derived: &str,
) -> Browser {
    // Test connection: reachable, clocks agree, same URL, credentials accepted.
    app.sync_clock();
    let t = test_link(app, id).await;
    assert_eq!(t["success"], true, "{t}");
    assert_eq!(t["facts"]["remoteUrl"], op.base.as_str());
    assert!(
        t["facts"]["clockOffsetSeconds"].as_i64().unwrap().abs() <= 5,
        "{t}"
    );

    // The admin's interactive test: a real authorization-code flow, answered {success, message}.
    let admin_browser = Browser::default();
    admin_browser
        .sign_in(&app.base, "admin", ADMIN_PASSWORD)
        .await;
    let authorize_endpoint = format!("{}/auth", op.base);
    let callback = authorized_test_callback(app, &admin_browser, id, &authorize_endpoint).await;
    assert!(callback.starts_with(derived), "{callback}");
    let page = admin_browser.get(&callback).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("Authorization-code flow with Identity completed: the remote issued an access token and a refresh token."),
        "{}",
        page.body
    );
    // Replaying the callback finds no flow: single use, said on a page.
    let again = admin_browser.get(&callback).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "{}", again.body);
    assert!(
        again.body.contains("has expired, was already completed"),
        "{}",
        again.body
    );
    // Signed out, the callback sends to sign in and back to itself.
    let stranger = Browser::default().get(&callback).await;
    assert_eq!(stranger.status, StatusCode::SEE_OTHER);
    let path = &callback[app.base.len()..];
    let back: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
    assert_eq!(
        stranger.location(),
        format!("{}/login?next={back}", app.base)
    );
    // Asked for JSON (as a script would), the callback answers {success, message}.
    let callback = authorized_test_callback(app, &admin_browser, id, &authorize_endpoint).await;
    let answer = admin_browser.get_json(&callback).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let answer: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(answer["success"], true);
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .starts_with("Authorization-code flow with Identity completed"),
        "{answer}"
    );
    // ... and an admin who did not start the flow cannot finish it.
    let callback = authorized_test_callback(app, &admin_browser, id, &authorize_endpoint).await;
    app.user("eve").await;
    app.grant("/rest/api/1.0/admin", "eve", "SYS_ADMIN").await;
    let eve = Browser::default();
    eve.sign_in(&app.base, "eve", "eve-password").await;
    let stolen = eve.get_json(&callback).await;
    assert_eq!(stolen.status, StatusCode::BAD_REQUEST, "{}", stolen.body);
    assert!(stolen.body.contains("\"success\":false"), "{}", stolen.body);
    admin_browser
}

/// The create page shows the redirect URI; a link made with its form is tested and deleted
/// with its buttons; the redirect-URI endpoint the page's script uses.
async fn link_made_through_the_pages(
    app: &TestApp,
    op: &OidcProvider,
    admin_browser: &Browser,
    derived: &str,
) {
    // The create page shows the redirect URI at once, from the remote's metadata, and its
    // script keeps it current as the endpoint is edited.
    let found = admin_browser
        .submit(
            &format!("{}/admin/application-links", app.base),
            "/admin/application-links/discover",
            &[("url", &op.base)],
        )
        .await;
    assert!(
        found
            .body
            .contains(&format!("id=\"redirect-uri-live\">{derived}<")),
        "{}",
        found.body
    );
    assert!(found
        .body
        .contains("<script src=\"/static/applinks.js\" defer></script>"));
    // The same link made through that page's outgoing form, tested and deleted with its buttons.
    let endpoint = |name: &str| {
        let marker = format!("name=\"{name}\" type=\"text\" value=\"");
        let start = found.body.find(&marker).unwrap() + marker.len();
        unescape(found.body[start..].split('"').next().unwrap())
    };
    let (authorize, token) = (
        endpoint("authorization_endpoint"),
        endpoint("token_endpoint"),
    );
    assert_eq!(
        (authorize.as_str(), token.as_str()),
        (
            format!("{}/auth", op.base).as_str(),
            format!("{}/token", op.base).as_str()
        )
    );
    let made = admin_browser
        .submit_on(
            &found,
            "/admin/application-links/new",
            &[
                ("name", "Identity (page)"),
                ("preset", "custom"),
                ("client_id", OIDC_CLIENT),
                ("client_secret", OIDC_SECRET),
                ("authorization_endpoint", &authorize),
                ("token_endpoint", &token),
                ("scopes", "openid"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    assert!(
        made.body.contains("Created the link Identity (page)."),
        "{}",
        made.body
    );
    let page_link = links_of(app)
        .await
        .into_iter()
        .find(|l| l["name"] == "Identity (page)")
        .unwrap();
    let page_id = page_link["id"].as_str().unwrap();
    assert_eq!(page_link["direction"], "OUTGOING");
    let list = format!("{}/admin/application-links", app.base);
    let tested = admin_browser
        .submit(&list, &format!("/admin/links/{page_id}/test"), &[])
        .await;
    assert!(
        tested
            .body
            .contains("Test connection: Working: the remote answers"),
        "{}",
        tested.body
    );
    let gone = admin_browser
        .submit(
            &list,
            &format!("/admin/links/{page_id}/delete"),
            &[("confirm", "yes")],
        )
        .await;
    assert!(
        gone.body
            .contains("Deleted. Junction revoked everything it held for this link."),
        "{}",
        gone.body
    );
    assert!(
        gone.body
            .contains(&format!("the incoming link (client ID {OIDC_CLIENT})")),
        "{}",
        gone.body
    );

    let script = admin_browser
        .get(&format!("{}/static/applinks.js", app.base))
        .await;
    assert_eq!(
        script.headers["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert!(script
        .body
        .contains("/rest/junction/1.0/applinks/redirect-uri?"));
    let r = app
        .get(
            &format!(
                "/rest/junction/1.0/applinks/redirect-uri?authorizationEndpoint={}/auth",
                op.base
            ),
            &admin(),
        )
        .await;
    assert_eq!(r.body["redirectUri"], derived, "{}", r.text);
    let r = app
        .get(
            "/rest/junction/1.0/applinks/redirect-uri?preset=google",
            &admin(),
        )
        .await;
    let google = junction::domain::applinks::redirect_uri(
        &app.base,
        "https://accounts.google.com/o/oauth2/v2/auth",
    );
    assert_eq!(r.body["redirectUri"], google.as_str(), "{}", r.text);
    let r = app
        .get(
            "/rest/junction/1.0/applinks/redirect-uri?preset=custom",
            &admin(),
        )
        .await;
    assert_eq!(
        (r.status, r.context()),
        (StatusCode::BAD_REQUEST, "authorizationEndpoint")
    );
}

/// A person connects through the pages, calls through the link, and the token is refreshed
/// after it expires; returns the person's credentials and browser.
async fn person_connects_and_calls(app: &TestApp, id: &str) -> (Auth, Browser) {
    // A person connects through the real pages.
    let alice = app.user("alice").await;
    let person = Browser::default();
    person.sign_in(&app.base, "alice", "alice-password").await;
    let mine = format!("{}/account/connected-applications", app.base);
    let landed = person
        .connect_account(&app.base, id, ("alice", "alice-password"))
        .await;
    assert_eq!(landed.url, mine);
    assert!(
        landed
            .body
            .contains(&format!("id=\"status-{id}\">Connected<")),
        "{}",
        landed.body
    );

    // Calls through the link carry alice's token at the remote.
    let request_path = format!("/rest/applinks/latest/links/{id}/request");
    let call = || app.post(&request_path, &alice, json!({"path": "/me"}));
    let r = call().await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], 200, "{}", r.text);
    assert_eq!(r.body["body"]["sub"], "alice-remote");
    let user = app.store.find_account("alice").await.unwrap().unwrap().id;
    let before = app.store.user_link_tokens(user).await.unwrap().remove(0);
    assert!(before.refresh_encrypted.is_some());
    assert_eq!(before.refreshed_at, None);

    // An hour later the access token has expired: Junction refreshes it before calling.
    app.clock.advance_ms(3_601_000);
    let r = call().await;
    assert_eq!(r.body["body"]["sub"], "alice-remote", "{}", r.text);
    let after = app.store.user_link_tokens(user).await.unwrap().remove(0);
    assert!(after.refreshed_at.is_some(), "refreshed");
    assert_ne!(after.access_encrypted, before.access_encrypted);
    assert!(after.expires_at.unwrap() > before.expires_at.unwrap());
    app.sync_clock();
    (alice, person)
}

/// Test connection names each failure: wrong secret, wrong URL, clock skew, remote stopped.
async fn failures_are_named(app: &TestApp, op: OidcProvider, id: &str, alice: &Auth) {
    let request_path = format!("/rest/applinks/latest/links/{id}/request");
    let call = || app.post(&request_path, alice, json!({"path": "/me"}));
    // Failures, each named. A wrong client secret:
    let mut body = oidc_link(&op.base, "Identity", "not-the-secret");
    body.as_object_mut().unwrap().remove("url");
    let r = app
        .put(&format!("/rest/junction/1.0/applinks/{id}"), &admin(), body)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let t = test_link(app, id).await;
    assert_eq!(
        (t["success"].clone(), t["summary"].clone()),
        (json!(false), json!("Credentials rejected")),
        "{t}"
    );
    assert_eq!(t["category"], "NETWORK_ERROR");
    assert_eq!(t["type"], "OAUTH_PROBLEM");
    assert_eq!(t["facts"]["httpStatus"], 401);
    assert!(
        t["fix"].as_str().unwrap().contains("client ID and secret"),
        "{t}"
    );
    let mut body = oidc_link(&op.base, "Identity", OIDC_SECRET);
    body.as_object_mut().unwrap().remove("url");
    app.put(&format!("/rest/junction/1.0/applinks/{id}"), &admin(), body)
        .await;
    assert_eq!(test_link(app, id).await["success"], true);

    // The wrong URL: the link says localhost, the remote says it is 127.0.0.1.
    let port = op.base.rsplit(':').next().unwrap();
    let mut wrong = oidc_link(&op.base, "Identity via localhost", OIDC_SECRET);
    wrong["url"] = json!(format!("http://localhost:{port}"));
    let wrong = create(app, wrong).await;
    let t = test_link(app, &wrong).await;
    assert_eq!(t["type"], "URL_MISMATCH", "{t}");
    assert_eq!(t["facts"]["remoteUrl"], op.base.as_str());
    assert!(t["fix"]
        .as_str()
        .unwrap()
        .contains(&format!("Relocate the link to {}", op.base)));

    // The remote's clock ten minutes ahead.
    let Some(skewed) = OidcProvider::start(&app.base, 600).await else {
        return;
    };
    let skew = create(app, oidc_link(&skewed.base, "Skewed", OIDC_SECRET)).await;
    app.sync_clock();
    let t = test_link(app, &skew).await;
    assert_eq!(t["type"], "OAUTH_TIMESTAMP_REFUSED", "{t}");
    assert_eq!(t["summary"], "Clock skew");
    let offset = t["facts"]["clockOffsetSeconds"].as_i64().unwrap();
    assert!((595..=605).contains(&offset), "{offset}");
    assert!(
        t["cause"].as_str().unwrap().contains("seconds ahead of"),
        "{t}"
    );

    // The remote stopped.
    op.stop().await;
    let t = test_link(app, id).await;
    assert_eq!(t["type"], "CONNECTION_REFUSED", "{t}");
    assert_eq!(t["summary"], "Connection refused");
    let r = call().await;
    assert_eq!(
        (r.status, r.exception()),
        (StatusCode::BAD_GATEWAY, "CONNECTION_REFUSED"),
        "{}",
        r.text
    );
}

/// Disconnecting forgets the person's tokens; the admin page shows every status.
async fn disconnecting_and_the_admin_page(
    app: &TestApp,
    id: &str,
    alice: &Auth,
    person: &Browser,
    admin_browser: &Browser,
) {
    let request_path = format!("/rest/applinks/latest/links/{id}/request");
    let call = || app.post(&request_path, alice, json!({"path": "/me"}));
    let mine = format!("{}/account/connected-applications", app.base);
    let user = app.store.find_account("alice").await.unwrap().unwrap().id;
    // Alice disconnects: asked first, then Junction forgets her tokens, and calls need a new
    // connection.
    let asked = person
        .submit(
            &mine,
            &format!("/account/connected-applications/{id}/disconnect"),
            &[],
        )
        .await;
    assert_eq!(asked.status, StatusCode::OK);
    assert!(asked
        .body
        .contains("Disconnect your account from this application?"));
    assert!(!app.store.user_link_tokens(user).await.unwrap().is_empty());
    person.press_connection(&app.base, id, "disconnect").await;
    let page = person.get(&mine).await;
    assert!(
        page.body
            .contains(&format!("id=\"status-{id}\">Not connected<")),
        "{}",
        page.body
    );
    assert!(app.store.user_link_tokens(user).await.unwrap().is_empty());
    let r = call().await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert!(
        r.message()
            .contains("Connect your account to Identity first"),
        "{}",
        r.message()
    );
    let r = app
        .delete(
            &format!("/rest/junction/1.0/applinks/{id}/connection"),
            alice,
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "nothing left to disconnect: {}",
        r.text
    );

    // The admin page shows each status with its cause, facts and fix.
    let page = admin_browser
        .get(&format!("{}/admin/application-links", app.base))
        .await;
    for text in [
        "Connection refused",
        "URL mismatch",
        "Clock skew",
        "Clock offset: +",
        "Fix:",
        "Outgoing",
    ] {
        assert!(page.body.contains(text), "{text} in {}", page.body);
    }
    assert_eq!(page.headers["x-frame-options"], "DENY");
    let audit = app
        .get(
            "/rest/junction/1.0/audit?action=applinks.account_connected",
            &admin(),
        )
        .await;
    assert_eq!(audit.body["size"], 1);
}

crate::both_backends!(spawn_linkable; outgoing_link_to_oidc_provider);
