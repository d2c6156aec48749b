//! `/rest/junction/1.0/service-accounts`: non-human accounts for automation. Each has its own
//! permissions (granted like anyone's, by its name), a confidential OAuth client for the
//! `client_credentials` grant, and optionally a list of projects and repositories it is confined to.

use super::clients::client_json;
use crate::domain::oauth2::ScopeSet;
use crate::domain::{Action, DisplayName, Restriction, Slug};
use crate::secret::{new_token, token_hash, TokenKind};
use crate::services::audit;
use crate::store::{NewServiceAccount, StoreError};
use crate::web::auth::Caller;
use crate::web::error::{no_such_project, no_such_repo};
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::Path;
use crate::web::json::Json;
use crate::web::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use rand::RngCore;
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

async fn restriction(state: &AppState, b: &ServiceAccountBody) -> ApiResult<Option<Restriction>> {
    let mut r = Restriction::default();
    for key in b.projects.iter().flatten() {
        let p = state
            .store
            .find_project(key)
            .await?
            .ok_or_else(|| no_such_project(key).with_context("projects"))?;
        r.projects.push(p.id);
    }
    for path in b.repositories.iter().flatten() {
        let (key, slug) = path.split_once('/').ok_or_else(|| {
            ApiError::bad_request(format!("'{path}' is not KEY/slug.")).with_context("repositories")
        })?;
        let repo = state
            .store
            .find_repository(key, slug)
            .await?
            .ok_or_else(|| no_such_repo(key, slug).with_context("repositories"))?;
        r.repos.push((repo.project_id, repo.id));
    }
    Ok((r != Restriction::default()).then_some(r))
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(b): Json<ServiceAccountBody>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    caller.check(Action::AdminCredentials)?;
    let slug = Slug::parse("name", b.name.as_deref().unwrap_or(""))?;
    let display = DisplayName::parse(
        "displayName",
        b.display_name.as_deref().unwrap_or(slug.as_str()),
    )?;
    let scope = ScopeSet::parse(b.scope.as_deref().unwrap_or("REPO_READ"))
        .map_err(|m| ApiError::bad_request(m).with_context("scope"))?;
    let restriction = restriction(&state, &b).await?;
    let mut id = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut id);
    let client_id = hex::encode(id);
    let secret = new_token(TokenKind::ClientSecret);
    let new = NewServiceAccount {
        slug: slug.as_str(),
        display_name: display.as_str(),
        client_id: &client_id,
        secret_hash: &token_hash(&secret),
        secret_encrypted: &state.master_key.encrypt(&secret),
        scope: scope.as_str(),
        restriction: restriction.as_ref(),
    };
    match state.store.create_service_account(&new).await {
        Err(StoreError::Duplicate) => {
            return Err(ApiError::conflict(
                "com.atlassian.bitbucket.user.DuplicateUserException",
                format!("The name {slug} is already taken by a user, team or application link."),
            )
            .with_context("name"))
        }
        other => other?,
    }
    audit::record(
        &state.store,
        &caller.actor(),
        "service_account.created",
        &format!("user:{slug}"),
        scope.as_str(),
    )
    .await;
    let client = state
        .store
        .find_oauth_client(&client_id)
        .await?
        .ok_or_else(|| ApiError::internal("client vanished"))?;
    let body = json!({
        "name": slug.as_str(),
        "displayName": display.as_str(),
        "client": client_json(&client, Some(&secret)),
        "restricted": restriction.is_some(),
    });
    Ok((StatusCode::CREATED, axum::Json(body)))
}

pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<axum::Json<Value>> {
    caller.check(Action::AdminSystem)?;
    let all = state.store.list_service_accounts().await?;
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
    caller.check(Action::AdminSystem)?;
    let all = state.store.list_service_accounts().await?;
    let (account, client) = all
        .into_iter()
        .find(|(a, _)| a.slug.eq_ignore_ascii_case(&name))
        .ok_or_else(|| {
            ApiError::not_found(
                "com.atlassian.bitbucket.user.NoSuchUserException",
                format!("There is no service account {name}."),
            )
        })?;
    state
        .store
        .delete_service_account(account.id, client.id)
        .await?;
    audit::record(
        &state.store,
        &caller.actor(),
        "service_account.deleted",
        &format!("user:{}", account.slug),
        "",
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}
