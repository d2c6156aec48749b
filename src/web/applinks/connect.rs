//! People and their outgoing links: connect an account to a remote (Junction as OAuth 2.0
//! client), see and end connections, the callback the remote sends the browser back to, the
//! admin's interactive Test connection, and the request API through a link.

use crate::domain::applinks::LinkStatus;
use crate::domain::Action;
use crate::services::audit;
use crate::services::host::applinks as host_links;
use crate::services::host::link_connections as host_conn;
use crate::services::links::call::RemoteRequest;
use crate::services::links::flow::{PURPOSE_CONNECT, PURPOSE_TEST};
use crate::store::AppLink;
use crate::web::auth::Caller;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{Path, Query};
use crate::web::json::Json;
use crate::web::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{json, Value};

/// A link people may connect to: it must have an outgoing side.
pub async fn outgoing_link(state: &AppState, id: &str) -> ApiResult<AppLink> {
    Ok(host_conn::outgoing_link(&state.host(), id).await?)
}

/// `GET /rest/junction/1.0/applinks/connections`: the caller's connections.
pub async fn connections(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<Value>> {
    let user = caller.user()?.id;
    let list: Vec<Value> = host_conn::connections_of(&state.host(), user)
        .await?
        .into_iter()
        .map(|c| {
            json!({"id": c.link.link_id, "name": c.link.name, "url": c.link.url,
                   "status": c.status.to_uppercase(), "connectedDate": c.connected_at, "expiresDate": c.expires_at})
        })
        .collect();
    Ok(axum::Json(json!(list)))
}

/// `POST /rest/junction/1.0/applinks/{id}/connect` → `{authorizeUrl}` to send the browser to.
pub async fn connect(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let url = host_conn::connect(&state.host(), &caller.principal(), &id).await?;
    Ok(axum::Json(json!({"authorizeUrl": url})))
}

/// `DELETE /rest/junction/1.0/applinks/{id}/connection`: forgets the caller's tokens.
pub async fn disconnect(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    host_conn::disconnect(&state.host(), &caller.principal(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /rest/junction/1.0/applinks/{id}/test/authorize` → `{authorizeUrl}`: the admin runs a
/// real authorization-code flow; the callback answers `{success, message}`.
pub async fn test_authorize(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let url = host_links::start_test_authorization(&state.host(), &caller.principal(), &id).await?;
    Ok(axum::Json(json!({"authorizeUrl": url})))
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

/// `GET /plugins/servlet/oauth2/client/callback/{key}`: the remote sends the browser back here.
pub async fn callback(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let html = wants_html(&headers);
    let result = finish(&state, &caller, &key, q).await;
    match result {
        Ok((purpose, link, message)) => {
            let connected = purpose == PURPOSE_CONNECT;
            if connected {
                audit::record(
                    &state.store,
                    &caller.actor(),
                    "applinks.account_connected",
                    &format!("applink:{}", link.link_id),
                    &link.name,
                )
                .await;
            } else {
                // The admin's test passed; a failure to store it is logged by the error mapping.
                let status = LinkStatus::working(message.clone(), Default::default());
                let _ = host_links::keep_status(&state.host(), &link, &status).await;
            }
            match (html, connected) {
                (true, true) => Redirect::to("/account/connected-applications").into_response(),
                (true, false) => {
                    crate::web::page::message_page(&caller, "Test connection", &message)
                }
                (false, _) => {
                    axum::Json(json!({"success": true, "message": message})).into_response()
                }
            }
        }
        Err(e) => {
            let message = e.message.clone();
            if html {
                // A page, and after signing in (a session that lapsed mid-flow) back here.
                let mut page = crate::web::page::UiError::from_api(e, &caller);
                page.next = Some(uri.to_string());
                page.into_response()
            } else {
                (
                    e.status,
                    axum::Json(json!({"success": false, "message": message})),
                )
                    .into_response()
            }
        }
    }
}

async fn finish(
    state: &AppState,
    caller: &Caller,
    key: &str,
    q: CallbackQuery,
) -> ApiResult<(String, AppLink, String)> {
    let user = caller.user()?.id;
    if let Some(err) = q.error {
        // Still consume the flow so it cannot be replayed.
        if let Some(s) = &q.state {
            let _ = state
                .store
                .take_link_flow(&crate::secret::token_hash(s))
                .await;
        }
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "OAUTH_PROBLEM",
            format!(
                "The remote did not authorize: {err}{}",
                q.error_description
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            ),
        ));
    }
    let (Some(code), Some(flow_state)) = (q.code, q.state) else {
        return Err(ApiError::bad_request(
            "The remote sent neither a code nor an error.",
        ));
    };
    let done = state
        .links
        .finish_flow(key, &flow_state, &code, user)
        .await?;
    let message =
        match done.purpose.as_str() {
            PURPOSE_TEST => {
                format!(
            "Authorization-code flow with {} completed: the remote issued an access token{}.",
            done.link.name,
            if done.tokens.refresh_token.is_some() { " and a refresh token" } else { "" }
        )
            }
            _ => format!("Your account is connected to {}.", done.link.name),
        };
    Ok((done.purpose, done.link, message))
}

#[derive(Deserialize)]
pub struct RequestBody {
    method: Option<String>,
    path: String,
    query: Option<String>,
    body: Option<Value>,
    #[serde(rename = "contentType")]
    content_type: Option<String>,
}

/// `POST /rest/applinks/latest/links/{id}/request`: calls the linked application as the
/// caller, only at the link's own origin, within the outbound size and time limits.
pub async fn request(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(b): Json<RequestBody>,
) -> ApiResult<axum::Json<Value>> {
    caller.check(Action::ActThroughLink)?;
    let link = outgoing_link(&state, &id).await?;
    let method = b.method.as_deref().unwrap_or("GET").to_ascii_uppercase();
    let method = match method.as_str() {
        "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" => {
            reqwest::Method::from_bytes(method.as_bytes()).expect("known method")
        }
        _ => {
            return Err(ApiError::bad_request(
                "method must be GET, POST, PUT, PATCH, DELETE or HEAD.",
            )
            .with_context("method"))
        }
    };
    let body = b.body.map(|v| match v {
        Value::String(s) => (
            b.content_type
                .clone()
                .unwrap_or_else(|| "text/plain".into()),
            s.into_bytes(),
        ),
        other => (
            "application/json".to_string(),
            other.to_string().into_bytes(),
        ),
    });
    let r = state
        .links
        .call_as_user(
            &link,
            caller.user()?.id,
            RemoteRequest {
                method,
                path: &b.path,
                query: b.query.as_deref(),
                body,
            },
        )
        .await?;
    let content_type = r.header("content-type").unwrap_or("").to_string();
    // JSON is passed on as JSON (parsed only when it says it is); anything else as text.
    let body = content_type
        .contains("json")
        .then(|| r.json())
        .flatten()
        .unwrap_or_else(|| Value::String(String::from_utf8_lossy(&r.body).into_owned()));
    Ok(axum::Json(
        json!({"status": r.status, "contentType": content_type, "body": body}),
    ))
}
