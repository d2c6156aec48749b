//! Finding a link the caller administers, its incoming client, its JSON, and auditing what is
//! done to it: shared by the admin, create, status and pairing routes.

use super::repr::link_json;
use crate::domain::Action;
use crate::services::audit;
use crate::store::{AppLink, OAuthClient};
use crate::web::auth::Caller;
use crate::web::error::{ApiError, ApiResult};
use crate::web::state::AppState;
use serde_json::Value;

pub fn no_such_link(id: &str) -> ApiError {
    ApiError::not_found(
        "com.atlassian.applinks.api.TypeNotInstalledException",
        format!("There is no application link {id}."),
    )
}

pub async fn find(state: &AppState, caller: &Caller, id: &str) -> ApiResult<AppLink> {
    caller.check(Action::AdminSystem)?;
    state
        .store
        .find_link(id)
        .await?
        .ok_or_else(|| no_such_link(id))
}

pub async fn incoming_of(state: &AppState, l: &AppLink) -> ApiResult<Option<OAuthClient>> {
    match l.incoming_client {
        Some(id) => Ok(state.store.find_oauth_client_by_id(id).await?),
        None => Ok(None),
    }
}

pub async fn json_of(state: &AppState, l: &AppLink) -> ApiResult<Value> {
    let c = incoming_of(state, l).await?;
    Ok(link_json(l, c.as_ref(), &state.base_url))
}

pub async fn record(state: &AppState, caller: &Caller, action: &str, l: &AppLink, details: &str) {
    audit::record(
        &state.store,
        &caller.actor(),
        action,
        &format!("applink:{}", l.link_id),
        &format!("{} ({}){details}", l.name, l.url),
    )
    .await;
}
