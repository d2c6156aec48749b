//! Deliveries verified by software nobody here wrote: a receiver built on the PyPI
//! `standardwebhooks` library (tests/python/webhook_receiver.py) checks every delivery's
//! Standard Webhooks signature, and `X-Hub-Signature` with plain HMAC.

use crate::harness::{admin, TestApp};
use crate::webhooks::{hook, pr, setup, touch_repo, HOOKS};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout};

pub struct PythonReceiver {
    pub url: String,
    lines: Lines<BufReader<ChildStdout>>,
    _child: Child,
}

impl PythonReceiver {
    pub async fn start(python: &str, secret: &str) -> Self {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/python/webhook_receiver.py"
        );
        let mut child = tokio::process::Command::new(python)
            .arg(script)
            .arg(secret)
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("python starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines
            .next_line()
            .await
            .unwrap()
            .expect("the receiver prints its port");
        let port = first.strip_prefix("PORT ").expect("PORT line");
        Self {
            url: format!("http://127.0.0.1:{port}/hook"),
            lines,
            _child: child,
        }
    }

    /// The next verification result the receiver printed.
    pub async fn next(&mut self) -> Value {
        let line = tokio::time::timeout(std::time::Duration::from_secs(30), self.lines.next_line())
            .await
            .expect("a delivery within 30 s")
            .unwrap()
            .expect("the receiver is running");
        serde_json::from_str(&line).unwrap()
    }
}

async fn standard_webhooks_library_verifies_every_delivery(app: TestApp) {
    let Some(python) = crate::interop::python() else {
        return;
    };
    setup(&app).await;
    // A secret in the Standard Webhooks form, as the pages generate.
    let secret = junction::domain::webhooks::new_secret();
    let mut rx = PythonReceiver::start(&python, &secret).await;
    let h = hook(&app, HOOKS, &rx.url, json!(["*"]), Some(&secret)).await;

    let r = app
        .post(&format!("{HOOKS}/{}/test", h["id"]), &admin(), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body["attemptList"][0]["responseStatus"], 204,
        "{}",
        r.text
    );
    let v = rx.next().await;
    assert_eq!(v["key"], "diagnostics:ping");
    assert_eq!(
        (v["standard"].clone(), v["hub"].clone()),
        (json!(true), json!(true)),
        "{v}"
    );

    touch_repo(&app, "verified").await;
    let r = app
        .post(
            "/rest/api/1.0/projects/P/repos/r/pull-requests",
            &admin(),
            pr("f"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = app
        .post(
            "/rest/api/1.0/projects/P/repos/r/pull-requests/1/comments",
            &admin(),
            json!({"text": "ünïcödé ✓"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let mut keys = Vec::new();
    for _ in 0..3 {
        let v = rx.next().await;
        assert_eq!(v["standard"], true, "{v}");
        assert_eq!(v["hub"], true, "{v}");
        assert_eq!(v["attempt"], "1");
        keys.push(v["key"].as_str().unwrap().to_string());
        if v["key"] == "pullrequest:comment_created" {
            let body: Value = serde_json::from_str(v["body"].as_str().unwrap()).unwrap();
            assert_eq!(body["comment"]["content"]["raw"], "ünïcödé ✓");
        }
    }
    keys.sort();
    assert_eq!(
        keys,
        [
            "pullrequest:comment_created",
            "pullrequest:created",
            "repo:updated"
        ]
    );

    // With a plain (not whsec_) secret the library takes its whsec_ form, as the pages say.
    let plain = "a plain shared secret";
    let mut rx2 =
        PythonReceiver::start(&python, &junction::domain::webhooks::standard_secret(plain)).await;
    let h2 = hook(&app, HOOKS, &rx2.url, json!(["repo:updated"]), Some(plain)).await;
    let r = app
        .post(&format!("{HOOKS}/{}/test", h2["id"]), &admin(), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let v = rx2.next().await;
    assert_eq!(v["standard"], true, "{v}");
}

crate::both_backends!(spawn_linkable; standard_webhooks_library_verifies_every_delivery);
