//! Redirect targets taken from a request stay on Junction's origin, resolved as a browser
//! resolves them; control characters are a 400, never a 500 or a header.

use crate::harness::*;
use reqwest::StatusCode;

async fn login_get(app: &TestApp, next: &str) -> reqwest::Response {
    // Signed in (Basic), so the sign-in page sends the browser straight to `next`.
    app.client
        .get(format!("{}/login?next={next}", app.base))
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap()
}

async fn next_stays_on_this_origin(app: TestApp) {
    for (next, location) in [
        ("%2Fprojects%2FP%3Fa%3Db", "/projects/P?a=b"),
        ("%2F%2Fevil.example", "/"),
        ("%2F%5Cevil.example", "/"),
        ("https%3A%2F%2Fevil.example%2F", "/"),
        ("javascript%3Aalert(1)", "/"),
        (
            &format!(
                "{}%2Faccount",
                app.base.replace(':', "%3A").replace('/', "%2F")
            ),
            "/account",
        ),
    ] {
        let r = login_get(&app, next).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{next}");
        assert_eq!(r.headers()["location"], location, "{next}");
    }
}

async fn control_characters_in_next_are_a_400(app: TestApp) {
    for next in [
        "%2F%09%2Fevil.example",
        "/%0A/x",
        "/%0D%0ASet-Cookie:%20a=b",
    ] {
        let r = login_get(&app, next).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{next}");
        assert!(r.headers().get("location").is_none());
        assert!(r.headers().get("set-cookie").is_none());
        let html = r.text().await.unwrap();
        assert!(html.contains("contains control characters"), "{html}");
    }
    // The same through the sign-in form: nobody is signed in and no session is made.
    let (b, csrf) = sign_in_form(&app).await;
    let csrf = csrf.as_str();
    let r = b
        .post(format!("{}/login", app.base))
        .form(&[
            ("csrf", csrf),
            ("next", "/\t/evil.example"),
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.headers().get("location").is_none());
    let r = b.get(format!("{}/account", app.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "not signed in");
}

crate::both_backends!(
    next_stays_on_this_origin,
    control_characters_in_next_are_a_400
);
