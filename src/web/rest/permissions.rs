//! Permission grants in Bitbucket's shape, for the three targets:
//! `/rest/api/1.0/admin/permissions/{users,groups}`,
//! `/rest/api/1.0/projects/{key}/permissions/{users,groups}`,
//! `/rest/api/1.0/projects/{key}/repos/{slug}/permissions/{users,groups}`.
//! Teams answer where Bitbucket says "groups". Each handler parses, calls
//! `services::host::permissions`, and renders Data Center's shape.

use super::repr;
use crate::services::host::permissions::{self as host_permissions, TargetRef};
use crate::store::{AccountKind, GrantHolder};
use crate::web::auth::Caller;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::Path;
use crate::web::extract::Query;
use crate::web::paging::{page, PageParams};
use crate::web::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};

/// `users` or `groups` in the path.
fn holder_kind(s: &str) -> ApiResult<AccountKind> {
    match s {
        "users" => Ok(AccountKind::User),
        "groups" => Ok(AccountKind::Team),
        _ => Err(ApiError::not_found(
            "com.atlassian.bitbucket.NoSuchEntityException",
            "Use .../permissions/users or .../permissions/groups.",
        )),
    }
}

#[derive(Deserialize)]
pub struct ListParams {
    #[serde(flatten)]
    pub page: PageParams,
    pub filter: Option<String>,
}

#[derive(Deserialize)]
pub struct SetParams {
    pub name: Option<String>,
    pub permission: Option<String>,
}

fn holder_json(base: &str, kind: AccountKind, h: &GrantHolder) -> Value {
    match kind {
        AccountKind::User => json!({
            "user": repr::user(base, &h.slug, &h.display_name, h.email.as_deref(), h.account_id, h.active),
            "permission": h.permission,
        }),
        AccountKind::Team => json!({ "group": { "name": h.slug }, "permission": h.permission }),
    }
}

async fn list(
    s: &AppState,
    c: &Caller,
    at: TargetRef<'_>,
    kind: &str,
    q: ListParams,
) -> ApiResult<axum::Json<Value>> {
    let kind = holder_kind(kind)?;
    let req = q.page.request()?;
    let principal = c.principal();
    let filter = q.filter.as_deref();
    let holders = host_permissions::list(&s.host(), &principal, at, kind, filter).await?;
    let values = holders
        .iter()
        .map(|h| holder_json(&s.base_url, kind, h))
        .collect();
    Ok(axum::Json(page(req, values)))
}

async fn set(
    s: &AppState,
    c: &Caller,
    at: TargetRef<'_>,
    kind: &str,
    q: SetParams,
) -> ApiResult<StatusCode> {
    let kind = holder_kind(kind)?;
    let (name, permission) = (q.name.as_deref(), q.permission.as_deref());
    host_permissions::grant(&s.host(), &c.principal(), at, kind, name, permission).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn revoke(
    s: &AppState,
    c: &Caller,
    at: TargetRef<'_>,
    kind: &str,
    q: SetParams,
) -> ApiResult<StatusCode> {
    let kind = holder_kind(kind)?;
    host_permissions::revoke(&s.host(), &c.principal(), at, kind, q.name.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn global_list(
    State(s): State<AppState>,
    c: Caller,
    Path(kind): Path<String>,
    Query(q): Query<ListParams>,
) -> ApiResult<axum::Json<Value>> {
    list(&s, &c, TargetRef::Global, &kind, q).await
}
pub async fn global_set(
    State(s): State<AppState>,
    c: Caller,
    Path(kind): Path<String>,
    Query(q): Query<SetParams>,
) -> ApiResult<StatusCode> {
    set(&s, &c, TargetRef::Global, &kind, q).await
}
pub async fn global_revoke(
    State(s): State<AppState>,
    c: Caller,
    Path(kind): Path<String>,
    Query(q): Query<SetParams>,
) -> ApiResult<StatusCode> {
    revoke(&s, &c, TargetRef::Global, &kind, q).await
}

pub async fn project_list(
    State(s): State<AppState>,
    c: Caller,
    Path((key, kind)): Path<(String, String)>,
    Query(q): Query<ListParams>,
) -> ApiResult<axum::Json<Value>> {
    list(&s, &c, TargetRef::Project(&key), &kind, q).await
}
pub async fn project_set(
    State(s): State<AppState>,
    c: Caller,
    Path((key, kind)): Path<(String, String)>,
    Query(q): Query<SetParams>,
) -> ApiResult<StatusCode> {
    set(&s, &c, TargetRef::Project(&key), &kind, q).await
}
pub async fn project_revoke(
    State(s): State<AppState>,
    c: Caller,
    Path((key, kind)): Path<(String, String)>,
    Query(q): Query<SetParams>,
) -> ApiResult<StatusCode> {
    revoke(&s, &c, TargetRef::Project(&key), &kind, q).await
}

type RepoKindPath = (String, String, String);

pub async fn repo_list(
    State(s): State<AppState>,
    c: Caller,
    Path((key, slug, kind)): Path<RepoKindPath>,
    Query(q): Query<ListParams>,
) -> ApiResult<axum::Json<Value>> {
    list(&s, &c, TargetRef::Repository(&key, &slug), &kind, q).await
}
pub async fn repo_set(
    State(s): State<AppState>,
    c: Caller,
    Path((key, slug, kind)): Path<RepoKindPath>,
    Query(q): Query<SetParams>,
) -> ApiResult<StatusCode> {
    set(&s, &c, TargetRef::Repository(&key, &slug), &kind, q).await
}
pub async fn repo_revoke(
    State(s): State<AppState>,
    c: Caller,
    Path((key, slug, kind)): Path<RepoKindPath>,
    Query(q): Query<SetParams>,
) -> ApiResult<StatusCode> {
    revoke(&s, &c, TargetRef::Repository(&key, &slug), &kind, q).await
}
