//! Permission grants in Bitbucket's shape, for the three targets:
//! `/rest/api/1.0/admin/permissions/{users,groups}`,
//! `/rest/api/1.0/projects/{key}/permissions/{users,groups}`,
//! `/rest/api/1.0/projects/{key}/repos/{slug}/permissions/{users,groups}`.
//! Teams answer where Bitbucket says "groups".

use super::{projects, repos, repr, teams, users};
use crate::domain::{Action, GlobalPermission, ProjectPermission, RepoPermission};
use crate::services::audit;
use crate::store::{Account, GrantTarget, Guarded, SysAdminRule};
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HolderKind {
    Users,
    Groups,
}

impl HolderKind {
    fn from_path(s: &str) -> ApiResult<Self> {
        match s {
            "users" => Ok(Self::Users),
            "groups" => Ok(Self::Groups),
            _ => Err(ApiError::not_found(
                "com.atlassian.bitbucket.NoSuchEntityException",
                "Use .../permissions/users or .../permissions/groups.",
            )),
        }
    }
    fn kind(self) -> &'static str {
        match self {
            Self::Users => "user",
            Self::Groups => "team",
        }
    }
}

/// A resolved target, with a label for the audit log and the permission names it accepts.
struct Target {
    grant: GrantTarget,
    label: String,
}

async fn global_target(caller: &Caller) -> ApiResult<Target> {
    caller.check(Action::AdminSystem)?;
    Ok(Target {
        grant: GrantTarget::Global,
        label: "global".into(),
    })
}

async fn project_target(state: &AppState, caller: &Caller, key: &str) -> ApiResult<Target> {
    let p = projects::load(state, caller, key, Action::AdminProject).await?;
    Ok(Target {
        grant: GrantTarget::Project(p.id),
        label: format!("project:{}", p.key),
    })
}

async fn repo_target(
    state: &AppState,
    caller: &Caller,
    key: &str,
    slug: &str,
) -> ApiResult<Target> {
    let r = repos::load(state, caller, key, slug, Action::AdminRepo).await?;
    Ok(Target {
        grant: GrantTarget::Repo {
            project_id: r.project_id,
            repo_id: r.id,
        },
        label: format!("repo:{}/{}", r.project_key, r.slug),
    })
}

