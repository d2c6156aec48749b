//! The one mapping from errors to HTTP. REST answers in Bitbucket's shape
//! `{"errors":[{"context","message","exceptionName"}]}`; internal details are logged, never sent.

use crate::domain::{pull_request::PrRuleError, Denial, ValidationError};
use crate::store::StoreError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub context: Option<String>,
    /// Machine-readable code; Bitbucket's exception names where one exists.
    pub exception: &'static str,
    /// The `WWW-Authenticate` challenge of a 401 (Basic unless a Bearer token was refused).
    pub challenge: &'static str,
    /// `Retry-After` seconds, for 429 and 503.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, exception: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            context: None,
            exception,
            challenge: "Basic realm=\"Junction\"",
            retry_after: None,
        }
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// A refused Bearer token answers with an RFC 6750 challenge.
    pub fn bearer_refused(mut self) -> Self {
        self.challenge = "Bearer realm=\"Junction\", error=\"invalid_token\"";
        self
    }
    /// A refused Connect JWT answers with a JWT challenge.
    pub fn jwt_refused(mut self) -> Self {
        if self.status == StatusCode::UNAUTHORIZED {
            self.challenge = "JWT realm=\"Junction\"";
        }
        self
    }
    pub fn with_context(mut self, context: impl Into<String>) -> Self {
        self.context = Some(context.into());
        self
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "com.atlassian.bitbucket.validation.ArgumentValidationException",
            message,
        )
    }
    pub fn not_found(exception: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, exception, message)
    }
    pub fn conflict(exception: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, exception, message)
    }
    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "com.atlassian.bitbucket.AuthorisationException",
            "Authentication is required: sign in, or send HTTP Basic credentials or a Bearer access token.",
        )
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "com.atlassian.bitbucket.AuthorisationException",
            message,
        )
    }
    pub fn internal(err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "com.atlassian.bitbucket.ServiceException",
            "An unexpected error occurred; it has been logged.",
        )
    }

    /// Turns an authorization denial into an answer. `missing` is the 404 to give when the
    /// principal may not see the resource, so its existence is not revealed.
    pub fn from_denial(d: Denial, missing: impl FnOnce() -> ApiError) -> Self {
        match d {
            Denial::Unauthenticated => Self::unauthenticated(),
            Denial::NotVisible => missing(),
            Denial::Forbidden(why) | Denial::BeyondScope { why, .. } => Self::forbidden(why),
        }
    }

    pub fn body(&self) -> serde_json::Value {
        json!({"errors": [{"context": self.context, "message": self.message, "exceptionName": self.exception}]})
    }
}

pub fn no_such_project(key: &str) -> ApiError {
    ApiError::not_found(
        "com.atlassian.bitbucket.project.NoSuchProjectException",
        format!("Project {key} does not exist."),
    )
}

pub fn no_such_repo(key: &str, slug: &str) -> ApiError {
    ApiError::not_found(
        "com.atlassian.bitbucket.repository.NoSuchRepositoryException",
        format!("Repository {key}/{slug} does not exist."),
    )
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        ApiError::bad_request(e.message).with_context(e.field)
    }
}

impl From<PrRuleError> for ApiError {
    fn from(e: PrRuleError) -> Self {
        let status = if e.is_conflict() {
            StatusCode::CONFLICT
        } else {
            StatusCode::BAD_REQUEST
        };
        ApiError::new(status, e.exception(), e.to_string())
    }
}

impl From<StoreError> for ApiError {
    /// Callers map `Duplicate` and `NotFound` to their own messages first where they can say more.
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Duplicate => ApiError::conflict(
                "com.atlassian.bitbucket.DuplicateEntityException",
                "Something with that name already exists.",
            ),
            StoreError::NotFound => ApiError::not_found(
                "com.atlassian.bitbucket.NoSuchEntityException",
                "It does not exist (any more).",
            ),
            StoreError::Db(e) => ApiError::internal(e),
        }
    }
}

