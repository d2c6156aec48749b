//! What application-link tests talk to: a browser that keeps one cookie jar per origin (two
//! test servers share 127.0.0.1, and cookies ignore ports), a fake remote whose answers a test
//! chooses, and npm oidc-provider started from tests/node.

use crate::harness::*;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use std::collections::HashMap;
use std::sync::Mutex;

pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
    pub url: String,
}

impl Page {
    pub fn location(&self) -> String {
        let loc = self.headers["location"].to_str().unwrap();
        url::Url::parse(&self.url)
            .unwrap()
            .join(loc)
            .unwrap()
            .to_string()
    }
}

/// Turns askama's escaping back, for values read out of pages.
pub fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&#x2f;", "/")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The hidden fields of the form posting to `action` on a page.
pub fn hidden_fields(html: &str, action: &str) -> Vec<(String, String)> {
    let marker = format!("action=\"{action}\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no form to {action} in {html}"));
    let form = &html[start
        ..html[start..]
            .find("</form>")
            .map_or(html.len(), |e| start + e)];
    form.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .map(|part| {
            let name = part.split('"').next().unwrap().to_string();
            let value = part
                .split("value=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            (name, unescape(value))
        })
        .collect()
}

#[derive(Default)]
pub struct Browser {
    jars: Mutex<HashMap<String, reqwest::Client>>,
}

fn origin(url: &str) -> String {
    url::Url::parse(url).unwrap().origin().ascii_serialization()
}

impl Browser {
    fn client(&self, url: &str) -> reqwest::Client {
        self.jars
            .lock()
            .unwrap()
            .entry(origin(url))
            .or_insert_with(|| {
                reqwest::Client::builder()
                    .cookie_store(true)
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .unwrap()
            })
            .clone()
    }

    async fn read(url: &str, r: reqwest::Response) -> Page {
        Page {
            status: r.status(),
            headers: r.headers().clone(),
            body: r.text().await.unwrap(),
            url: url.to_string(),
        }
    }

    pub async fn get(&self, url: &str) -> Page {
        let r = self
            .client(url)
            .get(url)
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        Self::read(url, r).await
    }

    /// A GET as a script would send it: asking for JSON.
    pub async fn get_json(&self, url: &str) -> Page {
        let r = self
            .client(url)
            .get(url)
            .header("accept", "application/json")
            .send()
            .await
            .unwrap();
        Self::read(url, r).await
    }

    pub async fn post(&self, url: &str, form: &[(String, String)]) -> Page {
        let r = self
            .client(url)
            .post(url)
            .header("accept", "text/html")
            .form(form)
            .send()
            .await
            .unwrap();
        Self::read(url, r).await
    }

    pub async fn sign_in(&self, base: &str, user: &str, password: &str) {
        let page = self.get(&format!("{base}/login")).await;
        let mut form = hidden_fields(&page.body, "/login");
        form.push(("username".into(), user.into()));
        form.push(("password".into(), password.into()));
        let r = self.post(&format!("{base}/login"), &form).await;
        assert_eq!(
            r.status,
            StatusCode::SEE_OTHER,
            "sign-in as {user} at {base}: {}",
            r.body
        );
    }

    /// Posts the form to `action` found on `page`, with its hidden fields (CSRF and all) and
    /// `fields`.
    pub async fn submit(&self, page: &str, action: &str, fields: &[(&str, &str)]) -> Page {
        let shown = self.get(page).await;
        self.submit_on(&shown, action, fields).await
    }

