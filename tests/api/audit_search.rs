//! The audit log narrowed by action (or its family), who acted and a time window — the same
//! search on the REST resource and on the administrator's page, which keeps the filters when
//! paging and says when a time is no time.

use crate::harness::{admin, TestApp};
use reqwest::StatusCode;
use serde_json::Value;

fn actions(v: &Value) -> Vec<String> {
    v["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

async fn the_log_is_filtered_by_family_actor_and_time(app: TestApp) {
    app.user("alice").await;
    app.project("PRJ", false).await;
    let now = junction::clock::Clock::now_ms(&app.clock);
    let r = app
        .get("/rest/junction/1.0/audit?action=user", &admin())
        .await;
    assert_eq!(actions(&r.body), ["user.created"]);
    let r = app
        .get(
            "/rest/junction/1.0/audit?actor=admin&action=project.created",
            &admin(),
        )
        .await;
    assert_eq!(actions(&r.body), ["project.created"]);
    let r = app
        .get("/rest/junction/1.0/audit?actor=nobody", &admin())
        .await;
    assert_eq!(r.body["size"], 0);
    let r = app
        .get(
            &format!("/rest/junction/1.0/audit?from={}", now + 60_000),
            &admin(),
        )
        .await;
    assert_eq!(r.body["size"], 0);
    let r = app
        .get(
            &format!(
                "/rest/junction/1.0/audit?until={}&action=project",
                now + 60_000
            ),
            &admin(),
        )
        .await;
    assert_eq!(actions(&r.body), ["project.created"]);
    let r = app
        .get("/rest/junction/1.0/audit?from=yesterday", &admin())
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.context(), "from");
}

async fn the_page_filters_and_keeps_its_filters_when_paging(app: TestApp) {
    for i in 0..55 {
        app.user(&format!("user{i:02}")).await;
    }
    let b = crate::oauth2::browser(&app, "admin", crate::harness::ADMIN_PASSWORD).await;
    let (status, html) = crate::connect_app::page(
        &app,
        &b,
        "/admin/audit?action=user.created&from=2000-01-01T00:00",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(html.matches("<code>user.created</code>").count(), 50);
    assert!(
        html.contains(
            r#"<a href="?action=user.created&amp;from=2000-01-01T00%3A00&amp;start=50">Older</a>"#
        ),
        "{html}"
    );
    let (_, html) = crate::connect_app::page(&app, &b, "/admin/audit?from=soon").await;
    assert!(html.contains("id=\"filter-error\""), "{html}");
    assert!(html.contains("&#x27;soon&#x27; is not a time"), "{html}");
}

crate::both_backends!(
    the_log_is_filtered_by_family_actor_and_time,
    the_page_filters_and_keeps_its_filters_when_paging,
);
