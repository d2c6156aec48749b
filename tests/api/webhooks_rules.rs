//! Webhook rules that need no receiver: bad input, permissions, and the outbox's promise that
//! only committed changes have events.

use crate::harness::{admin, Auth, TestApp};
use crate::webhooks::{hook, pr, setup, HOOKS, PROJECT_HOOKS};
use reqwest::StatusCode;
use serde_json::json;

const PRS: &str = "/rest/api/1.0/projects/P/repos/r/pull-requests";

async fn bad_input_and_permissions(app: TestApp) {
    setup(&app).await;
    let alice = app.user("alice").await;
    app.grant("/rest/api/1.0/projects/P/repos/r", "alice", "REPO_WRITE")
        .await;
    let r = app.get(HOOKS, &alice).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = app
        .post(
            PROJECT_HOOKS,
            &alice,
            json!({"name": "x", "url": "https://example.com/", "events": ["*"]}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "alice sees the project, not its settings: {}",
        r.text
    );
    assert_eq!(r.message(), "You need admin permission on this project.");
    let r = app.get(HOOKS, &Auth::None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    let cases = [
        (
            json!({"url": "https://example.com/", "events": ["*"]}),
            "name",
            "A webhook needs a name.",
        ),
        (
            json!({"name": "n", "events": ["*"]}),
            "url",
            "A webhook needs a URL",
        ),
        (
            json!({"name": "n", "url": "ftp://example.com/", "events": ["*"]}),
            "url",
            "must start with http:// or https://",
        ),
        (
            json!({"name": "n", "url": "http://127.0.0.1:9/", "events": ["*"]}),
            "url",
            "private or special-purpose address",
        ),
        (
            json!({"name": "n", "url": "http://169.254.169.254/latest", "events": ["*"]}),
            "url",
            "private or special-purpose address",
        ),
        (
            json!({"name": "n", "url": "https://user:pw@example.com/", "events": ["*"]}),
            "url",
            "user name or password",
        ),
        (
            json!({"name": "n", "url": "https://example.com/"}),
            "events",
            "List the events",
        ),
        (
            json!({"name": "n", "url": "https://example.com/", "events": ["repo:fork"]}),
            "events",
            "'repo:fork' is not an event Junction sends",
        ),
        (
            json!({"name": "n", "url": "https://example.com/", "events": ["*", "repo:created"]}),
            "events",
            "list it alone",
        ),
        (
            json!({"name": "n", "url": "https://example.com/", "events": ["*"], "configuration": {"secret": "x".repeat(300)}}),
            "configuration.secret",
            "at most 256",
        ),
    ];
    for (body, field, message) in cases {
        let r = app.post(HOOKS, &admin(), body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.text);
        assert_eq!(r.context(), field, "{body}: {}", r.text);
        assert!(r.message().contains(message), "{body}: {}", r.text);
    }
    let r = app.post(HOOKS, &admin(), json!({"name": 5})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.get(HOOKS, &admin()).await.body["size"],
        0,
        "nothing was created"
    );

    // A hook of another repository is not found through this one.
    app.repo("P", "other", false).await;
    let other = hook(
        &app,
        "/rest/api/1.0/projects/P/repos/other/webhooks",
        "https://example.com/",
        json!(["*"]),
        None,
    )
    .await;
    let r = app.get(&format!("{HOOKS}/{}", other["id"]), &admin()).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.get(&format!("{HOOKS}/abc"), &admin()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // Edit: keep what is not given; remove the secret with null; delete.
    let h = hook(
        &app,
        HOOKS,
        "https://example.com/a",
        json!(["repo:created"]),
        Some("s"),
    )
    .await;
    let r = app
        .put(
            &format!("{HOOKS}/{}", h["id"]),
            &admin(),
            json!({"url": "https://example.com/b"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["url"], "https://example.com/b");
    assert_eq!(r.body["events"], json!(["repo:created"]));
    assert_eq!(r.body["hasSecret"], true);
    let r = app
        .put(
            &format!("{HOOKS}/{}", h["id"]),
            &admin(),
            json!({"configuration": {"secret": null}, "active": false}),
        )
        .await;
    assert_eq!(r.body["hasSecret"], false);
    assert_eq!(r.body["status"], "inactive");
    let r = app.delete(&format!("{HOOKS}/{}", h["id"]), &admin()).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app.get(&format!("{HOOKS}/{}", h["id"]), &admin()).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn only_committed_changes_have_events(app: TestApp) {
    setup(&app).await;
    let repo = app.store.find_repository("P", "r").await.unwrap().unwrap();
    let events = || async { app.store.events_of_repository(repo.id).await.unwrap().len() };
    let n = events().await;
    // A duplicate repository is refused: nothing written, no event.
    let r = app
        .post(
            "/rest/api/1.0/projects/P/repos",
            &admin(),
            json!({"name": "r"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // A pull request edit at an old version is refused: no event.
    let r = app.post(PRS, &admin(), pr("f")).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = app
        .put(
            &format!("{PRS}/1"),
            &admin(),
            json!({"title": "t", "version": 7}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    // A second open pull request between the same branches rolls back mid-transaction.
    let r = app.post(PRS, &admin(), pr("f")).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(
        events().await,
        n + 1,
        "only the first pull request has an event"
    );
}

crate::both_backends!(
    bad_input_and_permissions,
    only_committed_changes_have_events
);
