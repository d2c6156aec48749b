//! `junction bench --suite webhooks`: the delivery pipeline end to end, to a receiver on
//! loopback in this process (answers 204 at once).
//!
//! 1. Throughput: producers commit repository changes as fast as they can (each writes its
//!    `repo:updated` event in its transaction), for `--seconds`; every event goes to one hook,
//!    then to ten hooks. Reported: events committed/s and deliveries/s sustained, counting until
//!    the queue is empty again.
//!    Then the drain rate alone: a backlog of 20,000 events written straight into the outbox
//!    in one transaction, delivered to one hook.
//! 2. Latency: 1,000 events/s, paced, for `--seconds`; for each event, the time from its commit
//!    returning to its delivery arriving at the receiver (p50, p99).
//! 3. Order: a backlog of 2,000 events to the same hook with `ordered` on (one at a time).
//!
//! Not a test: nothing here asserts a time.

use super::{bench_admin, BenchArgs, BenchServer};
use crate::store::{Emit, RepositoryChanges};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const REPOS: usize = 16;

/// Arrivals at the receiver: a count, and arrival instants by sequence number.
#[derive(Default)]
pub(super) struct Arrivals {
    count: AtomicUsize,
    at: Mutex<HashMap<u64, Instant>>,
}

pub(super) async fn start_receiver(arrivals: Arc<Arrivals>) -> anyhow::Result<String> {
    let app = axum::Router::new().fallback(move |body: axum::body::Bytes| {
        let arrivals = arrivals.clone();
        async move {
            let now = Instant::now();
            arrivals.count.fetch_add(1, Ordering::Relaxed);
            // The sequence number travels in the description: "seq <n>".
            if let Some(n) = sequence(&body) {
                arrivals.at.lock().unwrap().entry(n).or_insert(now);
            }
            axum::http::StatusCode::NO_CONTENT
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(url)
}

fn sequence(body: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(body).ok()?;
    let at = text.find("\"new\":\"seq ")? + "\"new\":\"seq ".len();
    text[at..].split('"').next()?.parse().ok()
}

/// A server that may deliver to loopback, with room for many attempts at once; `name` keeps
/// its files and database apart (letters, digits and `_`).
pub(super) async fn start_server(args: &BenchArgs, name: &str) -> anyhow::Result<BenchServer> {
    BenchServer::start_with(args, name, |c| {
        c.outbound.allow_private = vec![crate::net::Cidr::parse("127.0.0.0/8").expect("a block")];
        c.webhooks.workers = 256;
        c.webhooks.per_endpoint_concurrency = 128;
    })
    .await
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let server = start_server(&args, "webhooks").await?;
    let store = server.store.clone();
    let admin = bench_admin(&store).await?;
    let project = store
        .create_project("BENCH", "Bench", "", false, None)
        .await?;
    let emit = server.state.emit(&admin);
    // Changes spread over repositories, as on a real server (one row would serialise them on
    // its lock); the hooks are the project's, so they see every repository.
    let mut repos = Vec::new();
    for i in 0..REPOS {
        let slug = format!("hooked-{i}");
        repos.push(
            store
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
                .await?
                .id,
        );
    }
    let arrivals = Arc::new(Arrivals::default());
    let url = start_receiver(arrivals.clone()).await?;
    let seconds = Duration::from_secs(args.seconds);
    println!(
        "webhooks on {}: one local receiver, {} s per phase",
        store.backend(),
        args.seconds
    );

    let mut hooks = Vec::new();
    for fan in [1usize, 10] {
        while hooks.len() < fan {
            let fields = crate::store::WebhookFields {
                name: format!("bench-{}", hooks.len()),
                url: url.clone(),
                events: vec!["repo:updated".into()],
                active: true,
                ordered: false,
                secret_encrypted: Some(Some(server.state.master_key.encrypt("bench-secret"))),
            };
            hooks.push(
                store
                    .create_webhook(project.id, None, &fields, admin.id, None)
                    .await?,
            );
        }
        throughput(&server, &emit, &repos, &arrivals, fan, seconds).await?;
    }
    for h in hooks.drain(1..) {
        store.delete_webhook(h.id, None).await?;
    }
    drain(
        &server,
        project.id,
        repos[0],
        &arrivals,
        20_000,
        "to one hook",
    )
    .await?;
    latency(&server, &admin, &repos, &arrivals, seconds, 1000).await?;
    // The same hook asking for order: one delivery at a time, each claimed after the last.
    let hook = &hooks[0];
    let mut fields = crate::store::WebhookFields {
        name: hook.name.clone(),
        url: hook.url.clone(),
        events: hook.event_keys(),
        active: true,
        ordered: true,
        secret_encrypted: None,
    };
    store.update_webhook(hook.id, &fields, None).await?;
    drain(
        &server,
        project.id,
        repos[0],
        &arrivals,
        2_000,
        "in order to one ordered hook",
    )
    .await?;
    fields.ordered = false;
    store.update_webhook(hook.id, &fields, None).await?;
    server.stop().await
}

/// Producers commit changes as fast as they can for `seconds`; then the queue drains.
pub(super) async fn throughput(
    server: &BenchServer,
    emit: &Emit<'_>,
    repos: &[i64],
    arrivals: &Arrivals,
    fan: usize,
    seconds: Duration,
) -> anyhow::Result<()> {
    let before = arrivals.count.load(Ordering::Relaxed);
    let started = Instant::now();
    let produced = &AtomicUsize::new(0);
    let producers = (0..8).map(|p| async move {
        let mut n = p;
        while started.elapsed() < seconds {
            let repo = repos[n % repos.len()];
            n += 8;
            let changes = RepositoryChanges {
                description: Some("throughput".into()),
                ..Default::default()
            };
            if server
                .store
                .update_repository(repo, &changes, emit, None)
                .await
                .is_ok()
            {
                produced.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    futures_join_all(producers).await;
    let committed = produced.load(Ordering::Relaxed);
    let production = started.elapsed();
    let expected = committed * fan;
    while arrivals.count.load(Ordering::Relaxed) - before < expected {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let total = started.elapsed();
    println!(
        "  throughput, {fan} hook(s) per event: {committed} events committed ({:.0}/s); {expected} deliveries in {:.2} s = {:.0} deliveries/s",
        committed as f64 / production.as_secs_f64(),
        total.as_secs_f64(),
        expected as f64 / total.as_secs_f64()
    );
    Ok(())
}

/// A backlog written in one transaction, then how fast one hook receives it.
async fn drain(
    server: &BenchServer,
    project: i64,
    repo: i64,
    arrivals: &Arrivals,
    backlog: usize,
    to: &str,
) -> anyhow::Result<()> {
    let before = arrivals.count.load(Ordering::Relaxed);
    let payload = r#"{"actor":{"type":"user","nickname":"admin"},"repository":{"type":"repository","full_name":"BENCH/hooked"},"changes":{}}"#;
    let started = Instant::now();
    server
        .store
        .insert_events_for_benchmark(project, repo, "repo:updated", payload, backlog)
        .await?;
    let written = started.elapsed();
    while arrivals.count.load(Ordering::Relaxed) - before < backlog {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let total = started.elapsed();
    println!(
        "  drain: {backlog} events written in {:.2} s, all delivered {to} after {:.2} s = {:.0} deliveries/s",
        written.as_secs_f64(),
        total.as_secs_f64(),
        backlog as f64 / total.as_secs_f64()
    );
    Ok(())
}

/// `per_second` events, paced; commit-to-delivery latency per event.
pub(super) async fn latency(
    server: &BenchServer,
    admin: &crate::store::Account,
    repos: &[i64],
    arrivals: &Arrivals,
    seconds: Duration,
    per_second: u64,
) -> anyhow::Result<()> {
    arrivals.at.lock().unwrap().clear();
    let committed: Arc<Mutex<HashMap<u64, Instant>>> = Arc::default();
    let total = seconds.as_secs() * per_second;
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / per_second));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut tasks = tokio::task::JoinSet::new();
    let started = Instant::now();
    // One change per tick, each on its own task: a steady stream, not bursts.
    for n in 0..total {
        tick.tick().await;
        let (state, admin, committed) = (server.state.clone(), admin.clone(), committed.clone());
        let repo = repos[n as usize % repos.len()];
        tasks.spawn(async move {
            let changes = RepositoryChanges {
                description: Some(format!("seq {n}")),
                ..Default::default()
            };
            if state
                .store
                .update_repository(repo, &changes, &state.emit(&admin), None)
                .await
                .is_ok()
            {
                committed.lock().unwrap().insert(n, Instant::now());
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let rate = total as f64 / started.elapsed().as_secs_f64();
    let committed = std::mem::take(&mut *committed.lock().unwrap());
    let deadline = Instant::now() + Duration::from_secs(30);
    while arrivals.at.lock().unwrap().len() < committed.len() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let at = arrivals.at.lock().unwrap();
    let mut ms: Vec<f64> = committed
        .iter()
        .filter_map(|(n, c)| {
            at.get(n)
                .map(|a| a.saturating_duration_since(*c).as_secs_f64() * 1000.0)
        })
        .collect();
    ms.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| {
        ms.get(((ms.len() as f64 * p) as usize).min(ms.len().saturating_sub(1)))
            .copied()
            .unwrap_or(f64::NAN)
    };
    println!(
        "  latency at {rate:.0} events/s: commit → delivery p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} of {} delivered)",
        pct(0.50),
        pct(0.99),
        ms.last().copied().unwrap_or(f64::NAN),
        ms.len(),
        committed.len()
    );
    Ok(())
}

/// Runs futures concurrently on this task and waits for all of them.
async fn futures_join_all<F: std::future::Future<Output = ()>>(fs: impl IntoIterator<Item = F>) {
    let mut set: Vec<std::pin::Pin<Box<F>>> = fs.into_iter().map(Box::pin).collect();
    std::future::poll_fn(|cx| {
        set.retain_mut(|f| f.as_mut().poll(cx).is_pending());
        if set.is_empty() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await
}
