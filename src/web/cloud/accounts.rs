//! `/2.0/user`, `/2.0/users/{selected_user}`, `/2.0/workspaces[/{workspace}]`.

use super::{repr, CloudPage, CloudResult, PageQuery};
use crate::services::host::{accounts, users, workspaces};
use crate::web::auth::Caller;
use crate::web::extract::Query;
use crate::web::state::AppState;
use axum::extract::{OriginalUri, Path, State};
use axum::Json;
use serde_json::Value;

/// The account the credential acts as: the person, or the account an app is installed in.
pub async fn me(State(state): State<AppState>, caller: Caller) -> CloudResult<Json<Value>> {
    let who = caller.principal();
    let me = accounts::me(&who)?;
    Ok(Json(repr::account(
        state.webhooks.payloads(),
        &state.base_url,
        me,
    )))
}

pub async fn user(
    State(state): State<AppState>,
    caller: Caller,
    Path(selected): Path<String>,
) -> CloudResult<Json<Value>> {
    let who = caller.principal();
    // `selected_user` is a username or an account's `{uuid}`.
    let payloads = state.webhooks.payloads();
    let own = who.user.is_some_and(|u| {
        u.slug.eq_ignore_ascii_case(&selected) || selected == payloads.uuid("account", u.id)
    });
    let account = if own {
        accounts::me(&who)?.clone()
    } else {
        users::get(&state.host(), &who, &selected).await?
    };
    Ok(Json(repr::account(
        state.webhooks.payloads(),
        &state.base_url,
        &account,
    )))
}

pub async fn workspaces(
    State(state): State<AppState>,
    caller: Caller,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<PageQuery>,
) -> CloudResult<Json<Value>> {
    let page = CloudPage::parse(&q)?;
    let found = workspaces::list(&state.host(), &caller.principal(), page.window()).await?;
    let values = found
        .iter()
        .map(|w| repr::workspace(state.webhooks.payloads(), &state.base_url, w))
        .collect();
    Ok(Json(page.render(&state.base_url, &uri, values, None)))
}

pub async fn workspace(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> CloudResult<Json<Value>> {
    let w = workspaces::find(&state.host(), &caller.principal(), &slug).await?;
    Ok(Json(repr::workspace(
        state.webhooks.payloads(),
        &state.base_url,
        &w,
    )))
}
