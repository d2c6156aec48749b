//! A Connect app for tests: serves its descriptor, records lifecycle calls and answers them as
//! the test decides; and the person's side of installing it (the install link, the consent
//! form) through a signed-in browser.

use crate::harness::{csrf_of, TestApp};
use crate::receiver::{Received, Receiver, Reply};
use junction::domain::{connect_jwt, connect_qsh};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const KEY: &str = "com.example.reviewer";

#[derive(Default)]
struct Behaviour {
    descriptor: Value,
    /// Status the lifecycle callbacks answer (204 unless set).
    lifecycle_status: Option<u16>,
    /// Where the descriptor redirects to instead of answering, if set.
    redirect: Option<String>,
}

pub struct FakeApp {
    pub rx: Receiver,
    /// The app's base URL (its descriptor's `baseUrl`).
    pub base: String,
    behaviour: Arc<Mutex<Behaviour>>,
}

impl FakeApp {
    /// An app with `scopes` (`Value::Null`: none listed).
    pub async fn start(scopes: Value) -> Self {
        Self::start_holding(scopes, Duration::ZERO).await
    }

    /// An app that takes `hold` to answer anything.
    pub async fn start_holding(scopes: Value, hold: Duration) -> Self {
        let behaviour = Arc::new(Mutex::new(Behaviour::default()));
        let b = behaviour.clone();
        let rx = Receiver::start(
            move |r: &Received, _| -> Reply {
                let b = b.lock().unwrap();
                if let (Some(to), "/atlassian-connect.json") = (&b.redirect, r.path.as_str()) {
                    return (302, vec![("location", to.clone())], String::new());
                }
                if r.path == "/atlassian-connect.json" {
                    let ct = ("content-type", "application/json".to_string());
                    return (200, vec![ct], b.descriptor.to_string());
                }
                (b.lifecycle_status.unwrap_or(204), vec![], String::new())
            },
            hold,
        )
        .await;
        let base = rx.url.trim_end_matches("/hook").to_string();
        let mut descriptor = json!({
            "key": KEY,
            "name": "Reviewer",
            "description": "Reviews pull requests",
            "vendor": {"name": "Example Ltd", "url": "https://example.com"},
            "baseUrl": base,
            "authentication": {"type": "jwt"},
            "lifecycle": {"installed": "/installed", "uninstalled": "/uninstalled",
                          "enabled": "/enabled", "disabled": "/disabled"},
            "modules": {"webhooks": [{"event": "pullrequest:created", "url": "/hook"}]},
            "contexts": ["account"],
        });
        if !scopes.is_null() {
            descriptor["scopes"] = scopes;
        }
        behaviour.lock().unwrap().descriptor = descriptor;
        Self {
            rx,
            base,
            behaviour,
        }
    }

    pub fn descriptor_url(&self) -> String {
        format!("{}/atlassian-connect.json", self.base)
    }

    pub fn edit(&self, f: impl FnOnce(&mut Value)) {
        f(&mut self.behaviour.lock().unwrap().descriptor)
    }

    pub fn redirect_descriptor(&self, to: &str) {
        self.behaviour.lock().unwrap().redirect = Some(to.to_string());
    }

    pub fn answer_lifecycle(&self, status: u16) {
        self.behaviour.lock().unwrap().lifecycle_status = Some(status);
    }

    /// What it answers lifecycle calls and webhooks with now.
    pub fn lifecycle_status(&self) -> u16 {
        self.behaviour
            .lock()
            .unwrap()
            .lifecycle_status
            .unwrap_or(204)
    }

    /// The lifecycle calls received so far (not descriptor fetches).
    pub fn lifecycle(&self) -> Vec<Received> {
        self.rx
            .received()
            .into_iter()
            .filter(|r| r.path != "/atlassian-connect.json")
            .collect()
    }

    /// The claims of the JWT the last `installed` call carried, verified with `secret` and the
    /// `qsh` of `POST /installed`; the refusal if it does not verify.
    pub fn last_installed_token(
        &self,
        app: &TestApp,
        secret: &str,
    ) -> Result<connect_jwt::Claims<'static>, connect_jwt::Refusal> {
        let call = self
            .lifecycle()
            .into_iter()
            .rev()
            .find(|r| r.path == "/installed")
            .expect("an installed call");
        let token = call
            .header("authorization")
            .strip_prefix("JWT ")
            .expect("a signed call")
            .to_string();
        let canonical = connect_qsh::canonical_request("POST", "/installed", "", "");
        let now = junction::clock::Clock::now_ms(&app.clock) / 1000;
        let e = connect_jwt::Expected {
            canonical_request: &canonical,
            context_allowed: false,
        };
        connect_jwt::verify(&token, secret.as_bytes(), now, &e)
    }

    /// The last `installed` body.
    pub fn installed(&self) -> Value {
        self.lifecycle()
            .iter()
            .rev()
            .find(|r| r.path == "/installed")
            .expect("an installed call")
            .json()
    }
}

/// A signed-in browser for a new user `name` (created by the admin).
pub async fn person(app: &TestApp, name: &str) -> reqwest::Client {
    app.user(name).await;
    crate::oauth2::browser(app, name, &format!("{name}-password")).await
}

pub async fn page(app: &TestApp, b: &reqwest::Client, path: &str) -> (StatusCode, String) {
    let r = b.get(format!("{}{path}", app.base)).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

/// Posts a form with the CSRF token of the page at `from`.
pub async fn post_form(
    app: &TestApp,
    b: &reqwest::Client,
    from: &str,
    to: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let (_, html) = page(app, b, from).await;
    let csrf = csrf_of(&html);
    let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf)];
    form.extend_from_slice(fields);
    b.post(format!("{}{to}", app.base))
        .form(&form)
        .send()
        .await
        .unwrap()
}

