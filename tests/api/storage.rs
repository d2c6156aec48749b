//! Storage behaviour below the HTTP layer, on both backends.

use crate::harness::*;
use junction::crypto::MasterKey;

async fn secrets_are_stored_only_as_ciphertext(app: TestApp) {
    let key = MasterKey::from_base64(&MasterKey::generate_base64()).unwrap();
    app.store
        .put_encrypted_secret("link:1:client_secret", &key.encrypt("s3cr3t-value"))
        .await
        .unwrap();
    let stored = app
        .store
        .encrypted_secret("link:1:client_secret")
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.contains("s3cr3t-value"));
    assert_eq!(key.decrypt(&stored).unwrap(), "s3cr3t-value");
    app.store
        .put_encrypted_secret("link:1:client_secret", &key.encrypt("rotated"))
        .await
        .unwrap();
    let stored = app
        .store
        .encrypted_secret("link:1:client_secret")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(key.decrypt(&stored).unwrap(), "rotated");
    assert!(app
        .store
        .encrypted_secret("missing")
        .await
        .unwrap()
        .is_none());
}

async fn concurrent_pull_requests_get_distinct_numbers(app: TestApp) {
    use serde_json::json;
    app.project("P", false).await;
    app.repo("P", "r", false).await;
    let auth = admin();
    let mut tasks = Vec::new();
    for i in 0..12 {
        let body = json!({"title": format!("t{i}"), "fromRef": {"id": format!("b{i}")}, "toRef": {"id": "main"}});
        tasks.push(app.post(
            "/rest/api/1.0/projects/P/repos/r/pull-requests",
            &auth,
            body,
        ));
    }
    let results = join_all(tasks).await;
    let mut ids: Vec<i64> = results
        .iter()
        .map(|r| r.body["id"].as_i64().expect("created"))
        .collect();
    ids.sort();
    assert_eq!(ids, (1..=12).collect::<Vec<_>>());
}

async fn metrics_are_served_on_their_own_listener(app: TestApp) {
    // The test server has metrics off; the public port has no /metrics.
    let r = app.get("/metrics", &Auth::None).await;
    assert_eq!(r.status, reqwest::StatusCode::NOT_FOUND);
}

crate::both_backends!(
    secrets_are_stored_only_as_ciphertext,
    concurrent_pull_requests_get_distinct_numbers,
    metrics_are_served_on_their_own_listener,
);

#[tokio::test]
async fn metrics_listener_counts_requests() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = junction::config::Config::for_data_dir(dir.path());
    config.server.listen = "127.0.0.1:0".parse().unwrap();
    config.metrics.listen = "127.0.0.1:0".into();
    let clock = std::sync::Arc::new(junction::clock::SystemClock);
    let bootstrap = junction::server::Bootstrap {
        admin_password: Some(junction::secret::Secret::new(ADMIN_PASSWORD)),
    };
    let server = junction::server::Server::build(config, clock, bootstrap)
        .await
        .unwrap();
    let (addr, metrics) = (server.addr, server.metrics_addr.unwrap());
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));
    reqwest::get(format!("http://{addr}/health")).await.unwrap();
    reqwest::get(format!("http://{addr}/nope")).await.unwrap();
    let text = reqwest::get(format!("http://{metrics}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("junction_http_requests_total{class=\"2xx\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("junction_http_requests_total{class=\"4xx\"} 1"),
        "{text}"
    );
}

/// Two nodes on one PostgreSQL database: a change made through one is seen by the other's
/// authentication cache at once (LISTEN/NOTIFY), not after its TTL. Node B's clock is frozen,
/// so only the notification can make it drop what it cached.
#[tokio::test]
async fn a_second_node_drops_its_cache_when_the_first_changes_something() {
    let Some(a) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut config = junction::config::Config::for_data_dir(dir.path());
    config.server.listen = "127.0.0.1:0".parse().unwrap();
    config.database.url = junction::secret::Secret::new(a.database_url.clone());
    let frozen = junction::clock::ManualClock::new(1_800_000_000_000);
    let bootstrap = junction::server::Bootstrap {
        admin_password: Some(junction::secret::Secret::new(ADMIN_PASSWORD)),
    };
    let b = junction::server::Server::build(config, std::sync::Arc::new(frozen), bootstrap)
        .await
        .unwrap();
    let b_base = format!("http://{}", b.addr);
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(b.run(async move {
        let _ = stopped.await;
    }));
    let alice = a.user("alice").await;
    let (token, _) = a.token(&alice, "read").await;
    let on_b = || {
        let t = match &token {
            Auth::Bearer(t) => t.clone(),
            _ => unreachable!(),
        };
        let url = format!("{b_base}/rest/api/1.0/users/alice");
        async move {
            reqwest::Client::new()
                .get(url)
                .bearer_auth(t)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(
        on_b().await,
        reqwest::StatusCode::OK,
        "node B caches the token"
    );
    let r = a
        .call(
            reqwest::Method::POST,
            "/rest/junction/1.0/admin/users/alice/deactivate",
            &admin(),
            None,
        )
        .await;
    assert_eq!(r.status, reqwest::StatusCode::OK);
    // The notification is asynchronous: wait for B to act on it (bounded), never a fixed sleep.
    let mut refused = false;
    for _ in 0..200 {
        if on_b().await == reqwest::StatusCode::UNAUTHORIZED {
            refused = true;
            break;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(
        refused,
        "node B still accepts the token of a deactivated user"
    );
}
