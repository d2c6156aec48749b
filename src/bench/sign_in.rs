//! `junction bench --suite sign-in`: what a flood of bad sign-ins does to the real binary.
//! 200 clients — first each from its own loopback address (a distributed guesser: per-address
//! throttling does not help and the hashing bound is what is measured), then all from one —
//! send HTTP Basic sign-ins with random usernames for `--seconds`, while one person signs in with the right
//! password from 127.0.0.1. Reported: resident memory idle, at its peak and a few seconds after,
//! and the person's sign-in latency before (the baseline) and during the flood.
//! `JUNCTION_BENCH_BINARY` names another build to measure (e.g. the previous commit's).

use super::BenchArgs;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CLIENTS: usize = 200;
const PASSWORD: &str = "bench-password";

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    // Distributed (each client its own address: hashing is what is left to bound), then all
    // from one address (what per-address throttling is for), each on a fresh server.
    flood(&args, CLIENTS).await?;
    flood(&args, 1).await
}

async fn flood(args: &BenchArgs, sources: usize) -> anyhow::Result<()> {
    let dir = super::tempfile_dir()?.join(format!("sign-in-{sources}"));
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let (child, _) = super::start_binary(&dir, port, Some(PASSWORD)).await?;
    let pid = child.id().unwrap_or(0);
    let base = format!("http://127.0.0.1:{port}/rest/api/1.0/users/admin");
    let person = reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::LOCALHOST))
        .build()?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = rss_kb(pid);

    let baseline = sign_ins(&person, &base, 20).await;
    let stop = Arc::new(AtomicBool::new(false));
    let statuses: Arc<[AtomicUsize; 6]> = Arc::new(Default::default());
    let mut attackers = Vec::new();
    for i in 0..CLIENTS {
        let (stop, statuses, base) = (stop.clone(), statuses.clone(), base.clone());
        let i = i % sources;
        let from = Ipv4Addr::new(127, 1, (i / 250) as u8, (i % 250) as u8 + 1);
        let client = reqwest::Client::builder()
            .local_address(IpAddr::V4(from))
            .build()?;
        attackers.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let user = format!("guess{}", rand::random::<u32>());
                let slot = match client
                    .get(&base)
                    .basic_auth(&user, Some("wrong-password"))
                    .send()
                    .await
                {
                    Ok(r) => match r.status().as_u16() {
                        401 => 0,
                        429 => 1,
                        503 => 2,
                        200 => 3,
                        _ => 4,
                    },
                    Err(_) => 5,
                };
                statuses[slot].fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let sampler = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut peak = 0;
            while !stop.load(Ordering::Relaxed) {
                peak = peak.max(rss_kb(pid));
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            peak
        })
    };
    let started = Instant::now();
    let mut during = Vec::new();
    while started.elapsed() < Duration::from_secs(args.seconds) {
        during.extend(sign_ins(&person, &base, 1).await);
    }
    stop.store(true, Ordering::Relaxed);
    for a in attackers {
        let _ = a.await;
    }
    let peak = sampler.await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let settled = rss_kb(pid);
    drop(child);
    let _ = std::fs::remove_dir_all(&dir);

    let n = |i: usize| statuses[i].load(Ordering::Relaxed);
    println!(
        "Junction sign-in flood: {CLIENTS} clients from {sources} address(es) with bad passwords for {}s ({} sign-ins: {} x 401, {} x 429, {} x 503, {} other, {} connection errors)",
        args.seconds,
        (0..6).map(n).sum::<usize>(),
        n(0), n(1), n(2), n(4), n(5)
    );
    println!(
        "resident memory: idle {} MB, peak {} MB, 3 s after {} MB",
        idle / 1024,
        peak / 1024,
        settled / 1024
    );
    let (b50, b99, _) = percentiles(&baseline);
    let (d50, d99, ok) = percentiles(&during);
    println!("the person's sign-in, baseline: p50 {b50:.1} ms, p99 {b99:.1} ms");
    println!(
        "the person's sign-in, during the flood: p50 {d50:.1} ms, p99 {d99:.1} ms ({ok} of {} answered 200); p99 ratio to baseline {:.1}",
        during.len(),
        d99 / b99.max(0.001)
    );
    Ok(())
}

/// `n` sign-ins one after the other: (latency in ms, succeeded).
async fn sign_ins(client: &reqwest::Client, url: &str, n: usize) -> Vec<(f64, bool)> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let ok = client
            .get(url)
            .basic_auth("admin", Some(PASSWORD))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        out.push((t.elapsed().as_secs_f64() * 1000.0, ok));
    }
    out
}

fn percentiles(samples: &[(f64, bool)]) -> (f64, f64, usize) {
    let mut ms: Vec<f64> = samples.iter().map(|s| s.0).collect();
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| {
        ms.get(((ms.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    (at(0.5), at(0.99), samples.iter().filter(|s| s.1).count())
}

fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
