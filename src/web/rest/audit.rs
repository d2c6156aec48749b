//! `/rest/junction/1.0/audit`: the security audit log, newest first, for administrators;
//! `action` (or its family), `actor`, `from` and `until` narrow it.

use crate::services::host::audit_log::{self, AuditQuery};
use crate::web::auth::Caller;
use crate::web::error::ApiResult;
use crate::web::extract::Query;
use crate::web::paging::{page_of, PageParams};
use crate::web::state::AppState;
use axum::extract::State;
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
pub struct Params {
    #[serde(flatten)]
    pub page: PageParams,
    pub action: Option<String>,
    pub actor: Option<String>,
    pub from: Option<String>,
    pub until: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<Params>,
) -> ApiResult<axum::Json<Value>> {
    let req = q.page.request()?;
    let query = AuditQuery {
        action: q.action,
        actor: q.actor,
        from: q.from,
        until: q.until,
    };
    let mut entries = audit_log::search(&state.host(), &caller.principal(), &query, req).await?;
    let more = entries.len() as i64 > req.limit;
    entries.truncate(req.limit as usize);
    Ok(axum::Json(page_of(req, entries, more)))
}
