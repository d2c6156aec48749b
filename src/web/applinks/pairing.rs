//! The two-way link flow's HTTP ends: an admin starting it over REST, and the signed back
//! channel the peer calls (`services::links::pairing` has the protocol).

use super::lookup::json_of;
use crate::services::audit;
use crate::services::host::applinks as host_links;
use crate::services::links::pairing::{SIGNATURE_HEADER, TIMESTAMP_HEADER};
use crate::web::auth::Caller;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::Path;
use crate::web::json::Json;
use crate::web::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
pub struct PairBody {
    pub url: String,
    pub scope: Option<String>,
}

/// `POST /rest/junction/1.0/applinks/pair` `{url, scope}` → `{link, next}`.
pub async fn pair(
    State(state): State<AppState>,
    caller: Caller,
    Json(b): Json<PairBody>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let (link, next) = host_links::begin_pairing(
        &state.host(),
        &caller.principal(),
        &b.url,
        b.scope.as_deref(),
    )
    .await?;
    let link = json_of(&state, &link).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({"link": link, "next": next})),
    ))
}

/// `POST /rest/applinks/latest/pairing/{id}`: the peer's signed half in, ours out.
pub async fn back_channel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("");
    let ts = header(TIMESTAMP_HEADER).parse::<i64>().ok();
    let (signed, link) = state
        .links
        .complete_pairing(&id, ts, header(SIGNATURE_HEADER), &body)
        .await
        .map_err(ApiError::from)?;
    audit::record(
        &state.store,
        &crate::services::audit::Actor {
            id: None,
            name: "pairing",
            ip: "",
        },
        "applinks.link_paired",
        &format!("applink:{}", link.link_id),
        &format!("{} ({})", link.name, link.url),
    )
    .await;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/json".to_string(),
            ),
            (
                TIMESTAMP_HEADER.parse().expect("valid"),
                signed.timestamp.to_string(),
            ),
            (SIGNATURE_HEADER.parse().expect("valid"), signed.signature),
        ],
        signed.body,
    )
        .into_response())
}
