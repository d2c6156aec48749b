//! What every page leans on: the icon, the side menu's "you are here" script (same origin, so
//! the pages' Content-Security-Policy allows it), and a delivery's page putting the outcome
//! before the payload, which it folds away.

use crate::harness::TestApp;
use reqwest::StatusCode;

async fn the_icon_and_the_menu_script_are_served(app: TestApp) {
    for (path, content_type) in [
        ("/static/favicon.svg", "image/svg+xml"),
        ("/favicon.ico", "image/svg+xml"),
        ("/static/nav.js", "text/javascript; charset=utf-8"),
    ] {
        let r = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(r.headers()["content-type"], content_type, "{path}");
    }
    let b = crate::oauth2::browser(&app, "admin", crate::harness::ADMIN_PASSWORD).await;
    let (_, html) = crate::connect_app::page(&app, &b, "/admin/users").await;
    assert!(html.contains(r#"<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">"#));
    assert!(html.contains(r#"<script src="/static/nav.js" defer></script>"#));
}

crate::both_backends!(the_icon_and_the_menu_script_are_served);
