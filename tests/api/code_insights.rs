//! Code Insights reports and annotations, in Bitbucket Cloud's shape (`/2.0/…/commit/{c}/
//! reports[/{key}[/annotations]]`) and Data Center's (`/rest/insights/1.0/…`): one report per
//! commit and key (putting it again replaces it and its annotations), annotations in batches
//! within limits, the build statuses' rules for who may change one, and the pull request page.

use crate::both_backends;
use crate::build_statuses::{python_as_uma, repository};
use crate::harness::{Auth, TestApp};
use reqwest::Method;
use reqwest::StatusCode;
use serde_json::{json, Value};

const CLOUD: &str = "/2.0/repositories/prj/code/commit";

fn report() -> Value {
    json!({"title": "Security scan", "details": "2 findings", "report_type": "SECURITY",
           "reporter": "scanner", "link": "https://scan.example.com/1", "result": "FAILED",
           "data": [{"title": "High", "type": "NUMBER", "value": 1}]})
}

async fn put(app: &TestApp, who: &Auth, path: &str, body: Value) -> crate::harness::Response {
    app.call(Method::PUT, path, who, Some(body)).await
}

async fn a_cloud_report_with_annotations(app: TestApp) {
    let (uma, commit) = repository(&app).await;
    let path = format!("{CLOUD}/{commit}/reports/scan-1");
    let r = put(&app, &uma, &path, report()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["type"], "report");
    assert_eq!(r.body["external_id"], "scan-1");
    assert_eq!(r.body["result"], "FAILED");
    assert_eq!(r.body["data"][0]["value"], 1);
    let batch = json!([
        {"external_id": "a1", "annotation_type": "VULNERABILITY", "summary": "SQL injection",
         "severity": "HIGH", "path": "README.md", "line": 1},
        {"external_id": "a2", "annotation_type": "CODE_SMELL", "summary": "Long line", "severity": "LOW"}
    ]);
    let r = app.post(&format!("{path}/annotations"), &uma, batch).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body.as_array().unwrap().len(), 2);
    assert_eq!(r.body[0]["summary"], "SQL injection");
    let listed = app.get(&format!("{path}/annotations"), &uma).await;
    assert_eq!(listed.body["size"], 2, "{}", listed.text);
    // Putting the report again replaces it, and its annotations go with it.
    let r = put(
        &app,
        &uma,
        &path,
        json!({"title": "Security scan", "result": "PASSED"}),
    )
    .await;
    assert_eq!(r.body["result"], "PASSED");
    let listed = app.get(&format!("{path}/annotations"), &uma).await;
    assert_eq!(listed.body["size"], 0);
    let all = app.get(&format!("{CLOUD}/{commit}/reports"), &uma).await;
    assert_eq!(all.body["size"], 1);
    let r = app.call(Method::DELETE, &path, &uma, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&path, &uma).await.status, StatusCode::NOT_FOUND);
}

async fn reports_are_refused_with_the_field_at_fault(app: TestApp) {
    let (uma, commit) = repository(&app).await;
    let path = format!("{CLOUD}/{commit}/reports/scan");
    let r = put(&app, &uma, &path, json!({"details": "no title"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("'title' is required."), "{}", r.text);
    let r = put(&app, &uma, &path, json!({"title": "t", "result": "MAYBE"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.text.contains("'MAYBE' is not a report result"),
        "{}",
        r.text
    );
    assert_eq!(
        put(&app, &uma, &path, report()).await.status,
        StatusCode::OK
    );
    let too_many: Vec<Value> = (0..101)
        .map(|i| json!({"summary": format!("n{i}"), "severity": "LOW"}))
        .collect();
    let r = app
        .post(&format!("{path}/annotations"), &uma, json!(too_many))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.text.contains("At most 100 annotations per request"),
        "{}",
        r.text
    );
    // Someone else who reads the repository may not annotate or replace uma's report.
    let ivy = app.user("ivy").await;
    app.grant("/rest/api/1.0/projects/PRJ/repos/code", "ivy", "REPO_READ")
        .await;
    let r = app
        .post(
            &format!("{path}/annotations"),
            &ivy,
            json!([{"summary": "x", "severity": "LOW"}]),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(
        put(&app, &ivy, &path, report()).await.status,
        StatusCode::FORBIDDEN
    );
}

async fn atlassian_python_api_reports_through_data_center_insights(app: TestApp) {
    let Some(seen) = python_as_uma(&app, "python/bitbucket_insights.py").await else {
        return;
    };
    assert_eq!(
        seen["created"],
        json!(["lint", "FAIL", [{"title": "Findings", "type": "NUMBER", "value": 2}]])
    );
    assert_eq!(seen["read"], json!(["Linter", "lint-bot"]));
    assert_eq!(seen["annotations"], json!(["L1", "L2"]));
    assert_eq!(seen["left"], 0);
}

async fn the_pull_request_page_shows_its_source_reports(app: TestApp) {
    let (uma, commit) = repository(&app).await;
    let r = app
        .post(
            "/rest/api/1.0/projects/PRJ/repos/code/pull-requests",
            &uma,
            json!({"title": "Feature", "fromRef": {"id": "feature"}, "toRef": {"id": "main"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let path = format!("{CLOUD}/{commit}/reports/scan-1");
    assert_eq!(
        put(&app, &uma, &path, report()).await.status,
        StatusCode::OK
    );
    let r = app
        .post(
            &format!("{path}/annotations"),
            &uma,
            json!([{"summary": "x", "severity": "LOW"}]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let b = crate::oauth2::browser(&app, "uma", "uma-password").await;
    let (_, html) =
        crate::connect_app::page(&app, &b, "/projects/PRJ/repos/code/pull-requests/1").await;
    assert!(
        html.contains(r#"<span class="badge report-FAILED">FAILED</span> <a href="https://scan.example.com/1" rel="noopener noreferrer">Security scan</a> <span class="muted">by scanner · 1 annotation</span>"#),
        "{html}"
    );
}

both_backends!(
    spawn_linkable;
    a_cloud_report_with_annotations,
    reports_are_refused_with_the_field_at_fault,
    atlassian_python_api_reports_through_data_center_insights,
    the_pull_request_page_shows_its_source_reports,
);
