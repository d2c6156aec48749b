//! `junction bench`: the foundation benchmark. Starts a fresh server in this process on its own
//! database, seeds a project, a repository and a read token, then drives
//! `GET /rest/api/1.0/projects/{key}/repos/{slug}` (Bearer token) and `GET /health` at the same
//! concurrency over keep-alive HTTP/1.1 connections, and reports throughput, p50/p99 and the ratio.
//! It also starts the real binary to measure time-to-ready and idle memory.
//! Not a test: nothing here asserts a time.

use crate::clock::{SharedClock, SystemClock};
use crate::config::Config;
use crate::secret::{new_token, token_hash, Secret, TokenKind};
use crate::server::{Bootstrap, Server};
use bytes_body::Empty;
use http_body_util as bytes_body;
use hyper::Request;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {
    /// Database: "sqlite" (a fresh file) or a PostgreSQL server URL, e.g.
    /// postgres://postgres@127.0.0.1:5432 (a fresh database is created on it).
    #[arg(long, default_value = "sqlite")]
    pub database: String,
    /// Seconds per endpoint.
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    /// Concurrent connections.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Database connections in the server's pool.
    #[arg(long, default_value_t = 16)]
    pub pool: u32,
}

pub struct Measured {
    pub requests: usize,
    pub errors: usize,
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

pub async fn run(_config: Config, args: BenchArgs) -> anyhow::Result<()> {
    let dir = tempfile_dir()?;
    let db_url = if args.database == "sqlite" {
        format!("sqlite://{}", dir.join("bench.db").display())
    } else {
        let name = format!("junction_bench_{}", std::process::id());
        crate::store::create_database(&args.database, &name).await?;
        format!("{}/{}", args.database.trim_end_matches('/'), name)
    };
    let mut config = Config::for_data_dir(&dir);
    config.server.listen = "127.0.0.1:0".parse()?;
    config.database.url = Secret::new(db_url.clone());
    config.database.max_connections = args.pool;
    let clock: SharedClock = Arc::new(SystemClock);
    let bootstrap = Bootstrap {
        admin_password: Some(Secret::new("bench-password")),
    };
    let server = Server::build(config, clock, bootstrap).await?;
    let addr = server.addr;
    let store = server.state.store.clone();
    let project = store.create_project("BENCH", "Bench", "", false).await?;
    store
        .create_repository(
            project.id,
            "bench-repo",
            "bench-repo",
            "",
            false,
            "refs/heads/main",
        )
        .await?;
    let admin = store
        .find_account("admin")
        .await?
        .expect("bootstrap created admin");
    let token = new_token(TokenKind::Personal);
    store
        .create_access_token(admin.id, "bench", &token_hash(&token), "read", None)
        .await?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(server.run(async move {
        let _ = stop_rx.await;
    }));

    println!(
        "Junction benchmark: {} backend, concurrency {}, {}s per endpoint",
        store.backend(),
        args.concurrency,
        args.seconds
    );
    let duration = Duration::from_secs(args.seconds);
    // Warm up connections and caches.
    load(
        addr,
        "/health",
        None,
        args.concurrency,
        Duration::from_millis(500),
    )
    .await?;
    let health = load(addr, "/health", None, args.concurrency, duration).await?;
    let repo = load(
        addr,
        "/rest/api/1.0/projects/BENCH/repos/bench-repo",
        Some(&token),
        args.concurrency,
        duration,
    )
    .await?;
    let ready = load(addr, "/health/ready", None, args.concurrency, duration).await?;
    report("GET /health", &health);
    report("GET /health/ready (one database query)", &ready);
    report(
        "GET /rest/api/1.0/projects/BENCH/repos/bench-repo (token)",
        &repo,
    );
    println!(
        "ratio repo/health throughput: {:.2} (goal >= 0.5)",
        repo.rps / health.rps.max(1.0)
    );
    let _ = stop_tx.send(());
    handle.await??;

    if args.database == "sqlite" {
        startup_and_memory(&dir).await?;
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn report(name: &str, m: &Measured) {
    println!(
        "{name}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms ({} requests, {} errors)",
        m.rps, m.p50_ms, m.p99_ms, m.requests, m.errors
    );
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("junction-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Runs `concurrency` connections, each sending requests back to back until `duration` passes.
pub async fn load(
    addr: std::net::SocketAddr,
    path: &str,
    token: Option<&str>,
    concurrency: usize,
    duration: Duration,
) -> anyhow::Result<Measured> {
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let path = path.to_string();
        let auth = token.map(|t| format!("Bearer {t}"));
        tasks.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            let io = hyper_util::rt::TokioIo::new(stream);
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake::<_, Empty<hyper::body::Bytes>>(io).await?;
            tokio::spawn(conn);
            let mut lat = Vec::with_capacity(4096);
            let mut errors = 0usize;
            while Instant::now() < deadline {
                let mut req = Request::get(&path).header("host", addr.to_string());
                if let Some(a) = &auth {
                    req = req.header("authorization", a);
                }
                let t = Instant::now();
                let resp = sender.send_request(req.body(Empty::new())?).await?;
                let status = resp.status();
                http_body_util::BodyExt::collect(resp.into_body()).await?;
                lat.push(t.elapsed().as_micros() as u32);
                if !status.is_success() {
                    errors += 1;
                }
            }
            anyhow::Ok((lat, errors))
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (lat, e) = t.await??;
        all.extend(lat);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0) as f64
            / 1000.0
    };
    Ok(Measured {
        requests: all.len(),
        errors,
        rps: all.len() as f64 / elapsed,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
    })
}

/// Starts the real binary on a fresh SQLite data directory: time until `/health` answers, and
/// its resident memory once idle.
async fn startup_and_memory(dir: &std::path::Path) -> anyhow::Result<()> {
    let exe = std::env::current_exe()?;
    let data = dir.join("startup");
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let started = Instant::now();
    let mut child = tokio::process::Command::new(exe)
        .arg("serve")
        .env("JUNCTION_SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .env("JUNCTION_STORAGE__DATA_DIR", &data)
        .env("JUNCTION_ADMIN_PASSWORD", "bench-password")
        .env("JUNCTION_LOG__LEVEL", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let ready = loop {
        if started.elapsed() > Duration::from_secs(30) {
            anyhow::bail!("the server did not become ready within 30 s");
        }
        if load(addr, "/health", None, 1, Duration::ZERO).await.is_ok() {
            break started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    // First start (creates the database and hashes the admin password); then a restart.
    let pid = child.id().unwrap_or(0);
    let rss = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(|l| l.trim_start_matches("VmRSS:").trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    println!("first start to ready: {:.0} ms (creates the database, migrates, hashes the admin password)", ready.as_secs_f64() * 1000.0);
    println!("idle resident memory: {rss}");
    child.kill().await?;
    let started = Instant::now();
    let mut child = tokio::process::Command::new(std::env::current_exe()?)
        .arg("serve")
        .env("JUNCTION_SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .env("JUNCTION_STORAGE__DATA_DIR", &data)
        .env("JUNCTION_LOG__LEVEL", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let ready = loop {
        if started.elapsed() > Duration::from_secs(30) {
            anyhow::bail!("the server did not become ready within 30 s");
        }
        if load(addr, "/health", None, 1, Duration::ZERO).await.is_ok() {
            break started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    println!("restart to ready: {:.0} ms", ready.as_secs_f64() * 1000.0);
    child.kill().await?;
    Ok(())
}
