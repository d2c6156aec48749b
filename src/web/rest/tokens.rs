//! Personal access tokens: `/rest/access-tokens/1.0/users/{userSlug}[/{tokenId}]`.
//! The owner manages their own (with a session or password, never with a token); system
//! administrators may list and revoke anyone's.

use crate::domain::access_tokens::TokenPermissions;
use crate::store::{AccessToken, Account};
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

use crate::services::host::access_tokens::{self as host_tokens, NewAccessToken, Use};

/// The account whose tokens are addressed, if the caller may use them so.
async fn owner(state: &AppState, caller: &Caller, slug: &str, purpose: Use) -> ApiResult<Account> {
    Ok(host_tokens::owner(&state.host(), &caller.principal(), slug, purpose).await?)
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
    let owner = owner(&state, &caller, &slug, Use::Create).await?;
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
    let new = NewAccessToken {
        name: b.name.unwrap_or_default(),
        permissions,
        expiry_days: b.expiry_days,
    };
    let (token, secret) =
        host_tokens::create(&state.host(), &caller.principal(), &owner, new).await?;
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
    let owner = owner(&state, &caller, &slug, Use::Manage).await?;
    let tokens = host_tokens::list(&state.host(), &owner).await?;
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
    let owner = owner(&state, &caller, &slug, Use::Manage).await?;
    let token = host_tokens::get(&state.host(), &owner, id).await?;
    Ok(axum::Json(token_json(&token, &owner, None)))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, id)): Path<(String, i64)>,
) -> ApiResult<StatusCode> {
    let owner = owner(&state, &caller, &slug, Use::Manage).await?;
    host_tokens::revoke(&state.host(), &caller.principal(), &owner, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
