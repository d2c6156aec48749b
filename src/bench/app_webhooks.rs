//! `junction bench --suite app-webhooks`: app webhook fan-out next to repository webhooks, in
//! the same run, to the same loopback receiver (answers 204 at once).
//!
//! 1,000 repositories in 10 projects; 100 apps installed into 100 accounts, each account
//! granted one project, each app subscribed to `repo:updated` — so every change reaches 10
//! apps, each checked against its scopes and `authorize()` at send time. The baseline: the apps
//! disabled and 10 project webhooks per project instead, the same 10 deliveries per change.
//! For each: throughput (producers commit changes for `--seconds`, deliveries/s until the queue
//! is empty) and latency at 200 changes/s (commit → delivery p50/p99).
//!
//! Not a test: nothing here asserts a time.

use super::webhooks::{latency, start_receiver, start_server, throughput, Arrivals};
use super::{bench_admin, BenchArgs};
use crate::domain::connect_events::{events_received, WebhookModule};
use crate::domain::connect_scopes::{ConnectScope, ConnectScopes};
use crate::store::connect::{InstallState, NewInstallation};
use crate::store::GrantTarget;
use std::sync::Arc;
use std::time::Duration;

const PROJECTS: usize = 10;
const REPOS_PER_PROJECT: usize = 100;
const APPS: usize = 100;

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let server = start_server(&args, "app_webhooks").await?;
    let store = server.store.clone();
    let admin = bench_admin(&store).await?;
    let emit = server.state.emit(&admin);
    let arrivals = Arc::new(Arrivals::default());
    let url = start_receiver(arrivals.clone()).await?;
    let (mut projects, mut repos) = (Vec::new(), Vec::new());
    for p in 0..PROJECTS {
        let project = store
            .create_project(&format!("P{p}"), &format!("Project {p}"), "", false, None)
            .await?;
        for r in 0..REPOS_PER_PROJECT {
            let slug = format!("repo-{r}");
            let repo = store
                .create_repository(
                    project.id,
                    &slug,
                    &slug,
                    "",
                    false,
                    "refs/heads/main",
                    &emit,
                    None,
                )
                .await?;
            repos.push(repo.id);
        }
        projects.push(project.id);
    }
    let scopes: ConnectScopes = [ConnectScope::Repository].into_iter().collect();
    let hooks = [WebhookModule {
        key: "updates".into(),
        event: "repo:updated".into(),
        url: url.clone(),
        receives: events_received("repo:updated", scopes),
    }];
    let mut installations = Vec::new();
    for i in 0..APPS {
        let u = store
            .create_user(&format!("owner{i}"), "Owner", None, None, None, None)
            .await?;
        store
            .set_grant(
                GrantTarget::Project(projects[i % PROJECTS]),
                u.id,
                "PROJECT_READ",
                None,
                None,
            )
            .await?;
        let key = format!("bench-app-{i}");
        let saved = store
            .save_connect_installation(
                &NewInstallation {
                    client_key: &format!("ari:cloud:bitbucket::app/{{bench-{i}}}/{key}"),
                    app_key: &key,
                    account_id: u.id,
                    name: &key,
                    vendor: None,
                    descriptor: "{}",
                    descriptor_url: None,
                    base_url: url.trim_end_matches("/hook"),
                    scopes: &scopes.to_text(),
                    shared_secret: &server.state.master_key.encrypt(&crate::secret::new_token(
                        crate::secret::TokenKind::AppSecret,
                    )),
                    installed_by: u.id,
                    hooks: &hooks,
                },
                None,
            )
            .await?;
        installations.push(saved.id);
    }
    let seconds = Duration::from_secs(args.seconds);
    let fan = APPS / PROJECTS;
    println!(
        "app webhooks on {}: {APPS} apps, {} repositories, {fan} deliveries per change, {} s per phase",
        store.backend(),
        repos.len(),
        args.seconds
    );
    println!(" {APPS} apps (JWT-signed, body wrapped, authorize() at send time):");
    throughput(&server, &emit, &repos, &arrivals, fan, seconds).await?;
    latency(&server, &admin, &repos, &arrivals, seconds, 200).await?;

    for id in &installations {
        store
            .set_connect_installation_state(*id, InstallState::Disabled, None)
            .await?;
    }
    for (p, project) in projects.iter().enumerate() {
        for h in 0..fan {
            let fields = crate::store::WebhookFields {
                name: format!("bench-{p}-{h}"),
                url: url.clone(),
                events: vec!["repo:updated".into()],
                active: true,
                ordered: false,
                secret_encrypted: Some(Some(server.state.master_key.encrypt("bench-secret"))),
            };
            store
                .create_webhook(*project, None, &fields, admin.id, None)
                .await?;
        }
    }
    println!(" baseline, {fan} repository webhooks per project (HMAC-signed):");
    throughput(&server, &emit, &repos, &arrivals, fan, seconds).await?;
    latency(&server, &admin, &repos, &arrivals, seconds, 200).await?;
    server.stop().await
}
