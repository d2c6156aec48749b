//! Pull requests on real branches: both must exist; commits, changes and diff come from git.

use crate::harness::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

pub const PRS: &str = "/rest/api/1.0/projects/P/repos/r/pull-requests";

pub fn pr(from: &str, to: &str) -> Value {
    json!({"title": format!("Merge {from}"), "fromRef": {"id": from}, "toRef": {"id": to}})
}

/// Project P, repository r with `main` and `branches` one commit ahead of it each.
pub async fn setup(app: &TestApp, branches: &[&str]) {
    app.project("P", false).await;
    app.repo("P", "r", false).await;
    app.branches("P", "r", branches).await;
}

async fn a_pull_request_needs_both_branches(app: TestApp) {
    setup(&app, &["feature"]).await;
    let r = app.post(PRS, &admin(), pr("nope", "main")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.body["errors"][0]["context"], "fromRef");
    assert_eq!(
        r.body["errors"][0]["message"],
        "The branch 'nope' does not exist in P/r. Push it first."
    );
    let r = app.post(PRS, &admin(), pr("feature", "gone")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.body["errors"][0]["context"], "toRef");
    let r = app.get(PRS, &admin()).await;
    assert_eq!(r.body["size"], 0, "nothing was created");
}

async fn commits_changes_and_diff_come_from_the_branches(app: TestApp) {
    setup(&app, &["feature"]).await;
    let r = app.post(PRS, &admin(), pr("feature", "main")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let tip = app.bare_git("P", "r", &["rev-parse", "feature"]).await;
    let base = app.bare_git("P", "r", &["rev-parse", "main"]).await;

    let r = app.get(&format!("{PRS}/1/commits"), &admin()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["size"], 1);
    assert_eq!(r.body["isLastPage"], true);
    let c = &r.body["values"][0];
    assert_eq!(c["id"], tip.as_str());
    assert_eq!(c["displayId"], &tip[..11]);
    assert_eq!(c["message"], "feature");
    assert_eq!(
        c["author"],
        json!({"name": "Test", "emailAddress": "test@example.com"})
    );
    assert_eq!(c["parents"][0]["id"], base.as_str());

    let r = app.get(&format!("{PRS}/1/changes"), &admin()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (&r.body["fromHash"], &r.body["toHash"]),
        (&json!(base), &json!(tip))
    );
    assert_eq!(r.body["values"][0]["type"], "ADD");
    assert_eq!(r.body["values"][0]["path"]["toString"], "feature.txt");
    assert_eq!(r.body["values"][0]["path"]["extension"], "txt");

    let r = app.get(&format!("{PRS}/1/diff"), &admin()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let d = &r.body["diffs"][0];
    assert_eq!(d["source"], Value::Null);
    assert_eq!(d["destination"]["toString"], "feature.txt");
    assert_eq!(
        d["hunks"][0]["segments"][0],
        json!({"type": "ADDED", "truncated": false,
               "lines": [{"source": 0, "destination": 1, "line": "feature", "truncated": false}]})
    );
    let r = app
        .get(&format!("{PRS}/1/diff?contextLines=5000"), &admin())
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.body["errors"][0]["context"], "contextLines");
}

async fn people_who_cannot_see_the_repository_cannot_see_its_code(app: TestApp) {
    setup(&app, &["feature"]).await;
    let r = app.post(PRS, &admin(), pr("feature", "main")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let outsider = app.user("outsider").await;
    for what in ["commits", "changes", "diff"] {
        let r = app.get(&format!("{PRS}/1/{what}"), &outsider).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{what}: {}", r.text);
    }
}

crate::both_backends!(
    a_pull_request_needs_both_branches,
    commits_changes_and_diff_come_from_the_branches,
    people_who_cannot_see_the_repository_cannot_see_its_code,
);
