//! The HTTP layer: one router per surface, assembled here with the middleware every request
//! passes through (request id and logging, metrics, security headers, body limit, authentication).

pub mod applinks;
pub mod auth;
pub mod client_addr;
pub mod cloud;
pub mod confirm;
pub mod error;
pub mod extract;
pub mod flash;
pub mod git;
pub mod health;
pub mod hook_path;
pub mod json;
pub mod metrics;
pub mod oauth2;
pub mod page;
pub mod paging;
pub mod rest;
pub mod state;
pub mod ui;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use metrics::SharedMetrics;
use rand::RngCore;
use state::AppState;
use std::time::Instant;
use tower_http::set_header::SetResponseHeaderLayer;

pub fn router(state: AppState, metrics: SharedMetrics) -> Router {
    let limit = state.config.server.max_body_bytes;
    let clock = state.clock.clone();
    let hsts = (state.secure_cookies() && state.config.security.hsts_max_age_seconds > 0)
        .then(|| format!("max-age={}", state.config.security.hsts_max_age_seconds));
    let app = Router::new()
        .merge(rest::router())
        .merge(ui::router())
        .merge(oauth2::router())
        .merge(applinks::router())
        .merge(git::router())
        .merge(cloud::router())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .merge(oauth2::client_router())
        .route("/health", get(health::live))
        .route("/health/ready", get(health::ready))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state);
    with_clock_date(with_security_headers(app, hsts), clock)
        .layer(middleware::from_fn_with_state(metrics, observe))
}

/// The REST surfaces alone (Data Center and Cloud `/2.0`) behind authentication: where
/// `AP.request` sends an app's call for a person (`web/ui/app_request.rs`), so it passes the
/// same authentication and `authorize()` as any request. Built once, stateless until used.
pub fn api_router(state: &AppState) -> Router {
    static API: std::sync::OnceLock<Router<AppState>> = std::sync::OnceLock::new();
    API.get_or_init(|| {
        Router::new()
            .merge(rest::router())
            .merge(cloud::router())
            .fallback(not_found)
            .method_not_allowed_fallback(method_not_allowed)
    })
    .clone()
    .layer(middleware::from_fn_with_state(
        state.clone(),
        auth::authenticate,
    ))
    .with_state(state.clone())
}

/// A route that exists, asked with a method it does not take: the same JSON error shape.
async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> error::ApiError {
    error::ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "com.atlassian.bitbucket.rest.MethodNotAllowedException",
        format!("{} does not accept {method}.", uri.path()),
    )
}

async fn not_found(uri: axum::http::Uri) -> error::ApiError {
    error::ApiError::not_found(
        "com.atlassian.bitbucket.rest.ResourceNotFoundException",
        format!("No resource at {}.", uri.path()),
    )
}

/// `Date` comes from Junction's clock, not the OS: peers measure clock skew from it, and it must
/// agree with the times in tokens Junction issues. Formatted once per second, like hyper's own.
fn with_clock_date(app: Router, clock: crate::clock::SharedClock) -> Router {
    let cache = std::sync::Arc::new(std::sync::Mutex::new((i64::MIN, None::<HeaderValue>)));
    app.layer(SetResponseHeaderLayer::overriding(
        header::DATE,
        move |_: &Response| {
            let second = clock.now_ms().div_euclid(1000);
            let mut c = cache.lock().unwrap_or_else(|e| e.into_inner());
            if c.0 != second {
                let at =
                    std::time::UNIX_EPOCH + std::time::Duration::from_secs(second.max(0) as u64);
                *c = (
                    second,
                    HeaderValue::from_str(&httpdate::fmt_http_date(at)).ok(),
                );
            }
            c.1.clone()
        },
    ))
}

/// Pages must not be framed (clickjacking on consent and admin pages), sniffed or leak referrers;
/// over https, browsers are told to keep to https (`hsts`, the header's value).
fn with_security_headers(app: Router, hsts: Option<String>) -> Router {
    let set = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    let app = match hsts.and_then(|v| HeaderValue::from_str(&v).ok()) {
        Some(v) => app.layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            v,
        )),
        None => app,
    };
    app.layer(set(header::X_FRAME_OPTIONS, "DENY"))
        .layer(set(
            header::CONTENT_SECURITY_POLICY,
            "frame-ancestors 'none'; default-src 'self'; style-src 'self' 'unsafe-inline'",
        ))
        .layer(set(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(set(header::REFERRER_POLICY, "same-origin"))
}

/// Gives each request an id (echoed in `X-Request-Id`), logs it once with its outcome, and
/// feeds the metrics.
async fn observe(State(metrics): State<SharedMetrics>, req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 64 && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .map(str::to_string)
        .unwrap_or_else(|| {
            let mut b = [0u8; 8];
            rand::thread_rng().fill_bytes(&mut b);
            hex::encode(b)
        });
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let started = Instant::now();
    let span = tracing::info_span!("request", request_id = %id, %method, %path);
    let mut resp = tracing::Instrument::instrument(next.run(req), span.clone()).await;
    let elapsed = started.elapsed();
    metrics.observe(resp.status().as_u16(), elapsed);
    span.in_scope(|| {
        tracing::info!(
            status = resp.status().as_u16(),
            elapsed_ms = elapsed.as_secs_f64() * 1000.0,
            "handled"
        )
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}
