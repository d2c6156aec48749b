//! Liveness and readiness, for load balancers and orchestrators. No authentication.

use super::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

/// The process is up and serving.
pub async fn live() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// The process can do work: its database answers.
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match state.store.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({"status": "ready", "database": state.store.backend()})),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "reason": "the database does not answer"})),
            )
        }
    }
}