impl From<crate::services::host::HostError> for ApiError {
    /// The Data Center answer to a host operation's error.
    fn from(e: crate::services::host::HostError) -> Self {
        use crate::services::host::{ConflictKind, HostError as H, Missing};
        let missing = |m: Missing| {
            match m {
            Missing::Nothing => ApiError::unauthenticated(),
            Missing::Project(key) => no_such_project(&key),
            Missing::Repository(key, slug) => no_such_repo(&key, &slug),
            Missing::AccessToken => ApiError::not_found(
                "com.atlassian.bitbucket.auth.NoSuchAccessTokenException",
                "There is no such access token.",
            ),
            Missing::PullRequest(n) => ApiError::not_found(
                "com.atlassian.bitbucket.pull.NoSuchPullRequestException",
                format!("Pull request {n} does not exist in this repository."),
            ),
            Missing::Comment(id) => ApiError::not_found(
                "com.atlassian.bitbucket.comment.NoSuchCommentException",
                format!("Comment {id} does not exist on this pull request."),
            ),
            Missing::User(slug) => ApiError::not_found(
                "com.atlassian.bitbucket.user.NoSuchUserException",
                format!("User {slug} does not exist."),
            ),
            Missing::Team(slug) => ApiError::not_found(
                "com.atlassian.bitbucket.user.NoSuchGroupException",
                format!("Team {slug} does not exist."),
            ),
            Missing::Webhook(id) => ApiError::not_found(
                "com.atlassian.bitbucket.webhook.NoSuchWebhookException",
                format!("Webhook {id} does not exist here."),
            ),
            Missing::Delivery(id) => ApiError::not_found(
                "com.atlassian.bitbucket.webhook.NoSuchDeliveryException",
                format!("Delivery {id} does not exist for this webhook (it may be older than the retention period)."),
            ),
            Missing::OAuthClient(id) => ApiError::not_found(
                "com.atlassian.oauth2.provider.api.client.ClientNotFoundException",
                format!("There is no OAuth 2.0 client {id}."),
            ),
            Missing::Link(id) => ApiError::not_found(
                "com.atlassian.applinks.api.TypeNotInstalledException",
                format!("There is no application link {id}."),
            ),
            Missing::Connection(name) => ApiError::not_found(
                "com.atlassian.applinks.api.CredentialsRequiredException",
                format!("You have not connected your account to {name}."),
            ),
            Missing::Revision(at) => ApiError::not_found(
                "com.atlassian.bitbucket.commit.NoSuchCommitException",
                format!("The repository has no branch, tag or commit '{at}'."),
            ),
            Missing::Path(path) => ApiError::not_found(
                "com.atlassian.bitbucket.content.NoSuchPathException",
                format!("'{path}' does not exist at this revision."),
            ),
            Missing::ServiceAccount(name) => ApiError::not_found(
                "com.atlassian.bitbucket.user.NoSuchUserException",
                format!("There is no service account {name}."),
            ),
            Missing::App(key) => ApiError::not_found(
                "NO_SUCH_APP",
                format!("No app with the key {key} is listed in this server's catalog."),
            ),
            Missing::Installation(id) => ApiError::not_found(
                "NO_SUCH_INSTALLATION",
                format!("App installation {id} does not exist, or you may not manage it."),
            ),
            Missing::CommitStatus(key) => ApiError::not_found(
                "NO_SUCH_COMMIT_STATUS",
                format!("The commit has no build status with the key {key}."),
            ),
            Missing::Report(key) => ApiError::not_found(
                "com.atlassian.bitbucket.codeinsights.NoSuchReportException",
                format!("The commit has no report with the key {key}."),
            ),
            Missing::AppModule(key) => ApiError::not_found(
                "NO_SUCH_APP_PAGE",
                format!("No installed app shows a page '{key}' to you here: the app may have been disabled or removed, or it does not reach this place."),
            ),
            Missing::TeamMember { user, team } => ApiError::not_found(
                "com.atlassian.bitbucket.NoSuchEntityException",
                format!("{user} is not a member of {team}."),
            ),
        }
        };
        match e {
            H::Unauthenticated => ApiError::unauthenticated(),
            H::Denied { denial, missing: m } => ApiError::from_denial(denial, || missing(m)),
            H::NotFound(m) => missing(m),
            H::Unknown { field, missing: m } => missing(m).with_context(field),
            H::Forbidden(m) => ApiError::forbidden(m),
            H::Invalid { field, message } => ApiError::bad_request(message).with_context(field),
            H::Rule(r) => r.into(),
            H::Conflict { kind, message } => {
                let (exception, field) = match kind {
                    ConflictKind::DuplicatePullRequest => (
                        "com.atlassian.bitbucket.pull.DuplicatePullRequestException",
                        None,
                    ),
                    ConflictKind::CommentOutOfDate => (
                        "com.atlassian.bitbucket.comment.CommentOutOfDateException",
                        None,
                    ),
                    ConflictKind::ProjectTaken { field } => (
                        "com.atlassian.bitbucket.project.DuplicateProjectException",
                        Some(field),
                    ),
                    ConflictKind::RepositoryTaken => (
                        "com.atlassian.bitbucket.repository.DuplicateRepositoryException",
                        Some("name"),
                    ),
                    ConflictKind::ProjectNotEmpty => {
                        ("com.atlassian.bitbucket.IntegrityException", None)
                    }
                    ConflictKind::TokenNameTaken => (
                        "com.atlassian.bitbucket.DuplicateEntityException",
                        Some("name"),
                    ),
                    ConflictKind::AccountNameTaken(crate::store::AccountKind::User) => (
                        "com.atlassian.bitbucket.user.DuplicateUserException",
                        Some("name"),
                    ),
                    ConflictKind::AccountNameTaken(crate::store::AccountKind::Team) => (
                        "com.atlassian.bitbucket.user.DuplicateGroupException",
                        Some("name"),
                    ),
                    ConflictKind::ClientNameTaken => (
                        "com.atlassian.oauth2.provider.api.client.DuplicateClientException",
                        Some("name"),
                    ),
                    ConflictKind::DeliveryQueued => (
                        "com.atlassian.bitbucket.webhook.DeliveryQueuedException",
                        None,
                    ),
                    ConflictKind::MergeConflict => (
                        "com.atlassian.bitbucket.pull.PullRequestMergeVetoedException",
                        None,
                    ),
                    ConflictKind::MergeRefused => {
                        ("com.atlassian.bitbucket.scm.MergeException", None)
                    }
                    ConflictKind::LastSysAdmin => (
                        "com.atlassian.bitbucket.permission.LastSysAdminException",
                        None,
                    ),
                };
                let e = ApiError::conflict(exception, message);
                match field {
                    Some(f) => e.with_context(f),
                    None => e,
                }
            }
            H::Internal(m) => ApiError::internal(m),
            H::Outbound { field, error } => {
                let e = ApiError::from(error);
                match field {
                    Some(f) => e.with_context(f),
                    None => e,
                }
            }
            H::Link(l) => l.into(),
            H::App(a) => ApiError::new(app_status(&a), a.code(), a.to_string()),
            H::Jwt(r) => ApiError::new(StatusCode::UNAUTHORIZED, "JWT_REFUSED", r.to_string()),
            H::Busy(b) => b.into(),
            H::SignIn(s) => s.into(),
            H::Store(s) => s.into(),
        }
    }
}

