//! `junction bench --suite apps`: Connect apps.
//!
//! 1. JWT + `qsh` verification per request on one core (`connect_jwt::verify`), next to hashing
//!    a personal access token (what a token read costs before its cached lookup).
//! 2. `GET /2.0/repositories/{ws}/{slug}` signed with an app's JWT, next to the same read with
//!    a personal access token, at the same concurrency.
//! 3. Installing one app into 100 accounts (each: fetch and validate the descriptor, call
//!    `installed`, store), next to the app's own cost (the same fetch and callback alone).
//!
//! Not a test: nothing here asserts a time.

use super::{bench_repository, load, BenchArgs, BenchServer};
use crate::domain::connect_jwt::{self, Expected};
use crate::domain::connect_qsh::{canonical_request, qsh};
use crate::domain::{global_of, Ceiling, Subject};
use crate::secret::{new_token, token_hash, TokenKind};
use crate::services::apps::{self as app_io, lifecycle};
use crate::services::host::apps::{self, Source};
use crate::services::host::Principal;
use serde_json::json;
use std::time::{Duration, Instant};

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    verify_per_request();
    let app_base = fake_app().await?;
    let server = BenchServer::start_with(&args, "apps", |c| {
        c.outbound.allow_private = vec![crate::net::Cidr::parse("127.0.0.0/8").expect("a block")];
    })
    .await?;
    let result = async {
        let installed = install_many(&server, &app_base, 100).await?;
        jwt_reads(&server, &args, &installed).await
    }
    .await;
    server.stop().await?;
    result
}

/// Microseconds per call of `f`, over `n` calls.
fn per_call(n: u32, mut f: impl FnMut()) -> f64 {
    let started = Instant::now();
    for _ in 0..n {
        f();
    }
    started.elapsed().as_secs_f64() * 1e6 / f64::from(n)
}

fn verify_per_request() {
    let secret = new_token(TokenKind::AppSecret);
    let now = 1_800_000_000;
    let path = "/2.0/repositories/bench/bench-repo/pullrequests";
    let query = "state=OPEN&pagelen=50";
    let claims = json!({"iss": "app", "sub": "ck", "iat": now, "exp": now + 180,
                        "qsh": qsh("GET", path, query, "")});
    let token = connect_jwt::sign(&claims, secret.as_bytes());
    let verify = per_call(200_000, || {
        let canonical = canonical_request("GET", path, query, "");
        let e = Expected {
            canonical_request: &canonical,
            context_allowed: false,
        };
        let ok = connect_jwt::verify(&token, secret.as_bytes(), now, &e).is_ok();
        std::hint::black_box(ok);
    });
    let pat = new_token(TokenKind::Personal);
    let hash = per_call(200_000, || {
        std::hint::black_box(token_hash(&pat));
    });
    println!("JWT + qsh verification (canonical request included): {verify:.2} µs per request on one core (goal < 5 µs)");
    println!(
        "baseline, hashing a personal access token: {hash:.2} µs; ratio {:.1}×",
        verify / hash
    );
}

/// An app on loopback: serves its descriptor and accepts every lifecycle call.
async fn fake_app() -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let descriptor = json!({
        "key": "bench-app", "name": "Bench app", "description": "Benchmarks installs",
        "baseUrl": base, "authentication": {"type": "jwt"},
        "lifecycle": {"installed": "/installed", "uninstalled": "/uninstalled"},
        "scopes": ["account", "repository"],
    })
    .to_string();
    let app = axum::Router::new()
        .route(
            "/atlassian-connect.json",
            axum::routing::get(move || {
                let d = descriptor.clone();
                async move { ([("content-type", "application/json")], d) }
            }),
        )
        .fallback(|| async { axum::http::StatusCode::NO_CONTENT });
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(base)
}

