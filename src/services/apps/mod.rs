//! Connect apps' remote side: fetching a descriptor through the SSRF-guarded client and calling
//! an app's lifecycle callbacks with the JWT Bitbucket would send. Who may install what, and
//! what is stored, is `services/host/apps.rs`; this module only talks to the app.

pub mod iframe;
pub mod lifecycle;

use crate::domain::connect_descriptor::{self, Descriptor, Problem};
use crate::services::outbound::{Outbound, OutboundError};

/// Why an app could not be installed, updated or called — each in words an app developer can
/// act on.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("The descriptor at {url} could not be fetched: {error}")]
    Fetch { url: String, error: OutboundError },
    #[error("The descriptor at {url} answered HTTP {status}{}; Junction needs 200 with the descriptor itself.", location.as_ref().map(|l| format!(", redirecting to {l} (give that URL instead: redirects are not followed)")).unwrap_or_default())]
    FetchStatus {
        url: String,
        status: u16,
        location: Option<String>,
    },
    #[error("The descriptor at {url} is not JSON: {reason}")]
    NotJson { url: String, reason: String },
    #[error("The descriptor has {} problem{}: {}", .0.len(), if .0.len() == 1 { "" } else { "s" }, .0.iter().map(|p| format!("{} {}", p.path, p.message)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<Problem>),
    #[error("Installing apps from a URL needs development mode, which is off for your account. Turn it on under Account → Apps (or on this page), or install apps your administrator lists.")]
    DevelopmentModeOff,
    #[error("The redirect_uri {redirect_uri} is not within the app's baseUrl {base_url}; Junction only sends people back to the app that asked.")]
    RedirectOutsideApp {
        redirect_uri: String,
        base_url: String,
    },
    #[error(
        "The app's scopes changed while you were deciding; read them again before installing."
    )]
    ScopesChanged,
    #[error("An update may not widen an app's scopes; it would add: {0}. Install the app again so a person can consent to them.")]
    ScopesGrew(String),
    #[error("An update may not leave an app with no scopes; uninstall it instead.")]
    ScopesEmpty,
    #[error("{app} may not act for you yet: grant it access first. Junction asks the first time an app acts for you, and again if its scopes grow.")]
    AccessNotGranted { app: String, installation_id: i64 },
    #[error("AP.request reaches Junction's REST API only (paths under /2.0/ or /rest/), not {0}.")]
    RequestOutsideApi(String),
    #[error("The app's {event} callback at {url} failed: {reason}. Nothing was changed.")]
    Callback {
        event: &'static str,
        url: String,
        reason: String,
    },
}

impl AppError {
    /// A machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Fetch { .. } | Self::FetchStatus { .. } => "DESCRIPTOR_UNREACHABLE",
            Self::NotJson { .. } => "DESCRIPTOR_NOT_JSON",
            Self::Invalid(_) => "DESCRIPTOR_INVALID",
            Self::Callback { .. } => "LIFECYCLE_CALLBACK_FAILED",
            Self::DevelopmentModeOff => "DEVELOPMENT_MODE_OFF",
            Self::RedirectOutsideApp { .. } => "REDIRECT_URI_OUTSIDE_APP",
            Self::ScopesChanged => "SCOPES_CHANGED",
            Self::ScopesGrew(_) => "SCOPES_GREW",
            Self::ScopesEmpty => "SCOPES_EMPTY",
            Self::AccessNotGranted { .. } => "APP_ACCESS_NOT_GRANTED",
            Self::RequestOutsideApi(_) => "APP_REQUEST_OUTSIDE_API",
        }
    }

    /// Every problem of an invalid descriptor (empty for other errors).
    pub fn problems(&self) -> &[Problem] {
        match self {
            Self::Invalid(p) => p,
            _ => &[],
        }
    }
}

/// Fetches and validates the descriptor at `url`: no redirects, the client's size and time
/// limits, private addresses only where `outbound.allow_private` allows them.
pub async fn fetch_descriptor(
    outbound: &Outbound,
    url: &str,
) -> Result<(Descriptor, String), AppError> {
    let fail = |error| AppError::Fetch {
        url: url.to_string(),
        error,
    };
    let got = outbound.get(url, "application/json").await.map_err(fail)?;
    if !got.is_success() {
        return Err(AppError::FetchStatus {
            url: url.to_string(),
            status: got.status,
            location: got.header("location").map(str::to_string),
        });
    }
    let raw: serde_json::Value =
        serde_json::from_slice(&got.body).map_err(|e| AppError::NotJson {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
    let d = connect_descriptor::validate(&raw).map_err(AppError::Invalid)?;
    Ok((d, raw.to_string()))
}

/// Validates a descriptor given inline (`PUT /2.0/addon`, the validation endpoint).
pub fn parse_descriptor(raw: &serde_json::Value) -> Result<(Descriptor, String), AppError> {
    let d = connect_descriptor::validate(raw).map_err(AppError::Invalid)?;
    Ok((d, raw.to_string()))
}

/// Where a descriptor to check comes from (the validation endpoint and page).
pub enum ToValidate {
    Url(String),
    Inline(serde_json::Value),
}

/// Checks a descriptor without installing it: fetched exactly as an install would, or given.
pub async fn validate(outbound: &Outbound, what: ToValidate) -> Result<Descriptor, AppError> {
    match what {
        ToValidate::Url(url) => fetch_descriptor(outbound, &url).await.map(|(d, _)| d),
        ToValidate::Inline(v) => parse_descriptor(&v).map(|(d, _)| d),
    }
}
