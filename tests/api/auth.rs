use crate::harness::*;
use reqwest::StatusCode;
use serde_json::json;

async fn anonymous_gets_401_with_a_challenge(app: TestApp) {
    app.project("PRIV", false).await;
    let r = app.get("/rest/api/1.0/projects/PRIV", &Auth::None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.header("www-authenticate"),
        Some("Basic realm=\"Junction\"")
    );
    assert_eq!(
        r.exception(),
        "com.atlassian.bitbucket.AuthorisationException"
    );
    assert!(r.header("x-ausername").is_none());
}

async fn every_authenticated_response_names_the_user(app: TestApp) {
    let r = app.get("/rest/api/1.0/projects", &admin()).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("x-ausername"), Some("admin"));
    let (token, _) = app.token(&admin(), "read").await;
    let r = app.get("/rest/api/1.0/projects", &token).await;
    assert_eq!(r.header("x-ausername"), Some("admin"));
}

async fn wrong_credentials_are_refused(app: TestApp) {
    for auth in [
        basic("admin", "wrong-password"),
        basic("nobody", "whatever-1"),
        Auth::Bearer("jct_pat_nope".into()),
    ] {
        let r = app.get("/rest/api/1.0/projects", &auth).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(
            r.exception(),
            "com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException"
        );
    }
    for bearer in ["jct_oat_nope", "jct_pat_nope"] {
        let r = app
            .get("/rest/api/1.0/projects", &Auth::Bearer(bearer.into()))
            .await;
        assert_eq!(
            r.header("www-authenticate"),
            Some("Bearer realm=\"Junction\", error=\"invalid_token\""),
            "RFC 6750 challenge for a refused bearer token"
        );
    }
    let r = app
        .get("/rest/api/1.0/projects", &basic("admin", "wrong-password"))
        .await;
    assert_eq!(
        r.header("www-authenticate"),
        Some("Basic realm=\"Junction\"")
    );
    let r = app
        .client
        .get(format!("{}/rest/api/1.0/projects", app.base))
        .header("authorization", "Digest x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

async fn repeated_failures_are_throttled_then_released(app: TestApp) {
    let alice = app.user("alice").await;
    for _ in 0..5 {
        let r = app
            .get(
                "/rest/api/1.0/users/alice",
                &basic("alice", "not-her-password"),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    // Even the right password is refused while the window lasts.
    let r = app.get("/rest/api/1.0/users/alice", &alice).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        r.exception(),
        "com.atlassian.bitbucket.auth.TooManyFailedLoginAttemptsException"
    );
    app.clock.advance_ms(15 * 60_000 + 1);
    let r = app.get("/rest/api/1.0/users/alice", &alice).await;
    assert_eq!(r.status, StatusCode::OK);
    // The failures are in the audit log.
    let r = app
        .get(
            "/rest/junction/1.0/audit?action=auth.sign_in_failed",
            &admin(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["size"], json!(5));
    assert_eq!(r.body["values"][0]["target"], json!("user:alice"));
}

async fn basic_auth_accepts_a_token_as_password(app: TestApp) {
    let (token, _) = app.token(&admin(), "read").await;
    let Auth::Bearer(secret) = token else {
        unreachable!()
    };
    let r = app
        .get("/rest/api/1.0/projects", &basic("admin", &secret))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // The token names its owner, so the username with it does not matter (git and other
    // Basic-only clients often send a fixed one); the request is still the owner's.
    app.user("bob").await;
    for name in ["bob", "x-token-auth", "anything"] {
        let r = app
            .get("/rest/api/1.0/projects", &basic(name, &secret))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{name}");
        assert_eq!(r.header("x-ausername"), Some("admin"), "{name}");
    }
}

async fn basic_auth_accepts_an_oauth_token_with_x_token_auth_or_its_owner(app: TestApp) {
    app.user("alice").await;
    let Auth::Bearer(token) = app.oauth_token("alice", "PUBLIC_REPOS").await else {
        unreachable!()
    };
    for name in ["x-token-auth", "alice", "ALICE"] {
        let r = app
            .get("/rest/api/1.0/projects", &basic(name, &token))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.text);
        assert_eq!(r.header("x-ausername"), Some("alice"), "{name}");
    }
    // Someone else's name with it is a mistake worth refusing: the token is not theirs.
    app.user("bob").await;
    let r = app
        .get("/rest/api/1.0/projects", &basic("bob", &token))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
}

crate::both_backends!(
    anonymous_gets_401_with_a_challenge,
    every_authenticated_response_names_the_user,
    wrong_credentials_are_refused,
    repeated_failures_are_throttled_then_released,
    basic_auth_accepts_a_token_as_password,
    basic_auth_accepts_an_oauth_token_with_x_token_auth_or_its_owner,
);