/// Checks a permission name is valid for the target, and that the caller may grant it.
fn parse_permission(caller: &Caller, target: &GrantTarget, raw: &str) -> ApiResult<String> {
    let bad = |m: String| ApiError::bad_request(m).with_context("permission");
    match target {
        GrantTarget::Global => {
            let p: GlobalPermission = raw.parse().map_err(bad)?;
            if p == GlobalPermission::SysAdmin {
                caller.check(Action::SysAdmin)?;
            }
            Ok(p.as_str().into())
        }
        GrantTarget::Project(_) => Ok(raw
            .parse::<ProjectPermission>()
            .map_err(bad)?
            .as_str()
            .into()),
        GrantTarget::Repo { .. } => Ok(raw.parse::<RepoPermission>().map_err(bad)?.as_str().into()),
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

async fn list(
    state: &AppState,
    target: Target,
    holders: HolderKind,
    q: ListParams,
) -> ApiResult<axum::Json<Value>> {
    let req = q.page.request()?;
    let filter = q.filter.map(|f| f.to_lowercase());
    let values: Vec<Value> = state
        .store
        .grant_holders(target.grant, holders.kind())
        .await?
        .into_iter()
        .filter(|h| filter.as_ref().is_none_or(|f| h.slug.contains(f) || h.display_name.to_lowercase().contains(f)))
        .map(|h| match holders {
            HolderKind::Users => json!({
                "user": repr::user(&state.base_url, &h.slug, &h.display_name, h.email.as_deref(), h.account_id, h.active),
                "permission": h.permission,
            }),
            HolderKind::Groups => json!({ "group": { "name": h.slug }, "permission": h.permission }),
        })
        .collect();
    Ok(axum::Json(page(req, values)))
}

async fn holder(state: &AppState, holders: HolderKind, name: Option<&str>) -> ApiResult<Account> {
    let name = name
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::bad_request("name is required.").with_context("name"))?;
    match holders {
        HolderKind::Users => users::find_user(state, name).await,
        HolderKind::Groups => teams::find_team(state, name).await,
    }
}

async fn set(
    state: &AppState,
    caller: &Caller,
    target: Target,
    holders: HolderKind,
    q: SetParams,
) -> ApiResult<StatusCode> {
    let account = holder(state, holders, q.name.as_deref()).await?;
    let raw = q.permission.as_deref().ok_or_else(|| {
        ApiError::bad_request("permission is required.").with_context("permission")
    })?;
    let permission = parse_permission(caller, &target.grant, raw)?;
    let keep = if target.grant == GrantTarget::Global {
        guard_sys_admin_change(state, caller, &account, Some(&permission)).await?
    } else {
        None
    };
    if state
        .store
        .set_grant(target.grant, account.id, &permission, keep)
        .await?
        == Guarded::Refused
    {
        return Err(last_sys_admin());
    }
    let details = format!("{}:{} = {permission}", account.kind, account.slug);
    audit::record(
        &state.store,
        &caller.actor(),
        "permission.granted",
        &target.label,
        &details,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

async fn revoke(
    state: &AppState,
    caller: &Caller,
    target: Target,
    holders: HolderKind,
    q: SetParams,
) -> ApiResult<StatusCode> {
    let account = holder(state, holders, q.name.as_deref()).await?;
    let keep = if target.grant == GrantTarget::Global {
        guard_sys_admin_change(state, caller, &account, None).await?
    } else {
        None
    };
    if state
        .store
        .revoke_grant(target.grant, account.id, keep)
        .await?
        == Guarded::Refused
    {
        return Err(last_sys_admin());
    }
    let details = format!("{}:{}", account.kind, account.slug);
    audit::record(
        &state.store,
        &caller.actor(),
        "permission.revoked",
        &target.label,
        &details,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Taking SYS_ADMIN from someone needs SYS_ADMIN, and must leave a system administrator
/// (`domain::leaves_a_sys_admin`, decided by the store in the change's own transaction, so two
/// demotions at once cannot both pass). Returns the rule for the store, when one applies.
async fn guard_sys_admin_change(
    state: &AppState,
    caller: &Caller,
    account: &Account,
    new: Option<&str>,
) -> ApiResult<Option<SysAdminRule<'static>>> {
    let holds = state
        .store
        .grant_holders(GrantTarget::Global, &account.kind)
        .await?
        .iter()
        .any(|h| h.account_id == account.id && h.permission == GlobalPermission::SysAdmin.as_str());
    if !holds || new == Some(GlobalPermission::SysAdmin.as_str()) {
        return Ok(None);
    }
    caller.check(Action::SysAdmin)?;
    Ok(Some(&crate::domain::leaves_a_sys_admin))
}

pub fn last_sys_admin() -> ApiError {
    ApiError::conflict(
        "com.atlassian.bitbucket.permission.LastSysAdminException",
        "This is the last system administrator; grant SYS_ADMIN to someone else first.",
    )
}

pub async fn global_list(
    State(s): State<AppState>,
    c: Caller,
    Path(kind): Path<String>,
    Query(q): Query<ListParams>,
) -> ApiResult<axum::Json<Value>> {
    let holders = HolderKind::from_path(&kind)?;
    list(&s, global_target(&c).await?, holders, q).await
}
pub async fn global_set(
    State(s): State<AppState>,
    c: Caller,
    Path(kind): Path<String>,
    Query(q): Query<SetParams>,
) -> ApiResult<StatusCode> {
    let holders = HolderKind::from_path(&kind)?;
    set(&s, &c, global_target(&c).await?, holders, q).await
}
pub async fn global_revoke(
    State(s): State<AppState>,
    c: Caller,
    Path(kind): Path<String>,
    Query(q): Query<SetParams>,
) -> ApiResult<StatusCode> {
    let holders = HolderKind::from_path(&kind)?;
    revoke(&s, &c, global_target(&c).await?, holders, q).await
}

pub async fn project_list(
    State(s): State<AppState>,
    c: Caller,
    Path((key, kind)): Path<(String, String)>,
    Query(q): Query<ListParams>,
) -> ApiResult<axum::Json<Value>> {
    let holders = HolderKind::from_path(&kind)?;
    list(&s, project_target(&s, &c, &key).await?, holders, q).await
}
pub async fn project_set(
    State(s): State<AppState>,
    c: Caller,
    Path((key, kind)): Path<(String, String)>,
    Query(q): Query<SetParams>,
) -> ApiResult<StatusCode> {
    let holders = HolderKind::from_path(&kind)?;
    set(&s, &c, project_target(&s, &c, &key).await?, holders, q).await
}
pub async fn project_revoke(
    State(s): State<AppState>,
    c: Caller,
    Path((key, kind)): Path<(String, String)>,
    Query(q): Query<SetParams>,
) -> ApiResult<StatusCode> {
    let holders = HolderKind::from_path(&kind)?;
    revoke(&s, &c, project_target(&s, &c, &key).await?, holders, q).await
}

type RepoKindPath = (String, String, String);

pub async fn repo_list(
    State(s): State<AppState>,
    c: Caller,
    Path((key, slug, kind)): Path<RepoKindPath>,
    Query(q): Query<ListParams>,
) -> ApiResult<axum::Json<Value>> {
    let holders = HolderKind::from_path(&kind)?;
    list(&s, repo_target(&s, &c, &key, &slug).await?, holders, q).await
}
pub async fn repo_set(
    State(s): State<AppState>,
    c: Caller,
    Path((key, slug, kind)): Path<RepoKindPath>,
    Query(q): Query<SetParams>,
) -> ApiResult<StatusCode> {
    let holders = HolderKind::from_path(&kind)?;
    set(&s, &c, repo_target(&s, &c, &key, &slug).await?, holders, q).await
}
pub async fn repo_revoke(
    State(s): State<AppState>,
    c: Caller,
    Path((key, slug, kind)): Path<RepoKindPath>,
    Query(q): Query<SetParams>,
) -> ApiResult<StatusCode> {
    let holders = HolderKind::from_path(&kind)?;
    revoke(&s, &c, repo_target(&s, &c, &key, &slug).await?, holders, q).await
}
