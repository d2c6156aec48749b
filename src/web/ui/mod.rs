//! The web UI: server-rendered pages with escaping templates, working without JavaScript.

use super::state::AppState;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
}
