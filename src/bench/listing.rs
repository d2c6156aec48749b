//! `junction bench --suite listing`: lists against the size of the instance. For 100, 1,000 and
//! 10,000 repositories it measures, in the same run, `GET /rest/api/1.0/repos?limit=25` for a
//! person who reads one project of 50 repositories (the rest are in 20 private projects), the
//! same list for an administrator (who sees everything), `GET /rest/api/1.0/projects?limit=25`,
//! and the single-repository GET as the baseline. Then the rate of creating repositories through
//! REST with 100 and with 20,000 repositories in the project. Not a test: nothing here asserts
//! a time.

use super::load::{self, Measured, Worker};
use super::{bench_admin, BenchArgs, BenchServer};
use crate::secret::{new_token, token_hash, TokenKind};
use crate::store::{Emit, Project, Store};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::Request;
use std::time::Duration;

const VISIBLE: usize = 50;
const OTHER_PROJECTS: usize = 20;

/// Creates repositories until `project` holds `count` (named `prefix-<n>`).
async fn fill(
    store: &Store,
    emit: &Emit<'_>,
    project: &Project,
    prefix: &str,
    from: usize,
    to: usize,
) -> anyhow::Result<()> {
    for n in from..to {
        let name = format!("{prefix}-{n:05}");
        store
            .create_repository(
                project.id,
                &name,
                &name,
                "",
                false,
                "refs/heads/main",
                emit,
                None,
            )
            .await?;
    }
    Ok(())
}

/// A token for `account` with the given permission word.
async fn token_for(store: &Store, account: i64, permission: &str) -> anyhow::Result<String> {
    let token = new_token(TokenKind::Personal);
    let name = format!("bench-{permission}");
    store
        .create_access_token(
            account,
            &name,
            &token_hash(&token),
            (permission, None),
            None,
            None,
        )
        .await?;
    Ok(token)
}

/// Creates a repository per request, with names unique per worker.
struct CreateRepos {
    host: String,
    path: String,
    authorization: String,
    worker: usize,
    made: usize,
}

impl Worker for CreateRepos {
    fn request(&mut self) -> Request<Full<Bytes>> {
        self.made += 1;
        let body = format!(r#"{{"name": "w{}-{}"}}"#, self.worker, self.made);
        Request::post(&self.path)
            .header("host", &self.host)
            .header("authorization", &self.authorization)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .expect("valid request")
    }
}

async fn create_rate(
    args: &BenchArgs,
    addr: std::net::SocketAddr,
    key: &str,
    token: &str,
    round: usize,
) -> anyhow::Result<Measured> {
    let workers = (0..args.concurrency)
        .map(|w| {
            Box::new(CreateRepos {
                host: addr.to_string(),
                path: format!("/rest/api/1.0/projects/{key}/repos"),
                authorization: format!("Bearer {token}"),
                worker: round * 1000 + w,
                made: 0,
            }) as Box<dyn Worker>
        })
        .collect();
    load::run(addr, workers, Duration::from_secs(args.seconds)).await
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let server = BenchServer::start(&args).await?;
    let (addr, store) = (server.addr, server.store.clone());
    let admin = bench_admin(&store).await?;
    let emit = server.state.emit(&admin);
    println!(
        "Junction listing benchmark: {} backend, concurrency {}, {}s per measurement",
        store.backend(),
        args.concurrency,
        args.seconds
    );
    let seen = store
        .create_project("SEEN", "Seen", "", false, None)
        .await?;
    fill(&store, &emit, &seen, "seen", 0, VISIBLE).await?;
    let mut others = Vec::new();
    for i in 0..OTHER_PROJECTS {
        let key = format!("P{i:02}");
        others.push(store.create_project(&key, &key, "", false, None).await?);
    }
    let reader = store
        .create_user("reader", "Reader", None, None, None, None)
        .await?;
    store
        .set_grant(
            crate::store::GrantTarget::Project(seen.id),
            reader.id,
            "PROJECT_READ",
            None,
            None,
        )
        .await?;
    let reader_token = format!("Bearer {}", token_for(&store, reader.id, "read").await?);
    let admin_token = format!("Bearer {}", token_for(&store, admin.id, "read").await?);
    let duration = Duration::from_secs(args.seconds);
    let c = args.concurrency;
    let mut filled = [0usize; OTHER_PROJECTS];
    for total in [100usize, 1_000, 10_000] {
        // Spread what is not visible over the other projects.
        let hidden = total.saturating_sub(VISIBLE);
        for (i, p) in others.iter().enumerate() {
            let want = hidden / OTHER_PROJECTS + usize::from(i < hidden % OTHER_PROJECTS);
            fill(&store, &emit, p, "hidden", filled[i], want).await?;
            filled[i] = want;
        }
        store.refresh_statistics().await?;
        let one = "/rest/api/1.0/projects/SEEN/repos/seen-00000";
        load::get(
            addr,
            one,
            Some(&reader_token),
            c,
            Duration::from_millis(300),
        )
        .await?;
        let single = load::get(addr, one, Some(&reader_token), c, duration).await?;
        let list = "/rest/api/1.0/repos?limit=25";
        let reader_list = load::get(addr, list, Some(&reader_token), c, duration).await?;
        let admin_list = load::get(addr, list, Some(&admin_token), c, duration).await?;
        let projects = "/rest/api/1.0/projects?limit=25";
        let project_list = load::get(addr, projects, Some(&reader_token), c, duration).await?;
        println!("--- {total} repositories ---");
        load::report("GET one repository (reader's token)", &single);
        load::report("GET /repos?limit=25 (reads one project)", &reader_list);
        load::report("GET /repos?limit=25 (administrator)", &admin_list);
        load::report("GET /projects?limit=25 (reads one project)", &project_list);
        println!(
            "ratio list/single: reader {:.2}, administrator {:.2} (goal >= 0.25)",
            reader_list.rps / single.rps.max(1.0),
            admin_list.rps / single.rps.max(1.0)
        );
    }
    // Writes: creating repositories through REST, in a project of 100 and then of 20,000.
    let write = store
        .create_project("WRITE", "Write", "", false, None)
        .await?;
    let writer = token_for(&store, admin.id, "admin").await?;
    fill(&store, &emit, &write, "seed", 0, 100).await?;
    store.refresh_statistics().await?;
    let small = create_rate(&args, addr, "WRITE", &writer, 1).await?;
    let now = store.list_repositories(Some(write.id)).await?.len();
    fill(
        &store,
        &emit,
        &write,
        "more",
        0,
        20_000usize.saturating_sub(now),
    )
    .await?;
    store.refresh_statistics().await?;
    let large = create_rate(&args, addr, "WRITE", &writer, 2).await?;
    load::report("POST repos (project of ~100)", &small);
    load::report("POST repos (project of ~20,000)", &large);
    println!(
        "ratio create rate at 20,000 / at 100: {:.2} (goal >= 0.7)",
        large.rps / small.rps.max(1.0)
    );
    server.stop().await
}
