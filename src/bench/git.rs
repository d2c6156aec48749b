//! `junction bench --suite git`: Junction's git over HTTP next to git's own `git http-backend`
//! behind a minimal CGI server (`cgi.rs`), same machine, same run, same git client. A generated
//! repository (10,000 commits, ~50 MB of incompressible content) is pushed to both; then a
//! push of 1,000 commits, a clone, 8 concurrent clones, and Junction's memory after a small and
//! after the large clone (flat means it does not grow with the repository), and `GET` of a file
//! at a ref next to `/health`. Times are the git client's wall time; ratios are baseline time
//! over Junction's time (above 1: Junction is faster).

use super::{load, start_binary, BenchArgs};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const PASSWORD: &str = "bench-git-password";
const COMMITS: usize = 10_000;
const FILE_BYTES: usize = 5_000;

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let dir = super::tempfile_dir()?.join("git");
    std::fs::create_dir_all(&dir)?;
    println!("Generating {COMMITS} commits of {FILE_BYTES} bytes each…");
    let source = dir.join("source");
    tokio::task::spawn_blocking({
        let source = source.clone();
        move || generate(&source)
    })
    .await??;

    // Junction, as its own process, so its memory is its own.
    let port = free_port()?;
    let (mut junction, _) = start_binary(&dir.join("junction"), port, Some(PASSWORD)).await?;
    let pid = junction.id().unwrap_or(0);
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for (path, body) in [
        (
            "/rest/api/1.0/projects",
            serde_json::json!({"key": "GIT", "name": "Git"}),
        ),
        (
            "/rest/api/1.0/projects/GIT/repos",
            serde_json::json!({"name": "big"}),
        ),
        (
            "/rest/api/1.0/projects/GIT/repos",
            serde_json::json!({"name": "thousand"}),
        ),
    ] {
        let r = client
            .post(format!("{base}{path}"))
            .basic_auth("admin", Some(PASSWORD))
            .json(&body)
            .send()
            .await?;
        anyhow::ensure!(r.status().is_success(), "seeding {path}: {}", r.status());
    }
    // A personal access token, as CI and scripts use: checking it is a lookup, not a password
    // hash (Basic with a password costs an argon2 hash per request, which would dominate).
    let r = client
        .put(format!("{base}/rest/access-tokens/1.0/users/admin"))
        .basic_auth("admin", Some(PASSWORD))
        .json(&serde_json::json!({"name": "bench", "permission": "REPO_WRITE"}))
        .send()
        .await?;
    anyhow::ensure!(r.status().is_success(), "creating a token: {}", r.status());
    let token: String = r.json::<serde_json::Value>().await?["token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let _ = TOKEN.set(token.clone());
    // The baseline, on bare repositories of its own.
    let cgi_root = dir.join("cgi");
    for name in ["big", "thousand"] {
        git(
            &dir,
            &[
                "init",
                "-q",
                "--bare",
                cgi_root
                    .join(format!("{name}.git"))
                    .to_str()
                    .unwrap_or_default(),
            ],
        )?;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let cgi_base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(super::cgi::serve(listener, cgi_root));
    let junction_url = |name: &str| format!("{base}/scm/git/{name}.git");
    let cgi_url = |name: &str| format!("{cgi_base}/{name}.git");

    println!("\nOperation                     git http-backend   Junction   ratio (baseline/Junction time)");
    let push = |url: String, refspec: &'static str| timed(&source, &["push", "-q", &url, refspec]);
    let b = push(cgi_url("big"), "main")?;
    let j = push(junction_url("big"), "main")?;
    row(&format!("push {COMMITS} commits"), b, j);
    let b = push(cgi_url("thousand"), "first-1000:refs/heads/main")?;
    let j = push(junction_url("thousand"), "first-1000:refs/heads/main")?;
    row("push 1,000 commits", b, j);

    let clones = dir.join("clones");
    std::fs::create_dir_all(&clones)?;
    let mut n = 0;
    let mut clone = |url: String| -> anyhow::Result<Duration> {
        n += 1;
        let dest = clones.join(format!("c{n}"));
        let t = timed(
            &clones,
            &[
                "clone",
                "-q",
                "--bare",
                &url,
                dest.to_str().unwrap_or_default(),
            ],
        );
        let _ = std::fs::remove_dir_all(&dest);
        t
    };
    clone(junction_url("thousand"))?;
    let small_hwm = peak_memory_kb(pid);
    let (mut bs, mut js) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        bs.push(clone(cgi_url("big"))?);
        js.push(clone(junction_url("big"))?);
    }
    row("clone (median of 3)", median(bs), median(js));
    let big_hwm = peak_memory_kb(pid);

    let eight = |url: String| {
        let clones = clones.clone();
        async move {
            let started = Instant::now();
            let tasks: Vec<_> = (0..8)
                .map(|i| {
                    let (url, dest) = (url.clone(), clones.join(format!("par{i}")));
                    tokio::task::spawn_blocking(move || {
                        timed(
                            &dest.with_file_name("."),
                            &[
                                "clone",
                                "-q",
                                "--bare",
                                &url,
                                dest.to_str().unwrap_or_default(),
                            ],
                        )
                    })
                })
                .collect();
            for t in tasks {
                t.await??;
            }
            for i in 0..8 {
                let _ = std::fs::remove_dir_all(clones.join(format!("par{i}")));
            }
            anyhow::Ok(started.elapsed())
        }
    };
    let b = eight(cgi_url("big")).await?;
    let j = eight(junction_url("big")).await?;
    row("8 concurrent clones", b, j);
    let eight_hwm = peak_memory_kb(pid);

    println!("\nJunction's peak memory (VmHWM): {} MB after cloning 1,000 commits, {} MB after cloning {COMMITS} ({} MB of packs), {} MB after 8 concurrent clones",
        small_hwm / 1024, big_hwm / 1024, dir_size(&dir.join("junction").join("repositories")) / (1024 * 1024), eight_hwm / 1024);

    // A file at a ref, next to /health, over keep-alive connections.
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let auth = format!("Bearer {token}");
    let seconds = Duration::from_secs(args.seconds);
    let health = load::get(addr, "/health", None, args.concurrency, seconds).await?;
    let file = load::get(
        addr,
        "/rest/api/1.0/projects/GIT/repos/big/raw/f0.bin?at=main",
        Some(&auth),
        args.concurrency,
        seconds,
    )
    .await?;
    println!(
        "\nGET /health: {:.0}/s, p99 {:.2} ms",
        health.rps, health.p99_ms
    );
    println!("GET raw file at a ref ({FILE_BYTES} bytes, access token): {:.0}/s, p99 {:.2} ms, {} errors; ratio to /health {:.2}",
        file.rps, file.p99_ms, file.errors, file.rps / health.rps.max(1.0));
    let _ = junction.kill().await;
    Ok(())
}

