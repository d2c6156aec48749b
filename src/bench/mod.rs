//! `junction bench`: the foundation benchmark. Starts a fresh server in this process on its own
//! database, seeds a project, a repository and a read token, then drives
//! `GET /rest/api/1.0/projects/{key}/repos/{slug}` (Bearer token) and `GET /health` at the same
//! concurrency over keep-alive HTTP/1.1 connections, and reports throughput, p50/p99 and the ratio.
//! It also starts the real binary to measure time-to-ready and idle memory.
//! Not a test: nothing here asserts a time.

pub mod app_ui;
pub mod app_webhooks;
pub mod applinks;
pub mod apps;
pub mod cgi;
pub mod git;
pub mod listing;
pub mod load;
pub mod oauth1;
pub mod oauth2;
pub mod sign_in;
pub mod webhooks;

use crate::clock::{SharedClock, SystemClock};
use crate::config::Config;
use crate::secret::{new_token, token_hash, Secret, TokenKind};
use crate::server::{Bootstrap, Server};
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
    /// What to measure: "host" (REST read next to /health), "oauth2" (token endpoint and
    /// bearer reads, next to npm oidc-provider) or "applinks" (the request API through an
    /// outgoing link, next to the same read made directly) or "webhooks" (deliveries per
    /// second, and commit-to-delivery latency at 1,000 events/s) or "sign-in" (memory and a
    /// person's sign-in latency under a flood of bad sign-ins) or "listing" (lists and
    /// repository creation at 100 to 20,000 repositories) or "git" (clone and push next to
    /// git's own http-backend, and Junction's memory as the repository grows) or "apps" (JWT
    /// verification, JWT reads next to token reads, installing into 100 accounts) or
    /// "app-webhooks" (app webhook fan-out next to repository webhooks) or "app-ui" (the
    /// repository page with 5 app panels next to none) or "oauth1" (OAuth 1.0a signature
    /// verification per request).
    #[arg(long, default_value = "host")]
    pub suite: String,
    /// Database connections in the server's pool.
    #[arg(long, default_value_t = 16)]
    pub pool: u32,
}

