//! `junction bench --suite oauth2`: the token endpoint (`client_credentials`, `refresh_token`)
//! and a bearer-authenticated GET, next to npm `oidc-provider` (client credentials, in-memory
//! store) on the same machine in the same run. Junction persists every token it issues.

use super::load::{self, form_request, PostForm, Worker};
use super::{BenchArgs, BenchServer};
use crate::domain::GlobalPermission;
use crate::secret::{new_token, token_hash, TokenKind};
use crate::store::{GrantTarget, NewServiceAccount};
use base64::Engine;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, StatusCode};
use std::time::Duration;

const TOKEN_PATH: &str = "/rest/oauth2/latest/token";

fn basic(id: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

/// Follows its own refresh chain: each answer carries the next refresh token.
struct RefreshChain {
    host: String,
    authorization: String,
    refresh: String,
}

impl Worker for RefreshChain {
    fn request(&mut self) -> Request<Full<Bytes>> {
        form_request(
            &self.host,
            TOKEN_PATH,
            Some(&self.authorization),
            format!("grant_type=refresh_token&refresh_token={}", self.refresh),
        )
    }
    fn response(&mut self, status: StatusCode, body: &[u8]) {
        if status.is_success() {
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
                if let Some(r) = v["refresh_token"].as_str() {
                    self.refresh = r.to_string();
                }
            }
        }
    }
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let server = BenchServer::start(&args).await?;
    let (addr, store, dir) = (server.addr, server.store.clone(), server.dir.clone());
    let host = addr.to_string();
    let duration = Duration::from_secs(args.seconds);

    // A repository, a user who may read it, a service account, and a client for refresh chains.
    let project = super::bench_repository(&server).await?;
    let user = store
        .create_user(
            "bench-user",
            "Bench User",
            None,
            None,
            Some(GlobalPermission::LicensedUser),
            None,
        )
        .await?;
    store
        .set_grant(
            GrantTarget::Project(project.id),
            user.id,
            "PROJECT_READ",
            None,
            None,
        )
        .await?;
    let svc_secret = new_token(TokenKind::ClientSecret);
    store
        .create_service_account(
            &NewServiceAccount {
                slug: "bench-bot",
                display_name: "Bench bot",
                client_id: "bench-bot-client",
                secret_hash: &token_hash(&svc_secret),
                secret_encrypted: "unused-in-bench",
                scope: "REPO_READ",
                restriction: None,
            },
            None,
        )
        .await?;
    let web_secret = new_token(TokenKind::ClientSecret);
    let web = store
        .create_oauth_client(
            "bench-web-client",
            "Bench web",
            true,
            Some(&token_hash(&web_secret)),
            None,
            &["https://bench.example/cb".into()],
            "REPO_READ",
            None,
        )
        .await?;
    let now = crate::clock::Clock::now_ms(&crate::clock::SystemClock);
    let mut chains = Vec::new();
    let mut user_access = String::new();
    for i in 0..args.concurrency {
        let code = new_token(TokenKind::OAuthCode);
        let grant = store
            .create_grant_with_code(
                web.id,
                user.id,
                "REPO_READ",
                &token_hash(&code),
                "https://bench.example/cb",
                None,
                now + 60_000,
            )
            .await?;
        let (access, refresh) = (
            new_token(TokenKind::OAuthAccess),
            new_token(TokenKind::OAuthRefresh),
        );
        store
            .issue_oauth_tokens(
                grant,
                (&token_hash(&access), now + 3_600_000),
                Some((&token_hash(&refresh), now + 86_400_000)),
            )
            .await?;
        if i == 0 {
            user_access = access;
        }
        chains.push(refresh);
    }

    println!(
        "OAuth 2.0 benchmark: {} backend, concurrency {}, {}s each",
        store.backend(),
        args.concurrency,
        args.seconds
    );
    let cc_body = "grant_type=client_credentials".to_string();
    let svc_auth = basic("bench-bot-client", &svc_secret);
    let cc_workers = |host: &str, auth: &str, body: &str| -> Vec<Box<dyn Worker>> {
        (0..args.concurrency)
            .map(|_| {
                Box::new(PostForm {
                    host: host.to_string(),
                    path: TOKEN_PATH.into(),
                    authorization: Some(auth.to_string()),
                    body: body.to_string(),
                }) as Box<dyn Worker>
            })
            .collect()
    };
    let bearer = load::get(
        addr,
        "/rest/api/1.0/projects/BENCH/repos/bench-repo",
        Some(&format!("Bearer {user_access}")),
        args.concurrency,
        duration,
    )
    .await?;
    let cc = load::run(addr, cc_workers(&host, &svc_auth, &cc_body), duration).await?;
    let web_auth = basic("bench-web-client", &web_secret);
    let refresh_workers: Vec<Box<dyn Worker>> = chains
        .into_iter()
        .map(|refresh| {
            Box::new(RefreshChain {
                host: host.clone(),
                authorization: web_auth.clone(),
                refresh,
            }) as Box<dyn Worker>
        })
        .collect();
    let refresh = load::run(addr, refresh_workers, duration).await?;
    server.stop().await?;

    let reference = oidc_provider(&args, duration).await;
    load::report(
        "Junction GET repository with an OAuth bearer token",
        &bearer,
    );
    load::report("Junction POST token, client_credentials", &cc);
    load::report("Junction POST token, refresh_token (rotating)", &refresh);
    match reference {
        Ok(m) => {
            load::report(
                "oidc-provider POST token, client_credentials (in memory)",
                &m,
            );
            println!(
                "ratio Junction/oidc-provider client_credentials throughput: {:.2} (goal >= 2)",
                cc.rps / m.rps.max(1.0)
            );
            println!(
                "ratio Junction refresh_token / oidc-provider client_credentials throughput: {:.2}",
                refresh.rps / m.rps.max(1.0)
            );
        }
        Err(e) => println!("oidc-provider could not be measured: {e:#}"),
    }
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}

/// Starts oidc-provider from tests/node (installing its locked packages if needed) and measures
/// its token endpoint with client credentials.
async fn oidc_provider(args: &BenchArgs, duration: Duration) -> anyhow::Result<load::Measured> {
    use tokio::io::AsyncBufReadExt;
    let node_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node");
    if !node_dir.join("node_modules/oidc-provider").exists() {
        let ok = tokio::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&node_dir)
            .status()
            .await?;
        anyhow::ensure!(ok.success(), "npm ci failed in tests/node");
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut child = tokio::process::Command::new("node")
        .arg(node_dir.join("oidc_provider_server.js"))
        .arg(port.to_string())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("piped")).lines();
    while let Some(line) = lines.next_line().await? {
        if line.trim() == "ready" {
            break;
        }
    }
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let auth = basic("bench", "bench-secret-bench-secret-bench-secret");
    let workers: Vec<Box<dyn Worker>> = (0..args.concurrency)
        .map(|_| {
            Box::new(PostForm {
                host: addr.to_string(),
                path: "/token".into(),
                authorization: Some(auth.clone()),
                body: "grant_type=client_credentials&scope=api%3Aread".into(),
            }) as Box<dyn Worker>
        })
        .collect();
    let m = load::run(addr, workers, duration).await;
    child.kill().await.ok();
    m
}
