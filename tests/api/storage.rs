//! Storage behaviour below the HTTP layer, on both backends.

use crate::harness::*;
use junction::crypto::MasterKey;

/// Every text value in every table of the test server's database, read with its own connection
/// (not through the store), so what is stored is seen as it is.
async fn raw_text_values(app: &TestApp) -> Vec<String> {
    use sqlx::Row;
    let mut out = Vec::new();
    if app.backend == Backend::Sqlite {
        let pool = sqlx::SqlitePool::connect(&app.database_url).await.unwrap();
        let tables: Vec<String> =
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
                .fetch_all(&pool)
                .await
                .unwrap();
        for t in tables {
            let cols = sqlx::query(&format!("PRAGMA table_info(\"{t}\")"))
                .fetch_all(&pool)
                .await
                .unwrap();
            for c in cols {
                let col: String = c.get("name");
                // As bytes: some columns hold binary data, which is not text.
                let q = format!("SELECT CAST(\"{col}\" AS BLOB) FROM \"{t}\"");
                let vals: Vec<Option<Vec<u8>>> =
                    sqlx::query_scalar(&q).fetch_all(&pool).await.unwrap();
                out.extend(
                    vals.into_iter()
                        .flatten()
                        .map(|b| String::from_utf8_lossy(&b).into_owned()),
                );
            }
        }
    } else {
        let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
        let cols: Vec<(String, String)> = sqlx::query_as(
            "SELECT table_name::text, column_name::text FROM information_schema.columns WHERE table_schema = 'public'",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        for (t, col) in cols {
            let q = format!("SELECT \"{col}\"::text FROM \"{t}\"");
            let vals: Vec<Option<String>> = sqlx::query_scalar(&q).fetch_all(&pool).await.unwrap();
            out.extend(vals.into_iter().flatten());
        }
    }
    out
}

async fn secrets_are_stored_only_as_ciphertext(app: TestApp) {
    // Real secrets made through the API: an OAuth client secret, a personal access token, a
    // password, a link's outgoing client secret.
    let c = app
        .post("/rest/oauth2/latest/client", &admin(), serde_json::json!({"name": "Stored", "redirects": ["http://localhost:1/cb"], "scope": "REPO_READ"}))
        .await;
    let client_secret = c.body["clientSecret"].as_str().unwrap().to_string();
    let (_, token) = app.token(&admin(), "read").await;
    let pat = token["token"].as_str().unwrap().to_string();
    app.user("alice").await; // password "alice-password"
    let key = MasterKey::from_base64(&MasterKey::generate_base64()).unwrap();
    app.store
        .put_encrypted_secret("link:1:client_secret", &key.encrypt("s3cr3t-value"))
        .await
        .unwrap();
    let values = raw_text_values(&app).await;
    assert!(
        values.len() > 20,
        "the dump reads the tables: {}",
        values.len()
    );
    for secret in [
        client_secret.as_str(),
        pat.as_str(),
        "alice-password",
        ADMIN_PASSWORD,
        "s3cr3t-value",
    ] {
        assert!(
            !values.iter().any(|v| v.contains(secret)),
            "{secret} is stored in plain text"
        );
    }
    // And what is stored decrypts back.
    let stored = app
        .store
        .encrypted_secret("link:1:client_secret")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(key.decrypt(&stored).unwrap(), "s3cr3t-value");
}

async fn concurrent_pull_requests_get_distinct_numbers(app: TestApp) {
    use serde_json::json;
    app.project("P", false).await;
    app.repo("P", "r", false).await;
    let names: Vec<String> = (0..12).map(|i| format!("b{i}")).collect();
    app.branches(
        "P",
        "r",
        &names.iter().map(String::as_str).collect::<Vec<_>>(),
    )
    .await;
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

/// A second node on `a`'s PostgreSQL database, its clock frozen.
async fn second_node(a: &TestApp) -> (String, SecondNode) {
    a.second_node(|_| {}).await
}

/// Two nodes on one PostgreSQL database: a repository created through one is listed by the
/// other (whose clock is frozen, so only the notification can drop the page it cached).
#[tokio::test]
async fn a_second_node_lists_a_repository_the_first_created() {
    let Some(a) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let (b_base, _b) = second_node(&a).await;
    a.project("NODES", false).await;
    let listed_on_b = || {
        let url = format!("{b_base}/rest/api/1.0/repos?limit=25");
        async move {
            let r = reqwest::Client::new()
                .get(url)
                .basic_auth("admin", Some(ADMIN_PASSWORD))
                .send()
                .await
                .unwrap();
            let body: serde_json::Value = r.json().await.unwrap();
            body["size"].as_i64().unwrap()
        }
    };
    assert_eq!(listed_on_b().await, 0, "node B caches the empty page");
    a.repo("NODES", "made-on-a", false).await;
    // The notification is asynchronous: wait for B to act on it (bounded), never a fixed sleep.
    let mut listed = false;
    for _ in 0..200 {
        if listed_on_b().await == 1 {
            listed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(listed, "node B never listed the repository node A created");
}

/// Two nodes on one PostgreSQL database: a change made through one is seen by the other's
/// authentication cache at once (LISTEN/NOTIFY), not after its TTL. Node B's clock is frozen,
/// so only the notification can make it drop what it cached.
#[tokio::test]
async fn a_second_node_drops_its_cache_when_the_first_changes_something() {
    let Some(a) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let (b_base, _b) = second_node(&a).await;
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