/// A fresh server for one benchmark run, on its own database.
pub struct BenchServer {
    pub addr: std::net::SocketAddr,
    pub store: crate::store::Store,
    pub state: crate::web::state::AppState,
    pub dir: std::path::PathBuf,
    /// The PostgreSQL server and database made for this run, dropped by `stop`.
    database: Option<(String, String)>,
    stop: tokio::sync::oneshot::Sender<()>,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl BenchServer {
    pub async fn start(args: &BenchArgs) -> anyhow::Result<Self> {
        Self::start_with(args, "bench", |_| {}).await
    }

    /// A server whose configuration `adjust` changes; `name` keeps two servers' files apart.
    pub async fn start_with(
        args: &BenchArgs,
        name: &str,
        adjust: impl FnOnce(&mut Config),
    ) -> anyhow::Result<Self> {
        let dir = tempfile_dir()?.join(name);
        std::fs::create_dir_all(&dir)?;
        let (db_url, database) = if args.database == "sqlite" {
            (format!("sqlite://{}", dir.join("bench.db").display()), None)
        } else {
            let name = format!("junction_bench_{}_{name}", std::process::id());
            crate::store::create_database(&args.database, &name).await?;
            let url = format!("{}/{}", args.database.trim_end_matches('/'), name);
            (url, Some((args.database.clone(), name)))
        };
        let mut config = Config::for_data_dir(&dir);
        config.server.listen = "127.0.0.1:0".parse()?;
        config.database.url = Secret::new(db_url);
        config.database.max_connections = args.pool;
        adjust(&mut config);
        let clock: SharedClock = Arc::new(SystemClock);
        let bootstrap = Bootstrap {
            admin_password: Some(Secret::new("bench-password")),
        };
        let server = Server::build(config, clock, bootstrap).await?;
        let (addr, store, state) = (
            server.addr,
            server.state.store.clone(),
            server.state.clone(),
        );
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(server.run(async move {
            let _ = stop_rx.await;
        }));
        Ok(Self {
            addr,
            store,
            state,
            dir,
            database,
            stop,
            handle,
        })
    }

    /// Stops the server and removes what it made: its files and its PostgreSQL database.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.handle.await??;
        if let Some((server, name)) = &self.database {
            crate::store::drop_database(server, name).await?;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        Ok(())
    }
}

pub async fn run(_config: Config, args: BenchArgs) -> anyhow::Result<()> {
    let result = suite(args).await;
    // Whatever a suite left in its temporary folder goes, whether it succeeded or not.
    if let Ok(dir) = tempfile_dir() {
        let _ = std::fs::remove_dir_all(dir);
    }
    result
}

async fn suite(args: BenchArgs) -> anyhow::Result<()> {
    match args.suite.as_str() {
        "host" => host(args).await,
        "oauth2" => oauth2::run(args).await,
        "applinks" => applinks::run(args).await,
        "listing" => listing::run(args).await,
        "webhooks" => webhooks::run(args).await,
        "sign-in" => sign_in::run(args).await,
        "git" => git::run(args).await,
        "apps" => apps::run(args).await,
        "app-webhooks" => app_webhooks::run(args).await,
        "app-ui" => app_ui::run(args).await,
        "oauth1" => oauth1::run(args).await,
        other => anyhow::bail!(
            "unknown suite {other:?}; use host, listing, oauth1, oauth2, applinks, webhooks, sign-in, git, apps, app-webhooks or app-ui"
        ),
    }
}

async fn host(args: BenchArgs) -> anyhow::Result<()> {
    let server = BenchServer::start(&args).await?;
    let (addr, store, dir) = (server.addr, server.store.clone(), server.dir.clone());
    bench_repository(&server).await?;
    let admin = store
        .find_account("admin")
        .await?
        .expect("bootstrap created admin");
    let token = new_token(TokenKind::Personal);
    store
        .create_access_token(
            admin.id,
            "bench",
            &token_hash(&token),
            ("read", None),
            None,
            None,
        )
        .await?;

    println!(
        "Junction benchmark: {} backend, concurrency {}, {}s per endpoint",
        store.backend(),
        args.concurrency,
        args.seconds
    );
    let duration = Duration::from_secs(args.seconds);
    // Warm up connections and caches.
    load::get(
        addr,
        "/health",
        None,
        args.concurrency,
        Duration::from_millis(500),
    )
    .await?;
    let health = load::get(addr, "/health", None, args.concurrency, duration).await?;
    let repo = load::get(
        addr,
        "/rest/api/1.0/projects/BENCH/repos/bench-repo",
        Some(&format!("Bearer {token}")),
        args.concurrency,
        duration,
    )
    .await?;
    let ready = load::get(addr, "/health/ready", None, args.concurrency, duration).await?;
    load::report("GET /health", &health);
    load::report("GET /health/ready (one database query)", &ready);
    load::report(
        "GET /rest/api/1.0/projects/BENCH/repos/bench-repo (token)",
        &repo,
    );
    println!(
        "ratio repo/health throughput: {:.2} (goal >= 0.5)",
        repo.rps / health.rps.max(1.0)
    );
    server.stop().await?;

    if args.database == "sqlite" {
        startup_and_memory(&dir).await?;
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("junction-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Starts the real binary on a fresh SQLite data directory: time until `/health` answers, and
/// its resident memory once idle.
async fn startup_and_memory(dir: &std::path::Path) -> anyhow::Result<()> {
    let data = dir.join("startup");
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    // First start: creates the database, migrates, hashes the admin password.
    let (mut child, ready) = start_binary(&data, port, Some("bench-password")).await?;
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
    let (mut child, ready) = start_binary(&data, port, None).await?;
    println!("restart to ready: {:.0} ms", ready.as_secs_f64() * 1000.0);
    child.kill().await?;
    Ok(())
}

/// Starts `junction serve` on `port` and returns once `/health` answers, with the time it took.
async fn start_binary(
    data: &std::path::Path,
    port: u16,
    admin_password: Option<&str>,
) -> anyhow::Result<(tokio::process::Child, Duration)> {
    let started = Instant::now();
    let binary = match std::env::var_os("JUNCTION_BENCH_BINARY") {
        Some(b) => std::path::PathBuf::from(b),
        None => std::env::current_exe()?,
    };
    let mut command = tokio::process::Command::new(binary);
    command
        .arg("serve")
        .env("JUNCTION_SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .env("JUNCTION_STORAGE__DATA_DIR", data)
        .env("JUNCTION_LOG__LEVEL", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    if let Some(p) = admin_password {
        command.env("JUNCTION_ADMIN_PASSWORD", p);
    }
    let child = command.spawn()?;
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse()?;
    loop {
        if started.elapsed() > Duration::from_secs(30) {
            anyhow::bail!("the server did not become ready within 30 s");
        }
        if load::get(addr, "/health", None, 1, Duration::ZERO)
            .await
            .is_ok()
        {
            return Ok((child, started.elapsed()));
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// The bootstrap administrator: the actor of changes the benchmarks make directly.
/// Project BENCH with an empty repository `bench-repo`, made by the bench administrator.
pub async fn bench_repository(server: &BenchServer) -> anyhow::Result<crate::store::Project> {
    let store = &server.store;
    let admin = bench_admin(store).await?;
    let project = store
        .create_project("BENCH", "Bench", "", false, None)
        .await?;
    store
        .create_repository(
            project.id,
            "bench-repo",
            "bench-repo",
            "",
            false,
            "refs/heads/main",
            &server.state.emit(&admin),
            None,
        )
        .await?;
    Ok(project)
}

pub async fn bench_admin(store: &crate::store::Store) -> anyhow::Result<crate::store::Account> {
    store
        .find_account("admin")
        .await?
        .ok_or_else(|| anyhow::anyhow!("the bootstrap administrator is missing"))
}