fn row(what: &str, baseline: Duration, junction: Duration) {
    println!(
        "{what:<30}{:>10.2} s{:>12.2} s   {:.2}",
        baseline.as_secs_f64(),
        junction.as_secs_f64(),
        baseline.as_secs_f64() / junction.as_secs_f64().max(1e-9)
    );
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The token the git client gives Junction (the baseline asks for nothing).
static TOKEN: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// `git` as the benchmark's client, with Junction's token from a credential helper.
fn client(dir: &Path, args: &[&str]) -> Command {
    let secret = TOKEN.get().map_or(PASSWORD, String::as_str);
    let mut c = Command::new("git");
    c.current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        // Credentials with the first request (git ≥ 2.46), as a client configured for a server
        // that always asks does: the baseline asks for none, so the 401 round trip git makes
        // otherwise would measure the client, not the server.
        .args(["-c", "http.proactiveAuth=basic"])
        .args([
            "-c",
            &format!(
                "credential.helper=!f() {{ echo username=admin; echo password={secret}; }}; f"
            ),
        ])
        .args(args);
    c
}

fn git(dir: &Path, args: &[&str]) -> anyhow::Result<()> {
    let out = client(dir, args).output()?;
    anyhow::ensure!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

fn timed(dir: &Path, args: &[&str]) -> anyhow::Result<Duration> {
    let started = Instant::now();
    git(dir, args)?;
    Ok(started.elapsed())
}

/// The source repository: `main` with `COMMITS` commits, each writing a file of noise (the
/// files cycle through 100 names), and `first-1000` at the thousandth.
fn generate(source: &Path) -> anyhow::Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(source)?;
    git(source, &["init", "-q", "-b", "main"])?;
    let mut child = Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(source)
        .stdin(std::process::Stdio::piped())
        .spawn()?;
    let mut stdin = std::io::BufWriter::new(child.stdin.take().expect("piped"));
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut noise = vec![0u8; FILE_BYTES];
    for i in 1..=COMMITS {
        for b in noise.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
        let message = format!("Commit {i}\n");
        write!(stdin, "commit refs/heads/main\nmark :{i}\ncommitter Bench <bench@example.com> {} +0000\ndata {}\n{message}", 1_700_000_000 + i, message.len())?;
        if i > 1 {
            writeln!(stdin, "from :{}", i - 1)?;
        }
        write!(
            stdin,
            "M 644 inline f{}.bin\ndata {}\n",
            i % 100,
            noise.len()
        )?;
        stdin.write_all(&noise)?;
        writeln!(stdin)?;
        if i == 1000 {
            writeln!(stdin, "reset refs/heads/first-1000\nfrom :{i}\n")?;
        }
    }
    drop(stdin);
    anyhow::ensure!(child.wait()?.success(), "git fast-import failed");
    Ok(())
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// The process's peak resident memory so far, in kB (`VmHWM`), 0 if unknown.
fn peak_memory_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}
