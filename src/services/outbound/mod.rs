//! The one HTTP client for requests to URLs people typed (application links now; webhooks and
//! apps later). Every request goes through the SSRF guard (`guard.rs`): addresses are checked
//! after DNS resolution, on the addresses actually connected to, so a hostname that resolves to
//! a private address is refused like the address itself. Redirects are never followed, proxies
//! from the environment are ignored, and every response is cut off at a size and a time limit.

pub mod guard;

pub use guard::{is_special, AddressPolicy, Cidr};

use crate::config::OutboundConfig;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::HeaderMap;
use reqwest::Method;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// Why a request to a remote did not produce a response; each names the cause in plain words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    #[error("{0}")]
    InvalidUrl(String),
    #[error("{host} resolves to {ip}, a private or special-purpose address Junction does not contact (an administrator can allow it with outbound.allow_private)")]
    AddressNotAllowed { host: String, ip: IpAddr },
    #[error("the host name {0} could not be resolved (DNS)")]
    UnknownHost(String),
    #[error("the connection to {0} was refused: nothing listens there")]
    ConnectionRefused(String),
    #[error("the TLS handshake with {host} failed: {reason}")]
    Tls { host: String, reason: String },
    #[error("{0} did not answer within {1} seconds")]
    Timeout(String, u64),
    #[error("the response from {0} is larger than {1} bytes")]
    TooLarge(String, usize),
    #[error("the request to {0} failed: {1}")]
    Other(String, String),
}

impl OutboundError {
    /// A stable machine-readable name for the failure.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InvalidUrl(_) => "INVALID_URL",
            Self::AddressNotAllowed { .. } => "ADDRESS_NOT_ALLOWED",
            Self::UnknownHost(_) => "UNKNOWN_HOST",
            Self::ConnectionRefused(_) => "CONNECTION_REFUSED",
            Self::Tls { .. } => "SSL_UNTRUSTED",
            Self::Timeout(..) => "CONNECTION_TIMEOUT",
            Self::TooLarge(..) => "RESPONSE_TOO_LARGE",
            Self::Other(..) => "UNEXPECTED_RESPONSE",
        }
    }
}

/// A remote's answer, read completely (within the size limit).
#[derive(Debug, Clone)]
pub struct Fetched {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Fetched {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// The remote's `Date` header as Unix milliseconds.
    pub fn date_ms(&self) -> Option<i64> {
        let t = httpdate::parse_http_date(self.header("date")?).ok()?;
        let d = t.duration_since(std::time::UNIX_EPOCH).ok()?;
        Some(d.as_millis() as i64)
    }
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

#[derive(Clone)]
pub struct Outbound {
    client: reqwest::Client,
    policy: Arc<AddressPolicy>,
    timeout: Duration,
    max_bytes: usize,
}

/// The resolver reqwest connects through: it drops every address the policy refuses.
struct GuardedResolver(Arc<AddressPolicy>);

/// Travels through reqwest's error chain so the cause can be named precisely.
#[derive(Debug, thiserror::Error)]
enum ResolveError {
    #[error("unknown host {0}")]
    Unknown(String),
    #[error("{host} resolves only to refused addresses")]
    Refused { host: String, ip: IpAddr },
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|_| ResolveError::Unknown(host.clone()))?
                .collect();
            let Some(first) = found.first().map(|a| a.ip()) else {
                return Err(ResolveError::Unknown(host).into());
            };
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| policy.permits(a.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(ResolveError::Refused { host, ip: first }.into());
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

impl Outbound {
    pub fn new(config: &OutboundConfig) -> anyhow::Result<Self> {
        let policy = Arc::new(AddressPolicy::new(&config.allow_private));
        let timeout = Duration::from_secs(u64::from(config.timeout_seconds));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver(policy.clone())))
            .connect_timeout(timeout)
            .timeout(timeout)
            .user_agent(concat!("Junction/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            client,
            policy,
            timeout,
            max_bytes: config.max_response_bytes,
        })
    }

