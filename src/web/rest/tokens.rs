//! Personal access tokens: `/rest/access-tokens/1.0/users/{userSlug}[/{tokenId}]`.
//! The owner manages their own (with a session or password, never with a token); system
//! administrators may list and revoke anyone's.

use super::users::find_user;
use crate::domain::access_tokens::TokenPermissions;
use crate::domain::{Action, DisplayName};
use crate::secret::{new_token, token_hash, TokenKind};
use crate::services::audit;
use crate::store::{AccessToken, Account, StoreError};
use crate::web::auth::Caller;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::Path;
use crate::web::extract::Query;
use crate::web::json::Json;
use crate::web::paging::{page, PageParams};
use crate::web::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};

pub const MAX_EXPIRY_DAYS: i64 = 3650;

/// The account whose tokens are addressed, if the caller may manage them.
async fn owner(state: &AppState, caller: &Caller, slug: &str, create: bool) -> ApiResult<Account> {
    let me = caller.user()?;
    if me.slug.eq_ignore_ascii_case(slug) {
        caller.check(if create {
            Action::CreateOwnCredential
        } else {
            Action::EditOwnAccount
        })?;
        return Ok(me.clone());
    }
    if create {
        return Err(ApiError::forbidden(
            "Access tokens can only be created by their owner.",
        ));
    }
    caller.check(Action::AdminSystem)?;
    find_user(state, slug).await
}

pub fn token_json(t: &AccessToken, owner: &Account, secret: Option<&str>) -> Value {
    let perms = TokenPermissions::from_stored(&t.permission, t.scopes.as_deref());
    let mut v = json!({
        "id": t.id.to_string(),
        "name": t.name,
        "createdDate": t.created_at,
        "permission": perms.map_or("read", TokenPermissions::word),
        "permissions": perms.map(TokenPermissions::names),
        "user": { "name": owner.slug, "slug": owner.slug, "displayName": owner.display_name, "id": owner.id },
    });
    if let Some(exp) = t.expires_at {
        v["expiryDate"] = json!(exp);
    }
    if let Some(used) = t.last_used_at {
        v["lastAuthenticated"] = json!(used);
    }
    if let Some(s) = secret {
        v["token"] = json!(s);
    }
    v
}

/// Creates a token and returns it with the secret, which is never retrievable again.
pub async fn create_token(
    state: &AppState,
    caller: &Caller,
    owner: &Account,
    name: &str,
    permissions: TokenPermissions,
    expiry_days: Option<i64>,
) -> ApiResult<(AccessToken, String)> {
    caller.check(Action::CreateOwnCredential)?;
    let name = DisplayName::parse("name", name)?;
    if let Some(d) = expiry_days {
        if !(1..=MAX_EXPIRY_DAYS).contains(&d) {
            return Err(ApiError::bad_request(format!(
                "expiryDays must be between 1 and {MAX_EXPIRY_DAYS}."
            ))
            .with_context("expiryDays"));
        }
    }
    let expires_at = expiry_days.map(|d| state.clock.now_ms() + d * 86_400_000);
    let secret = new_token(TokenKind::Personal);
    let stored = permissions.to_stored();
    let created = state
        .store
        .create_access_token(
            owner.id,
            name.as_str(),
            &token_hash(&secret),
            {
                let (word, pair) = &stored;
                (word, pair.as_deref())
            },
            expires_at,
        )
        .await;
    let token = match created {
        Err(StoreError::Duplicate) => {
            return Err(ApiError::conflict(
                "com.atlassian.bitbucket.DuplicateEntityException",
                "You already have a token with this name.",
            )
            .with_context("name"))
        }
        other => other?,
    };
    let details = format!("{} ({})", token.name, permissions.names().join(", "));
    audit::record(
        &state.store,
        &caller.actor(),
        "token.created",
        &format!("user:{}", owner.slug),
        &details,
    )
    .await;
    Ok((token, secret))
}

pub async fn revoke_token(
    state: &AppState,
    caller: &Caller,
    owner: &Account,
    id: i64,
) -> ApiResult<()> {
    let token = state
        .store
        .find_access_token(owner.id, id)
        .await?
        .ok_or_else(no_such_token)?;
    state.store.delete_access_token(owner.id, id).await?;
    audit::record(
        &state.store,
        &caller.actor(),
        "token.revoked",
        &format!("user:{}", owner.slug),
        &token.name,
    )
    .await;
    Ok(())
}

fn no_such_token() -> ApiError {
    ApiError::not_found(
        "com.atlassian.bitbucket.auth.NoSuchAccessTokenException",
        "There is no such access token.",
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateBody {
    pub name: Option<String>,
    /// Junction's form: "read", "write" or "admin".
    pub permission: Option<String>,
    /// Bitbucket's form: e.g. ["PROJECT_READ", "REPO_WRITE"], kept as asked.
    pub permissions: Option<Vec<String>>,
    pub expiry_days: Option<i64>,
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    Json(b): Json<CreateBody>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let owner = owner(&state, &caller, &slug, true).await?;
    let names: Vec<String> = b
        .permission
        .into_iter()
        .chain(b.permissions.unwrap_or_default())
        .collect();
    if names.is_empty() {
        return Err(
            ApiError::bad_request("permission is required: read, write or admin.")
                .with_context("permission"),
        );
    }
    let permissions = TokenPermissions::from_requested(&names).map_err(|n| {
        ApiError::bad_request(format!(
            "'{n}' is not a token permission; use PROJECT_READ, PROJECT_WRITE, PROJECT_ADMIN, REPO_READ, REPO_WRITE, REPO_ADMIN (or read, write, admin for both)."
        ))
        .with_context("permission")
    })?;
    let (token, secret) = create_token(
        &state,
        &caller,
        &owner,
        b.name.as_deref().unwrap_or(""),
        permissions,
        b.expiry_days,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(token_json(&token, &owner, Some(&secret))),
    ))
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    Query(q): Query<PageParams>,
) -> ApiResult<axum::Json<Value>> {
    let req = q.request()?;
    let owner = owner(&state, &caller, &slug, false).await?;
    let tokens = state.store.list_access_tokens(owner.id).await?;
    Ok(axum::Json(page(
        req,
        tokens.iter().map(|t| token_json(t, &owner, None)).collect(),
    )))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, id)): Path<(String, i64)>,
) -> ApiResult<axum::Json<Value>> {
    let owner = owner(&state, &caller, &slug, false).await?;
    let token = state
        .store
        .find_access_token(owner.id, id)
        .await?
        .ok_or_else(no_such_token)?;
    Ok(axum::Json(token_json(&token, &owner, None)))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, id)): Path<(String, i64)>,
) -> ApiResult<StatusCode> {
    let owner = owner(&state, &caller, &slug, false).await?;
    revoke_token(&state, &caller, &owner, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
