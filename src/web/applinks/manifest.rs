//! `GET /rest/applinks/1.0/manifest`: how other products and Junction servers identify this
//! one. Anonymous; XML by default (what Atlassian products read), JSON on request.

use crate::web::error::{ApiError, ApiResult};
use crate::web::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};

pub async fn manifest(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let m = state.links.manifest().await.map_err(ApiError::from)?;
    let json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"));
    Ok(if json {
        axum::Json(m).into_response()
    } else {
        (
            [(header::CONTENT_TYPE, "application/xml;charset=UTF-8")],
            m.to_xml(),
        )
            .into_response()
    })
}
