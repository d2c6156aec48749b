//! An installed app calling Junction with JWTs: both claim shapes, `Authorization: JWT` and
//! `?jwt=`, each refused token saying which check failed, the installation as a principal (its
//! account's reach, capped by its scopes, a call beyond them naming the scope), and the app
//! updating or removing itself through `/2.0/addon`; removing and disabling from the page.

use crate::both_backends;
use crate::connect_app::*;
use crate::harness::{admin, TestApp};
use junction::domain::connect_jwt;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// `name` with an app installed in their account, and the `installed` body it received.
async fn installed(app: &TestApp, name: &str, scopes: Value) -> (FakeApp, Value, reqwest::Client) {
    let fake = FakeApp::start(scopes).await;
    let b = person(app, name).await;
    development_mode(app, &b).await;
    assert_eq!(
        install(app, &b, &fake, name).await.status(),
        StatusCode::SEE_OTHER
    );
    let body = fake.installed();
    (fake, body, b)
}

async fn both_claim_shapes_act_as_the_account_installed_into(app: TestApp) {
    let (_, body, _) = installed(&app, "nia", json!(["account"])).await;
    for python in [false, true] {
        let t = app_token(&app, &body, "GET", "/2.0/user", "", python);
        let (status, user) = as_app(&app, &t, Method::GET, "/2.0/user").await;
        assert_eq!(status, StatusCode::OK, "{user}");
        assert_eq!(user["type"], "user");
        assert_eq!(user["username"], "nia");
        assert_eq!(user["uuid"], body["principal"]["uuid"]);
    }
    // The token in the query, as iframes and ACE's GETs send it.
    let t = app_token(&app, &body, "GET", "/2.0/user", "", false);
    let r = app
        .client
        .get(format!("{}/2.0/user?jwt={t}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

async fn each_refused_token_says_which_check_failed(app: TestApp) {
    let (_, body, _) = installed(&app, "oli", json!(["account"])).await;
    let refused = |t: String| {
        let app = &app;
        async move {
            let (status, e) = as_app(app, &t, Method::GET, "/2.0/user").await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{e}");
            assert_eq!(e["type"], "error");
            e["error"]["message"].as_str().unwrap().to_string()
        }
    };
    let wrong_path = app_token(&app, &body, "GET", "/2.0/users/oli", "", false);
    assert_eq!(
        refused(wrong_path).await,
        "The JWT's qsh does not match this request. Junction's canonical request is \"GET&/2.0/user&\"."
    );
    let now = junction::clock::Clock::now_ms(&app.clock) / 1000;
    let ck = body["clientKey"].as_str().unwrap();
    let secret = body["sharedSecret"].as_str().unwrap().as_bytes();
    let qsh = junction::domain::connect_qsh::qsh("GET", "/2.0/user", "", "");
    let expired = connect_jwt::sign(
        &json!({"iss": ck, "iat": now - 600, "exp": now - 300, "qsh": qsh}),
        secret,
    );
    assert!(refused(expired).await.starts_with("The JWT expired at"));
    let wrong_secret = connect_jwt::sign(
        &json!({"iss": ck, "iat": now, "exp": now + 60, "qsh": qsh}),
        b"not the secret",
    );
    assert_eq!(
        refused(wrong_secret).await,
        "The JWT's signature does not match the installation's shared secret."
    );
    let unknown = connect_jwt::sign(
        &json!({"iss": "nobody", "iat": now, "exp": now + 60, "qsh": qsh}),
        secret,
    );
    assert!(refused(unknown)
        .await
        .starts_with("No app installation has the clientKey"));
    use base64::Engine;
    let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let none = format!(
        "{}.{}.",
        b64(json!({"alg": "none"})),
        b64(json!({"iss": ck, "exp": now + 60, "qsh": qsh}))
    );
    assert!(refused(none).await.contains("signed with none; only HS256"));
    let context = connect_jwt::sign(
        &json!({"iss": ck, "iat": now, "exp": now + 60, "qsh": "context-qsh"}),
        secret,
    );
    assert_eq!(
        refused(context).await,
        "This resource does not accept context tokens (qsh \"context-qsh\")."
    );
}

async fn an_app_reaches_what_its_account_reaches_within_its_scopes(app: TestApp) {
    let (_, body, _) = installed(&app, "pat", json!(["repository"])).await;
    app.project("PRJ", false).await;
    app.repo("PRJ", "code", false).await;
    app.repo("PRJ", "hidden", false).await;
    app.grant("/rest/api/1.0/projects/PRJ/repos/code", "pat", "REPO_READ")
        .await;
    let get = |path: &'static str| {
        let app = &app;
        let body = body.clone();
        async move {
            let t = app_token(app, &body, "GET", path, "", false);
            as_app(app, &t, Method::GET, path).await
        }
    };
    let (status, repo) = get("/2.0/repositories/prj/code").await;
    assert_eq!(status, StatusCode::OK, "{repo}");
    assert_eq!(repo["full_name"], "prj/code");
    assert_eq!(repo["workspace"]["slug"], "prj");
    assert_eq!(repo["type"], "repository");
    let (status, e) = get("/2.0/repositories/prj/hidden").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{e}");
    // `repository` alone does not read the account: the refusal names the scope.
    let (status, e) = get("/2.0/user").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{e}");
    assert_eq!(e["error"]["detail"]["required"], json!(["account"]));
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("needs the account scope"));
    let (status, list) = get("/2.0/repositories/prj").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let names: Vec<&str> = list["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["slug"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["code"]);
    assert_eq!(list["page"], 1);
    assert_eq!(list["pagelen"], 10);
}

async fn writing_beyond_the_scopes_is_refused_naming_the_scope(app: TestApp) {
    let (_, body, _) = installed(&app, "quin", json!(["pullrequest"])).await;
    app.project("PRJ", false).await;
    app.repo("PRJ", "code", false).await;
    app.grant(
        "/rest/api/1.0/projects/PRJ/repos/code",
        "quin",
        "REPO_WRITE",
    )
    .await;
    app.branches("PRJ", "code", &["main", "feature"]).await;
    let pr = app
        .post(
            "/rest/api/1.0/projects/PRJ/repos/code/pull-requests",
            &admin(),
            json!({"title": "T", "fromRef": {"id": "feature"}, "toRef": {"id": "main"}}),
        )
        .await;
    assert_eq!(pr.status, StatusCode::CREATED, "{}", pr.text);
    let path = "/2.0/repositories/PRJ/code/pullrequests";
    let t = app_token(&app, &body, "GET", path, "", false);
    let (status, list) = as_app(&app, &t, Method::GET, path).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["size"], 1);
    assert_eq!(list["values"][0]["type"], "pullrequest");
    assert_eq!(list["values"][0]["source"]["branch"]["name"], "feature");
    let merge = "/2.0/repositories/PRJ/code/pullrequests/1/merge";
    let t = app_token(&app, &body, "POST", merge, "", false);
    let (status, e) = as_app(&app, &t, Method::POST, merge).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{e}");
    assert_eq!(
        e["error"]["detail"]["required"],
        json!(["repository:write"])
    );
}

async fn removing_tells_the_app_and_its_tokens_stop_working(app: TestApp) {
    let (fake, body, b) = installed(&app, "rae", json!(["account"])).await;
    let id = installation_of(&app, body["clientKey"].as_str().unwrap())
        .await
        .id;
    let path = format!("/account/apps/{id}/disable");
    let r = post_form(&app, &b, "/account/apps", &path, &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(fake.lifecycle().last().unwrap().path, "/disabled");
    let t = app_token(&app, &body, "GET", "/2.0/user", "", false);
    let (status, e) = as_app(&app, &t, Method::GET, "/2.0/user").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .ends_with("is disabled; an administrator of its account can enable it again."));
    // Remove asks first, then tells the app, signed with its secret.
    let remove = format!("/account/apps/{id}/remove");
    let r = post_form(&app, &b, "/account/apps", &remove, &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("Remove this app?"));
    let r = post_form(&app, &b, "/account/apps", &remove, &[("confirm", "yes")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let gone = fake.lifecycle().last().unwrap().clone();
    assert_eq!(gone.path, "/uninstalled");
    assert!(gone.header("authorization").starts_with("JWT "));
    assert_eq!(gone.json()["eventType"], "uninstalled");
    assert!(gone.json().get("sharedSecret").is_none());
    let (_, html) = page(&app, &b, "/account/apps").await;
    assert!(html.contains("No app is installed."), "{html}");
}

async fn the_app_updates_itself_but_may_not_widen_its_scopes(app: TestApp) {
    let (_, body, _) = installed(&app, "sam", json!(["account", "repository"])).await;
    let call = |m: Method, b: Value| {
        let app = &app;
        let body = body.clone();
        async move {
            let t = app_token(app, &body, m.as_str(), "/2.0/addon", "", false);
            let r = app
                .client
                .request(m, format!("{}/2.0/addon", app.base))
                .header("authorization", format!("JWT {t}"))
                .json(&b)
                .send()
                .await
                .unwrap();
            let status = r.status();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let mut d = serde_json::from_str::<Value>(
        &installation_of(&app, body["clientKey"].as_str().unwrap())
            .await
            .descriptor,
    )
    .unwrap();
    d["scopes"] = json!(["account", "repository:write"]);
    let (status, e) = call(Method::PUT, json!({"descriptor": d})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("would add: repository:write"),
        "{e}"
    );
    d["scopes"] = json!([]);
    let (status, e) = call(Method::PUT, json!({"descriptor": d})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    d["scopes"] = json!(["account"]);
    let (status, e) = call(Method::PUT, json!({"descriptor": d})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{e}");
    let row = installation_of(&app, body["clientKey"].as_str().unwrap()).await;
    assert_eq!(row.scopes, "account");
    let (status, _) = call(Method::DELETE, Value::Null).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let t = app_token(&app, &body, "GET", "/2.0/user", "", false);
    assert_eq!(
        as_app(&app, &t, Method::GET, "/2.0/user").await.0,
        StatusCode::UNAUTHORIZED
    );
}

async fn people_call_the_cloud_api_with_their_own_credentials(app: TestApp) {
    let (token, _) = app.token(&app.user("tia").await, "read").await;
    let r = app.get("/2.0/user", &token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["username"], "tia");
    let r = app.put("/2.0/addon", &token, json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["error"]["code"], "APP_CREDENTIAL_REQUIRED");
    let r = app.get("/2.0/repositories/nope/x?pagelen=0", &token).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    assert_eq!(r.body["type"], "error");
}

async fn a_jwt_is_exchanged_for_an_access_token_acting_as_the_installation(app: TestApp) {
    let (_, body, b) = installed(&app, "uli", json!(["account"])).await;
    let path = "/site/oauth2/access_token";
    let t = app_token(&app, &body, "POST", path, "", false);
    let r = app
        .client
        .post(format!("{}{path}", app.base))
        .header("authorization", format!("JWT {t}"))
        .form(&[("grant_type", "urn:bitbucket:oauth2:jwt")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let grant: Value = r.json().await.unwrap();
    assert_eq!(grant["token_type"], "bearer");
    assert_eq!(grant["expires_in"], 3600);
    assert_eq!(grant["scopes"], "account");
    let token = grant["access_token"].as_str().unwrap();
    assert!(token.starts_with("jct_apt_"));
    let bearer = crate::harness::Auth::Bearer(token.to_string());
    let me = app.get("/2.0/user", &bearer).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    assert_eq!(me.body["username"], "uli");
    // Within the installation's scopes only (`uli` may read the repository; the app may not),
    // and never a credential-making one.
    app.project("PRJ", false).await;
    app.repo("PRJ", "code", false).await;
    app.grant("/rest/api/1.0/projects/PRJ/repos/code", "uli", "REPO_READ")
        .await;
    let r = app.get("/2.0/repositories/prj/code", &bearer).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(r.body["error"]["detail"]["required"], json!(["repository"]));
    let r = app
        .put(
            "/rest/access-tokens/1.0/users/uli",
            &bearer,
            json!({"name": "x", "permission": "read"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    // Another grant type, or no JWT, is refused in OAuth's words.
    let r = app
        .client
        .post(format!("{}{path}", app.base))
        .header(
            "authorization",
            format!("JWT {}", app_token(&app, &body, "POST", path, "", false)),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "unsupported_grant_type"
    );
    // Disabling the app ends its tokens at once.
    let id = installation_of(&app, body["clientKey"].as_str().unwrap())
        .await
        .id;
    let r = post_form(
        &app,
        &b,
        "/account/apps",
        &format!("/account/apps/{id}/disable"),
        &[],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.get("/2.0/user", &bearer).await.status,
        StatusCode::UNAUTHORIZED
    );
}

async fn the_app_refetches_its_descriptor_or_takes_a_new_url(app: TestApp) {
    let (fake, body, _) = installed(&app, "vera", json!(["account", "repository"])).await;
    let put = |b: Value| {
        let app = &app;
        let body = body.clone();
        async move {
            let t = app_token(app, &body, "PUT", "/2.0/addon", "", false);
            app.client
                .put(format!("{}/2.0/addon", app.base))
                .header("authorization", format!("JWT {t}"))
                .json(&b)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let ck = body["clientKey"].as_str().unwrap().to_string();
    // `{}`: the descriptor URL it was installed from, fetched again.
    fake.edit(|d| d["scopes"] = json!(["account"]));
    assert_eq!(put(json!({})).await, StatusCode::NO_CONTENT);
    assert_eq!(installation_of(&app, &ck).await.scopes, "account");
    // `descriptor_url`: another URL of the same app; a different app's key is refused.
    let other = FakeApp::start(json!(["account"])).await;
    assert_eq!(
        put(json!({"descriptor_url": other.descriptor_url()})).await,
        StatusCode::NO_CONTENT
    );
    other.edit(|d| d["key"] = json!("com.example.other"));
    assert_eq!(
        put(json!({"descriptor_url": other.descriptor_url()})).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        put(json!({"descriptor": {}, "descriptor_url": "x"})).await,
        StatusCode::BAD_REQUEST
    );
}

async fn an_app_with_write_scope_merges_as_its_account(app: TestApp) {
    let (_, body, _) = installed(&app, "xan", json!(["pullrequest:write"])).await;
    app.project("PRJ", false).await;
    app.repo("PRJ", "code", false).await;
    app.grant("/rest/api/1.0/projects/PRJ/repos/code", "xan", "REPO_WRITE")
        .await;
    app.branches("PRJ", "code", &["main", "feature"]).await;
    let create = "/2.0/repositories/prj/code/pullrequests";
    let t = app_token(&app, &body, "POST", create, "", false);
    let r = app
        .client
        .post(format!("{}{create}", app.base))
        .header("authorization", format!("JWT {t}"))
        .json(&json!({"title": "By the app", "source": {"branch": {"name": "feature"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let merge = "/2.0/repositories/prj/code/pullrequests/1/merge";
    let t = app_token(&app, &body, "POST", merge, "", false);
    let (status, pr) = as_app(&app, &t, Method::POST, merge).await;
    assert_eq!(status, StatusCode::OK, "{pr}");
    assert_eq!(pr["state"], "MERGED");
    assert_eq!(pr["author"]["nickname"], "xan");
}

both_backends!(
    spawn_linkable;
    both_claim_shapes_act_as_the_account_installed_into,
    each_refused_token_says_which_check_failed,
    an_app_reaches_what_its_account_reaches_within_its_scopes,
    writing_beyond_the_scopes_is_refused_naming_the_scope,
    removing_tells_the_app_and_its_tokens_stop_working,
    the_app_updates_itself_but_may_not_widen_its_scopes,
    people_call_the_cloud_api_with_their_own_credentials,
    a_jwt_is_exchanged_for_an_access_token_acting_as_the_installation,
    the_app_refetches_its_descriptor_or_takes_a_new_url,
    an_app_with_write_scope_merges_as_its_account,
);
