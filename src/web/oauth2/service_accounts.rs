//! `/rest/junction/1.0/service-accounts`: non-human accounts for automation
//! (`services/host/service_accounts.rs`), in the shape the OAuth client endpoints use.

use super::clients::client_json;
use crate::services::host::service_accounts::{self as host_service, NewService};
use crate::web::auth::Caller;
use crate::web::error::ApiResult;
use crate::web::extract::Path;
use crate::web::json::Json;
use crate::web::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceAccountBody {
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub scope: Option<String>,
    /// Project keys it may reach.
    pub projects: Option<Vec<String>>,
    /// `KEY/slug` of repositories it may reach.
    pub repositories: Option<Vec<String>>,
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(b): Json<ServiceAccountBody>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let new = NewService {
        name: b.name,
        display_name: b.display_name,
        scope: b.scope,
        projects: b.projects.unwrap_or_default(),
        repositories: b.repositories.unwrap_or_default(),
    };
    let made = host_service::create(&state.host(), &caller.principal(), &new).await?;
    let body = json!({
        "name": made.slug,
        "displayName": made.display_name,
        "client": client_json(&made.client, Some(&made.secret)),
        "restricted": made.restricted,
    });
    Ok((StatusCode::CREATED, axum::Json(body)))
}

pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<axum::Json<Value>> {
    let all = host_service::list(&state.host(), &caller.principal()).await?;
    let values: Vec<Value> = all
        .iter()
        .map(|(a, c)| json!({"name": a.slug, "displayName": a.display_name, "active": a.active, "client": client_json(c, None)}))
        .collect();
    Ok(axum::Json(json!(values)))
}

/// Deletes the client (every token ends) and deactivates the account.
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    host_service::delete(&state.host(), &caller.principal(), &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