    /// Like `submit`, on a page already shown (e.g. the answer to a form).
    pub async fn submit_on(&self, shown: &Page, action: &str, fields: &[(&str, &str)]) -> Page {
        let mut form = hidden_fields(&shown.body, action);
        form.retain(|(k, _)| !fields.iter().any(|(f, _)| f == k));
        form.extend(fields.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        self.post(&format!("{}{action}", origin(&shown.url)), &form)
            .await
    }

    /// Presses a link's button (`connect`, `disconnect`) on Account → Connected applications.
    pub async fn press_connection(&self, base: &str, link_id: &str, action: &str) -> Page {
        let mine = format!("{base}/account/connected-applications");
        let action = format!("/account/connected-applications/{link_id}/{action}");
        // Confirmed at once (disconnecting asks first; `applinks_oidc` shows the question).
        let r = self.submit(&mine, &action, &[("confirm", "yes")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        r
    }

    /// Connects the signed-in person's account through a link: Connect, then through the
    /// remote's pages as `remote_login`. Returns the page the person lands on.
    pub async fn connect_account(
        &self,
        base: &str,
        link_id: &str,
        remote_login: (&str, &str),
    ) -> Page {
        let go = self.press_connection(base, link_id, "connect").await;
        self.follow(&go.location(), remote_login).await
    }

    /// Follows redirects until the next URL starts with `stop_at`, and returns that URL unfetched.
    pub async fn follow_to(&self, url: &str, stop_at: &str) -> String {
        let mut next = url.to_string();
        for _ in 0..20 {
            if next.starts_with(stop_at) {
                return next;
            }
            let page = self.get(&next).await;
            assert!(
                page.status.is_redirection(),
                "{next}: {} {}",
                page.status,
                page.body
            );
            next = page.location();
        }
        panic!("more than 20 redirects from {url}");
    }

    /// Goes where `url` leads like a person would: follows redirects across servers, signs in
    /// to a Junction as `login` when sent to its sign-in page, and allows consent pages. Stops
    /// at the first page that is none of those.
    pub async fn follow(&self, url: &str, login: (&str, &str)) -> Page {
        let mut next = url.to_string();
        for _ in 0..20 {
            let page = self.get(&next).await;
            if page.status.is_redirection() {
                next = page.location();
                continue;
            }
            let base = origin(&next);
            if page.body.contains("action=\"/login\"") {
                let mut form = hidden_fields(&page.body, "/login");
                form.push(("username".into(), login.0.into()));
                form.push(("password".into(), login.1.into()));
                let r = self.post(&format!("{base}/login"), &form).await;
                assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
                next = r.location();
                continue;
            }
            if page
                .body
                .contains("action=\"/plugins/servlet/oauth2/consent\"")
            {
                let mut form = hidden_fields(&page.body, "/plugins/servlet/oauth2/consent");
                form.push(("decision".into(), "allow".into()));
                let r = self
                    .post(&format!("{base}/plugins/servlet/oauth2/consent"), &form)
                    .await;
                assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
                next = r.location();
                continue;
            }
            return page;
        }
        panic!("more than 20 redirects from {url}");
    }
}

/// A remote whose every answer the test decides: `(status, headers, body)` per path.
pub struct FakeRemote {
    pub base: String,
    _stop: tokio::sync::oneshot::Sender<()>,
}

pub type Answer = (u16, Vec<(&'static str, String)>, Vec<u8>);

impl FakeRemote {
    pub async fn start(answer: impl Fn(&str) -> Answer + Send + Sync + 'static) -> Self {
        use axum::response::IntoResponse;
        let answer = std::sync::Arc::new(answer);
        let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
            let answer = answer.clone();
            async move {
                let (status, headers, body) = answer(uri.path());
                let mut r =
                    (axum::http::StatusCode::from_u16(status).unwrap(), body).into_response();
                for (k, v) in headers {
                    r.headers_mut().insert(k, v.parse().unwrap());
                }
                r
            }
        });
        let (base, stop) = serve_on_loopback(app).await;
        Self { base, _stop: stop }
    }
}

/// Serves `app` on a free loopback port until the returned sender is dropped; returns its base URL.
pub async fn serve_on_loopback(app: axum::Router) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
    });
    (base, stop)
}

/// A loopback port where nothing listens.
pub async fn closed_port() -> u16 {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap().port()
}

/// npm oidc-provider (tests/node/oidc_link_provider.js) on a free loopback port.
pub struct OidcProvider {
    pub base: String,
    child: tokio::process::Child,
}

pub const OIDC_CLIENT: &str = "junction-link";
pub const OIDC_SECRET: &str = "junction-link-secret-junction-link-secret";

impl OidcProvider {
    /// `None` (loudly) when the Node packages are not installed and skipping is asked for.
    pub async fn start(junction_base: &str, skew_seconds: i64) -> Option<Self> {
        use tokio::io::AsyncBufReadExt;
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/node");
        if !std::path::Path::new(dir)
            .join("node_modules/oidc-provider")
            .exists()
        {
            crate::harness::missing(
                "tests/node/node_modules is missing: run scripts/test.sh to install tests/node",
                "JUNCTION_TEST_SKIP_INTEROP",
            );
            return None;
        }
        let mut child = tokio::process::Command::new("node")
            .arg("oidc_link_provider.js")
            .current_dir(dir)
            .env("CLIENT_ID", OIDC_CLIENT)
            .env("CLIENT_SECRET", OIDC_SECRET)
            .env("JUNCTION_BASE", junction_base)
            .env("SKEW_SECONDS", skew_seconds.to_string())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs");
        let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let line = lines
            .next_line()
            .await
            .unwrap()
            .expect("oidc-provider prints ready");
        let port = line
            .strip_prefix("ready ")
            .expect("ready <port>")
            .to_string();
        // Keep reading: the provider logs to stdout, and a closed pipe would kill it.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Some(Self {
            base: format!("http://127.0.0.1:{port}"),
            child,
        })
    }

    pub async fn stop(mut self) {
        self.child.kill().await.unwrap();
    }
}

/// The admin REST body of an outgoing link to `base` with the test client.
pub fn oidc_link(base: &str, name: &str, secret: &str) -> serde_json::Value {
    serde_json::json!({
        "name": name,
        "url": base,
        "outgoing": {
            "preset": "custom",
            "clientId": OIDC_CLIENT,
            "clientSecret": secret,
            "authorizationEndpoint": format!("{base}/auth"),
            "tokenEndpoint": format!("{base}/token"),
            "scopes": "openid profile",
        }
    })
}

/// Admin REST helpers for links.
pub async fn links_of(app: &TestApp) -> Vec<serde_json::Value> {
    let r = app.get("/rest/applinks/3.0/applinks", &admin()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body.as_array().unwrap().clone()
}

/// Runs Test connection on a link over REST; returns the status.
pub async fn test_link(app: &TestApp, id: &str) -> serde_json::Value {
    let r = app
        .post(
            &format!("/rest/junction/1.0/applinks/{id}/test"),
            &admin(),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}
