//! `junction bench --suite applinks`: the request API through an outgoing application link.
//! Two servers in this process: B holds a project; A has a link to B on which A's admin is
//! connected (with a token B issued). Measured back to back at the same concurrency:
//! the read made directly on B (the baseline), and the same read made through A's link
//! (`POST /rest/applinks/latest/links/{id}/request` with a session), so the ratio is the cost
//! of the link: one more HTTP hop, token decryption, the SSRF-guarded client and re-encoding.

use super::load::{self, Post, Worker};
use super::{BenchArgs, BenchServer};
use crate::secret::{new_token, token_hash, TokenKind};
use crate::services::links::remote_oauth::TokenSet;
use crate::store::{LinkFields, Outgoing};
use std::time::Duration;

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let loopback = |c: &mut crate::config::Config| {
        c.outbound.allow_private = vec![crate::net::Cidr::parse("127.0.0.0/8").expect("a block")];
        c.log.level = "warn".into();
    };
    let a = BenchServer::start_with(&args, "a", loopback).await?;
    let b = BenchServer::start_with(&args, "b", loopback).await?;

    // B: a project and a read token for its admin.
    b.store
        .create_project("BENCH", "Bench", "", false, None)
        .await?;
    let b_admin = b
        .store
        .find_account("admin")
        .await?
        .expect("bootstrap admin");
    let remote_token = new_token(TokenKind::Personal);
    b.store
        .create_access_token(
            b_admin.id,
            "bench",
            &token_hash(&remote_token),
            ("read", None),
            None,
            None,
        )
        .await?;

    // A: an outgoing link to B, A's admin connected with B's token, and a browser session.
    let b_url = format!("http://{}", b.addr);
    let link = a
        .state
        .links
        .create_link(
            &crate::secret::new_uuid(),
            &LinkFields {
                name: "B".into(),
                url: b_url.clone(),
                type_id: "junction".into(),
                app_name: Some("Junction".into()),
                app_version: None,
                incoming_client: None,
                outgoing: Some(Outgoing {
                    preset: "custom".into(),
                    client_id: "bench".into(),
                    secret_encrypted: a.state.master_key.encrypt("bench"),
                    authorize_url: format!("{b_url}/rest/oauth2/latest/authorize"),
                    token_url: format!("{b_url}/rest/oauth2/latest/token"),
                    scopes: "REPO_READ".into(),
                }),
            },
            None,
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let a_admin = a
        .store
        .find_account("admin")
        .await?
        .expect("bootstrap admin");
    a.state
        .links
        .save_tokens(
            &link,
            a_admin.id,
            &TokenSet {
                access_token: remote_token.clone(),
                refresh_token: None,
                expires_in: None,
                scope: None,
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let session = new_token(TokenKind::Session);
    a.store
        .create_session(a_admin.id, &token_hash(&session), "csrf", 3_600_000)
        .await?;

    println!(
        "Application links benchmark: {} backend, concurrency {}, {}s per endpoint",
        a.store.backend(),
        args.concurrency,
        args.seconds
    );
    let duration = Duration::from_secs(args.seconds);
    let path = "/rest/api/1.0/projects";
    let bearer = format!("Bearer {remote_token}");
    let direct = |d| load::get(b.addr, path, Some(&bearer), args.concurrency, d);
    direct(Duration::from_millis(500)).await?;
    let baseline = direct(duration).await?;
    let through = |d| {
        let workers = (0..args.concurrency)
            .map(|_| {
                Box::new(Post {
                    host: a.addr.to_string(),
                    path: format!("/rest/applinks/latest/links/{}/request", link.link_id),
                    headers: vec![
                        ("content-type".into(), "application/json".into()),
                        ("cookie".into(), format!("junction_session={session}")),
                        ("x-atlassian-token".into(), "no-check".into()),
                    ],
                    body: format!(r#"{{"path":"{path}"}}"#),
                }) as Box<dyn Worker>
            })
            .collect();
        load::run(a.addr, workers, d)
    };
    through(Duration::from_millis(500)).await?;
    let linked = through(duration).await?;
    load::report(
        "GET /rest/api/1.0/projects on B directly (baseline)",
        &baseline,
    );
    load::report("the same through A's link (request API, session)", &linked);
    println!(
        "ratio through-link/direct throughput: {:.2}; p99 {:.2} ms vs {:.2} ms",
        linked.rps / baseline.rps.max(1.0),
        linked.p99_ms,
        baseline.p99_ms
    );
    let root = a.dir.parent().map(std::path::Path::to_path_buf);
    a.stop().await?;
    b.stop().await?;
    if let Some(root) = root {
        let _ = std::fs::remove_dir_all(root);
    }
    Ok(())
}
