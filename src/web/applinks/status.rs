//! Test connection over REST: Junction's `{id}/test` answering `{success, message}` with the
//! diagnostics, and Atlassian's `GET /rest/applinks/3.0/status/{id}`. Both keep the result for
//! the admin page.

use super::lookup::json_of;
use crate::services::host::applinks as host_links;
use crate::web::auth::Caller;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::Path;
use crate::web::state::AppState;
use axum::extract::State;
use serde_json::{json, Value};
pub async fn test(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let (status, _) = host_links::test(&state.host(), &caller.principal(), &id).await?;
    let mut v = serde_json::to_value(&status).map_err(ApiError::internal)?;
    v["success"] = json!(status.working);
    v["message"] = json!(if status.working {
        status.summary
    } else {
        format!("{}: {}", status.summary, status.cause)
    });
    Ok(axum::Json(v))
}

/// `GET /rest/applinks/3.0/status/{id}` in Atlassian's shape, with Junction's diagnostics.
pub async fn status(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let (s, link) = host_links::test(&state.host(), &caller.principal(), &id).await?;
    let auth = |enabled: bool| json!({"enabled": enabled, "twoLoEnabled": false, "twoLoImpersonationEnabled": false});
    let (inc, out) = (link.incoming_client.is_some(), link.outgoing().is_some());
    let error =
        (!s.working).then(|| json!({"category": s.category, "type": s.kind, "details": s.cause}));
    Ok(axum::Json(json!({
        "link": json_of(&state, &link).await?,
        "working": s.working,
        "localAuthentication": {"incoming": auth(inc), "outgoing": auth(out)},
        "remoteAuthentication": if link.type_id == "junction" {
            json!({"incoming": auth(out), "outgoing": auth(inc)})
        } else { Value::Null },
        "error": error,
        "diagnostics": s,
    })))
}