pub async fn development_mode(app: &TestApp, b: &reqwest::Client) {
    let r = post_form(
        app,
        b,
        "/account/apps",
        "/account/apps/development-mode",
        &[("on", "yes")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

/// The value of the hidden field `name` on a page.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no field {name}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

pub fn install_link(fake: &FakeApp, redirect: bool) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("descriptor_uri", &fake.descriptor_url());
    if redirect {
        q.append_pair("redirect_uri", &format!("{}/done", fake.base));
    }
    format!("/site/addons/authorize?{}", q.finish())
}

/// Opens the install link and grants on the consent page, into `account`; the final answer.
pub async fn install(
    app: &TestApp,
    b: &reqwest::Client,
    fake: &FakeApp,
    account: &str,
) -> reqwest::Response {
    let redirect = format!("{}/done", fake.base);
    install_from(app, b, &fake.descriptor_url(), Some(&redirect), account).await
}

/// The person's side of installing the app whose descriptor is at `descriptor_uri`: the link
/// opened (its consent page must show), then Install pressed for `account`.
pub async fn install_from(
    app: &TestApp,
    b: &reqwest::Client,
    descriptor_uri: &str,
    redirect_uri: Option<&str>,
    account: &str,
) -> reqwest::Response {
    let mut link = url::form_urlencoded::Serializer::new(String::new());
    link.append_pair("descriptor_uri", descriptor_uri);
    if let Some(r) = redirect_uri {
        link.append_pair("redirect_uri", r);
    }
    let (status, html) = page(app, b, &format!("/site/addons/authorize?{}", link.finish())).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let mut form = vec![
        ("csrf", csrf_of(&html)),
        ("descriptor_uri", descriptor_uri.to_string()),
        ("account", account.to_string()),
        ("scopes", hidden(&html, "scopes")),
        ("decision", "install".to_string()),
    ];
    if let Some(r) = redirect_uri {
        form.push(("redirect_uri", r.to_string()));
    }
    b.post(format!("{}/site/addons/authorize", app.base))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// The installation `client_key` as stored now.
pub async fn installation_of(
    app: &TestApp,
    client_key: &str,
) -> junction::store::connect::Installation {
    app.store
        .connect_caller(client_key)
        .await
        .unwrap()
        .expect("installed")
        .installation
        .clone()
}

/// A JWT for `method path?query` signed with the installation's secret, in ACE's claim shape
/// (`iss` = app key, `sub` = clientKey) unless `python_shape` (`iss` = `aud` = clientKey).
pub fn app_token(
    app: &TestApp,
    installed: &Value,
    method: &str,
    path: &str,
    query: &str,
    python_shape: bool,
) -> String {
    let now = junction::clock::Clock::now_ms(&app.clock) / 1000;
    let ck = installed["clientKey"].as_str().unwrap();
    let qsh = connect_qsh::qsh(method, path, query, "");
    let claims = if python_shape {
        json!({"iss": ck, "aud": ck, "iat": now, "exp": now + 180, "qsh": qsh})
    } else {
        json!({"iss": KEY, "sub": ck, "iat": now, "exp": now + 180, "qsh": qsh})
    };
    let secret = installed["sharedSecret"].as_str().unwrap();
    connect_jwt::sign(&claims, secret.as_bytes())
}

/// Calls Junction as the app: `Authorization: JWT …`.
pub async fn as_app(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
) -> (StatusCode, Value) {
    let r = app
        .client
        .request(method, format!("{}{path}", app.base))
        .header("authorization", format!("JWT {token}"))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A Connect app written with real libraries, run as its own process: it prints
/// `ready <base URL>`, and answers `/probe/...` so the test can see what it stored and did.
pub struct AppProcess {
    pub base: String,
    _child: tokio::process::Child,
}

impl AppProcess {
    pub async fn start(mut cmd: tokio::process::Command) -> Self {
        use tokio::io::AsyncBufReadExt;
        let mut child = cmd
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the app starts");
        let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let line = lines
            .next_line()
            .await
            .unwrap()
            .expect("the app prints ready");
        let base = line
            .strip_prefix("ready ")
            .expect("ready <url>")
            .to_string();
        // Apps log to stdout; keep reading so a full pipe never blocks them.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self {
            base,
            _child: child,
        }
    }

    pub async fn probe(&self, path: &str) -> Value {
        reqwest::get(format!("{}{path}", self.base))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// A GET to Junction made by the app itself, as the installation `client_key`.
    pub async fn call(&self, client_key: &str, path: &str) -> Value {
        let q: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("clientKey", client_key)
            .append_pair("path", path)
            .finish();
        self.probe(&format!("/probe/call?{q}")).await
    }
}

/// The clientKey of the `redirect_uri?client_key=…` an install ended with.
pub fn client_key_of(location: &str) -> String {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "client_key")
        .expect("client_key in the redirect")
        .1
        .into_owned()
}

/// Removes the installation `client_key` from Account → Apps (confirmed); the answer.
pub async fn remove(app: &TestApp, b: &reqwest::Client, client_key: &str) -> reqwest::Response {
    let id = installation_of(app, client_key).await.id;
    let path = format!("/account/apps/{id}/remove");
    let r = post_form(app, b, "/account/apps", &path, &[("confirm", "yes")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    r
}
