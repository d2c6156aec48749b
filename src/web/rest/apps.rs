//! `POST /rest/apps/latest/descriptor/validate`: an app developer checks a descriptor before
//! installing — `{"descriptor_url": …}` (fetched as an install would) or `{"descriptor": {…}}` —
//! and gets every problem at once, each with its JSON path and a hint.

use crate::services::apps::{validate as check, ToValidate};
use crate::web::auth::Caller;
use crate::web::error::{app_status, ApiError, ApiResult};
use crate::web::json::Json;
use crate::web::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidateBody {
    descriptor_url: Option<String>,
    descriptor: Option<Value>,
}

pub async fn validate(
    State(state): State<AppState>,
    caller: Caller,
    Json(b): Json<ValidateBody>,
) -> ApiResult<Response> {
    caller.user()?;
    let what = match (b.descriptor_url, b.descriptor) {
        (Some(u), None) => ToValidate::Url(u),
        (None, Some(d)) => ToValidate::Inline(d),
        _ => {
            return Err(ApiError::bad_request(
                "Send either descriptor_url or descriptor (the descriptor itself).",
            ))
        }
    };
    Ok(match check(&state.links.outbound, what).await {
        Ok(d) => axum::Json(json!({
            "valid": true,
            "app": { "key": d.key, "name": d.name, "baseUrl": d.base_url,
                     "scopes": d.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>() },
        }))
        .into_response(),
        Err(e) => {
            let status = match app_status(&e) {
                StatusCode::BAD_GATEWAY => StatusCode::BAD_GATEWAY,
                _ => StatusCode::BAD_REQUEST,
            };
            let body = json!({ "valid": false, "code": e.code(), "message": e.to_string(), "problems": e.problems() });
            (status, axum::Json(body)).into_response()
        }
    })
}
