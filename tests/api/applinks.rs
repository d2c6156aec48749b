//! Application links: the manifest, creating links from a URL with every kind of bad input,
//! the manual four-step link, Test connection's failure kinds, who may administer links.

use crate::harness::*;
use crate::remote::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn manifest_identifies_this_server(app: TestApp) {
    let xml = app
        .client
        .get(format!("{}/rest/applinks/1.0/manifest", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(xml.status(), StatusCode::OK);
    assert_eq!(
        xml.headers()["content-type"],
        "application/xml;charset=UTF-8"
    );
    let text = xml.text().await.unwrap();
    assert!(text.contains("<typeId>junction</typeId>"), "{text}");
    assert!(text.contains(&format!("<url>{}</url>", app.base)), "{text}");
    assert!(text.contains("<inboundAuthenticationTypes>com.atlassian.applinks.api.auth.types.OAuthAuthenticationProvider</inboundAuthenticationTypes>"));
    let r = app
        .client
        .get(format!("{}/rest/applinks/1.0/manifest", app.base))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    let j: serde_json::Value = r.json().await.unwrap();
    assert_eq!(j["typeId"], "junction");
    assert_eq!(j["name"], "Junction");
    assert_eq!(j["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(j["url"], app.base.as_str());
    assert_eq!(j["publicSignup"], false);
    let id = j["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 36, "a UUID");
    assert!(text.contains(&format!("<id>{id}</id>")), "the id is stable");
}

/// Every kind of bad input gets a clear error and leaves nothing behind.
/// POSTs a link as the administrator.
async fn create_link(app: &TestApp, body: serde_json::Value) -> Response {
    app.post("/rest/junction/1.0/applinks", &admin(), body)
        .await
}

fn incoming_side() -> serde_json::Value {
    json!({"redirects": ["https://ci.example.com/cb"], "scope": "REPO_READ"})
}

/// A remote that answers an HTML sign-in page to everything (no manifest).
async fn html_remote() -> FakeRemote {
    FakeRemote::start(|_| {
        (
            200,
            vec![("content-type", "text/html".into())],
            b"<html>login</html>".to_vec(),
        )
    })
    .await
}

/// A remote nobody answers for, or a host DNS does not know: a bad gateway naming why.
async fn unreachable_remotes_are_named(app: TestApp) {
    let app = &app;
    // Nothing listens there.
    let port = closed_port().await;
    let r = create_link(
        app,
        json!({"url": format!("http://127.0.0.1:{port}"), "incoming": incoming_side()}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY, "{}", r.text);
    assert_eq!(r.exception(), "CONNECTION_REFUSED");
    assert_eq!(r.context(), "url");
    assert!(r.message().contains("refused"), "{}", r.message());

    // DNS does not know the host.
    let r = create_link(
        app,
        json!({"url": "http://no-such-host.invalid", "incoming": incoming_side()}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY, "{}", r.text);
    assert_eq!(r.exception(), "UNKNOWN_HOST");
}

/// Not a URL, or no side to configure: a field error.
async fn bad_urls_and_missing_sides_are_field_errors(app: TestApp) {
    let app = &app;
    // Not a URL; no side configured.
    let r = create_link(
        app,
        json!({"url": "jira.example.com", "incoming": incoming_side()}),
    )
    .await;
    assert_eq!(
        (r.status, r.context()),
        (StatusCode::BAD_REQUEST, "url"),
        "{}",
        r.text
    );
    let fake = FakeRemote::start(|_| (404, vec![], b"no".to_vec())).await;
    let r = create_link(app, json!({"url": fake.base})).await;
    assert_eq!(
        (r.status, r.context()),
        (StatusCode::BAD_REQUEST, "incoming"),
        "{}",
        r.text
    );
}

/// A manifest that is not JSON: a generic application, which cannot be paired with.
async fn a_remote_without_a_manifest_is_generic_and_cannot_pair(app: TestApp) {
    let app = &app;
    // A manifest that is not JSON: a generic application; pairing with it is refused.
    let html = html_remote().await;
    let r = app
        .get(
            &format!("/rest/junction/1.0/applinks/discover?url={}", html.base),
            &admin(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["kind"], "generic");
    assert_eq!(r.body["application"], "Generic application");
    assert!(
        r.body["manifestNote"]
            .as_str()
            .unwrap()
            .contains("not with a manifest (text/html)"),
        "{}",
        r.text
    );
    let r = app
        .post(
            "/rest/junction/1.0/applinks/pair",
            &admin(),
            json!({"url": html.base}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(
        r.message().contains("is not a Junction server"),
        "{}",
        r.message()
    );
    assert!(
        r.message().contains("not with a manifest"),
        "{}",
        r.message()
    );
}

/// A huge answer is cut off; a redirect is never followed.
async fn huge_answers_and_redirects_are_refused(app: TestApp) {
    let app = &app;
    // A huge answer is cut off.
    let huge = FakeRemote::start(|_| {
        (
            200,
            vec![("content-type", "application/json".into())],
            vec![b' '; 3 * 1024 * 1024],
        )
    })
    .await;
    let r = create_link(app, json!({"url": huge.base, "incoming": incoming_side()})).await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY, "{}", r.text);
    assert_eq!(r.exception(), "RESPONSE_TOO_LARGE");

    // A redirect (here to the cloud metadata address) is never followed.
    let redirect = FakeRemote::start(|_| {
        (
            302,
            vec![(
                "location",
                "http://169.254.169.254/latest/meta-data/".into(),
            )],
            vec![],
        )
    })
    .await;
    let r = create_link(
        app,
        json!({"url": redirect.base, "incoming": incoming_side()}),
    )
    .await;
    assert_eq!(
        (r.status, r.context()),
        (StatusCode::BAD_REQUEST, "url"),
        "{}",
        r.text
    );
    assert!(
        r.message()
            .contains("redirects to http://169.254.169.254/latest/meta-data/"),
        "{}",
        r.message()
    );
    assert!(
        r.message().contains("does not follow redirects"),
        "{}",
        r.message()
    );
}

/// Outgoing and incoming settings are checked before anything is fetched or stored.
async fn outgoing_settings_are_checked_before_anything_is_stored(app: TestApp) {
    let app = &app;
    let fake = FakeRemote::start(|_| (404, vec![], b"no".to_vec())).await;
    // Outgoing settings are checked before anything is fetched or stored.
    let r = create_link(app, json!({"url": fake.base, "outgoing": {"clientId": "x", "authorizationEndpoint": format!("{}/a", fake.base), "tokenEndpoint": format!("{}/t", fake.base), "scopes": "read"}})).await;
    assert_eq!(
        (r.status, r.context()),
        (StatusCode::BAD_REQUEST, "outgoing.clientSecret"),
        "{}",
        r.text
    );
    let r = create_link(app, json!({"url": fake.base, "outgoing": {"preset": "myspace", "clientId": "x", "clientSecret": "s"}})).await;
    assert_eq!(
        (r.status, r.context()),
        (StatusCode::BAD_REQUEST, "outgoing.preset"),
        "{}",
        r.text
    );
    let r = create_link(app, json!({"url": fake.base, "outgoing": {"clientId": "x", "clientSecret": "s", "authorizationEndpoint": "http://10.0.0.1/a", "tokenEndpoint": format!("{}/t", fake.base), "scopes": "read"}})).await;
    assert_eq!(
        (r.status, r.exception()),
        (StatusCode::BAD_REQUEST, "ADDRESS_NOT_ALLOWED"),
        "{}",
        r.text
    );
    assert_eq!(r.context(), "outgoing.authorizationEndpoint");
    let r = create_link(
        app,
        json!({"url": fake.base, "incoming": {"redirects": ["http://ci.example.com/cb"]}}),
    )
    .await;
    assert_eq!(
        (r.status, r.context()),
        (StatusCode::BAD_REQUEST, "redirects"),
        "{}",
        r.text
    );

    assert!(links_of(app).await.is_empty(), "no link was created");
    assert!(
        app.store.list_oauth_clients().await.unwrap().is_empty(),
        "no client was left behind"
    );
}

/// A second link with a taken name is refused, and its incoming client removed again.
async fn a_duplicate_name_leaves_no_client_behind(app: TestApp) {
    let app = &app;
    let fake = FakeRemote::start(|_| (404, vec![], b"no".to_vec())).await;
    let html = html_remote().await;
    // Duplicate names: the second link's incoming client is removed again.
    let r = create_link(
        app,
        json!({"name": "CI", "url": fake.base, "incoming": incoming_side()}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["application"]["name"], "Generic application");
    assert_eq!(r.body["direction"], "INCOMING");
    assert!(r.body["incoming"]["clientSecret"]
        .as_str()
        .unwrap()
        .starts_with("jct_ocs_"));
    let r = create_link(
        app,
        json!({"name": "CI", "url": html.base, "incoming": incoming_side()}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.context(), "name");
    assert!(r.message().contains("\"CI\""), "{}", r.message());
    assert_eq!(links_of(app).await.len(), 1);
    assert_eq!(app.store.list_oauth_clients().await.unwrap().len(), 1);
}

/// Without an allow-list, URLs that reach private addresses are refused, also by host name.
#[tokio::test]
async fn private_addresses_are_refused_unless_allowed() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let fake = FakeRemote::start(|_| (404, vec![], vec![])).await;
    let port = fake.base.rsplit(':').next().unwrap().to_string();
    for url in [
        fake.base.clone(),
        format!("http://localhost:{port}"),
        "http://169.254.169.254".into(),
        "http://[::1]:80".into(),
        "http://10.1.2.3".into(),
    ] {
        let r = app
            .get(
                &format!("/rest/junction/1.0/applinks/discover?url={url}"),
                &admin(),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{url}: {}", r.text);
        assert_eq!(r.exception(), "ADDRESS_NOT_ALLOWED", "{url}");
        assert!(
            r.message().contains("outbound.allow_private"),
            "{}",
            r.message()
        );
    }
}

/// The manual way Atlassian products link over OAuth 2.0: an incoming link on each side with a
/// placeholder redirect URL, credentials copied across as outgoing links, redirect URLs fixed.
async fn the_manual_four_step_way_also_links_two_servers(a: TestApp) {
    let Some(b) = TestApp::spawn_linkable(a.backend).await else {
        return;
    };
    let placeholder =
        json!({"redirects": ["https://placeholder.invalid/callback"], "scope": "REPO_READ"});
    let outgoing = |peer: &TestApp, creds: &serde_json::Value| {
        json!({
            "clientId": creds["clientId"],
            "clientSecret": creds["clientSecret"],
            "authorizationEndpoint": format!("{}/rest/oauth2/latest/authorize", peer.base),
            "tokenEndpoint": format!("{}/rest/oauth2/latest/token", peer.base),
            "scopes": "REPO_READ",
        })
    };
    // 1. Incoming on A, for B.
    let r = a
        .post(
            "/rest/junction/1.0/applinks",
            &admin(),
            json!({"url": b.base, "incoming": placeholder}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let (id_a, creds_a) = (
        r.body["id"].as_str().unwrap().to_string(),
        r.body["incoming"].clone(),
    );
    // 2. Incoming on B for A, with A's credentials as B's outgoing side.
    let r = a
        .get(
            &format!("/rest/junction/1.0/applinks/{id_a}/credentials"),
            &admin(),
        )
        .await;
    assert_eq!(
        r.body["incoming"]["clientSecret"], creds_a["clientSecret"],
        "viewable again"
    );
    let r = b
        .post(
            "/rest/junction/1.0/applinks",
            &admin(),
            json!({"url": a.base, "incoming": placeholder, "outgoing": outgoing(&a, &creds_a)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["direction"], "TWO_WAY");
    let (id_b, creds_b, redirect_b) = (
        r.body["id"].as_str().unwrap().to_string(),
        r.body["incoming"].clone(),
        r.body["outgoing"]["redirectUri"].clone(),
    );
    // 3. On A: B's credentials as the outgoing side; the incoming redirect URL fixed.
    let r = a
        .put(
            &format!("/rest/junction/1.0/applinks/{id_a}"),
            &admin(),
            json!({"incoming": {"redirects": [redirect_b]}, "outgoing": outgoing(&b, &creds_b)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["direction"], "TWO_WAY");
    assert_eq!(r.body["incoming"]["redirects"], json!([redirect_b]));
    // 4. On B: its incoming redirect URL fixed.
    let redirect_a = r.body["outgoing"]["redirectUri"].clone();
    let r = b
        .put(
            &format!("/rest/junction/1.0/applinks/{id_b}"),
            &admin(),
            json!({"incoming": {"redirects": [redirect_a]}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    for (app, id) in [(&a, &id_a), (&b, &id_b)] {
        let t = test_link(app, id).await;
        assert_eq!(t["success"], true, "{t}");
        assert_eq!(t["message"], "Working: the remote answers, its clock and URL agree, and it accepts this link's client credentials.");
    }
    // The edit page shows the derived redirect URI; renaming renames the incoming client too.
    let admin_browser = Browser::default();
    admin_browser
        .sign_in(&a.base, "admin", ADMIN_PASSWORD)
        .await;
    let page = admin_browser
        .get(&format!("{}/admin/links/{id_a}", a.base))
        .await;
    assert!(
        page.body.contains(redirect_a.as_str().unwrap()),
        "{}",
        page.body
    );
    let r = admin_browser
        .submit(
            &page.url,
            &format!("/admin/links/{id_a}"),
            &[("name", "B <prod>"), ("client_secret", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = a
        .get(&format!("/rest/junction/1.0/applinks/{id_a}"), &admin())
        .await;
    assert_eq!(r.body["name"], "B <prod>");
    let client = a
        .store
        .find_oauth_client(creds_a["clientId"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(client.name, "B <prod>");
    let t = test_link(&a, &id_a).await;
    assert_eq!(t["success"], true, "the kept secret still works: {t}");
    let list = admin_browser
        .get(&format!("{}/admin/application-links", a.base))
        .await;
    assert!(
        list.body.contains("B &lt;prod&gt;") && list.body.contains("Two-way"),
        "{}",
        list.body
    );
    let audit = a
        .get(
            "/rest/junction/1.0/audit?action=applinks.link_updated",
            &admin(),
        )
        .await;
    assert_eq!(audit.body["size"], 2);
}

/// Test connection names what is wrong: an endpoint answering the wrong status, TLS where the
/// remote speaks none, an unknown host; each with the fix.
async fn test_connection_names_network_failures(app: TestApp) {
    let fake = FakeRemote::start(|_| (404, vec![], b"nothing here".to_vec())).await;
    let r = app
        .post(
            "/rest/junction/1.0/applinks",
            &admin(),
            json!({"name": "Tools", "url": fake.base, "outgoing": {"clientId": "c", "clientSecret": "s",
                   "authorizationEndpoint": format!("{}/oauth/authorize", fake.base),
                   "tokenEndpoint": format!("{}/oauth/token", fake.base), "scopes": "read"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    let t = test_link(&app, &id).await;
    assert_eq!(
        (t["success"].clone(), t["type"].clone()),
        (json!(false), json!("UNEXPECTED_RESPONSE")),
        "{t}"
    );
    assert_eq!(t["facts"]["httpStatus"], 404);
    assert_eq!(
        t["facts"]["checkedUrl"],
        format!("{}/oauth/token", fake.base)
    );
    assert!(
        t["message"]
            .as_str()
            .unwrap()
            .starts_with("Unexpected response: "),
        "{t}"
    );

    let port = fake.base.rsplit(':').next().unwrap();
    for (url, kind, summary) in [
        (
            format!("https://127.0.0.1:{port}"),
            "SSL_UNTRUSTED",
            "TLS handshake failed",
        ),
        (
            "http://no-such-host.invalid".to_string(),
            "UNKNOWN_HOST",
            "Unknown host",
        ),
    ] {
        let r = app
            .post(
                &format!("/rest/junction/1.0/applinks/{id}/relocate"),
                &admin(),
                json!({"url": url}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let t = test_link(&app, &id).await;
        assert_eq!(
            (t["type"].as_str(), t["summary"].as_str()),
            (Some(kind), Some(summary)),
            "{url}: {t}"
        );
        assert_eq!(t["category"], "NETWORK_ERROR");
        assert!(!t["fix"].as_str().unwrap().is_empty());
    }
    let r = app
        .post(
            &format!("/rest/junction/1.0/applinks/{id}/relocate"),
            &admin(),
            json!({"url": "http://10.9.9.9"}),
        )
        .await;
    assert_eq!(
        (r.status, r.exception()),
        (StatusCode::BAD_REQUEST, "ADDRESS_NOT_ALLOWED"),
        "{}",
        r.text
    );
    let r = app
        .get(&format!("/rest/junction/1.0/applinks/{id}"), &admin())
        .await;
    assert_eq!(
        r.body["rpcUrl"], "http://no-such-host.invalid",
        "a refused relocation changes nothing"
    );
    assert_eq!(
        r.body["status"]["type"], "UNKNOWN_HOST",
        "the last result is kept"
    );
    let audit = app
        .get(
            "/rest/junction/1.0/audit?action=applinks.link_relocated",
            &admin(),
        )
        .await;
    assert_eq!(audit.body["size"], 2);
}

async fn links_are_for_admins(app: TestApp) {
    let alice = app.user("alice").await;
    for (method, path) in [
        (Method::GET, "/rest/applinks/3.0/applinks"),
        (
            Method::GET,
            "/rest/junction/1.0/applinks/discover?url=http://x",
        ),
        (Method::POST, "/rest/junction/1.0/applinks"),
    ] {
        let r = app.call(method, path, &alice, Some(json!({}))).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.text);
    }
    let r = app
        .get(
            "/rest/applinks/3.0/status/0c7e1b5e-0000-4000-8000-000000000000",
            &admin(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .get("/rest/junction/1.0/applinks/connections", &alice)
        .await;
    assert_eq!((r.status, r.body), (StatusCode::OK, json!([])));
}

crate::both_backends!(
    spawn_linkable;
    manifest_identifies_this_server,
    unreachable_remotes_are_named,
    bad_urls_and_missing_sides_are_field_errors,
    a_remote_without_a_manifest_is_generic_and_cannot_pair,
    huge_answers_and_redirects_are_refused,
    outgoing_settings_are_checked_before_anything_is_stored,
    a_duplicate_name_leaves_no_client_behind,
    links_are_for_admins,
    the_manual_four_step_way_also_links_two_servers,
    test_connection_names_network_failures,
);