/// The status of an app that could not be fetched, validated, called or installed: the app's
/// failure is a bad gateway; a refusal of the request is the request's.
pub fn app_status(a: &crate::services::apps::AppError) -> StatusCode {
    use crate::services::apps::AppError as A;
    match a {
        A::Fetch { .. } | A::FetchStatus { .. } | A::NotJson { .. } | A::Callback { .. } => {
            StatusCode::BAD_GATEWAY
        }
        A::DevelopmentModeOff | A::AccessNotGranted { .. } => StatusCode::FORBIDDEN,
        A::ScopesChanged => StatusCode::CONFLICT,
        A::Invalid(_)
        | A::RedirectOutsideApp { .. }
        | A::ScopesGrew(_)
        | A::ScopesEmpty
        | A::RequestOutsideApi(_) => StatusCode::BAD_REQUEST,
    }
}

impl From<crate::services::passwords::Busy> for ApiError {
    fn from(e: crate::services::passwords::Busy) -> Self {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "SERVER_BUSY",
            e.to_string(),
        )
        .with_retry_after(crate::services::passwords::Busy::RETRY_AFTER_SECONDS)
    }
}

impl From<crate::services::sign_in::SignInError> for ApiError {
    fn from(e: crate::services::sign_in::SignInError) -> Self {
        use crate::services::sign_in::SignInError as S;
        match e {
            S::Throttled {
                retry_after_seconds,
            } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "com.atlassian.bitbucket.auth.TooManyFailedLoginAttemptsException",
                e.to_string(),
            )
            .with_retry_after(retry_after_seconds),
            S::Invalid => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException",
                "Authentication failed. Please check your credentials and try again.",
            ),
            S::PasswordChangeRequired(_) => ApiError::new(
                StatusCode::FORBIDDEN,
                "PASSWORD_CHANGE_REQUIRED",
                "This password was for one sign-in only: choose your own on the sign-in page, or with PUT /rest/api/1.0/users/credentials, before using it.",
            ),
            S::Busy(b) => b.into(),
            S::Store(s) => s.into(),
        }
    }
}

