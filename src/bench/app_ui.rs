//! `junction bench --suite app-ui`: the repository page with installed apps' panels.
//!
//! The same repository page, rendered on the server for a person with 5 installed apps (each a
//! web panel in the repository overview, whose frame Junction signs on every render) and for a
//! person with none, same grants, same concurrency, same run. Requests carry a personal access
//! token (pages accept it) so no password hashing is measured. Not a test: nothing here
//! asserts a time.

use super::{bench_repository, load, BenchArgs, BenchServer};
use crate::domain::connect_events::WebhookModule;
use crate::secret::{new_token, token_hash, TokenKind};
use crate::store::connect::NewInstallation;
use crate::store::GrantTarget;
use serde_json::json;
use std::time::Duration;

const APPS: usize = 5;

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let server = BenchServer::start(&args).await?;
    let result = measure(&server, &args).await;
    server.stop().await?;
    result
}

/// A person with project write on BENCH and a token; their token.
async fn person(server: &BenchServer, name: &str, project: i64) -> anyhow::Result<(i64, String)> {
    let store = &server.store;
    let u = store
        .create_user(
            name,
            name,
            None,
            None,
            Some(crate::domain::GlobalPermission::LicensedUser),
            None,
        )
        .await?;
    store
        .set_grant(
            GrantTarget::Project(project),
            u.id,
            "PROJECT_WRITE",
            None,
            None,
        )
        .await?;
    let token = new_token(TokenKind::Personal);
    store
        .create_access_token(
            u.id,
            "bench",
            &token_hash(&token),
            ("write", None),
            None,
            None,
        )
        .await?;
    Ok((u.id, token))
}

async fn measure(server: &BenchServer, args: &BenchArgs) -> anyhow::Result<()> {
    let store = &server.store;
    let project = bench_repository(server).await?;
    let (with_id, with_apps) = person(server, "with-apps", project.id).await?;
    let (_, without) = person(server, "without-apps", project.id).await?;
    for i in 0..APPS {
        let base = format!("https://app{i}.example.com");
        let descriptor = json!({
            "key": format!("bench-app-{i}"), "name": format!("Bench app {i}"),
            "description": "A panel", "baseUrl": base, "authentication": {"type": "jwt"},
            "lifecycle": {"installed": "/installed"}, "scopes": ["account", "repository", "pullrequest"],
            "modules": {"webPanels": [{"key": "panel", "name": {"value": "Panel"},
                "url": "/panel?repo={repository.uuid}&user={user.uuid}",
                "location": "org.bitbucket.repository.overview.informationPanel"}]},
        })
        .to_string();
        let secret = new_token(TokenKind::AppSecret);
        let hooks: [WebhookModule; 0] = [];
        store
            .save_connect_installation(
                &NewInstallation {
                    client_key: &format!("bench-client-{i}"),
                    app_key: &format!("bench-app-{i}"),
                    account_id: with_id,
                    name: &format!("Bench app {i}"),
                    vendor: None,
                    descriptor: &descriptor,
                    descriptor_url: None,
                    base_url: &base,
                    scopes: "account repository pullrequest",
                    shared_secret: &server.state.master_key.encrypt(&secret),
                    installed_by: with_id,
                    hooks: &hooks,
                },
                None,
            )
            .await?;
    }
    let path = "/projects/BENCH/repos/bench-repo";
    let duration = Duration::from_secs(args.seconds);
    let (a, b) = (format!("Bearer {with_apps}"), format!("Bearer {without}"));
    // Warm up both (connections, caches), then measure each.
    load::get(
        server.addr,
        path,
        Some(&a),
        args.concurrency,
        Duration::from_secs(1),
    )
    .await?;
    load::get(
        server.addr,
        path,
        Some(&b),
        args.concurrency,
        Duration::from_secs(1),
    )
    .await?;
    println!(
        "Junction benchmark: {} backend, concurrency {}, {}s each",
        store.backend(),
        args.concurrency,
        args.seconds
    );
    let base = load::get(server.addr, path, Some(&b), args.concurrency, duration).await?;
    load::report("repository page, no apps (baseline)", &base);
    let apps = load::get(server.addr, path, Some(&a), args.concurrency, duration).await?;
    load::report(&format!("repository page, {APPS} app panels"), &apps);
    println!(
        "ratio (with ÷ without): throughput {:.2}×, p50 {:.2}×, p99 {:.2}×",
        apps.rps / base.rps,
        apps.p50_ms / base.p50_ms,
        apps.p99_ms / base.p99_ms
    );
    Ok(())
}
