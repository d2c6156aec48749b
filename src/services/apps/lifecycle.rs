//! Lifecycle callbacks (`installed`, `uninstalled`, `enabled`, `disabled`) exactly as Bitbucket
//! sends them: the captured payload keys, and a JWT (`iss = aud = clientKey`, `qsh` of the
//! callback's path relative to the app's `baseUrl` path, `exp` one hour) signed with the secret
//! the app last received — none on a first install, when the app has no secret yet.

use super::AppError;
use crate::domain::{connect_jwt, connect_qsh};
use crate::services::outbound::Outbound;
use reqwest::Method;
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Installed,
    Uninstalled,
    Enabled,
    Disabled,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Installed => "installed",
            Self::Uninstalled => "uninstalled",
            Self::Enabled => "enabled",
            Self::Disabled => "disabled",
        }
    }
}

/// Host → app tokens live an hour, as Bitbucket's do (ACE checks `exp` with no leeway).
pub const TOKEN_SECONDS: i64 = 3600;

/// Who and where, for a payload.
pub struct Parties {
    pub app_key: String,
    pub client_key: String,
    /// Where Junction serves `/2.0` (its origin): apps join `/2.0/...` to it.
    pub host_base_url: String,
    /// The account installed into, in Bitbucket's shape.
    pub principal: Value,
    /// Who acted, if a person did.
    pub actor: Option<Value>,
}

/// The callback's body: `sharedSecret` only on `installed`, `actor` only where a person acted.
pub fn payload(event: Event, who: &Parties, shared_secret: Option<&str>) -> Value {
    let mut body = json!({
        "key": who.app_key,
        "clientKey": who.client_key,
        "publicKey": "",
        "baseUrl": who.host_base_url,
        "baseApiUrl": who.host_base_url,
        "productType": "bitbucket",
        "eventType": event.as_str(),
        "principal": who.principal,
        "user": who.principal,
    });
    if let (Event::Installed, Some(secret)) = (event, shared_secret) {
        body["sharedSecret"] = json!(secret);
    }
    if let (Event::Installed | Event::Enabled | Event::Disabled, Some(actor)) = (event, &who.actor)
    {
        body["actor"] = actor.clone();
    }
    body
}

/// A host → app token for `method url` (lifecycle, webhooks).
pub fn host_token(
    method: &str,
    url: &str,
    app_base_url: &str,
    client_key: &str,
    secret: &str,
    now_s: i64,
) -> String {
    let (path, query) = match url::Url::parse(url) {
        Ok(u) => (u.path().to_string(), u.query().unwrap_or("").to_string()),
        Err(_) => (url.to_string(), String::new()),
    };
    let base_path = url::Url::parse(app_base_url)
        .map(|u| u.path().to_string())
        .unwrap_or_default();
    let claims = json!({
        "iss": client_key,
        "aud": client_key,
        "iat": now_s,
        "exp": now_s + TOKEN_SECONDS,
        "qsh": connect_qsh::qsh(method, &path, &query, &base_path),
    });
    connect_jwt::sign(&claims, secret.as_bytes())
}

/// POSTs `body` to the callback `url`; anything but 2xx (or no answer) is the app's refusal.
pub async fn call(
    outbound: &Outbound,
    event: Event,
    url: &str,
    body: &Value,
    token: Option<String>,
) -> Result<(), AppError> {
    let fail = |reason: String| AppError::Callback {
        event: event.as_str(),
        url: url.to_string(),
        reason,
    };
    let mut req = outbound
        .request(Method::POST, url)
        .map_err(|e| fail(e.to_string()))?
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(t) = token {
        req = req.header("authorization", format!("JWT {t}"));
    }
    let got = outbound.send(req).await.map_err(|e| fail(e.to_string()))?;
    if got.is_success() {
        return Ok(());
    }
    let said: String = String::from_utf8_lossy(&got.body)
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    Err(fail(if said.trim().is_empty() {
        format!("it answered HTTP {}", got.status)
    } else {
        format!("it answered HTTP {} ({})", got.status, said.trim())
    }))
}
