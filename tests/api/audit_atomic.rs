//! A change and its audit row commit together or not at all: with the audit log refusing
//! inserts (a trigger, added through a connection of the test's own), the change is refused too
//! and nothing of it is stored.

use crate::harness::*;
use reqwest::StatusCode;
use serde_json::json;

/// Makes every insert into `audit_log` fail, as a full disk or a lost connection would.
async fn refuse_audit_rows(app: &TestApp) {
    if app.backend == Backend::Sqlite {
        let pool = sqlx::SqlitePool::connect(&app.database_url).await.unwrap();
        sqlx::query(
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log
             BEGIN SELECT RAISE(ABORT, 'audit log refused'); END",
        )
        .execute(&pool)
        .await
        .unwrap();
    } else {
        let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
        sqlx::query(
            "CREATE FUNCTION refuse_audit() RETURNS trigger AS $$
             BEGIN RAISE EXCEPTION 'audit log refused'; END $$ LANGUAGE plpgsql",
        )
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log
             FOR EACH ROW EXECUTE FUNCTION refuse_audit()",
        )
        .execute(&pool)
        .await
        .unwrap();
    }
}

/// How many rows of `table` match `condition`, read with a connection of the test's own.
async fn count(app: &TestApp, table: &str, condition: &str) -> i64 {
    let q = format!("SELECT COUNT(*) FROM {table} WHERE {condition}");
    if app.backend == Backend::Sqlite {
        let pool = sqlx::SqlitePool::connect(&app.database_url).await.unwrap();
        sqlx::query_scalar(&q).fetch_one(&pool).await.unwrap()
    } else {
        let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
        sqlx::query_scalar(&q).fetch_one(&pool).await.unwrap()
    }
}

async fn a_project_whose_audit_row_fails_is_not_created(app: TestApp) {
    refuse_audit_rows(&app).await;
    let r = app
        .post(
            "/rest/api/1.0/projects",
            &admin(),
            json!({"key": "LOST", "name": "Lost"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.text);
    assert_eq!(count(&app, "projects", "key = 'LOST'").await, 0);
    let r = app.get("/rest/api/1.0/projects/LOST", &admin()).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn a_repository_whose_audit_row_fails_is_not_deleted_and_sends_no_event(app: TestApp) {
    app.project("KEEP", false).await;
    app.repo("KEEP", "kept", false).await;
    let events_before = count(&app, "events", "event_key = 'repo:deleted'").await;
    refuse_audit_rows(&app).await;
    let r = app
        .delete("/rest/api/1.0/projects/KEEP/repos/kept", &admin())
        .await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.text);
    assert_eq!(count(&app, "repositories", "slug = 'kept'").await, 1);
    assert_eq!(
        count(&app, "events", "event_key = 'repo:deleted'").await,
        events_before
    );
}

async fn a_grant_whose_audit_row_fails_is_not_given(app: TestApp) {
    app.project("GRANT", false).await;
    let alice = app.user("alice").await;
    refuse_audit_rows(&app).await;
    let r = app
        .call(
            reqwest::Method::PUT,
            "/rest/api/1.0/projects/GRANT/permissions/users?name=alice&permission=PROJECT_READ",
            &admin(),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.text);
    assert_eq!(count(&app, "grants", "scope = 'project'").await, 0);
    let r = app.get("/rest/api/1.0/projects/GRANT", &alice).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

crate::both_backends!(
    a_project_whose_audit_row_fails_is_not_created,
    a_repository_whose_audit_row_fails_is_not_deleted_and_sends_no_event,
    a_grant_whose_audit_row_fails_is_not_given,
);
