//! Finding a link the caller administers and its JSON: shared by the admin, create, status,
//! connect and pairing routes.

use super::repr::link_json;
use crate::services::host::applinks as host_links;
use crate::store::AppLink;
use crate::web::auth::Caller;
use crate::web::error::ApiResult;
use crate::web::state::AppState;
use serde_json::Value;

pub async fn find(state: &AppState, caller: &Caller, id: &str) -> ApiResult<AppLink> {
    Ok(host_links::find(&state.host(), &caller.principal(), id).await?)
}

pub async fn json_of(state: &AppState, l: &AppLink) -> ApiResult<Value> {
    let c = host_links::incoming_of(&state.host(), l).await?;
    Ok(link_json(l, c.as_ref(), &state.base_url))
}