    /// Checks a URL a person typed: absolute http(s), no credentials in it, and an IP-literal
    /// host must pass the policy here (reqwest does not resolve those).
    pub fn check_url(&self, text: &str) -> Result<url::Url, OutboundError> {
        let url = url::Url::parse(text.trim())
            .map_err(|_| OutboundError::InvalidUrl(format!("{text:?} is not an absolute URL")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(OutboundError::InvalidUrl(format!(
                "{text:?} must start with http:// or https://"
            )));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(OutboundError::InvalidUrl(
                "a URL must not contain a user name or password".into(),
            ));
        }
        let ip = match url.host() {
            Some(url::Host::Ipv4(a)) => Some(IpAddr::V4(a)),
            Some(url::Host::Ipv6(a)) => Some(IpAddr::V6(a)),
            Some(url::Host::Domain(_)) => None,
            None => return Err(OutboundError::InvalidUrl(format!("{text:?} has no host"))),
        };
        if let Some(ip) = ip.filter(|ip| !self.policy.permits(*ip)) {
            return Err(OutboundError::AddressNotAllowed {
                host: url.host_str().unwrap_or_default().to_string(),
                ip,
            });
        }
        Ok(url)
    }

    /// Starts a request to a checked URL.
    pub fn request(
        &self,
        method: Method,
        url: &str,
    ) -> Result<reqwest::RequestBuilder, OutboundError> {
        let url = self.check_url(url)?;
        Ok(self.client.request(method, url))
    }

    /// Sends and reads the whole answer, refusing bodies over the size limit.
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Result<Fetched, OutboundError> {
        self.send_reading(req, None).await
    }

    /// Sends and keeps only the first `keep` bytes of the answer (webhook receivers: only the
    /// status matters, the start of the body is kept for the history).
    pub async fn send_head(
        &self,
        req: reqwest::RequestBuilder,
        keep: usize,
    ) -> Result<Fetched, OutboundError> {
        self.send_reading(req, Some(keep)).await
    }

    async fn send_reading(
        &self,
        req: reqwest::RequestBuilder,
        keep: Option<usize>,
    ) -> Result<Fetched, OutboundError> {
        let (client, req) = req.build_split();
        let req = req.map_err(|e| OutboundError::InvalidUrl(e.without_url().to_string()))?;
        let host = req.url().host_str().unwrap_or_default().to_string();
        let https = req.url().scheme() == "https";
        let resp = client
            .execute(req)
            .await
            .map_err(|e| self.classify(&host, https, e))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        if keep.is_none()
            && resp
                .content_length()
                .is_some_and(|n| n > self.max_bytes as u64)
        {
            return Err(OutboundError::TooLarge(host, self.max_bytes));
        }
        let mut body = Vec::new();
        let mut resp = resp;
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| self.classify(&host, https, e))?
        {
            if let Some(keep) = keep {
                body.extend_from_slice(&chunk[..chunk.len().min(keep - body.len())]);
                if body.len() >= keep {
                    break;
                }
                continue;
            }
            if body.len() + chunk.len() > self.max_bytes {
                return Err(OutboundError::TooLarge(host, self.max_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched {
            status,
            headers,
            body,
        })
    }

    pub async fn get(&self, url: &str, accept: &str) -> Result<Fetched, OutboundError> {
        self.send(self.request(Method::GET, url)?.header("accept", accept))
            .await
    }

    fn classify(&self, host: &str, https: bool, e: reqwest::Error) -> OutboundError {
        let host = host.to_string();
        if e.is_timeout() {
            return OutboundError::Timeout(host, self.timeout.as_secs());
        }
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        let mut text = String::new();
        while let Some(s) = source {
            if let Some(r) = s.downcast_ref::<ResolveError>() {
                return match r {
                    ResolveError::Unknown(h) => OutboundError::UnknownHost(h.clone()),
                    ResolveError::Refused { host, ip } => OutboundError::AddressNotAllowed {
                        host: host.clone(),
                        ip: *ip,
                    },
                };
            }
            if let Some(io) = s.downcast_ref::<std::io::Error>() {
                match io.kind() {
                    std::io::ErrorKind::ConnectionRefused => {
                        return OutboundError::ConnectionRefused(host)
                    }
                    std::io::ErrorKind::TimedOut => {
                        return OutboundError::Timeout(host, self.timeout.as_secs())
                    }
                    _ => {}
                }
            }
            text = s.to_string();
            source = s.source();
        }
        // Over https, a connection that was neither refused nor timed out but failed before a
        // response is the TLS handshake (untrusted certificate, wrong name, not TLS at all).
        let lower = text.to_lowercase();
        if (https && e.is_connect())
            || ["certificate", "tls", "handshake", "ssl"]
                .iter()
                .any(|w| lower.contains(w))
        {
            return OutboundError::Tls { host, reason: text };
        }
        OutboundError::Other(host, e.without_url().to_string())
    }
}
