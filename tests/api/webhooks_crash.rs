//! Crash safety of the delivery pipeline, with the real binary: events are committed, some
//! deliveries are in flight, the server is killed with SIGKILL and started again on the same
//! database. Every event reaches the receiver at least once (it de-duplicates by `webhook-id`),
//! none is lost, and nothing is sent for a change that was refused.

use crate::harness::{postgres_server, Backend, ADMIN_PASSWORD};
use crate::receiver::{eventually, ok, Receiver};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

const EVENTS: usize = 40;

pub struct Node {
    pub child: tokio::process::Child,
    pub base: String,
}

/// Starts `junction serve` with `config` and waits for its "ready" log line.
pub async fn start(config: &std::path::Path, data_dir: &std::path::Path) -> Node {
    start_with(config, data_dir, &[]).await
}

/// Like `start`, with `env` set for the server too.
pub async fn start_with(
    config: &std::path::Path,
    data_dir: &std::path::Path,
    env: &[(&str, &str)],
) -> Node {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_junction"));
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("JUNCTION_")) {
        cmd.env_remove(k);
    }
    cmd.envs(env.iter().copied());
    let mut child = cmd
        .arg("serve")
        .env("JUNCTION_CONFIG", config)
        .env("JUNCTION_STORAGE__DATA_DIR", data_dir)
        .env("JUNCTION_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("JUNCTION_LOG__FORMAT", "json")
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("junction starts");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines
            .next_line()
            .await
            .unwrap()
            .expect("the server exited before it was ready");
        if line.contains("Junction is ready") {
            let v: Value = serde_json::from_str(&line).unwrap();
            break v["fields"]["addr"].as_str().unwrap().to_string();
        }
    };
    // Keep reading so the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Node {
        child,
        base: format!("http://{addr}"),
    }
}

pub async fn call(
    base: &str,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    let r = reqwest::Client::new()
        .request(method, format!("{base}{path}"))
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// A database of its own for a server started as a process: SQLite in `dir`, or a new
/// PostgreSQL database (None when PostgreSQL is unreachable and that may be skipped).
pub async fn own_database(backend: Backend, dir: &std::path::Path) -> Option<String> {
    Some(match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.join("junction.db").display()),
        Backend::Postgres => {
            let name = format!("junction_test_crash_{}", junction::secret::new_client_id());
            if let Err(e) = junction::store::create_database(&postgres_server(), &name).await {
                crate::harness::missing(
                    &format!("PostgreSQL is unreachable: {e:#}"),
                    "JUNCTION_TEST_SKIP_POSTGRES",
                );
                return None;
            }
            format!("{}/{name}", postgres_server())
        }
    })
}

async fn sigkill_loses_no_event(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(database_url) = own_database(backend, dir.path()).await else {
        return;
    };
    // Each answer takes a second, four at a time: the events are all committed long before
    // they are all delivered (ten seconds), and deliveries are in flight when the kill comes.
    let rx = Receiver::start(|_, _| ok(), Duration::from_millis(1000)).await;
    let config = dir.path().join("junction.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n[database]\nurl = \"{database_url}\"\n\
             [outbound]\nallow_private = [\"127.0.0.0/8\"]\n\
             [webhooks]\ntimeout_seconds = 2\nper_endpoint_concurrency = 4\nretry_schedule_seconds = [1, 1, 1]\n"
        ),
    )
    .unwrap();

    let mut node = start(&config, dir.path()).await;
    let base = node.base.clone();
    let post = |path: &'static str, body: Value| {
        let base = base.clone();
        async move { call(&base, reqwest::Method::POST, path, body).await }
    };
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
    let (status, hook) = post(
        "/rest/api/1.0/projects/P/repos/r/webhooks",
        json!({"name": "crash", "url": rx.url, "events": ["repo:updated"]}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{hook}");
    for i in 0..EVENTS {
        let (status, _) = call(
            &base,
            reqwest::Method::PUT,
            "/rest/api/1.0/projects/P/repos/r",
            json!({"description": format!("v{i}")}),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    // A refused update of the hooked repository (its new name is taken): the transaction
    // rolls back, and no repo:updated may ever be sent for it.
    assert_eq!(
        post("/rest/api/1.0/projects/P/repos", json!({"name": "taken"}))
            .await
            .0,
        StatusCode::CREATED
    );
    let (status, _) = call(
        &base,
        reqwest::Method::PUT,
        "/rest/api/1.0/projects/P/repos/r",
        json!({"name": "taken"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Some deliveries answered, some in flight: kill.
    rx.wait_for(4).await;
    eventually("more deliveries in flight", || async {
        (rx.received().len() >= 8).then_some(())
    })
    .await;
    node.child.start_kill().unwrap();
    node.child.wait().await.unwrap();
    let before = rx.received().len();
    assert!(
        before < EVENTS,
        "the kill came before everything was delivered ({before})"
    );

    let node = start(&config, dir.path()).await;
    let unique = eventually("every event delivered after the restart", || async {
        let ids: HashSet<String> = rx
            .received()
            .iter()
            .map(|r| r.header("webhook-id").to_string())
            .collect();
        (ids.len() >= EVENTS).then_some(ids)
    })
    .await;

    // The receiver's ids are exactly the outbox's repo:updated events: none lost, none invented.
    let store = junction::store::Store::connect(
        &database_url,
        2,
        std::sync::Arc::new(junction::clock::SystemClock),
    )
    .await
    .unwrap();
    let outbox: HashSet<String> = crate::webhooks::outbox_ids(&store, "repo:updated")
        .await
        .into_iter()
        .collect();
    assert_eq!(outbox.len(), EVENTS);
    assert_eq!(unique, outbox);
    // The history agrees once the restarted node has recorded everything.
    let path = format!(
        "/rest/api/1.0/projects/P/repos/r/webhooks/{}/deliveries?state=succeeded&limit=100",
        hook["id"]
    );
    eventually("every delivery recorded as succeeded", || async {
        let (_, page) = call(&node.base, reqwest::Method::GET, &path, Value::Null).await;
        (page["size"] == EVENTS).then_some(())
    })
    .await;
    assert!(
        rx.received().len() > EVENTS,
        "the deliveries in flight at the kill were sent again: at least once, not at most once"
    );
    store.close().await;
}

#[tokio::test]
async fn sqlite_sigkill_loses_no_event() {
    sigkill_loses_no_event(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_sigkill_loses_no_event() {
    sigkill_loses_no_event(Backend::Postgres).await;
}
