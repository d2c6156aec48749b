//! The `junction` binary itself: configuration errors, default config, `user create` against a
//! running server's database, first start, and graceful shutdown on SIGTERM.

use crate::harness::*;
use reqwest::StatusCode;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

fn junction() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_junction"));
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("JUNCTION_")) {
        c.env_remove(k);
    }
    c
}

fn user_create(app: &TestApp, args: &[&str], password: &str) -> std::process::Output {
    user_command(
        app,
        &[&["create", "--password-stdin"], args].concat(),
        password,
    )
}

/// `junction user ARGS` against the test server's database, with `password` on stdin.
fn user_command(app: &TestApp, args: &[&str], password: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let mut child = junction()
        .arg("user")
        .args(args)
        .env("JUNCTION_DATABASE__URL", &app.database_url)
        .env("JUNCTION_STORAGE__DATA_DIR", dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    child.wait_with_output().unwrap()
}

fn succeeded_saying(out: &std::process::Output, said: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), said);
}

async fn user_create_works_while_the_server_runs(app: TestApp) {
    let out = user_create(
        &app,
        &["--username", "carol", "--email", "carol@example.com"],
        "carol-password",
    );
    succeeded_saying(&out, "Created user carol (LICENSED_USER).");
    let r = app
        .get(
            "/rest/api/1.0/users/carol",
            &basic("carol", "carol-password"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["emailAddress"], "carol@example.com");
    let out = user_create(&app, &["--username", "dave", "--admin"], "dave-password");
    assert!(out.status.success());
    let r = app
        .get(
            "/rest/api/1.0/admin/permissions/users?filter=dave",
            &basic("dave", "dave-password"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "dave is a system administrator");
    assert_eq!(r.body["values"][0]["permission"], "SYS_ADMIN");
    let out = user_create(&app, &["--username", "carol"], "another-password");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already taken"));
    let out = user_create(&app, &["--username", "erin"], "short");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 8 characters"));
}

/// On a terminal, `set-password` prompts twice and never echoes what is typed.
async fn set_password_prompts_without_echo_on_a_terminal(app: TestApp) {
    let Some(python) = crate::interop::python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/tty_password.py");
    let out = Command::new(python)
        .args([
            script,
            env!("CARGO_BIN_EXE_junction"),
            "admin",
            "typed-at-a-tty-1",
        ])
        .env("JUNCTION_DATABASE__URL", &app.database_url)
        .env("JUNCTION_STORAGE__DATA_DIR", dir.path())
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{shown} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        shown.contains("New password for admin:") && shown.contains("Again:"),
        "{shown}"
    );
    assert!(
        !shown.contains("typed-at-a-tty-1"),
        "the password was echoed: {shown}"
    );
    let r = app
        .get(
            "/rest/api/1.0/users/admin",
            &basic("admin", "typed-at-a-tty-1"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

crate::both_backends!(
    set_password_prompts_without_echo_on_a_terminal,
    user_create_works_while_the_server_runs,
    set_password_is_the_way_back_in
);

#[test]
fn default_config_is_printed_and_valid() {
    let out = junction().arg("default-config").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("[server]") && text.contains("listen = \"127.0.0.1:7990\""));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("junction.toml");
    std::fs::write(&file, &text).unwrap();
    let out = junction()
        .args(["--config", file.to_str().unwrap(), "migrate"])
        .env("JUNCTION_STORAGE__DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "Database is up to date (sqlite)."
    );
}

#[test]
fn configuration_errors_name_the_key() {
    let out = junction()
        .arg("migrate")
        .env("JUNCTION_SERVER__LISTEN", "not-an-address")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("invalid configuration") && err.contains("server.listen"),
        "{err}"
    );
    let out = junction()
        .arg("migrate")
        .env("JUNCTION_SERVER__LISTEN_PORT", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("listen_port"));
    for (var, value, key) in [
        (
            "JUNCTION_OUTBOUND__ALLOW_PRIVATE",
            "[\"10.0.0.0/99\"]",
            "outbound.allow_private",
        ),
        (
            "JUNCTION_SECURITY__TRUSTED_PROXIES",
            "[\"nope\"]",
            "security.trusted_proxies",
        ),
    ] {
        let out = junction().arg("migrate").env(var, value).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("invalid configuration") && err.contains(key),
            "{err}"
        );
    }
    let out = junction()
        .args(["--config", "/nonexistent/junction.toml", "migrate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
}

/// First start prints a one-time admin password, good for choosing a new one and nothing else;
/// SIGTERM stops the server cleanly.
#[test]
fn first_start_and_graceful_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = junction()
        .arg("serve")
        .env("JUNCTION_SERVER__LISTEN", "127.0.0.1:0")
        .env("JUNCTION_STORAGE__DATA_DIR", dir.path())
        .env("JUNCTION_LOG__FORMAT", "json")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut password = None;
    let mut addr = None;
    let mut after_banner = false;
    // Readiness is the "ready" log line; read until it appears.
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.contains("one-time password") {
            after_banner = true;
        } else if after_banner && password.is_none() && !line.trim().is_empty() {
            password = Some(line.trim().to_string());
        }
        if line.contains("Junction is ready") {
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            addr = Some(v["fields"]["addr"].as_str().unwrap().to_string());
            break;
        }
    }
    let (addr, password) = (
        addr.expect("ready line"),
        password.expect("one-time password printed"),
    );
    assert!(password.len() >= 32);
    assert!(
        dir.path().join("master.key").exists(),
        "the master key file is created on first start"
    );
    let client = reqwest::blocking::Client::new();
    let get = |password: &str| {
        client
            .get(format!("http://{addr}/rest/api/1.0/users/admin"))
            .basic_auth("admin", Some(password))
            .send()
            .unwrap()
    };
    let r = get(&password);
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = r.json().unwrap();
    assert_eq!(
        body["errors"][0]["exceptionName"],
        "PASSWORD_CHANGE_REQUIRED"
    );
    let r = client
        .put(format!("http://{addr}/rest/api/1.0/users/credentials"))
        .basic_auth("admin", Some(&password))
        .json(&serde_json::json!({"oldPassword": password, "password": "chosen-password-1", "passwordConfirm": "chosen-password-1"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(get("chosen-password-1").status(), StatusCode::OK);
    assert_eq!(get(&password).status(), StatusCode::UNAUTHORIZED);
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "clean exit on SIGTERM: {exit:?}");
    assert!(lines.any(|l| l.unwrap().contains("Junction stopped")));
}

/// `serve` on a port that is taken fails before creating the administrator, so the next start
/// still prints a password (or honours JUNCTION_ADMIN_PASSWORD).
#[test]
fn a_start_that_cannot_listen_creates_no_administrator() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let out = junction()
        .arg("serve")
        .env(
            "JUNCTION_SERVER__LISTEN",
            taken.local_addr().unwrap().to_string(),
        )
        .env("JUNCTION_STORAGE__DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot listen on"), "{err}");
    assert!(!err.contains("one-time password"), "{err}");
    let mut child = junction()
        .arg("serve")
        .env("JUNCTION_SERVER__LISTEN", "127.0.0.1:0")
        .env("JUNCTION_STORAGE__DATA_DIR", dir.path())
        .env("JUNCTION_ADMIN_PASSWORD", "automation-password")
        .env("JUNCTION_LOG__FORMAT", "json")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut addr = None;
    // Kept open until the end: the server logs to it.
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.contains("Junction is ready") {
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            addr = Some(v["fields"]["addr"].as_str().unwrap().to_string());
            break;
        }
    }
    let r = reqwest::blocking::Client::new()
        .get(format!("http://{}/rest/api/1.0/users/admin", addr.unwrap()))
        .basic_auth("admin", Some("automation-password"))
        .send()
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "a configured password needs no change"
    );
    child.kill().unwrap();
    let _ = child.wait();
    drop(lines);
}

async fn set_password_is_the_way_back_in(app: TestApp) {
    let set = |user: &'static str, password: &'static str| {
        user_command(
            &app,
            &["set-password", "--username", user, "--password-stdin"],
            password,
        )
    };
    succeeded_saying(
        &set("admin", "recovered-password"),
        "Set the password of admin; their sessions have ended.",
    );
    let r = app
        .get(
            "/rest/api/1.0/users/admin",
            &basic("admin", "recovered-password"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        app.get("/rest/api/1.0/users/admin", &admin()).await.status,
        StatusCode::UNAUTHORIZED
    );
    // Bad input is said plainly and changes nothing.
    let out = set("nobody", "whatever-password");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("there is no user named nobody"));
}
