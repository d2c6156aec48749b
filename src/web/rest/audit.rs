//! `/rest/junction/1.0/audit`: the security audit log, newest first, for administrators.

use crate::domain::Action;
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
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<Params>,
) -> ApiResult<axum::Json<Value>> {
    caller.check(Action::AdminSystem)?;
    let req = q.page.request()?;
    let mut entries = state
        .store
        .audit_entries(req.start, req.limit, q.action.as_deref())
        .await?;
    let more = entries.len() as i64 > req.limit;
    entries.truncate(req.limit as usize);
    Ok(axum::Json(page_of(req, entries, more)))
}
