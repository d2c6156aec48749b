//! Merging on the server: Data Center's strategies, conflicts named, the target moved only
//! from the value the merge was computed from; and a push to the source updating the pull
//! request.

use crate::git_cli::*;
use crate::harness::*;
use crate::pull_code::{pr, setup, PRS};
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn merge(app: &TestApp, number: i64, body: Value) -> Response {
    app.post(&format!("{PRS}/{number}/merge?version=0"), &admin(), body)
        .await
}

async fn open(app: &TestApp, from: &str) -> i64 {
    let r = app.post(PRS, &admin(), pr(from, "main")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["id"].as_i64().unwrap()
}

async fn main_tip(app: &TestApp) -> String {
    app.bare_git("P", "r", &["rev-parse", "main"]).await
}

async fn parents(app: &TestApp, commit: &str) -> Vec<String> {
    let line = app
        .bare_git("P", "r", &["rev-list", "--parents", "-n", "1", commit])
        .await;
    line.split_whitespace()
        .skip(1)
        .map(str::to_string)
        .collect()
}

async fn event_keys(app: &TestApp) -> Vec<String> {
    app.events("P", "r")
        .await
        .into_iter()
        .map(|(k, _)| k)
        .collect()
}

async fn the_default_merge_makes_a_merge_commit_and_says_so(app: TestApp) {
    setup(&app, &["feature"]).await;
    let n = open(&app, "feature").await;
    let (before, source) = (
        main_tip(&app).await,
        app.bare_git("P", "r", &["rev-parse", "feature"]).await,
    );
    let r = merge(&app, n, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["state"], "MERGED");
    let after = main_tip(&app).await;
    assert_eq!(parents(&app, &after).await, vec![before, source]);
    let message = app
        .bare_git("P", "r", &["log", "-1", "--format=%s|%an", "main"])
        .await;
    assert_eq!(
        message,
        "Merge pull request #1 in P/r from feature to main|Administrator"
    );
    let keys = event_keys(&app).await;
    assert_eq!(
        keys[keys.len() - 2..],
        ["repo:push", "pullrequest:fulfilled"]
    );
}

async fn fast_forward_and_squash_strategies(app: TestApp) {
    setup(&app, &["ahead"]).await;
    let n = open(&app, "ahead").await;
    let r = merge(&app, n, json!({"strategyId": "ff-only"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        main_tip(&app).await,
        app.bare_git("P", "r", &["rev-parse", "ahead"]).await
    );

    app.branches("P", "r", &["squashed"]).await;
    let before = main_tip(&app).await;
    let n = open(&app, "squashed").await;
    let r = merge(&app, n, json!({"strategyId": "squash"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let after = main_tip(&app).await;
    assert_eq!(
        parents(&app, &after).await,
        vec![before],
        "one parent: the old target"
    );
    let subject = app
        .bare_git("P", "r", &["log", "-1", "--format=%s", "main"])
        .await;
    assert_eq!(subject, "Merge squashed (pull request #2)");
    let files = app
        .bare_git("P", "r", &["ls-tree", "--name-only", "main"])
        .await;
    assert!(files.contains("squashed.txt"), "{files}");
}

async fn fast_forward_only_is_refused_when_the_target_moved_on(app: TestApp) {
    setup(&app, &["one", "two"]).await;
    let first = open(&app, "one").await;
    let second = open(&app, "two").await;
    assert_eq!(merge(&app, first, json!({})).await.status, StatusCode::OK);
    let before = main_tip(&app).await;
    let r = merge(&app, second, json!({"strategyId": "ff-only"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(
        r.body["errors"][0]["exceptionName"],
        "com.atlassian.bitbucket.scm.MergeException"
    );
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("cannot be fast-forwarded (ff-only)"),
        "{}",
        r.text
    );
    assert_eq!(main_tip(&app).await, before, "nothing moved");
    let r = app.get(&format!("{PRS}/{second}"), &admin()).await;
    assert_eq!(r.body["state"], "OPEN");
    let r = merge(&app, second, json!({"strategyId": "rebase-no-ff"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.body["errors"][0]["context"], "strategyId");
}

/// Two branches that change README.md differently, pushed with the git client.
pub async fn conflicting_branches(app: &TestApp, root: &std::path::Path) {
    app.project("P", false).await;
    app.repo("P", "r", false).await;
    let work = work_with_commit(root, "base\n").await;
    let url = format!("{}/scm/P/r.git", app.base);
    let admin = Some(("admin", ADMIN_PASSWORD));
    for (branch, text) in [("left", "left\n"), ("right", "right\n")] {
        ok(&git(&work, None, &["checkout", "-q", "-B", branch, "main"]).await);
        std::fs::write(work.join("README.md"), text).unwrap();
        ok(&git(&work, None, &["commit", "-q", "-am", branch]).await);
    }
    ok(&git(&work, admin, &["push", "-q", &url, "main", "left", "right"]).await);
}

async fn a_conflict_answers_409_naming_the_paths(app: TestApp) {
    let root = tempfile::tempdir().unwrap();
    conflicting_branches(&app, root.path()).await;
    let left = open(&app, "left").await;
    let right = open(&app, "right").await;
    assert_eq!(merge(&app, left, json!({})).await.status, StatusCode::OK);
    let before = main_tip(&app).await;
    let r = merge(&app, right, json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(
        r.body["errors"][0]["message"],
        "This pull request has conflicts and cannot be merged. Conflicting paths: README.md."
    );
    assert_eq!(main_tip(&app).await, before);
    let r = app.get(&format!("{PRS}/{right}"), &admin()).await;
    assert_eq!(r.body["state"], "OPEN");
}

async fn a_push_to_the_source_updates_the_pull_request(app: TestApp) {
    let root = tempfile::tempdir().unwrap();
    conflicting_branches(&app, root.path()).await;
    let n = open(&app, "left").await;
    let work = root.path().join("work");
    ok(&git(&work, None, &["checkout", "-q", "left"]).await);
    std::fs::write(work.join("more.txt"), "more\n").unwrap();
    ok(&git(&work, None, &["add", "more.txt"]).await);
    ok(&git(&work, None, &["commit", "-q", "-m", "More"]).await);
    let url = format!("{}/scm/P/r.git", app.base);
    ok(&git(
        &work,
        Some(("admin", ADMIN_PASSWORD)),
        &["push", "-q", &url, "left"],
    )
    .await);
    let keys = event_keys(&app).await;
    assert_eq!(keys[keys.len() - 2..], ["repo:push", "pullrequest:updated"]);
    let r = app.get(&format!("{PRS}/{n}"), &admin()).await;
    assert_eq!(r.body["version"], 1);
    let r = app.get(&format!("{PRS}/{n}/commits"), &admin()).await;
    assert_eq!(r.body["values"][0]["message"], "More");
}

crate::both_backends!(
    the_default_merge_makes_a_merge_commit_and_says_so,
    fast_forward_and_squash_strategies,
    fast_forward_only_is_refused_when_the_target_moved_on,
    a_conflict_answers_409_naming_the_paths,
    a_push_to_the_source_updates_the_pull_request,
);
