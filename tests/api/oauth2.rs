//! Junction as an OAuth 2.0 provider, driven over HTTP through the real sign-in and consent forms.

use crate::harness::*;
use reqwest::{header, Method, StatusCode};
use serde_json::{json, Value};

const REDIRECT: &str = "http://localhost:8765/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

pub async fn client(app: &TestApp, scope: &str, confidential: bool) -> Value {
    let r = app
        .post("/rest/oauth2/latest/client", &admin(), json!({"name": format!("CI {scope} {confidential}"), "redirects": [REDIRECT], "scope": scope, "confidential": confidential}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body
}

/// A signed-in browser for `user`.
pub async fn browser(app: &TestApp, user: &str, password: &str) -> reqwest::Client {
    let (b, csrf) = sign_in_form(app).await;
    let r = b
        .post(format!("{}/login", app.base))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", user),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    b
}

fn query_of(location: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// Runs /authorize and, if asked, the consent form; returns the redirect's query parameters.
pub async fn authorize(
    app: &TestApp,
    b: &reqwest::Client,
    client_id: &str,
    scope: &str,
) -> std::collections::HashMap<String, String> {
    let url = format!(
        "{}/rest/oauth2/latest/authorize?response_type=code&client_id={client_id}&redirect_uri={REDIRECT}&scope={scope}&state=xyz&code_challenge={CHALLENGE}&code_challenge_method=S256",
        app.base
    );
    let r = b.get(&url).send().await.unwrap();
    if r.status() == StatusCode::SEE_OTHER {
        return query_of(r.headers()["location"].to_str().unwrap());
    }
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["x-frame-options"],
        "DENY",
        "the consent page is not frameable"
    );
    assert_eq!(r.headers()["cache-control"], "no-store");
    let html = r.text().await.unwrap();
    assert!(html.contains("Allow CI"), "{html}");
    let mut form: Vec<(String, String)> = vec![("decision".into(), "allow".into())];
    form.extend(crate::remote::hidden_fields(
        &html,
        "/plugins/servlet/oauth2/consent",
    ));
    let r = b
        .post(format!("{}/plugins/servlet/oauth2/consent", app.base))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    query_of(r.headers()["location"].to_str().unwrap())
}

pub async fn exchange(app: &TestApp, c: &Value, code: &str) -> Response {
    app.token_endpoint(
        c,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    )
    .await
}

async fn setup(app: &TestApp) {
    app.project("P", false).await;
    app.repo("P", "r", false).await;
    app.branches("P", "r", &["a", "bump", "b2"]).await;
    app.repo("P", "open", true).await;
    app.user("alice").await;
    app.grant("/rest/api/1.0/projects/P", "alice", "PROJECT_WRITE")
        .await;
}

async fn code_flow_with_pkce_caps_scope_and_rotates_refresh(app: TestApp) {
    setup(&app).await;
    let c = client(&app, "REPO_WRITE", true).await;
    let client_id = c["clientId"].as_str().unwrap();
    let b = browser(&app, "alice", "alice-password").await;
    let q = authorize(&app, &b, client_id, "REPO_READ").await;
    assert_eq!(q["state"], "xyz");
    assert_eq!(q["iss"], app.base, "RFC 9207");
    let code = q["code"].clone();
    assert!(code.starts_with("jct_oac_"));
    let r = exchange(&app, &c, &code).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.body["token_type"], "bearer");
    assert_eq!(r.body["expires_in"], 3600);
    assert_eq!(r.body["scope"], "REPO_READ");
    let access = Auth::Bearer(r.body["access_token"].as_str().unwrap().to_string());
    let refresh = r.body["refresh_token"].as_str().unwrap().to_string();
    assert!(refresh.starts_with("jct_ort_"));

    // Within scope and within alice's permissions.
    let got = app.get("/rest/api/1.0/projects/P/repos/r", &access).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.header("x-ausername"), Some("alice"));
    let pr = app
        .post(
            "/rest/api/1.0/projects/P/repos/r/pull-requests",
            &access,
            json!({"title": "t", "fromRef": {"id": "a"}, "toRef": {"id": "main"}}),
        )
        .await;
    assert_eq!(
        pr.status,
        StatusCode::CREATED,
        "REPO_READ creates pull requests"
    );
    // Past the scope: merging needs REPO_WRITE although alice could.
    let merge = app
        .call(
            Method::POST,
            "/rest/api/1.0/projects/P/repos/r/pull-requests/1/merge?version=0",
            &access,
            None,
        )
        .await;
    assert_eq!(merge.status, StatusCode::FORBIDDEN);
    // Never past the user: admin functions stay closed.
    assert_eq!(
        app.post(
            "/rest/api/1.0/projects",
            &access,
            json!({"key": "Q", "name": "Q"})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let me = app.get("/rest/oauth2/latest/userinfo", &access).await;
    assert_eq!(me.body["preferred_username"], "alice");

    // Introspection, by the client that owns the token.
    let r = app
        .client
        .post(format!("{}/rest/oauth2/latest/introspect", app.base))
        .basic_auth(client_id, c["clientSecret"].as_str())
        .form(&[("token", access_secret(&access))])
        .send()
        .await
        .unwrap();
    let r = TestApp::read(r).await;
    assert_eq!(r.body["active"], true);
    assert_eq!(r.body["username"], "alice");
    assert_eq!(r.body["scope"], "REPO_READ");

    // Refresh rotates: the old pair dies.
    let r = app
        .token_endpoint(
            &c,
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let access2 = Auth::Bearer(r.body["access_token"].as_str().unwrap().to_string());
    let refresh2 = r.body["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(refresh2, refresh);
    assert_eq!(
        app.get("/rest/api/1.0/projects/P/repos/r", &access)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/rest/api/1.0/projects/P/repos/r", &access2)
            .await
            .status,
        StatusCode::OK
    );
    // Reusing the rotated refresh token revokes the whole grant.
    let r = app
        .token_endpoint(
            &c,
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["error"], "invalid_grant");
    assert_eq!(
        app.get("/rest/api/1.0/projects/P/repos/r", &access2)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let r = app
        .token_endpoint(
            &c,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh2),
            ],
        )
        .await;
    assert_eq!(r.body["error"], "invalid_grant");
}

fn access_secret(a: &Auth) -> &str {
    match a {
        Auth::Bearer(t) => t,
        _ => unreachable!(),
    }
}

async fn a_replayed_code_revokes_its_tokens(app: TestApp) {
    setup(&app).await;
    let c = client(&app, "REPO_READ", true).await;
    let b = browser(&app, "alice", "alice-password").await;
    let code =
        authorize(&app, &b, c["clientId"].as_str().unwrap(), "REPO_READ").await["code"].clone();
    let first = exchange(&app, &c, &code).await;
    assert_eq!(first.status, StatusCode::OK);
    let access = Auth::Bearer(first.body["access_token"].as_str().unwrap().into());
    assert_eq!(
        app.get("/rest/api/1.0/projects/P/repos/r", &access)
            .await
            .status,
        StatusCode::OK
    );
    let second = exchange(&app, &c, &code).await;
    assert_eq!(second.status, StatusCode::BAD_REQUEST);
    assert_eq!(second.body["error"], "invalid_grant");
    assert_eq!(
        app.get("/rest/api/1.0/projects/P/repos/r", &access)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

async fn codes_are_bound_to_verifier_redirect_and_time(app: TestApp) {
    setup(&app).await;
    let c = client(&app, "REPO_READ", true).await;
    let b = browser(&app, "alice", "alice-password").await;
    let id = c["clientId"].as_str().unwrap().to_string();
    let code = authorize(&app, &b, &id, "REPO_READ").await["code"].clone();
    let r = app
        .token_endpoint(
            &c,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &"x".repeat(43)),
            ],
        )
        .await;
    assert_eq!(r.body["error"], "invalid_grant", "wrong verifier");
    let code = authorize(&app, &b, &id, "REPO_READ").await["code"].clone();
    let r = app
        .token_endpoint(
            &c,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "http://localhost:8765/other"),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
    assert_eq!(r.body["error"], "invalid_grant", "other redirect_uri");
    let code = authorize(&app, &b, &id, "REPO_READ").await["code"].clone();
    app.clock.advance_ms(61_000);
    let r = exchange(&app, &c, &code).await;
    assert_eq!(r.body["error"], "invalid_grant", "expired");
    assert!(r.body["error_description"]
        .as_str()
        .unwrap()
        .contains("expired"));
}

async fn token_endpoint_errors_follow_rfc6749(app: TestApp) {
    let c = client(&app, "REPO_READ", true).await;
    let id = c["clientId"].as_str().unwrap();
    let url = format!("{}/rest/oauth2/latest/token", app.base);
    let r = TestApp::read(
        app.client
            .post(&url)
            .basic_auth(id, Some("wrong"))
            .form(&[("grant_type", "authorization_code")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body["error"], "invalid_client");
    assert!(r.header("www-authenticate").unwrap().starts_with("Basic"));
    let r = TestApp::read(
        app.client
            .post(&url)
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", id),
                ("client_secret", "wrong"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(
        r.header("www-authenticate").is_none(),
        "no Basic challenge when Basic was not used"
    );
    let r = app
        .token_endpoint(
            &c,
            &[
                ("grant_type", "password"),
                ("username", "a"),
                ("password", "b"),
            ],
        )
        .await;
    assert_eq!(r.body["error"], "unsupported_grant_type");
    let r = app
        .token_endpoint(&c, &[("grant_type", "authorization_code")])
        .await;
    assert_eq!(r.body["error"], "invalid_request");
    let r = app
        .token_endpoint(
            &c,
            &[
                ("grant_type", "authorization_code"),
                ("code", "jct_oac_nope"),
                ("redirect_uri", REDIRECT),
            ],
        )
        .await;
    assert_eq!(r.body["error"], "invalid_grant");
    // client_secret_post works too.
    let r = TestApp::read(
        app.client
            .post(&url)
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", "x"),
                ("client_id", id),
                ("client_secret", c["clientSecret"].as_str().unwrap()),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        r.body["error"], "invalid_grant",
        "authenticated, then the token is refused"
    );
    let r = TestApp::read(
        app.client
            .post(&url)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.body["error"], "invalid_request");
}

async fn authorize_errors_redirect_only_to_registered_uris(app: TestApp) {
    app.user("alice").await;
    let c = client(&app, "REPO_READ", true).await;
    let public = client(&app, "REPO_READ", false).await;
    assert!(public.get("clientSecret").is_none());
    let b = browser(&app, "alice", "alice-password").await;
    let get = |url: String| {
        let b = b.clone();
        async move { b.get(url).send().await.unwrap() }
    };
    let base = format!(
        "{}/rest/oauth2/latest/authorize?response_type=code",
        app.base
    );
    let id = c["clientId"].as_str().unwrap();
    let r = get(format!("{base}&client_id=nope&redirect_uri={REDIRECT}")).await;
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "unknown client: a page, never a redirect"
    );
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("No application with this client_id"));
    let r = get(format!(
        "{base}&client_id={id}&redirect_uri=https://evil.example/cb"
    ))
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.headers().get(header::LOCATION).is_none());
    let r = get(format!(
        "{base}&client_id={id}&redirect_uri={REDIRECT}&scope=SYSTEM_ADMIN&state=s1"
    ))
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let q = query_of(r.headers()["location"].to_str().unwrap());
    assert_eq!(
        (q["error"].as_str(), q["state"].as_str(), q["iss"].as_str()),
        ("invalid_scope", "s1", app.base.as_str())
    );
    let r = get(format!("{}/rest/oauth2/latest/authorize?response_type=token&client_id={id}&redirect_uri={REDIRECT}", app.base)).await;
    assert_eq!(
        query_of(r.headers()["location"].to_str().unwrap())["error"],
        "unsupported_response_type"
    );
    let r = get(format!(
        "{base}&client_id={}&redirect_uri={REDIRECT}",
        public["clientId"].as_str().unwrap()
    ))
    .await;
    assert_eq!(
        query_of(r.headers()["location"].to_str().unwrap())["error"],
        "invalid_request",
        "public clients need PKCE"
    );
    // Anonymous: sent to sign in, and back.
    let r = app
        .client
        .get(format!("{base}&client_id={id}&redirect_uri={REDIRECT}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/login?next=%2Frest%2Foauth2%2Flatest%2Fauthorize"));
    // Deny.
    let html = get(format!(
        "{base}&client_id={id}&redirect_uri={REDIRECT}&state=s2"
    ))
    .await
    .text()
    .await
    .unwrap();
    let r = b
        .post(format!("{}/plugins/servlet/oauth2/consent", app.base))
        .form(&[
            ("csrf", csrf_of(&html).as_str()),
            ("client_id", id),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("state", "s2"),
            ("decision", "deny"),
        ])
        .send()
        .await
        .unwrap();
    let q = query_of(r.headers()["location"].to_str().unwrap());
    assert_eq!(
        (q["error"].as_str(), q["state"].as_str()),
        ("access_denied", "s2")
    );
    // A forged consent (no CSRF token) is refused.
    let r = b
        .post(format!("{}/plugins/servlet/oauth2/consent", app.base))
        .form(&[
            ("client_id", id),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("decision", "allow"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

async fn consent_is_remembered_and_revocable(app: TestApp) {
    setup(&app).await;
    let c = client(&app, "REPO_WRITE", true).await;
    let id = c["clientId"].as_str().unwrap().to_string();
    let b = browser(&app, "alice", "alice-password").await;
    let code = authorize(&app, &b, &id, "REPO_WRITE").await["code"].clone();
    let tokens = exchange(&app, &c, &code).await;
    let access = Auth::Bearer(tokens.body["access_token"].as_str().unwrap().into());
    // Same or fewer scopes: no prompt, straight back with a code.
    let url = format!("{}/rest/oauth2/latest/authorize?response_type=code&client_id={id}&redirect_uri={REDIRECT}&scope=REPO_READ", app.base);
    let r = b.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(query_of(r.headers()["location"].to_str().unwrap()).contains_key("code"));
    // The user sees and revokes the application.
    let html = b
        .get(format!("{}/account/authorized-applications", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("CI REPO_WRITE true") && html.contains("Write to repositories"),
        "{html}"
    );
    let r = b
        .post(format!(
            "{}/account/authorized-applications/{id}/revoke",
            app.base
        ))
        .form(&[("csrf", csrf_of(&html))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "asked first");
    let asked = r.text().await.unwrap();
    assert!(asked.contains("Revoke this application"), "{asked}");
    let r = b
        .post(format!(
            "{}/account/authorized-applications/{id}/revoke",
            app.base
        ))
        .form(&[("csrf", csrf_of(&html)), ("confirm", "yes".into())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.get("/rest/api/1.0/projects/P/repos/r", &access)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let r = b.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "consent is asked again");
}

async fn clients_are_managed_by_admins(app: TestApp) {
    let alice = app.user("alice").await;
    let c = client(&app, "REPO_READ PROJECT_ADMIN", true).await;
    let id = c["clientId"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 32);
    assert!(c["clientSecret"].as_str().unwrap().starts_with("jct_ocs_"));
    assert_eq!(c["scope"], "PROJECT_ADMIN");
    let bad = [
        (
            json!({"name": "x", "redirects": ["http://example.com/cb"]}),
            "redirects",
        ),
        (
            json!({"name": "x", "redirects": ["https://example.com/cb#f"]}),
            "redirects",
        ),
        (json!({"name": "x", "redirects": []}), "redirects"),
        (
            json!({"name": "x", "redirects": [REDIRECT], "scope": "ROOT"}),
            "scope",
        ),
        (json!({"redirects": [REDIRECT]}), "name"),
    ];
    for (body, context) in bad {
        let r = app
            .post("/rest/oauth2/latest/client", &admin(), body.clone())
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(r.context(), context, "{body}");
    }
    let r = app
        .post(
            "/rest/oauth2/latest/client",
            &admin(),
            json!({"name": c["name"], "redirects": [REDIRECT]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(
        app.post(
            "/rest/oauth2/latest/client",
            &alice,
            json!({"name": "y", "redirects": [REDIRECT]})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let list = app.get("/rest/oauth2/latest/client", &admin()).await;
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    assert!(list.body[0].get("clientSecret").is_none());
    let r = app
        .put(
            &format!("/rest/oauth2/latest/client/{id}"),
            &admin(),
            json!({"scope": "REPO_READ"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["scope"], "REPO_READ");
    let r = app
        .get(
            &format!("/rest/oauth2/latest/client/{id}/credentials"),
            &admin(),
        )
        .await;
    assert_eq!(
        r.body["clientSecret"], c["clientSecret"],
        "decrypted with the master key"
    );
    let audit = app
        .get(
            "/rest/junction/1.0/audit?action=oauth2.client_credentials_viewed",
            &admin(),
        )
        .await;
    assert_eq!(audit.body["size"], 1);
    let r = app
        .call(
            Method::POST,
            &format!("/rest/oauth2/latest/client/reset/{id}"),
            &admin(),
            None,
        )
        .await;
    assert_ne!(r.body["clientSecret"], c["clientSecret"]);
    let old = app
        .token_endpoint(
            &c,
            &[("grant_type", "refresh_token"), ("refresh_token", "x")],
        )
        .await;
    assert_eq!(
        old.status,
        StatusCode::UNAUTHORIZED,
        "the old secret no longer works"
    );
    assert_eq!(
        app.delete(&format!("/rest/oauth2/latest/client/{id}"), &admin())
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&format!("/rest/oauth2/latest/client/{id}"), &admin())
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

async fn admins_see_and_revoke_a_clients_grants(app: TestApp) {
    setup(&app).await;
    let c = client(&app, "REPO_READ", true).await;
    let id = c["clientId"].as_str().unwrap().to_string();
    let b = browser(&app, "alice", "alice-password").await;
    let code = authorize(&app, &b, &id, "REPO_READ").await["code"].clone();
    let access = Auth::Bearer(
        exchange(&app, &c, &code).await.body["access_token"]
            .as_str()
            .unwrap()
            .into(),
    );
    app.get("/rest/api/1.0/projects/P/repos/r", &access).await;
    let r = app
        .get(&format!("/rest/oauth2/latest/client/{id}/grants"), &admin())
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body[0]["user"], "alice");
    assert_eq!(r.body[0]["scope"], "REPO_READ");
    assert!(r.body[0]["lastUsedDate"].is_i64(), "use is recorded");
    assert_eq!(
        app.delete(&format!("/rest/oauth2/latest/client/{id}/grants"), &admin())
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get("/rest/api/1.0/projects/P/repos/r", &access)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get(&format!("/rest/oauth2/latest/client/{id}/grants"), &admin())
            .await
            .body,
        json!([])
    );
}

async fn deleting_a_client_revokes_its_tokens(app: TestApp) {
    setup(&app).await;
    let c = client(&app, "REPO_READ", true).await;
    let b = browser(&app, "alice", "alice-password").await;
    let code =
        authorize(&app, &b, c["clientId"].as_str().unwrap(), "REPO_READ").await["code"].clone();
    let access = Auth::Bearer(
        exchange(&app, &c, &code).await.body["access_token"]
            .as_str()
            .unwrap()
            .into(),
    );
    assert_eq!(
        app.get("/rest/api/1.0/projects/P/repos/r", &access)
            .await
            .status,
        StatusCode::OK
    );
    app.delete(
        &format!(
            "/rest/oauth2/latest/client/{}",
            c["clientId"].as_str().unwrap()
        ),
        &admin(),
    )
    .await;
    assert_eq!(
        app.get("/rest/api/1.0/projects/P/repos/r", &access)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

async fn service_accounts_use_client_credentials_within_their_restriction(app: TestApp) {
    setup(&app).await;
    app.repo("P", "other", false).await;
    app.project("PUB", true).await;
    app.repo("PUB", "lib", true).await;
    let r = app
        .post(
            "/rest/junction/1.0/service-accounts",
            &admin(),
            json!({"name": "ci-bot", "scope": "REPO_WRITE", "repositories": ["P/r"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["restricted"], true);
    let c = r.body["client"].clone();
    app.grant("/rest/api/1.0/projects/P", "ci-bot", "PROJECT_WRITE")
        .await;
    let t = app
        .token_endpoint(&c, &[("grant_type", "client_credentials")])
        .await;
    assert_eq!(t.status, StatusCode::OK, "{}", t.text);
    assert_eq!(t.body["scope"], "REPO_WRITE");
    assert!(
        t.body.get("refresh_token").is_none(),
        "no refresh token for client credentials"
    );
    let bot = Auth::Bearer(t.body["access_token"].as_str().unwrap().into());
    let r = app.get("/rest/api/1.0/projects/P/repos/r", &bot).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("x-ausername"), Some("ci-bot"));
    assert_eq!(
        app.get("/rest/api/1.0/projects/P/repos/other", &bot)
            .await
            .status,
        StatusCode::NOT_FOUND,
        "granted, but outside the restriction"
    );
    assert_eq!(
        app.get("/rest/api/1.0/projects/PUB/repos/lib", &bot)
            .await
            .status,
        StatusCode::NOT_FOUND,
        "public, but outside the restriction"
    );
    assert_eq!(app.get("/rest/api/1.0/repos", &bot).await.body["size"], 1);
    let pr = app
        .post(
            "/rest/api/1.0/projects/P/repos/r/pull-requests",
            &bot,
            json!({"title": "bump", "fromRef": {"id": "bump"}, "toRef": {"id": "main"}}),
        )
        .await;
    assert_eq!(pr.status, StatusCode::CREATED);
    let merged = app
        .call(
            Method::POST,
            "/rest/api/1.0/projects/P/repos/r/pull-requests/1/merge?version=0",
            &bot,
            None,
        )
        .await;
    assert_eq!(
        merged.status,
        StatusCode::OK,
        "REPO_WRITE scope and PROJECT_WRITE permission"
    );
    // A narrower token on request.
    let t = app
        .token_endpoint(
            &c,
            &[("grant_type", "client_credentials"), ("scope", "REPO_READ")],
        )
        .await;
    let reader = Auth::Bearer(t.body["access_token"].as_str().unwrap().into());
    let pr = app
        .post(
            "/rest/api/1.0/projects/P/repos/r/pull-requests",
            &reader,
            json!({"title": "b2", "fromRef": {"id": "b2"}, "toRef": {"id": "main"}}),
        )
        .await;
    assert_eq!(
        app.call(
            Method::POST,
            &format!(
                "/rest/api/1.0/projects/P/repos/r/pull-requests/{}/merge",
                pr.body["id"]
            ),
            &reader,
            None
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let t = app
        .token_endpoint(
            &c,
            &[
                ("grant_type", "client_credentials"),
                ("scope", "PROJECT_ADMIN"),
            ],
        )
        .await;
    assert_eq!(t.body["error"], "invalid_scope");
    // Ordinary clients cannot use client credentials.
    let ordinary = client(&app, "REPO_READ", true).await;
    let t = app
        .token_endpoint(&ordinary, &[("grant_type", "client_credentials")])
        .await;
    assert_eq!(t.body["error"], "unauthorized_client");
    // The service account cannot sign in: it has no password.
    assert_eq!(
        app.get("/rest/api/1.0/users", &basic("ci-bot", "anything-1"))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let list = app
        .get("/rest/junction/1.0/service-accounts", &admin())
        .await;
    assert_eq!(list.body[0]["name"], "ci-bot");
    assert_eq!(
        app.delete("/rest/junction/1.0/service-accounts/ci-bot", &admin())
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get("/rest/api/1.0/projects/P/repos/r", &bot)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let r = app
        .post(
            "/rest/junction/1.0/service-accounts",
            &admin(),
            json!({"name": "x", "repositories": ["P/nope"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.context(), "repositories");
}

async fn public_repos_and_admin_scopes_give_no_more_than_the_user_has(app: TestApp) {
    setup(&app).await;
    app.project("PUB", true).await;
    let c = client(&app, "SYSTEM_ADMIN", true).await;
    let id = c["clientId"].as_str().unwrap().to_string();
    let b = browser(&app, "alice", "alice-password").await;
    // PUBLIC_REPOS: public repositories only, even those alice could read otherwise.
    let code = authorize(&app, &b, &id, "PUBLIC_REPOS").await["code"].clone();
    let public = Auth::Bearer(
        exchange(&app, &c, &code).await.body["access_token"]
            .as_str()
            .unwrap()
            .into(),
    );
    assert_eq!(
        app.get("/rest/api/1.0/projects/P/repos/open", &public)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/rest/api/1.0/projects/P/repos/r", &public)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let listed = app.get("/rest/api/1.0/repos", &public).await;
    assert_eq!(
        listed.body["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["slug"].clone())
            .collect::<Vec<_>>(),
        vec![json!("open")]
    );
    // ADMIN_WRITE and SYSTEM_ADMIN give nothing to a user who is not an administrator.
    let code = authorize(&app, &b, &id, "SYSTEM_ADMIN").await["code"].clone();
    let admin_scoped = Auth::Bearer(
        exchange(&app, &c, &code).await.body["access_token"]
            .as_str()
            .unwrap()
            .into(),
    );
    assert_eq!(
        app.get("/rest/api/1.0/admin/users", &admin_scoped)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post(
            "/rest/api/1.0/projects",
            &admin_scoped,
            json!({"key": "Z", "name": "Z"})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.put(
            "/rest/api/1.0/projects/P",
            &admin_scoped,
            json!({"description": "x"})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    // …but the same scope lets an administrator administer.
    let code = authorize(
        &app,
        &browser(&app, "admin", ADMIN_PASSWORD).await,
        &id,
        "SYSTEM_ADMIN",
    )
    .await["code"]
        .clone();
    let admins = Auth::Bearer(
        exchange(&app, &c, &code).await.body["access_token"]
            .as_str()
            .unwrap()
            .into(),
    );
    assert_eq!(
        app.get("/rest/api/1.0/admin/users", &admins).await.status,
        StatusCode::OK
    );
}

async fn public_clients_use_pkce_instead_of_a_secret(app: TestApp) {
    setup(&app).await;
    let c = client(&app, "REPO_READ", false).await;
    let id = c["clientId"].as_str().unwrap().to_string();
    let b = browser(&app, "alice", "alice-password").await;
    let url = format!("{}/rest/oauth2/latest/token", app.base);
    let code = authorize(&app, &b, &id, "REPO_READ").await["code"].clone();
    let r = TestApp::read(
        app.client
            .post(&url)
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", id.as_str()),
                ("code", code.as_str()),
                ("redirect_uri", REDIRECT),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.body["error"], "invalid_grant", "no verifier");
    let code = authorize(&app, &b, &id, "REPO_READ").await["code"].clone();
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", id.as_str()),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let r = TestApp::read(app.client.post(&url).form(&form).send().await.unwrap()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = TestApp::read(
        app.client
            .post(&url)
            .form(&[
                ("grant_type", "refresh_token"),
                ("client_id", id.as_str()),
                ("client_secret", "made-up"),
                ("refresh_token", "x"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        r.body["error"], "invalid_client",
        "a public client has no secret to send"
    );
}

/// Tokens issued together are written together (group commit); each must be stored and work.
async fn concurrent_token_requests_each_get_a_stored_token(app: TestApp) {
    setup(&app).await;
    let r = app
        .post(
            "/rest/junction/1.0/service-accounts",
            &admin(),
            json!({"name": "burst", "scope": "REPO_READ"}),
        )
        .await;
    let c = r.body["client"].clone();
    app.grant("/rest/api/1.0/projects/P", "burst", "PROJECT_READ")
        .await;
    let requests: Vec<_> = (0..24)
        .map(|_| app.token_endpoint(&c, &[("grant_type", "client_credentials")]))
        .collect();
    let mut tokens = Vec::new();
    for r in join_all(requests).await {
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        tokens.push(r.body["access_token"].as_str().unwrap().to_string());
    }
    let distinct: std::collections::HashSet<_> = tokens.iter().collect();
    assert_eq!(distinct.len(), 24);
    for t in tokens {
        assert_eq!(
            app.get("/rest/api/1.0/projects/P/repos/r", &Auth::Bearer(t))
                .await
                .status,
            StatusCode::OK
        );
    }
}

async fn metadata_is_published_twice(app: TestApp) {
    for path in [
        "/.well-known/oauth-authorization-server",
        "/rest/oauth2/latest/.well-known/oauth-authorization-server",
    ] {
        let r = app.get(path, &Auth::None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["issuer"], app.base);
        assert_eq!(
            r.body["token_endpoint"],
            format!("{}/rest/oauth2/latest/token", app.base)
        );
        assert_eq!(r.body["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(
            r.body["authorization_response_iss_parameter_supported"],
            true
        );
    }
}

crate::both_backends!(
    code_flow_with_pkce_caps_scope_and_rotates_refresh,
    a_replayed_code_revokes_its_tokens,
    codes_are_bound_to_verifier_redirect_and_time,
    token_endpoint_errors_follow_rfc6749,
    authorize_errors_redirect_only_to_registered_uris,
    consent_is_remembered_and_revocable,
    clients_are_managed_by_admins,
    deleting_a_client_revokes_its_tokens,
    admins_see_and_revoke_a_clients_grants,
    metadata_is_published_twice,
    service_accounts_use_client_credentials_within_their_restriction,
    public_repos_and_admin_scopes_give_no_more_than_the_user_has,
    public_clients_use_pkce_instead_of_a_secret,
    concurrent_token_requests_each_get_a_stored_token,
);
