//! `PUT /2.0/addon` and `DELETE /2.0/addon`: the calling app updates or removes its own
//! installation. Only a Connect JWT names an installation, so any other credential is refused.

use super::CloudResult;
use crate::services::host::app_installations::{self as apps, UpdateSource};
use crate::store::connect::AppCaller;
use crate::web::auth::{Caller, Credential};
use crate::web::error::ApiError;
use crate::web::json::Json;
use crate::web::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use std::sync::Arc;

fn installation(caller: &Caller) -> Result<Arc<AppCaller>, ApiError> {
    match &caller.credential {
        Credential::Connect { app } => Ok(app.clone()),
        _ => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "APP_CREDENTIAL_REQUIRED",
            "Only an app can change its own installation: sign the request with its JWT (Authorization: JWT …).",
        )),
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    descriptor: Option<serde_json::Value>,
    descriptor_url: Option<String>,
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Json(b): Json<UpdateBody>,
) -> CloudResult<StatusCode> {
    let i = installation(&caller)?;
    let source = match (b.descriptor, b.descriptor_url) {
        (Some(d), None) => UpdateSource::Inline(d),
        (None, Some(u)) => UpdateSource::Url(u),
        (None, None) => UpdateSource::Again,
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "Send either descriptor or descriptor_url, not both.",
            )
            .into())
        }
    };
    apps::update_self(&state.host(), &caller.principal(), &i.installation, source).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn uninstall(State(state): State<AppState>, caller: Caller) -> CloudResult<StatusCode> {
    let i = installation(&caller)?;
    apps::uninstall_self(&state.host(), &caller.principal(), &i.installation).await?;
    Ok(StatusCode::NO_CONTENT)
}