/// Installs the app into `n` new accounts, 16 at a time; returns the `(clientKey, secret)` of
/// the first installation.
async fn install_many(
    server: &BenchServer,
    app: &str,
    n: usize,
) -> anyhow::Result<(String, String)> {
    let store = &server.store;
    let url = format!("{app}/atlassian-connect.json");
    let mut users = Vec::new();
    for i in 0..n {
        let u = store
            .create_user(
                &format!("dev{i}"),
                "Developer",
                None,
                None,
                Some(crate::domain::GlobalPermission::LicensedUser),
                None,
            )
            .await?;
        store.set_development_mode(u.id, true, None).await?;
        users.push(u);
    }
    // Baseline: what the app itself costs — the descriptor fetch and the installed callback.
    let outbound = &server.state.links.outbound;
    let started = Instant::now();
    let mut base_lat = Vec::new();
    for _ in 0..n {
        let t = Instant::now();
        let (d, _) = app_io::fetch_descriptor(outbound, &url).await?;
        let body = json!({"key": d.key, "clientKey": "baseline"});
        let installed = d.lifecycle.installed.clone().unwrap_or_default();
        lifecycle::call(
            outbound,
            lifecycle::Event::Installed,
            &installed,
            &body,
            None,
        )
        .await?;
        base_lat.push(t.elapsed());
    }
    let base_total = started.elapsed();

    let host = server.state.host();
    let started = Instant::now();
    let mut lat = Vec::new();
    let mut failures = 0;
    for chunk in users.chunks(16) {
        let runs = chunk.iter().map(|u| {
            let (host, url) = (host, url.clone());
            async move {
                let grants = host.store.grants_of_user(u.id).await?;
                let subject = Subject {
                    user_id: Some(u.id),
                    global: global_of(&grants),
                    ceiling: Ceiling::Full,
                };
                let who = Principal {
                    user: Some(u),
                    subject: &subject,
                    grants: &grants,
                    restriction: None,
                    ip: "bench",
                };
                let t = Instant::now();
                let offer = apps::offer(&host, &who, &Source::Url(url), None).await?;
                apps::install(&host, &who, &offer, &u.slug, offer.descriptor.scopes).await?;
                Ok::<_, crate::services::host::HostError>(t.elapsed())
            }
        });
        for r in futures_util::future::join_all(runs).await {
            match r {
                Ok(d) => lat.push(d),
                Err(_) => failures += 1,
            }
        }
    }
    let total = started.elapsed();
    let p99 = |v: &mut Vec<Duration>| {
        v.sort();
        v.get((v.len() * 99 / 100).min(v.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    println!(
        "install into {n} accounts (16 at a time): {:.2} s, {:.0} installs/s, p99 {:.1} ms, {failures} failures",
        total.as_secs_f64(),
        lat.len() as f64 / total.as_secs_f64(),
        p99(&mut lat).as_secs_f64() * 1000.0
    );
    println!(
        "baseline, the app's own cost one at a time (descriptor fetch + installed): {:.2} s, {:.0}/s, p99 {:.1} ms",
        base_total.as_secs_f64(),
        n as f64 / base_total.as_secs_f64(),
        p99(&mut base_lat).as_secs_f64() * 1000.0
    );
    let first = store
        .find_account("dev0")
        .await?
        .ok_or_else(|| anyhow::anyhow!("dev0"))?;
    let i = store
        .connect_installation("bench-app", first.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("dev0 has no installation"))?;
    let secret = server.state.master_key.decrypt(&i.shared_secret)?;
    Ok((i.client_key, secret))
}

/// The same repository read, signed with the app's JWT and with a personal access token.
async fn jwt_reads(
    server: &BenchServer,
    args: &BenchArgs,
    app: &(String, String),
) -> anyhow::Result<()> {
    let store = &server.store;
    let project = bench_repository(server).await?;
    let dev = store
        .find_account("dev0")
        .await?
        .ok_or_else(|| anyhow::anyhow!("dev0"))?;
    let target = crate::store::GrantTarget::Project(project.id);
    store
        .set_grant(target, dev.id, "PROJECT_READ", None, None)
        .await?;
    let path = "/2.0/repositories/bench/bench-repo";
    let now = crate::clock::Clock::now_ms(&crate::clock::SystemClock) / 1000;
    let claims = json!({"iss": "bench-app", "sub": app.0, "iat": now, "exp": now + 3600, "qsh": qsh("GET", path, "", "")});
    let jwt = format!("JWT {}", connect_jwt::sign(&claims, app.1.as_bytes()));
    // In-process, one at a time: what each credential costs Junction before the handler runs.
    let host = server.state.host();
    let signed = crate::services::host::app_calls::SignedRequest {
        method: "GET",
        path,
        query: "",
        context_allowed: false,
    };
    let token = jwt.trim_start_matches("JWT ").to_string();
    let n = 20_000u32;
    let started = Instant::now();
    for _ in 0..n {
        crate::services::host::app_calls::authenticate(&host, &token, &signed)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    let jwt_us = started.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    let pat = new_token(TokenKind::Personal);
    store
        .create_access_token(
            dev.id,
            "bench",
            &token_hash(&pat),
            ("read", None),
            None,
            None,
        )
        .await?;
    let started = Instant::now();
    for _ in 0..n {
        std::hint::black_box(store.use_access_token(&token_hash(&pat)).await?);
    }
    let pat_us = started.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    println!(
        "authenticating, cache warm: app JWT {jwt_us:.2} µs, personal access token {pat_us:.2} µs"
    );
    let pat = format!("Bearer {pat}");
    let router = crate::web::router(server.state.clone(), Default::default());
    let (jwt_served, pat_served) = (
        served_in_process(&router, path, &jwt).await?,
        served_in_process(&router, path, &pat).await?,
    );
    println!(
        "the whole request served in process (no network), one at a time: app JWT {jwt_served:.2} µs, personal access token {pat_served:.2} µs, ratio {:.2}",
        pat_served / jwt_served
    );
    let d = Duration::from_secs(args.seconds);
    load::get(
        server.addr,
        path,
        Some(&jwt),
        args.concurrency,
        Duration::from_millis(500),
    )
    .await?;
    // Alternating rounds, so a noisy moment on the machine falls on both alike.
    let round = d / 4;
    // The padded token read carries as many bytes as the JWT read: what the size alone costs.
    let padding = jwt.len().saturating_sub(pat.len());
    let (mut pats, mut jwts, mut padded) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..4 {
        pats.push(load::get(server.addr, path, Some(&pat), args.concurrency, round).await?);
        jwts.push(load::get(server.addr, path, Some(&jwt), args.concurrency, round).await?);
        padded.push(
            load::get_padded(
                server.addr,
                path,
                Some(&pat),
                padding,
                args.concurrency,
                round,
            )
            .await?,
        );
    }
    let (with_pat, with_jwt) = (combined(&pats), combined(&jwts));
    let with_padding = combined(&padded);
    load::report(&format!("GET {path} (personal access token)"), &with_pat);
    load::report(
        &format!("GET {path} (personal access token + {padding} bytes of header)"),
        &with_padding,
    );
    load::report(&format!("GET {path} (app JWT)"), &with_jwt);
    println!(
        "ratio JWT/padded-token throughput: {:.2} (the same bytes on the wire)",
        with_jwt.rps / with_padding.rps.max(1.0)
    );
    println!(
        "ratio JWT/PAT throughput: {:.2} (goal >= 0.9), p99 {:.2}",
        with_jwt.rps / with_pat.rps.max(1.0),
        with_jwt.p99_ms / with_pat.p99_ms.max(0.001)
    );
    Ok(())
}

/// What serving `GET path` costs the server alone: the router called directly, 20,000 times.
async fn served_in_process(
    router: &axum::Router,
    path: &str,
    authorization: &str,
) -> anyhow::Result<f64> {
    use tower::ServiceExt;
    let n = 20_000u32;
    let started = Instant::now();
    for _ in 0..n {
        let req = axum::http::Request::get(path)
            .header("Authorization", authorization)
            .body(axum::body::Body::empty())?;
        let resp = router.clone().oneshot(req).await?;
        anyhow::ensure!(resp.status().is_success(), "{path}: {}", resp.status());
        std::hint::black_box(axum::body::to_bytes(resp.into_body(), 1 << 20).await?);
    }
    Ok(started.elapsed().as_secs_f64() * 1e6 / f64::from(n))
}

/// Rounds of one measurement as one: throughput over all of them, the median round's latencies.
fn combined(rounds: &[load::Measured]) -> load::Measured {
    let mut by_p99: Vec<&load::Measured> = rounds.iter().collect();
    by_p99.sort_by(|a, b| a.p99_ms.total_cmp(&b.p99_ms));
    let median = by_p99[by_p99.len() / 2];
    load::Measured {
        requests: rounds.iter().map(|r| r.requests).sum(),
        errors: rounds.iter().map(|r| r.errors).sum(),
        rps: rounds.iter().map(|r| r.rps).sum::<f64>() / rounds.len() as f64,
        p50_ms: median.p50_ms,
        p99_ms: median.p99_ms,
    }
}
