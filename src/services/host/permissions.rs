//! Permission grants on the three targets: global, a project, a repository. Who may grant what
//! is decided here (administering the target; SYS_ADMIN to give or take SYS_ADMIN); the store
//! applies the last-system-administrator rule in the change's own transaction.

use super::users::last_sys_admin;
use super::{projects, repositories, teams, users, Host, HostError, HostResult, Principal};
use crate::domain::{Action, GlobalPermission, ProjectPermission, RepoPermission};
use crate::store::{Account, AccountKind, GrantHolder, GrantTarget, Guarded, SysAdminRule};

/// Where a grant applies, as the surface names it.
#[derive(Debug, Clone, Copy)]
pub enum TargetRef<'a> {
    Global,
    Project(&'a str),
    Repository(&'a str, &'a str),
}

/// A resolved target the principal administers, with its label for the audit log.
struct Target {
    grant: GrantTarget,
    label: String,
}

async fn resolve(host: &Host<'_>, who: &Principal<'_>, at: TargetRef<'_>) -> HostResult<Target> {
    Ok(match at {
        TargetRef::Global => {
            who.check(Action::AdminSystem)?;
            Target {
                grant: GrantTarget::Global,
                label: "global".into(),
            }
        }
        TargetRef::Project(key) => {
            let p = projects::find(host, who, key, Action::AdminProject).await?;
            Target {
                grant: GrantTarget::Project(p.id),
                label: format!("project:{}", p.key),
            }
        }
        TargetRef::Repository(key, slug) => {
            let r = repositories::find(host, who, key, slug, Action::AdminRepo).await?;
            Target {
                grant: GrantTarget::Repo {
                    project_id: r.project_id,
                    repo_id: r.id,
                },
                label: format!("repo:{}/{}", r.project_key, r.slug),
            }
        }
    })
}

/// The holders of grants on the target, of one kind, whose name or display name contains
/// `filter` (any case).
pub async fn list(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: TargetRef<'_>,
    kind: AccountKind,
    filter: Option<&str>,
) -> HostResult<Vec<GrantHolder>> {
    let target = resolve(host, who, at).await?;
    let filter = filter.map(str::to_lowercase);
    let mut holders = host
        .store
        .grant_holders(target.grant, kind.as_str())
        .await?;
    if let Some(f) = filter {
        holders.retain(|h| h.slug.contains(&f) || h.display_name.to_lowercase().contains(&f));
    }
    Ok(holders)
}

/// Grants `permission` on the target to the user or team `name`, replacing what they held.
pub async fn grant(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: TargetRef<'_>,
    kind: AccountKind,
    name: Option<&str>,
    permission: Option<&str>,
) -> HostResult<()> {
    let target = resolve(host, who, at).await?;
    let account = holder(host, kind, name).await?;
    let raw =
        permission.ok_or_else(|| HostError::invalid("permission", "permission is required."))?;
    let permission = parse_permission(who, &target.grant, raw)?;
    let keep = guard_sys_admin_change(host, who, &target, &account, Some(permission)).await?;
    let details = format!("{}:{} = {permission}", account.kind, account.slug);
    let audit = who.audit("permission.granted", &target.label, &details);
    let applied = host
        .store
        .set_grant(target.grant, account.id, permission, keep, Some(&audit))
        .await?;
    if applied == Guarded::Refused {
        return Err(last_sys_admin());
    }
    Ok(())
}

/// Takes whatever the user or team `name` holds on the target.
pub async fn revoke(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: TargetRef<'_>,
    kind: AccountKind,
    name: Option<&str>,
) -> HostResult<()> {
    let target = resolve(host, who, at).await?;
    let account = holder(host, kind, name).await?;
    let keep = guard_sys_admin_change(host, who, &target, &account, None).await?;
    let details = format!("{}:{}", account.kind, account.slug);
    let audit = who.audit("permission.revoked", &target.label, &details);
    let applied = host
        .store
        .revoke_grant(target.grant, account.id, keep, Some(&audit))
        .await?;
    if applied == Guarded::Refused {
        return Err(last_sys_admin());
    }
    Ok(())
}

async fn holder(host: &Host<'_>, kind: AccountKind, name: Option<&str>) -> HostResult<Account> {
    let name = name
        .filter(|n| !n.is_empty())
        .ok_or_else(|| HostError::invalid("name", "name is required."))?;
    let found = match kind {
        AccountKind::User => users::find(host, name).await,
        AccountKind::Team => teams::find(host, name).await,
    };
    found.map_err(|e| e.named_by("name"))
}

/// Checks a permission name is valid for the target, and that the principal may grant it
/// (SYS_ADMIN only by a system administrator).
fn parse_permission(
    who: &Principal<'_>,
    target: &GrantTarget,
    raw: &str,
) -> HostResult<&'static str> {
    let bad = |m: String| HostError::invalid("permission", m);
    match target {
        GrantTarget::Global => {
            let p: GlobalPermission = raw.parse().map_err(bad)?;
            if p == GlobalPermission::SysAdmin {
                who.check(Action::SysAdmin)?;
            }
            Ok(p.as_str())
        }
        GrantTarget::Project(_) => Ok(raw.parse::<ProjectPermission>().map_err(bad)?.as_str()),
        GrantTarget::Repo { .. } => Ok(raw.parse::<RepoPermission>().map_err(bad)?.as_str()),
    }
}

/// Taking SYS_ADMIN from someone needs SYS_ADMIN, and must leave a system administrator
/// (`domain::leaves_a_sys_admin`, decided by the store in the change's own transaction, so two
/// demotions at once cannot both pass). Returns the rule for the store, when one applies.
async fn guard_sys_admin_change(
    host: &Host<'_>,
    who: &Principal<'_>,
    target: &Target,
    account: &Account,
    new: Option<&str>,
) -> HostResult<Option<SysAdminRule<'static>>> {
    if target.grant != GrantTarget::Global {
        return Ok(None);
    }
    let sys_admin = GlobalPermission::SysAdmin.as_str();
    let holds = host
        .store
        .grant_holders(GrantTarget::Global, account.kind.as_str())
        .await?
        .iter()
        .any(|h| h.account_id == account.id && h.permission == sys_admin);
    if !holds || new == Some(sys_admin) {
        return Ok(None);
    }
    who.check(Action::SysAdmin)?;
    Ok(Some(&crate::domain::leaves_a_sys_admin))
}
