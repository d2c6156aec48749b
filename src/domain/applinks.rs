//! Application link rules with no IO: URLs, the derived redirect URI, directions, presets, the
//! manifest Junction publishes, the status taxonomy, and the pairing signature.

use base64::Engine;
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

/// Where remotes send users back to Junction after authorizing an outgoing link.
pub const CALLBACK_PREFIX: &str = "/plugins/servlet/oauth2/client/callback/";

/// The last path segment of the redirect URI, as Atlassian derives it:
/// base64url without padding of MD5(authorization endpoint). It is known as soon as the
/// authorization endpoint is, before the remote side is configured.
pub fn callback_key(authorize_url: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Md5::digest(authorize_url.as_bytes()))
}

pub fn redirect_uri(base_url: &str, authorize_url: &str) -> String {
    format!(
        "{}{CALLBACK_PREFIX}{}",
        base_url.trim_end_matches('/'),
        callback_key(authorize_url)
    )
}

/// A link's URL: absolute http(s), no query, fragment or credentials; no trailing slash.
pub fn normalize_base_url(text: &str) -> Result<String, String> {
    let url = url::Url::parse(text.trim())
        .map_err(|_| format!("{:?} is not an absolute URL", text.trim()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("The URL must start with http:// or https://.".into());
    }
    if url.host_str().is_none() {
        return Err("The URL has no host.".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("The URL must not have a query or a fragment.".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("The URL must not contain a user name or password.".into());
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// Only `http(s)://host[:port]` of a URL, for same-origin checks.
pub fn origin(url: &url::Url) -> String {
    url.origin().ascii_serialization()
}

/// Where a request through a link goes: `path` below the link's URL, never another origin.
pub fn request_target(base: &str, path: &str, query: Option<&str>) -> Result<url::Url, String> {
    if !path.starts_with('/') || path.starts_with("//") || path.contains('\\') {
        return Err("path must start with a single / and stay on the linked application.".into());
    }
    if path.contains('?') || path.contains('#') {
        return Err("path must not carry a query or fragment; send the query in query.".into());
    }
    let base_url = url::Url::parse(base).map_err(|_| "the link's URL is invalid".to_string())?;
    let mut target = url::Url::parse(&format!("{}{path}", base.trim_end_matches('/')))
        .map_err(|_| "path is not a valid URL path".to_string())?;
    if origin(&target) != origin(&base_url) {
        return Err("Requests through a link may only go to the linked application.".into());
    }
    target.set_query(query.filter(|q| !q.is_empty()));
    Ok(target)
}

/// `host[:port]` of a URL, for names people read.
fn host_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| {
            let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
            u.host_str().map(|h| format!("{h}{port}"))
        })
        .unwrap_or_else(|| url.to_string())
}

/// The name a link gets when the admin gives none: the product the remote says it is and its
/// host, e.g. `Junction (b.example)`, or only the host when it says nothing.
pub fn default_link_name(product: Option<&str>, url: &str) -> String {
    match product.filter(|p| !p.is_empty()) {
        Some(p) => format!("{p} ({})", host_of(url)),
        None => host_of(url),
    }
}

/// What the Application column shows: the manifest's name and version, or the generic label.
pub fn application_label(name: Option<&str>, version: Option<&str>) -> String {
    match name.filter(|n| !n.is_empty()) {
        Some(n) => format!("{n} {}", version.unwrap_or_default())
            .trim()
            .to_string(),
        None => "Generic application".into(),
    }
}

/// The highest scope an incoming side may ask for when the admin does not say.
pub const DEFAULT_INCOMING_SCOPE: &str = "REPO_READ";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Direction {
    Incoming,
    Outgoing,
    TwoWay,
    /// Neither side is configured yet (a two-way link being set up).
    Pending,
}

impl Direction {
    pub fn of(incoming: bool, outgoing: bool) -> Self {
        match (incoming, outgoing) {
            (true, true) => Self::TwoWay,
            (true, false) => Self::Incoming,
            (false, true) => Self::Outgoing,
            (false, false) => Self::Pending,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::Incoming => "Incoming",
            Self::Outgoing => "Outgoing",
            Self::TwoWay => "Two-way",
            Self::Pending => "Not configured",
        }
    }
}

/// Providers whose endpoints Junction knows, so an admin only enters the client's credentials.
pub struct Preset {
    pub id: &'static str,
    pub name: &'static str,
    pub authorize_url: &'static str,
    pub token_url: &'static str,
    pub scopes: &'static str,
}

pub const PRESETS: [Preset; 3] = [
    Preset {
        id: "google",
        name: "Google",
        authorize_url: "https://accounts.google.com/o/oauth2/v2/auth",
        token_url: "https://oauth2.googleapis.com/token",
        scopes: "openid email profile",
    },
    Preset {
        id: "microsoft",
        name: "Microsoft",
        authorize_url: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
        token_url: "https://login.microsoftonline.com/common/oauth2/v2.0/token",
        scopes: "openid email profile offline_access",
    },
    Preset {
        id: "custom",
        name: "Custom",
        authorize_url: "",
        token_url: "",
        scopes: "",
    },
];

pub fn preset(id: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.id == id)
}

pub const AUTH_OAUTH: &str = "com.atlassian.applinks.api.auth.types.OAuthAuthenticationProvider";

/// How products identify each other: `GET /rest/applinks/1.0/manifest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Manifest {
    pub id: String,
    pub name: String,
    pub type_id: String,
    pub version: String,
    pub build_number: i64,
    pub applinks_version: String,
    pub inbound_authentication_types: Vec<String>,
    pub outbound_authentication_types: Vec<String>,
    pub public_signup: bool,
    pub url: String,
    pub icon_url: Option<String>,
}

impl Manifest {
    /// The XML form Atlassian products read by default.
    pub fn to_xml(&self) -> String {
        let mut x =
            String::from("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><manifest>");
        let mut el = |name: &str, value: &str| {
            x.push_str(&format!("<{name}>{}</{name}>", xml_escape(value)));
        };
        el("id", &self.id);
        el("name", &self.name);
        el("typeId", &self.type_id);
        el("version", &self.version);
        el("buildNumber", &self.build_number.to_string());
        el("applinksVersion", &self.applinks_version);
        for t in &self.inbound_authentication_types {
            el("inboundAuthenticationTypes", t);
        }
        for t in &self.outbound_authentication_types {
            el("outboundAuthenticationTypes", t);
        }
        el(
            "publicSignup",
            if self.public_signup { "true" } else { "false" },
        );
        el("url", &self.url);
        if let Some(i) = &self.icon_url {
            el("iconUrl", i);
        }
        x.push_str("</manifest>");
        x
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// What a link's Test connection found, in Atlassian's status taxonomy (category and type, the
/// words admins search for), plus the cause in plain words, the measured facts and the fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct LinkStatus {
    pub working: bool,
    pub category: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub summary: String,
    pub cause: String,
    pub fix: String,
    pub facts: Facts,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Facts {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checked_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock_offset_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_application: Option<String>,
}

/// Larger clock differences break OAuth (tokens look expired or not yet valid).
pub const MAX_CLOCK_SKEW_SECONDS: i64 = 60;

impl LinkStatus {
    pub fn working(summary: impl Into<String>, facts: Facts) -> Self {
        Self {
            working: true,
            summary: summary.into(),
            facts,
            ..Default::default()
        }
    }

    pub fn failed(
        category: &str,
        kind: &str,
        summary: impl Into<String>,
        cause: impl Into<String>,
        fix: impl Into<String>,
        facts: Facts,
    ) -> Self {
        Self {
            working: false,
            category: Some(category.into()),
            kind: Some(kind.into()),
            summary: summary.into(),
            cause: cause.into(),
            fix: fix.into(),
            facts,
        }
    }

    pub fn clock_skew(offset_seconds: i64, facts: Facts) -> Self {
        let dir = if offset_seconds > 0 {
            "ahead of"
        } else {
            "behind"
        };
        Self::failed(
            "NETWORK_ERROR",
            "OAUTH_TIMESTAMP_REFUSED",
            "Clock skew",
            format!(
                "The remote's clock is {} seconds {dir} this server's; tokens will look expired or not yet valid.",
                offset_seconds.abs()
            ),
            "Synchronise both servers' clocks with NTP.",
            Facts {
                clock_offset_seconds: Some(offset_seconds),
                ..facts
            },
        )
    }

    pub fn url_mismatch(ours: &str, theirs: &str, facts: Facts) -> Self {
        Self::failed(
            "CONFIG_ERROR",
            "URL_MISMATCH",
            "URL mismatch",
            format!("This link points at {ours}, but the remote says its URL is {theirs}. Redirects, signatures and issuer checks will fail (often a reverse proxy, http vs https, or a port)."),
            format!("Relocate the link to {theirs}, or fix the remote's base URL setting."),
            Facts {
                remote_url: Some(theirs.into()),
                ..facts
            },
        )
    }

    pub fn credentials_rejected(status: u16, facts: Facts) -> Self {
        Self::failed(
            "NETWORK_ERROR",
            "OAUTH_PROBLEM",
            "Credentials rejected",
            "The remote's token endpoint rejected this link's client ID or client secret.",
            "Copy the client ID and secret again from the remote's incoming link, or reset them there.",
            Facts {
                http_status: Some(status),
                ..facts
            },
        )
    }

    pub fn unexpected_status(url: &str, status: u16, facts: Facts) -> Self {
        Self::failed(
            "NETWORK_ERROR",
            "UNEXPECTED_RESPONSE",
            "Unexpected response",
            format!("{url} answered HTTP {status}, which is not what that endpoint should answer."),
            "Check the link's URL and endpoints; a proxy in between may be answering instead of the application.",
            Facts {
                http_status: Some(status),
                checked_url: Some(url.into()),
                ..facts
            },
        )
    }
}

/// Signs a pairing message: HMAC-SHA256 over `timestamp.body` with the pairing secret.
pub fn pairing_signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uri_is_derived_from_the_authorization_endpoint() {
        // base64url, no padding, of MD5("https://example.com/authorize") (computed with Python's
        // hashlib and base64).
        let key = callback_key("https://example.com/authorize");
        assert_eq!(key, "MkrXG1pGz9tSjPA6bCkMJQ");
        assert_eq!(
            redirect_uri("https://j.example/", "https://example.com/authorize"),
            format!("https://j.example/plugins/servlet/oauth2/client/callback/{key}")
        );
        // MD5 of the empty string is the well-known d41d8cd98f00b204e9800998ecf8427e.
        assert_eq!(callback_key(""), "1B2M2Y8AsgTpgAmY7PhCfg");
    }

    #[test]
    fn base_urls_are_normalised_and_checked() {
        assert_eq!(
            normalize_base_url(" https://b.example/jira/ ").unwrap(),
            "https://b.example/jira"
        );
        assert_eq!(
            normalize_base_url("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        for bad in [
            "ftp://x",
            "b.example",
            "https://b.example/?q=1",
            "https://u:p@b.example",
        ] {
            assert!(normalize_base_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn requests_stay_on_the_linked_origin() {
        let t =
            request_target("https://b.example/jira", "/rest/api/2/myself", Some("a=1")).unwrap();
        assert_eq!(t.as_str(), "https://b.example/jira/rest/api/2/myself?a=1");
        for bad in ["//evil.example/x", "rest", "/\\evil", "/x?y=1"] {
            assert!(
                request_target("https://b.example", bad, None).is_err(),
                "{bad}"
            );
        }
        // `@` in a path cannot turn into a user-info trick: it stays on the origin.
        let t = request_target("https://b.example", "/@evil.example", None).unwrap();
        assert_eq!(t.host_str(), Some("b.example"));
    }

    #[test]
    fn default_names_and_labels() {
        assert_eq!(
            default_link_name(Some("Jira"), "https://jira.example:8443/j"),
            "Jira (jira.example:8443)"
        );
        assert_eq!(
            default_link_name(Some(""), "https://ci.example"),
            "ci.example"
        );
        assert_eq!(default_link_name(None, "http://127.0.0.1:9"), "127.0.0.1:9");
        assert_eq!(
            application_label(Some("Junction"), Some("0.1.0")),
            "Junction 0.1.0"
        );
        assert_eq!(application_label(Some("Jenkins"), None), "Jenkins");
        assert_eq!(
            application_label(Some(""), Some("1")),
            "Generic application"
        );
        assert_eq!(application_label(None, None), "Generic application");
    }

    #[test]
    fn direction_follows_what_is_configured() {
        assert_eq!(Direction::of(true, true).label(), "Two-way");
        assert_eq!(Direction::of(true, false).label(), "Incoming");
        assert_eq!(Direction::of(false, true).label(), "Outgoing");
    }

    #[test]
    fn manifest_xml_is_escaped() {
        let m = Manifest {
            name: "A & <B>".into(),
            type_id: "junction".into(),
            inbound_authentication_types: vec![AUTH_OAUTH.into()],
            ..Default::default()
        };
        let x = m.to_xml();
        assert!(x.contains("<name>A &amp; &lt;B&gt;</name>"));
        assert!(x.contains(&format!(
            "<inboundAuthenticationTypes>{AUTH_OAUTH}</inboundAuthenticationTypes>"
        )));
    }

    #[test]
    fn pairing_signatures_depend_on_every_input() {
        let s = pairing_signature("k", 1, b"body");
        assert_eq!(s.len(), 64);
        assert_ne!(s, pairing_signature("k", 2, b"body"));
        assert_ne!(s, pairing_signature("k2", 1, b"body"));
        assert_ne!(s, pairing_signature("k", 1, b"body2"));
    }
}
