use crate::harness::*;
use reqwest::StatusCode;
use serde_json::json;

async fn liveness_and_readiness(app: TestApp) {
    let r = app.get("/health", &Auth::None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, json!({"status": "ok"}));
    let r = app.get("/health/ready", &Auth::None).await;
    assert_eq!(r.status, StatusCode::OK);
    let db = if app.backend == Backend::Sqlite {
        "sqlite"
    } else {
        "postgres"
    };
    assert_eq!(r.body, json!({"status": "ready", "database": db}));
}

/// `Date` is Junction's clock (peers measure clock skew from it), not the operating system's.
async fn date_header_comes_from_the_clock(app: TestApp) {
    let r = app.get("/health", &Auth::None).await;
    assert_eq!(r.header("date"), Some("Fri, 15 Jan 2027 08:00:00 GMT"));
    app.clock.advance_ms(61_500);
    let r = app.get("/rest/api/1.0/projects/NONE", &Auth::None).await;
    assert_eq!(r.header("date"), Some("Fri, 15 Jan 2027 08:01:01 GMT"));
}

async fn security_headers_and_request_ids(app: TestApp) {
    let r = app.get("/health", &Auth::None).await;
    assert_eq!(r.header("x-frame-options"), Some("DENY"));
    assert!(r
        .header("content-security-policy")
        .unwrap()
        .contains("frame-ancestors 'none'"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("x-request-id").map(str::len), Some(16));
    let r = app
        .client
        .get(format!("{}/health", app.base))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "abc-123");
}

async fn unknown_path_is_a_json_404(app: TestApp) {
    let r = app.get("/rest/api/1.0/nothing-here", &admin()).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.exception(),
        "com.atlassian.bitbucket.rest.ResourceNotFoundException"
    );
}

crate::both_backends!(
    liveness_and_readiness,
    date_header_comes_from_the_clock,
    security_headers_and_request_ids,
    unknown_path_is_a_json_404
);
