//! Two Junction servers linked both ways through the guided flow, driven through the real
//! pages, then used by a person: connect, profile panel, request API, refresh after a 401,
//! relocation, revocation at the remote, deletion.

use crate::harness::*;
use crate::remote::*;
use reqwest::StatusCode;
use serde_json::json;

/// Two Junction servers linked both ways through the real pages: what each step left.
struct Paired {
    b: TestApp,
    /// A's administrator, signed in on both servers.
    browser: Browser,
    /// B's approval page and its address (which carries the pairing).
    approve: Page,
    approve_url: String,
    /// The link as A and as B list it.
    la: serde_json::Value,
    lb: serde_json::Value,
    id_a: String,
}

/// alice on A, connected to bob's account on B.
struct Person {
    alice: Auth,
    person: Browser,
    /// A's Connected applications page.
    mine: String,
}

/// Two Junction servers link both ways through the real pages; a person on A then connects to
/// B, sees their projects on B, calls B through the link, and loses access when B revokes it.
async fn two_junctions_link_both_ways_and_people_use_the_link(a: TestApp) {
    let a = &a;
    // Like `a`, the second server is skipped only where the harness allows it.
    let Some(p) = pair_through_the_pages(a).await else {
        return;
    };
    both_sides_are_linked_as_chosen(a, &p).await;
    a_pairing_is_taken_once(a, &p).await;
    let who = alice_connects_to_bob(a, &p).await;
    the_request_api_reaches_only_b(a, &p, &who).await;
    relocating_keeps_the_authorization(a, &p, &who).await;
    an_expired_token_is_refreshed_unnoticed(a, &p, &who).await;
    revoking_on_b_shows_on_a_and_connecting_again_repairs(a, &p, &who).await;
    deleting_on_a_cleans_up_both_sides(a, &p).await;
}

/// alice's call through the link to B, as the request API takes it.
async fn call(a: &TestApp, p: &Paired, who: &Person, body: serde_json::Value) -> Response {
    let path = format!("/rest/applinks/latest/links/{}/request", p.id_a);
    a.post(&path, &who.alice, body).await
}

