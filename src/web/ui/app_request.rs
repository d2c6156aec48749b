//! `AP.request`: an app's page asks Junction's REST API for something as the person viewing
//! it. The host page's script posts the call here (with the session's CSRF token); once the
//! person granted the app access (`services/host/app_access.rs`), the call runs through the
//! REST surfaces exactly as any request does — authentication, then `authorize()` — as that
//! person with the app's scopes as ceiling. Only the REST API is reachable this way.

use crate::services::apps::AppError;
use crate::services::host::app_access;
use crate::web::auth::{Caller, OnBehalf};
use crate::web::error::ApiError;
use crate::web::extract::Path;
use crate::web::page::CsrfForm;
use crate::web::state::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tower::ServiceExt;

/// The most of an answer handed back to the frame.
const ANSWER_MAX_BYTES: usize = 4 * 1024 * 1024;

#[derive(Deserialize)]
pub struct ApRequest {
    url: String,
    #[serde(rename = "type", default)]
    method: String,
    #[serde(default)]
    data: String,
    #[serde(rename = "contentType", default)]
    content_type: String,
}

/// The REST path a call names: relative, under `/2.0/` or `/rest/` (Bitbucket's `/!api/2.0/`
/// too), with no way out of it (`..`, a scheme or host, backslashes).
fn api_path(url: &str) -> Result<String, AppError> {
    let outside = || AppError::RequestOutsideApi(url.to_string());
    let url = url.trim();
    let url = url.strip_prefix("/!api").unwrap_or(url);
    let path = url.split(['?', '#']).next().unwrap_or("");
    let inside = path.starts_with("/2.0/") || path.starts_with("/rest/");
    let escapes = path.split('/').any(|s| s == ".." || s == ".")
        || url.contains('\\')
        || url.starts_with("//");
    if !inside || escapes || url.contains('#') {
        return Err(outside());
    }
    Ok(url.to_string())
}

pub async fn request(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    CsrfForm(r): CsrfForm<ApRequest>,
) -> Result<Response, ApiError> {
    let (host, who) = (state.host(), caller.principal());
    let ceiling = app_access::acting_for(&host, &who, id).await?;
    let user = who.user()?.id;
    let uri = api_path(&r.url).map_err(crate::services::host::HostError::from)?;
    let method = match r.method.to_ascii_uppercase().as_str() {
        "" | "GET" => Method::GET,
        "POST" => Method::POST,
        "PUT" => Method::PUT,
        "DELETE" => Method::DELETE,
        "PATCH" => Method::PATCH,
        other => {
            return Err(ApiError::bad_request(format!(
                "AP.request takes GET, POST, PUT, DELETE or PATCH, not {other}."
            ))
            .with_context("type"))
        }
    };
    let mut inner = Request::builder().method(method).uri(&uri);
    if !r.data.is_empty() {
        let content_type = if r.content_type.is_empty() {
            "application/json"
        } else {
            r.content_type.as_str()
        };
        inner = inner.header(header::CONTENT_TYPE, content_type);
    }
    let mut inner = inner.body(Body::from(r.data)).map_err(|_| {
        ApiError::bad_request("AP.request: the URL is not a valid request path.")
            .with_context("url")
    })?;
    inner.extensions_mut().insert(OnBehalf {
        user_id: user,
        installation_id: id,
        ceiling,
    });
    let answer = crate::web::api_router(&state)
        .oneshot(inner)
        .await
        .unwrap_or_else(|never| match never {});
    let (parts, body) = answer.into_parts();
    let bytes = axum::body::to_bytes(body, ANSWER_MAX_BYTES).await.map_err(|_| {
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            "APP_REQUEST_ANSWER_TOO_LARGE",
            format!("The answer is larger than AP.request hands back ({ANSWER_MAX_BYTES} bytes); ask for a page of it."),
        )
    })?;
    let mut out = (parts.status, bytes).into_response();
    if let Some(ct) = parts.headers.get(header::CONTENT_TYPE) {
        out.headers_mut().insert(header::CONTENT_TYPE, ct.clone());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::api_path;

    #[test]
    fn only_rest_paths_are_reachable() {
        assert_eq!(api_path("/2.0/user").unwrap(), "/2.0/user");
        assert_eq!(
            api_path("/!api/2.0/repositories/x/y?page=2").unwrap(),
            "/2.0/repositories/x/y?page=2"
        );
        assert_eq!(
            api_path("/rest/api/1.0/projects").unwrap(),
            "/rest/api/1.0/projects"
        );
        for bad in [
            "/account/apps",
            "https://evil.example/2.0/user",
            "//evil.example/2.0/x",
            "/2.0/../account",
            "/rest/./x",
            "/2.0\\x",
            "2.0/user",
            "/2.0/user#x",
        ] {
            assert!(api_path(bad).is_err(), "{bad}");
        }
    }
}
