//! Test harness: every test gets its own server on port 0 and its own database, on SQLite and on
//! PostgreSQL. `Server::build` returns after binding and migrating, so the server is ready when
//! `spawn` returns: no sleeps, no polling.

use junction::clock::ManualClock;
use junction::config::Config;
use junction::secret::Secret;
use junction::server::{Bootstrap, Server};
use junction::store::{Repository, Store};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::sync::Arc;

pub const ADMIN_PASSWORD: &str = "admin-password-1";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates one `#[tokio::test]` per backend for each named async test function. With
/// `spawn_linkable;` (or another `TestApp` constructor) first, the servers start that way.
#[macro_export]
macro_rules! both_backends {
    ($spawn:ident; $($name:ident),+ $(,)?) => {
        $crate::both_backends!(@with $spawn; $($name),+);
    };
    ($($name:ident),+ $(,)?) => {
        $crate::both_backends!(@with spawn; $($name),+);
    };
    (@with $spawn:ident; $($name:ident),+) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() {
                if let Some(app) = $crate::harness::TestApp::$spawn($crate::harness::Backend::Sqlite).await { super::$name(app).await }
            })+
        }
        mod postgres {
            $(#[tokio::test] async fn $name() {
                if let Some(app) = $crate::harness::TestApp::$spawn($crate::harness::Backend::Postgres).await { super::$name(app).await }
            })+
        }
    };
}

#[derive(Debug, Clone)]
pub enum Auth {
    None,
    Basic(String, String),
    Bearer(String),
}

pub fn basic(user: &str, password: &str) -> Auth {
    Auth::Basic(user.into(), password.into())
}

pub fn admin() -> Auth {
    basic("admin", ADMIN_PASSWORD)
}