impl From<crate::services::outbound::OutboundError> for ApiError {
    /// A URL that may not or cannot be used is bad input (400); a remote that failed is a bad
    /// gateway (502). The exception name is the failure's stable kind (`CONNECTION_REFUSED`, ...).
    fn from(e: crate::services::outbound::OutboundError) -> Self {
        use crate::services::outbound::OutboundError as O;
        let status = match e {
            O::InvalidUrl(_) | O::AddressNotAllowed { .. } => StatusCode::BAD_REQUEST,
            O::Timeout(..) => StatusCode::GATEWAY_TIMEOUT,
            _ => StatusCode::BAD_GATEWAY,
        };
        ApiError::new(status, e.kind(), capitalise(&e.to_string())).with_context("url")
    }
}

impl From<crate::services::links::LinkError> for ApiError {
    fn from(e: crate::services::links::LinkError) -> Self {
        use crate::services::links::LinkError as L;
        let message = e.to_string();
        match e {
            L::NoOutgoing(_) => ApiError::conflict("NO_OUTGOING_AUTHENTICATION", message),
            L::NotConnected(_) | L::Revoked(_) => ApiError::new(
                StatusCode::FORBIDDEN,
                "com.atlassian.applinks.api.CredentialsRequiredException",
                message,
            ),
            L::FlowExpired => ApiError::new(
                StatusCode::BAD_REQUEST,
                "AUTHORIZATION_FLOW_EXPIRED",
                message,
            ),
            L::Remote(_) => ApiError::new(
                StatusCode::BAD_GATEWAY,
                "OAUTH_PROBLEM",
                capitalise(&message),
            ),
            L::Network(n) => n.into(),
            L::Store(s) => s.into(),
            L::Duplicate(_) => ApiError::conflict(
                "com.atlassian.applinks.api.ApplicationLinkNameNotUniqueException",
                message,
            )
            .with_context("name"),
            L::Invalid(field, _) => ApiError::bad_request(message).with_context(field),
            L::Internal(m) => ApiError::internal(m),
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => {
            f.to_uppercase().chain(c).collect::<String>() + if s.ends_with('.') { "" } else { "." }
        }
        None => String::new(),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, axum::Json(self.body())).into_response();
        if let Some(s) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(self.challenge),
            );
        }
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
