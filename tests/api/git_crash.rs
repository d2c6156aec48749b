//! No push without its event: the server is killed after git changed the refs and before the
//! push was recorded (`JUNCTION_TEST_CRASH_AFTER_PUSH`), then started again on the same data.
//! The start records the push: one `repo:push` with the branch git created.

use crate::git_cli::*;
use crate::harness::{Backend, ADMIN_PASSWORD};
use crate::webhooks_crash::{call, own_database, start, start_with};
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn a_push_cut_off_by_a_crash_gets_its_event_at_the_next_start(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(database_url) = own_database(backend, dir.path()).await else {
        return;
    };
    let config = dir.path().join("junction.toml");
    std::fs::write(
        &config,
        format!("[server]\nlisten = \"127.0.0.1:0\"\n[database]\nurl = \"{database_url}\"\n"),
    )
    .unwrap();
    let crash = [("JUNCTION_TEST_CRASH_AFTER_PUSH", "1")];
    let mut node = start_with(&config, dir.path(), &crash).await;
    let post =
        |path: &'static str, body: Value| call(&node.base, reqwest::Method::POST, path, body);
    assert_eq!(
        post("/rest/api/1.0/projects", json!({"key": "P", "name": "P"}))
            .await
            .0,
        StatusCode::CREATED
    );
    assert_eq!(
        post("/rest/api/1.0/projects/P/repos", json!({"name": "r"}))
            .await
            .0,
        StatusCode::CREATED
    );

    let root = tempfile::tempdir().unwrap();
    let work = work_with_commit(root.path(), "one\n").await;
    let url = format!("{}/scm/P/r.git", node.base);
    let admin = Some(("admin", ADMIN_PASSWORD));
    // The server dies before it answers: git reports the push as failed.
    refused(&git(&work, admin, &["push", "-q", &url, "main"]).await);
    let status = node.child.wait().await.unwrap();
    assert!(!status.success(), "the server aborted at the crash point");
    let head = ok(&git(&work, None, &["rev-parse", "HEAD"]).await);

    // Ready means recorded: the start records unfinished pushes before it serves.
    let _node = start(&config, dir.path()).await;
    let store = junction::store::Store::connect(
        &database_url,
        2,
        std::sync::Arc::new(junction::clock::SystemClock),
    )
    .await
    .unwrap();
    let repo = store.find_repository("P", "r").await.unwrap().unwrap();
    let pushes: Vec<Value> = store
        .events_of_repository(repo.id)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.event_key == "repo:push")
        .map(|e| serde_json::from_str(&e.payload).unwrap())
        .collect();
    assert_eq!(pushes.len(), 1, "recorded once, at the start");
    let change = &pushes[0]["push"]["changes"][0];
    assert_eq!(change["new"]["name"], "main");
    assert_eq!(change["new"]["target"]["hash"], head.trim());
    assert_eq!(
        pushes[0]["actor"]["nickname"], "admin",
        "the pusher, remembered"
    );
    store.close().await;
}

#[tokio::test]
async fn sqlite_push_cut_off_by_a_crash() {
    a_push_cut_off_by_a_crash_gets_its_event_at_the_next_start(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_push_cut_off_by_a_crash() {
    a_push_cut_off_by_a_crash_gets_its_event_at_the_next_start(Backend::Postgres).await;
}
