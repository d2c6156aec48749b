//! `repo:push`: one event per push in Bitbucket Cloud's shape, every moved branch and tag in
//! it, written before git's answer ends; received and verified by a `standardwebhooks`
//! receiver.

use crate::git_cli::*;
use crate::harness::*;
use crate::webhooks::{hook, HOOKS};
use crate::webhooks_interop::PythonReceiver;
use serde_json::{json, Value};
use std::path::Path;

const URL: &str = "/scm/P/r.git";

/// Project P with an empty repository r, for pushes to fill.
async fn setup(app: &TestApp) {
    app.project("P", false).await;
    app.repo("P", "r", false).await;
}

/// The `repo:push` payloads of repository P/r so far, oldest first.
async fn pushes(app: &TestApp) -> Vec<Value> {
    let events = app.events("P", "r").await;
    events
        .into_iter()
        .filter(|(k, _)| k == "repo:push")
        .map(|(_, v)| v)
        .collect()
}

async fn commit(work: &Path, file: &str, text: &str) {
    std::fs::write(work.join(file), text).unwrap();
    ok(&git(work, None, &["add", file]).await);
    ok(&git(
        work,
        None,
        &["commit", "-q", "-m", &format!("Change {file}")],
    )
    .await);
}

async fn git_out(work: &Path, args: &[&str]) -> String {
    ok(&git(work, None, args).await).trim().to_string()
}

async fn each_push_writes_one_event_with_what_moved(app: TestApp) {
    setup(&app).await;
    let root = tempfile::tempdir().unwrap();
    let work = work_with_commit(root.path(), "one\n").await;
    let url = format!("{}{URL}", app.base);
    let admin = Some(("admin", ADMIN_PASSWORD));
    ok(&git(&work, admin, &["push", "-q", &url, "main"]).await);
    let first = git_out(&work, &["rev-parse", "HEAD"]).await;
    let events = pushes(&app).await;
    assert_eq!(events.len(), 1, "written before the push answered");
    let change = &events[0]["push"]["changes"][0];
    assert_eq!(change["old"], Value::Null);
    assert_eq!(change["new"]["type"], "branch");
    assert_eq!(change["new"]["name"], "main");
    assert_eq!(change["new"]["target"]["hash"], first.as_str());
    assert_eq!(change["new"]["target"]["message"], "First");
    assert_eq!(
        change["new"]["target"]["author"]["raw"],
        "Test <test@example.com>"
    );
    assert_eq!(
        (&change["created"], &change["closed"], &change["forced"]),
        (&json!(true), &json!(false), &json!(false))
    );
    assert_eq!(change["commits"].as_array().unwrap().len(), 1);
    assert_eq!(events[0]["actor"]["nickname"], "admin");
    assert_eq!(events[0]["repository"]["full_name"], "P/r");

    // A new branch with seven commits and a tag, in one push: one event, two changes, the
    // branch listing its five newest commits and saying there were more.
    ok(&git(&work, None, &["checkout", "-q", "-b", "feature"]).await);
    for i in 0..7 {
        commit(&work, &format!("f{i}.txt"), "x\n").await;
    }
    ok(&git(&work, None, &["tag", "v1", "main"]).await);
    ok(&git(&work, admin, &["push", "-q", &url, "feature", "v1"]).await);
    let events = pushes(&app).await;
    assert_eq!(events.len(), 2);
    let changes = events[1]["push"]["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2);
    assert_eq!(changes[0]["new"]["name"], "feature");
    assert_eq!(changes[0]["commits"].as_array().unwrap().len(), 5);
    assert_eq!(changes[0]["truncated"], true);
    assert_eq!(changes[0]["commits"][0]["message"], "Change f6.txt");
    assert_eq!(
        (&changes[1]["new"]["type"], &changes[1]["new"]["name"]),
        (&json!("tag"), &json!("v1"))
    );
    assert_eq!(changes[1]["commits"], json!([]), "v1 brought nothing new");
}

async fn forced_pushes_and_deleted_branches_say_so(app: TestApp) {
    setup(&app).await;
    let root = tempfile::tempdir().unwrap();
    let work = work_with_commit(root.path(), "one\n").await;
    let url = format!("{}{URL}", app.base);
    let admin = Some(("admin", ADMIN_PASSWORD));
    commit(&work, "b.txt", "b\n").await;
    ok(&git(&work, admin, &["push", "-q", &url, "main", "main:gone"]).await);
    let before = git_out(&work, &["rev-parse", "HEAD"]).await;
    ok(&git(&work, None, &["reset", "-q", "--hard", "HEAD~1"]).await);
    commit(&work, "c.txt", "c\n").await;
    let after = git_out(&work, &["rev-parse", "HEAD"]).await;
    ok(&git(
        &work,
        admin,
        &["push", "-q", "--force", &url, "main", ":gone"],
    )
    .await);
    let events = pushes(&app).await;
    assert_eq!(events.len(), 2);
    let changes = events[1]["push"]["changes"].as_array().unwrap();
    // In ref name order: refs/heads/gone, refs/heads/main.
    assert_eq!(changes[0]["old"]["name"], "gone");
    assert_eq!(changes[0]["new"], Value::Null);
    assert_eq!(changes[0]["closed"], true);
    assert_eq!(changes[1]["old"]["target"]["hash"], before.as_str());
    assert_eq!(changes[1]["new"]["target"]["hash"], after.as_str());
    assert_eq!(changes[1]["forced"], true);
    assert_eq!(changes[1]["commits"][0]["hash"], after.as_str());
    // A push that changes nothing writes nothing.
    ok(&git(&work, admin, &["push", "-q", &url, "main"]).await);
    assert_eq!(pushes(&app).await.len(), 2);
}

async fn a_standard_webhooks_receiver_gets_repo_push(app: TestApp) {
    let Some(python) = crate::interop::python() else {
        return;
    };
    setup(&app).await;
    let secret = junction::domain::webhooks::new_secret();
    let mut rx = PythonReceiver::start(&python, &secret).await;
    hook(&app, HOOKS, &rx.url, json!(["repo:push"]), Some(&secret)).await;
    let root = tempfile::tempdir().unwrap();
    let work = work_with_commit(root.path(), "one\n").await;
    let url = format!("{}{URL}", app.base);
    ok(&git(
        &work,
        Some(("admin", ADMIN_PASSWORD)),
        &["push", "-q", &url, "main"],
    )
    .await);
    app.webhooks.wake();
    let v = rx.next().await;
    assert_eq!(v["key"], "repo:push");
    assert_eq!(
        (&v["standard"], &v["hub"]),
        (&json!(true), &json!(true)),
        "{v}"
    );
    let body: Value = serde_json::from_str(v["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["push"]["changes"][0]["new"]["name"], "main");
    assert_eq!(body["push"]["changes"][0]["created"], true);
}

// Linkable: the receiver listens on loopback.
crate::both_backends!(
    spawn_linkable;
    each_push_writes_one_event_with_what_moved,
    forced_pushes_and_deleted_branches_say_so,
    a_standard_webhooks_receiver_gets_repo_push,
);