pub struct Response {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Response {
    /// The `exceptionName` of the first error, for asserting error answers.
    pub fn exception(&self) -> &str {
        self.body["errors"][0]["exceptionName"]
            .as_str()
            .unwrap_or("")
    }
    pub fn message(&self) -> &str {
        self.body["errors"][0]["message"].as_str().unwrap_or("")
    }
    pub fn context(&self) -> &str {
        self.body["errors"][0]["context"].as_str().unwrap_or("")
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Keeps a second node (`TestApp::second_node`) running while held.
pub struct SecondNode(
    #[allow(dead_code)] tempfile::TempDir,
    #[allow(dead_code)] tokio::sync::oneshot::Sender<()>,
);

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub clock: ManualClock,
    pub store: Store,
    pub database_url: String,
    pub backend: Backend,
    /// The server's webhook dispatcher (`wake` it after moving the clock).
    pub webhooks: junction::services::webhooks::Webhooks,
    /// The server's data directory (its git repositories are under `repositories/`).
    pub data_dir: std::path::PathBuf,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// Something a test needs is missing. That fails the test, unless the opt-out variable named in
/// the message is set to 1: then it says so loudly and the caller skips.
pub fn missing(what: &str, opt_out: &str) {
    if std::env::var(opt_out).as_deref() != Ok("1") || std::env::var("CI").as_deref() == Ok("true")
    {
        panic!("{what} (set {opt_out}=1 to skip such tests instead; never in CI)");
    }
    eprintln!("\n!!!!! SKIPPING ({opt_out}=1): {what} !!!!!\n");
}

/// The CSRF token of the first form on a page.
pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("the page has a CSRF field") + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

/// A browser-like client (cookies kept, redirects not followed) that has opened the sign-in
/// form, and the form's CSRF token.
pub async fn sign_in_form(app: &TestApp) -> (reqwest::Client, String) {
    let b = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let html = b
        .get(format!("{}/login", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    (b, csrf_of(&html))
}

/// 127.0.0.1 as a block: the loopback proxy the tests' requests come through.
pub fn loopback_block() -> junction::net::Cidr {
    junction::net::Cidr::parse("127.0.0.1/32").unwrap()
}

pub fn postgres_server() -> String {
    std::env::var("JUNCTION_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

impl TestApp {
    /// Starts a server; `None` only when PostgreSQL is unreachable and
    /// `JUNCTION_TEST_SKIP_POSTGRES=1` says to skip (said loudly); otherwise that fails.
    pub async fn spawn(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Like `spawn`, after `adjust` changes the configuration.
    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Option<Self> {
        Self::spawn_at(backend, 1_800_000_000_000, adjust).await
    }

    /// A server that may call loopback remotes (other test servers), its clock starting at the
    /// real time so that remotes' `Date` headers agree with it.
    pub async fn spawn_linkable(backend: Backend) -> Option<Self> {
        Self::spawn_at(backend, wall_clock_ms(), allow_loopback).await
    }

    /// A linkable server with tight webhook limits: two deliveries at once per endpoint, 4 KB
    /// payloads.
    pub async fn spawn_tight_hooks(backend: Backend) -> Option<Self> {
        Self::spawn_at(backend, wall_clock_ms(), |c| {
            allow_loopback(c);
            c.webhooks.per_endpoint_concurrency = 2;
            c.webhooks.max_payload_bytes = 4096;
        })
        .await
    }

    /// A server behind a trusted reverse proxy on loopback: tests choose the client address with
    /// `X-Forwarded-For`. Ten failures per address before delays start.
    pub async fn spawn_behind_proxy(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, |c| {
            c.security.trusted_proxies = vec![loopback_block()];
            c.security.max_failed_sign_ins_per_address = 10;
        })
        .await
    }

    /// A server that accepts pushes of at most 1 MB.
    pub async fn spawn_small_pushes(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, |c| c.git.max_push_megabytes = 1).await
    }

    /// A server that stops any git request after a second.
    pub async fn spawn_impatient(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, |c| c.git.timeout_seconds = 1).await
    }

    /// Like `spawn_with`, with the manual clock starting at `start_ms`.
    pub async fn spawn_at(
        backend: Backend,
        start_ms: i64,
        adjust: impl FnOnce(&mut Config),
    ) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let database_url = match backend {
            Backend::Sqlite => format!("sqlite://{}", dir.path().join("junction.db").display()),
            Backend::Postgres => {
                let name = format!(
                    "junction_test_{}",
                    junction::secret::new_token(junction::secret::TokenKind::Csrf)
                        .chars()
                        .filter(|c| c.is_ascii_alphanumeric())
                        .take(16)
                        .collect::<String>()
                        .to_lowercase()
                );
                if let Err(e) = junction::store::create_database(&postgres_server(), &name).await {
                    let msg = format!("PostgreSQL at {} is unreachable: {e:#}", postgres_server());
                    missing(&msg, "JUNCTION_TEST_SKIP_POSTGRES");
                    return None;
                }
                format!("{}/{}", postgres_server(), name)
            }
        };
        let mut config = Config::for_data_dir(dir.path());
        config.server.listen = "127.0.0.1:0".parse().unwrap();
        config.database.url = Secret::new(database_url.clone());
        config.database.max_connections = 8;
        config.server.max_body_bytes = 64 * 1024;
        adjust(&mut config);
        let clock = ManualClock::new(start_ms);
        let bootstrap = Bootstrap {
            admin_password: Some(Secret::new(ADMIN_PASSWORD)),
        };
        let server = Server::build(config, Arc::new(clock.clone()), bootstrap)
            .await
            .expect("server starts");
        let addr = server.addr;
        let store = server.state.store.clone();
        let webhooks = server.state.webhooks.clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(server.run(async move {
            let _ = stopped.await;
        }));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Some(Self {
            base: format!("http://{addr}"),
            client,
            clock,
            store,
            database_url,
            backend,
            webhooks,
            data_dir: dir.path().to_path_buf(),
            _dir: dir,
            _stop: stop,
        })
    }

    /// Sets the manual clock to the real time again (it stands still while a test runs), for
    /// checks against software with its own clock.
    pub fn sync_clock(&self) {
        use junction::clock::Clock;
        self.clock.advance_ms(wall_clock_ms() - self.clock.now_ms());
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        auth: &Auth,
        body: Option<Value>,
    ) -> Response {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        req = match auth {
            Auth::None => req,
            Auth::Basic(u, p) => req.basic_auth(u, Some(p)),
            Auth::Bearer(t) => req.bearer_auth(t),
        };
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request is sent");
        Self::read(resp).await
    }

    pub async fn read(resp: reqwest::Response) -> Response {
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Response {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str, auth: &Auth) -> Response {
        self.call(Method::GET, path, auth, None).await
    }
    pub async fn post(&self, path: &str, auth: &Auth, body: Value) -> Response {
        self.call(Method::POST, path, auth, Some(body)).await
    }
    pub async fn put(&self, path: &str, auth: &Auth, body: Value) -> Response {
        self.call(Method::PUT, path, auth, Some(body)).await
    }
    pub async fn delete(&self, path: &str, auth: &Auth) -> Response {
        self.call(Method::DELETE, path, auth, None).await
    }

    /// Creates a licensed user through the admin REST API; returns their Basic credentials.
    pub async fn user(&self, name: &str) -> Auth {
        let password = format!("{name}-password");
        let r = self
            .call(Method::POST, &format!("/rest/api/1.0/admin/users?name={name}&password={password}&displayName={name}&emailAddress={name}@example.com"), &admin(), None)
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        basic(name, &password)
    }

    /// Creates a personal access token for a user; returns it as a Bearer credential.
    pub async fn token(&self, user: &Auth, permission: &str) -> (Auth, Value) {
        let Auth::Basic(name, _) = user else {
            panic!("tokens are created with a password")
        };
        let r = self
            .put(&format!("/rest/access-tokens/1.0/users/{name}"), user, serde_json::json!({"name": format!("t-{permission}-{}", rand_suffix()), "permission": permission}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        (
            Auth::Bearer(r.body["token"].as_str().unwrap().to_string()),
            r.body,
        )
    }

    /// An OAuth 2.0 access token of `user` with `scope`, issued by the real token endpoint to a
    /// new client. (The person's consent is written straight to the store: the consent pages
    /// have their own tests in `oauth2.rs`.)
    pub async fn oauth_token(&self, user: &str, scope: &str) -> Auth {
        let (c, code) = self.oauth_code(user, scope).await;
        let r = self.exchange_code(&c, &code).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        Auth::Bearer(r.body["access_token"].as_str().unwrap().to_string())
    }

    /// Posts a form to the token endpoint as client `c` (its id and secret in Basic).
    pub async fn token_endpoint(&self, c: &Value, form: &[(&str, &str)]) -> Response {
        let r = self
            .client
            .post(format!("{}/rest/oauth2/latest/token", self.base))
            .basic_auth(c["clientId"].as_str().unwrap(), c["clientSecret"].as_str())
            .form(form)
            .send()
            .await
            .unwrap();
        Self::read(r).await
    }

    pub async fn exchange_code(&self, c: &Value, code: &str) -> Response {
        self.token_endpoint(
            c,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", "http://localhost:8765/callback"),
            ],
        )
        .await
    }

    /// A new confidential client and an authorization code `user` granted it for `scope`.
    pub async fn oauth_code(&self, user: &str, scope: &str) -> (Value, String) {
        let redirect = "http://localhost:8765/callback";
        let c = self
            .post("/rest/oauth2/latest/client", &admin(), serde_json::json!({"name": format!("c-{scope}-{}", rand_suffix()), "redirects": [redirect], "scope": scope}))
            .await;
        assert_eq!(c.status, StatusCode::CREATED, "{}", c.text);
        let client = self
            .store
            .find_oauth_client(c.body["clientId"].as_str().unwrap())
            .await
            .unwrap()
            .unwrap();
        let account = self.store.find_account(user).await.unwrap().unwrap();
        let code = format!("code-{}", rand_suffix());
        self.store
            .create_grant_with_code(
                client.id,
                account.id,
                scope,
                &junction::secret::token_hash(&code),
                redirect,
                None,
                i64::MAX,
            )
            .await
            .unwrap();
        (c.body, code)
    }

    /// A second node on this server's PostgreSQL database, its clock frozen (so no cached
    /// entry expires by time), its configuration changed by `adjust`: its base URL, and what
    /// keeps it running while held.
    pub async fn second_node(&self, adjust: impl FnOnce(&mut Config)) -> (String, SecondNode) {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::for_data_dir(dir.path());
        config.server.listen = "127.0.0.1:0".parse().unwrap();
        config.database.url = Secret::new(self.database_url.clone());
        adjust(&mut config);
        let frozen = ManualClock::new(1_800_000_000_000);
        let bootstrap = Bootstrap {
            admin_password: Some(Secret::new(ADMIN_PASSWORD)),
        };
        let b = Server::build(config, Arc::new(frozen), bootstrap)
            .await
            .unwrap();
        let base = format!("http://{}", b.addr);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(b.run(async move {
            let _ = stopped.await;
        }));
        (base, SecondNode(dir, stop))
    }

    /// The events of repository `key`/`slug` so far, oldest first: (key, payload).
    pub async fn events(&self, key: &str, slug: &str) -> Vec<(String, Value)> {
        let (repo, _) = self.bare_repository(key, slug).await;
        let events = self.store.events_of_repository(repo.id).await.unwrap();
        events
            .into_iter()
            .map(|e| (e.event_key, serde_json::from_str(&e.payload).unwrap()))
            .collect()
    }

    /// Runs `git <args>` on repository `key`/`slug`'s bare repository; its trimmed output.
    pub async fn bare_git(&self, key: &str, slug: &str, args: &[&str]) -> String {
        let (_, dir) = self.bare_repository(key, slug).await;
        let (ok, out) = git_in(&dir, args, "");
        assert!(ok, "git {args:?} failed");
        out
    }

    /// Repository `key`/`slug` and its bare repository's directory.
    async fn bare_repository(&self, key: &str, slug: &str) -> (Repository, std::path::PathBuf) {
        let repo = self
            .store
            .find_repository(key, slug)
            .await
            .unwrap()
            .expect("the repository exists");
        let dir = self
            .data_dir
            .join("repositories")
            .join(format!("{}.git", repo.id));
        (repo, dir)
    }

    /// Makes branches exist in repository `key`/`slug` as pushes would: `main` with a commit
    /// of `README.md` (unless it exists), and each of `names` one commit ahead of `main` adding
    /// `<name>.txt`. Written into the bare repository directly, so a test about pull requests
    /// needs no git client.
    pub async fn branches(&self, key: &str, slug: &str, names: &[&str]) {
        let (repo, dir) = self.bare_repository(key, slug).await;
        let git = |args: &[&str], input: &str| git_in(&dir, args, input);
        let (_, readme) = git(&["hash-object", "-w", "--stdin"], "main\n");
        let readme = format!("100644 blob {readme}\tREADME.md\n");
        // A commit of README.md and, for a branch, `file`; on `parent`.
        let commit = |file: Option<&str>, parent: Option<&str>, message: &str| {
            let mut entries = readme.clone();
            if let Some(file) = file {
                let (_, blob) = git(&["hash-object", "-w", "--stdin"], &format!("{message}\n"));
                entries.push_str(&format!("100644 blob {blob}\t{file}\n"));
            }
            let (_, tree) = git(&["mktree"], &entries);
            let mut args = vec!["commit-tree", tree.as_str(), "-m", message];
            if let Some(p) = parent {
                args.extend(["-p", p]);
            }
            git(&args, "").1
        };
        let main = match git(&["rev-parse", "--verify", "-q", "refs/heads/main"], "") {
            (true, hash) => hash,
            _ => {
                let c = commit(None, None, "main");
                assert!(git(&["update-ref", "refs/heads/main", &c], "").0);
                c
            }
        };
        for name in names {
            let name = name.trim_start_matches("refs/heads/");
            if name == "main" {
                continue;
            }
            let file = format!("{}.txt", name.replace('/', "-"));
            let c = commit(Some(&file), Some(&main), name);
            assert!(git(&["update-ref", &format!("refs/heads/{name}"), &c], "").0);
        }
        // Recorded as they stand, as if pushed: later pushes and merges report only theirs.
        let (_, listed) = git(&["for-each-ref", "--format=%(refname) %(objectname)"], "");
        let refs = listed
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect();
        self.store.adopt_refs(repo.id, &refs).await.unwrap();
    }

    pub async fn project(&self, key: &str, public: bool) -> Value {
        let r = self
            .post(
                "/rest/api/1.0/projects",
                &admin(),
                serde_json::json!({"key": key, "name": format!("Project {key}"), "public": public}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.body
    }

    pub async fn repo(&self, key: &str, name: &str, public: bool) -> Value {
        let r = self
            .post(
                &format!("/rest/api/1.0/projects/{key}/repos"),
                &admin(),
                serde_json::json!({"name": name, "public": public}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.body
    }

    pub async fn grant(&self, path: &str, user: &str, permission: &str) {
        let r = self
            .call(
                Method::PUT,
                &format!("{path}/permissions/users?name={user}&permission={permission}"),
                &admin(),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    }
}

/// Lets a test server's outbound client reach other servers on loopback (refused by default).
pub fn allow_loopback(c: &mut Config) {
    c.outbound.allow_private = ["127.0.0.0/8", "::1/128"]
        .map(|b| junction::net::Cidr::parse(b).unwrap())
        .to_vec();
}

/// The real time, for test servers that talk to software with its own clock.
#[allow(clippy::disallowed_methods)]
pub fn wall_clock_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn rand_suffix() -> String {
    junction::secret::new_token(junction::secret::TokenKind::Csrf)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(6)
        .collect()
}

/// Polls the futures together (so requests really overlap) and returns their outputs in order.
pub async fn join_all<F: std::future::Future>(fs: Vec<F>) -> Vec<F::Output> {
    let mut pending: Vec<_> = fs.into_iter().map(|f| Some(Box::pin(f))).collect();
    let mut results: Vec<Option<F::Output>> = (0..pending.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut waiting = false;
        for (i, slot) in pending.iter_mut().enumerate() {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        results[i] = Some(v);
                        *slot = None;
                    }
                    std::task::Poll::Pending => waiting = true,
                }
            }
        }
        if waiting {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    results
        .into_iter()
        .map(|r| r.expect("every future completed"))
        .collect()
}

/// Runs `git <args>` on the bare repository `dir` with `input` on stdin, with no configuration
/// of this machine's and a fixed identity: whether it succeeded, and its trimmed output.
fn git_in(dir: &std::path::Path, args: &[&str], input: &str) -> (bool, String) {
    use std::io::Write;
    let mut child = std::process::Command::new("git")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_DIR", dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the git CLI is installed");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
    )
}