async fn pair_through_the_pages(a: &TestApp) -> Option<Paired> {
    let b = TestApp::spawn_linkable(a.backend).await?;
    let browser = Browser::default();
    browser.sign_in(&a.base, "admin", ADMIN_PASSWORD).await;
    let list = format!("{}/admin/application-links", a.base);

    // A: enter B's URL; Junction says what it is.
    let found = browser
        .submit(
            &list,
            "/admin/application-links/discover",
            &[("url", &b.base)],
        )
        .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    assert!(
        found.body.contains("id=\"kind\">junction<"),
        "{}",
        found.body
    );
    assert!(found.body.contains("Link both ways"));

    // A → B: B's admin signs in and approves; back on A, both sides are linked and tested.
    let go = browser
        .submit_on(
            &found,
            "/admin/application-links/pair-with",
            &[("scope", "REPO_WRITE")],
        )
        .await;
    assert_eq!(go.status, StatusCode::SEE_OTHER, "{}", go.body);
    let approve_url = go.location();
    assert!(
        approve_url.starts_with(&format!("{}/admin/application-links/pair?", b.base)),
        "{approve_url}"
    );
    let approve = browser
        .follow(&approve_url, ("admin", ADMIN_PASSWORD))
        .await;
    assert!(
        approve.body.contains(&format!("Link with {}?", a.base)),
        "{}",
        approve.body
    );
    assert_eq!(approve.headers["x-frame-options"], "DENY");
    let done = browser
        .submit_on(
            &approve,
            "/admin/application-links/pair",
            &[("scope", "REPO_READ")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let back = browser
        .follow(&done.location(), ("admin", ADMIN_PASSWORD))
        .await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.body);
    assert!(back.url.starts_with(&a.base));
    assert!(
        back.body
            .contains("Linked both ways with Junction (127.0.0.1:"),
        "{}",
        back.body
    );

    let (la, lb) = (links_of(a).await, links_of(&b).await);
    assert_eq!((la.len(), lb.len()), (1, 1));
    let (la, lb) = (la[0].clone(), lb[0].clone());
    let id_a = la["id"].as_str().unwrap().to_string();
    Some(Paired {
        b,
        browser,
        approve,
        approve_url,
        la,
        lb,
        id_a,
    })
}

async fn both_sides_are_linked_as_chosen(a: &TestApp, p: &Paired) {
    let (b, la, lb, id_a) = (&p.b, &p.la, &p.lb, &p.id_a);
    for (l, peer) in [(la, b), (lb, a)] {
        assert_eq!(l["direction"], "TWO_WAY", "{l}");
        assert_eq!(l["type"], "junction");
        assert_eq!(l["rpcUrl"], peer.base.as_str());
        assert_eq!(
            l["application"]["name"],
            format!("Junction {}", env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(
            l["status"]["working"], true,
            "Test connection ran on both sides: {l}"
        );
        assert_eq!(l["status"]["facts"]["remoteUrl"], peer.base.as_str());
    }
    // Scopes as each admin chose them; redirect URIs derived, no placeholder.
    assert_eq!(la["incoming"]["scope"], "REPO_WRITE");
    assert_eq!(lb["incoming"]["scope"], "REPO_READ");
    assert_eq!(lb["outgoing"]["clientId"], la["incoming"]["clientId"]);
    assert_eq!(la["outgoing"]["clientId"], lb["incoming"]["clientId"]);
    assert_eq!(
        la["incoming"]["redirects"][0],
        lb["outgoing"]["redirectUri"]
    );
    assert_eq!(
        lb["incoming"]["redirects"][0],
        la["outgoing"]["redirectUri"]
    );
    let status = a
        .get(&format!("/rest/applinks/3.0/status/{id_a}"), &admin())
        .await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.text);
    assert_eq!(status.body["working"], true, "{}", status.text);
    assert_eq!(status.body["error"], serde_json::Value::Null);
    assert_eq!(
        status.body["localAuthentication"]["incoming"]["enabled"],
        true
    );
    assert_eq!(
        status.body["localAuthentication"]["outgoing"]["enabled"],
        true
    );
    for (app, action) in [
        (a, "applinks.link_paired"),
        (b, "applinks.link_paired"),
        (a, "applinks.pairing_started"),
    ] {
        let r = app
            .get(
                &format!("/rest/junction/1.0/audit?action={action}"),
                &admin(),
            )
            .await;
        assert_eq!(r.body["size"], 1, "{action}: {}", r.text);
    }
}

async fn a_pairing_is_taken_once(a: &TestApp, p: &Paired) {
    let (b, browser, approve, approve_url) = (&p.b, &p.browser, &p.approve, &p.approve_url);
    // Approving the same request again is refused on B, which is left as it was ...
    let again = browser
        .submit_on(
            approve,
            "/admin/application-links/pair",
            &[("scope", "REPO_READ")],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert!(again.body.contains("already named"), "{}", again.body);
    assert_eq!(links_of(b).await.len(), 1);
    assert_eq!(b.store.list_oauth_clients().await.unwrap().len(), 1);
    // ... and A's back channel takes a pairing once, signed with its secret, and only then.
    let pairing = url::Url::parse(approve_url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "pairing")
        .unwrap()
        .1
        .to_string();
    let (pairing_id, secret) = pairing.split_once('.').unwrap();
    let body = json!({"url": b.base, "name": "Junction", "version": "1", "linkId": "", "clientId": "x", "clientSecret": "y", "authorizeUrl": "http://127.0.0.1:1/a", "tokenUrl": "http://127.0.0.1:1/t", "scope": "REPO_READ"}).to_string();
    let now = wall_clock_ms();
    for (signature, what) in [
        (
            junction::domain::applinks::pairing_signature(secret, now, body.as_bytes()),
            "replayed",
        ),
        (
            junction::domain::applinks::pairing_signature("guess", now, body.as_bytes()),
            "forged",
        ),
    ] {
        let r = a
            .client
            .post(format!(
                "{}/rest/applinks/latest/pairing/{pairing_id}",
                a.base
            ))
            .header("x-junction-pairing-timestamp", now.to_string())
            .header("x-junction-pairing-signature", signature)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let r = TestApp::read(r).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{what}: {}", r.text);
        assert!(
            r.message().contains("already used, or not signed"),
            "{what}: {}",
            r.message()
        );
    }
    assert_eq!(a.store.list_oauth_clients().await.unwrap().len(), 1);
}

async fn alice_connects_to_bob(a: &TestApp, p: &Paired) -> Person {
    let (b, id_a) = (&p.b, &p.id_a);
    // People: alice on A connects her account to bob's on B.
    b.project("BPROJ", false).await;
    b.project("HIDDEN", false).await;
    b.user("bob").await;
    b.grant("/rest/api/1.0/projects/BPROJ", "bob", "PROJECT_READ")
        .await;
    let alice = a.user("alice").await;
    let person = Browser::default();
    person.sign_in(&a.base, "alice", "alice-password").await;
    let mine = format!("{}/account/connected-applications", a.base);
    let page = person.get(&mine).await;
    assert!(
        page.body
            .contains(&format!("id=\"status-{id_a}\">Not connected<")),
        "{}",
        page.body
    );
    let go = person.press_connection(&a.base, id_a, "connect").await;
    assert!(go
        .location()
        .starts_with(&format!("{}/rest/oauth2/latest/authorize?", b.base)));
    let landed = person.follow(&go.location(), ("bob", "bob-password")).await;
    assert_eq!(landed.url, mine, "back on A's Connected applications page");
    assert!(
        landed
            .body
            .contains(&format!("id=\"status-{id_a}\">Connected<")),
        "{}",
        landed.body
    );
    assert!(
        landed.body.contains("<strong>BPROJ</strong>"),
        "the panel shows bob's projects on B: {}",
        landed.body
    );
    assert!(
        !landed.body.contains("HIDDEN"),
        "only what bob may see on B"
    );
    let profile = person.get(&format!("{}/account", a.base)).await;
    assert!(
        profile.body.contains("<strong>BPROJ</strong>"),
        "{}",
        profile.body
    );
    // Tokens at rest are encrypted.
    let t = a
        .store
        .user_link_tokens(a.store.find_account("alice").await.unwrap().unwrap().id)
        .await
        .unwrap();
    assert_eq!(t.len(), 1);
    assert!(
        t[0].access_encrypted.starts_with("v1:") && !t[0].access_encrypted.contains("jct_oat_")
    );

    Person {
        alice,
        person,
        mine,
    }
}

async fn the_request_api_reaches_only_b(a: &TestApp, p: &Paired, who: &Person) {
    let (id_a, alice) = (&p.id_a, &who.alice);
    let call = |body| call(a, p, who, body);
    // The request API: as alice, through the link, only to B.
    let r = call(json!({"path": "/rest/api/1.0/projects"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], 200);
    assert_eq!(r.body["body"]["values"][0]["key"], "BPROJ");
    assert_eq!(r.body["body"]["size"], 1);
    let r = call(json!({"method": "GET", "path": "/rest/api/1.0/users/bob"})).await;
    assert_eq!(r.body["body"]["name"], "bob", "{}", r.text);
    for bad in ["//evil.example/x", "rest/api", "/x?y=1"] {
        let r = call(json!({"path": bad})).await;
        assert_eq!(
            (r.status, r.context()),
            (StatusCode::BAD_REQUEST, "path"),
            "{bad}: {}",
            r.text
        );
    }
    let r = call(json!({"method": "TRACE", "path": "/"})).await;
    assert_eq!((r.status, r.context()), (StatusCode::BAD_REQUEST, "method"));
    let (token, _) = a.token(alice, "admin").await;
    let r = a
        .post(
            &format!("/rest/applinks/latest/links/{id_a}/request"),
            &token,
            json!({"path": "/"}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "a personal token cannot act as alice elsewhere: {}",
        r.text
    );
    let carol = a.user("carol").await;
    let r = a
        .post(
            &format!("/rest/applinks/latest/links/{id_a}/request"),
            &carol,
            json!({"path": "/"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(
        r.exception(),
        "com.atlassian.applinks.api.CredentialsRequiredException"
    );
    assert!(
        r.message().contains("Connect your account"),
        "{}",
        r.message()
    );
}

async fn relocating_keeps_the_authorization(a: &TestApp, p: &Paired, who: &Person) {
    let (b, id_a) = (&p.b, &p.id_a);
    let call = |body| call(a, p, who, body);
    // Relocating keeps the link's id and alice's authorization (localhost is the same B).
    let port_b = b.base.rsplit(':').next().unwrap();
    let moved = format!("http://localhost:{port_b}");
    let r = a
        .post(
            &format!("/rest/junction/1.0/applinks/{id_a}/relocate"),
            &admin(),
            json!({"url": moved}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (r.body["id"].as_str(), r.body["rpcUrl"].as_str()),
        (Some(id_a.as_str()), Some(moved.as_str()))
    );
    let r = call(json!({"path": "/rest/api/1.0/projects"})).await;
    assert_eq!(r.body["body"]["values"][0]["key"], "BPROJ", "{}", r.text);
    // ... and Test connection now names the URL mismatch: B says it is at 127.0.0.1.
    let t = test_link(a, id_a).await;
    assert_eq!(t["success"], false, "{t}");
    assert_eq!(t["type"], "URL_MISMATCH");
    assert_eq!(t["facts"]["remoteUrl"], b.base.as_str());
    let r = a
        .post(
            &format!("/rest/junction/1.0/applinks/{id_a}/relocate"),
            &admin(),
            json!({"url": b.base}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

async fn an_expired_token_is_refreshed_unnoticed(a: &TestApp, p: &Paired, who: &Person) {
    let b = &p.b;
    let call = |body| call(a, p, who, body);
    // B expires the access token early (its clock runs ahead): B answers 401, A refreshes
    // with the refresh token and retries, and the person notices nothing.
    let alice_id = a.store.find_account("alice").await.unwrap().unwrap().id;
    let before = a.store.user_link_tokens(alice_id).await.unwrap().remove(0);
    b.clock.advance_ms(61 * 60_000);
    let r = call(json!({"path": "/rest/api/1.0/projects"})).await;
    assert_eq!(r.body["body"]["values"][0]["key"], "BPROJ", "{}", r.text);
    let after = a.store.user_link_tokens(alice_id).await.unwrap().remove(0);
    assert!(after.refreshed_at.is_some(), "refreshed after the 401");
    assert_ne!(after.access_encrypted, before.access_encrypted);
    assert_ne!(
        after.refresh_encrypted, before.refresh_encrypted,
        "B rotates refresh tokens"
    );
    a.clock.advance_ms(61 * 60_000);
}

async fn revoking_on_b_shows_on_a_and_connecting_again_repairs(
    a: &TestApp,
    p: &Paired,
    who: &Person,
) {
    let (b, lb, id_a) = (&p.b, &p.lb, &p.id_a);
    let (alice, person, mine) = (&who.alice, &who.person, &who.mine);
    let call = |body| call(a, p, who, body);
    // B revokes (bob, under Authorized applications): A finds out and shows it.
    let bob_page = Browser::default();
    bob_page.sign_in(&b.base, "bob", "bob-password").await;
    let apps = format!("{}/account/authorized-applications", b.base);
    let client_b = lb["incoming"]["clientId"].as_str().unwrap();
    let r = bob_page
        .submit(
            &apps,
            &format!("/account/authorized-applications/{client_b}/revoke"),
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = call(json!({"path": "/rest/api/1.0/projects"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert!(
        r.message().contains("no longer accepts your authorization"),
        "{}",
        r.message()
    );
    let r = a
        .get("/rest/junction/1.0/applinks/connections", alice)
        .await;
    assert_eq!(r.body[0]["status"], "REVOKED", "{}", r.text);
    let page = person.get(mine).await;
    assert!(
        page.body.contains("Revoked by the remote: connect again"),
        "{}",
        page.body
    );

    // Connecting again (B asks bob's consent again) repairs it.
    let landed = person
        .connect_account(&a.base, id_a, ("bob", "bob-password"))
        .await;
    assert!(
        landed
            .body
            .contains(&format!("id=\"status-{id_a}\">Connected<")),
        "{}",
        landed.body
    );
    let grants = format!("/rest/oauth2/latest/client/{client_b}/grants");
    assert_eq!(b.get(&grants, &admin()).await.body[0]["user"], "bob");
}

async fn deleting_on_a_cleans_up_both_sides(a: &TestApp, p: &Paired) {
    let (b, la, lb, id_a) = (&p.b, &p.la, &p.lb, &p.id_a);
    let client_b = lb["incoming"]["clientId"].as_str().unwrap();
    let grants = format!("/rest/oauth2/latest/client/{client_b}/grants");
    // Deleting on A revokes what A holds, revokes alice's grant on B (RFC 7009), and says what
    // remains on B.
    let r = a
        .delete(&format!("/rest/junction/1.0/applinks/{id_a}"), &admin())
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["revokedHere"]["incomingClient"], true);
    assert_eq!(r.body["revokedHere"]["connectedUsers"], 1);
    assert_eq!(r.body["revokedHere"]["revokedAtRemote"], 1);
    assert_eq!(
        b.get(&grants, &admin()).await.body,
        json!([]),
        "nothing of alice's is left on B"
    );
    let remains = r.body["remainsOnRemote"].to_string();
    assert!(
        remains.contains(&b.base) && remains.contains(la["outgoing"]["clientId"].as_str().unwrap()),
        "{remains}"
    );
    assert!(links_of(a).await.is_empty());
    assert!(a.store.list_oauth_clients().await.unwrap().is_empty());
    assert!(a
        .store
        .user_link_tokens(a.store.find_account("alice").await.unwrap().unwrap().id)
        .await
        .unwrap()
        .is_empty());
    let r = a
        .get(
            "/rest/junction/1.0/audit?action=applinks.link_deleted",
            &admin(),
        )
        .await;
    assert_eq!(r.body["size"], 1);
    // B's side now fails its test with rejected credentials, and says so.
    let t = test_link(b, lb["id"].as_str().unwrap()).await;
    assert_eq!(t["summary"], "Credentials rejected", "{t}");
    assert_eq!(t["facts"]["httpStatus"], 401);
}

crate::both_backends!(spawn_linkable; two_junctions_link_both_ways_and_people_use_the_link);
