//! Users: finding and listing them, and what administrators do to them (create, update,
//! activate, deactivate).

use super::{ConflictKind, Host, HostError, HostResult, Missing, Principal};
use crate::domain::{Action, DisplayName, Email, GlobalPermission, Slug};
use crate::services::passwords;
use crate::store::{Account, AccountKind, Guarded, StoreError, SysAdminRule};

/// The user `slug` (any case), active or not.
pub async fn find(host: &Host<'_>, slug: &str) -> HostResult<Account> {
    host.store
        .find_account(&slug.to_ascii_lowercase())
        .await?
        .filter(|a| a.kind == AccountKind::User)
        .ok_or_else(|| HostError::NotFound(Missing::User(slug.into())))
}

/// The user `slug`, for anyone who may see users.
pub async fn get(host: &Host<'_>, who: &Principal<'_>, slug: &str) -> HostResult<Account> {
    who.check(Action::ViewUsers)?;
    find(host, slug).await
}

/// Whom a list shows: people see active users; administrators see deactivated ones too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    People,
    Administrators,
}

pub async fn list(
    host: &Host<'_>,
    who: &Principal<'_>,
    filter: Option<&str>,
    audience: Audience,
) -> HostResult<Vec<Account>> {
    who.check(match audience {
        Audience::People => Action::ViewUsers,
        Audience::Administrators => Action::AdminSystem,
    })?;
    let mut users = host.store.list_accounts(AccountKind::User, filter).await?;
    if audience == Audience::People {
        users.retain(|u| u.active);
    }
    Ok(users)
}

/// A new user, parsed: every field checked before anything is hashed or written.
pub struct NewUser {
    pub slug: Slug,
    pub display_name: DisplayName,
    pub email: Option<Email>,
    pub password: String,
}

impl NewUser {
    /// An empty display name becomes the name; an empty e-mail is none.
    pub fn parse(
        name: &str,
        display_name: Option<&str>,
        email: Option<&str>,
        password: &str,
    ) -> HostResult<Self> {
        let slug = Slug::parse("name", name)?;
        let shown = display_name
            .filter(|d| !d.trim().is_empty())
            .unwrap_or(name);
        let display_name = DisplayName::parse("displayName", shown)?;
        let email = email
            .filter(|e| !e.trim().is_empty())
            .map(Email::parse)
            .transpose()?;
        passwords::check_policy(password).map_err(|m| HostError::invalid("password", m))?;
        Ok(Self {
            slug,
            display_name,
            email,
            password: password.to_string(),
        })
    }
}

/// Creates a licensed user. A new person's password is a credential: only a person who
/// administers may set it (`AdminCredentials`).
pub async fn create(host: &Host<'_>, who: &Principal<'_>, new: NewUser) -> HostResult<Account> {
    who.check(Action::AdminCredentials)?;
    let global = GlobalPermission::LicensedUser;
    let hash = host
        .passwords
        .hash(new.password)
        .await?
        .map_err(|e| HostError::Internal(e.to_string()))?;
    let email = new.email.as_ref().map(|e| e.as_str());
    let target = format!("user:{}", new.slug.as_str());
    let audit = who.audit("user.created", &target, global.as_str());
    let created = host
        .store
        .create_user(
            new.slug.as_str(),
            new.display_name.as_str(),
            email,
            Some(&hash),
            Some(global),
            Some(&audit),
        )
        .await;
    match created {
        Err(StoreError::Duplicate) => Err(name_taken(&new.slug, AccountKind::User)),
        other => Ok(other?),
    }
}

/// "The name is taken", whichever kind of account took it.
pub fn name_taken(slug: &Slug, creating: AccountKind) -> HostError {
    HostError::Conflict {
        kind: ConflictKind::AccountNameTaken(creating),
        message: format!("The name {slug} is already taken by a user or team."),
    }
}

/// New values for a user; `None` keeps what is there, an empty e-mail removes it.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub display_name: Option<String>,
    pub email: Option<String>,
}

pub async fn update(
    host: &Host<'_>,
    who: &Principal<'_>,
    slug: &str,
    change: UserChange,
) -> HostResult<Account> {
    who.check(Action::AdminSystem)?;
    let user = find(host, slug).await?;
    let display = match change.display_name.as_deref() {
        Some(d) => DisplayName::parse("displayName", d)?.to_string(),
        None => user.display_name.clone(),
    };
    let email = match change.email.as_deref() {
        Some("") => None,
        Some(e) => Some(Email::parse(e)?.to_string()),
        None => user.email.clone(),
    };
    let target = format!("user:{}", user.slug);
    let audit = who.audit("user.updated", &target, "");
    Ok(host
        .store
        .update_account(user.id, &display, email.as_deref(), Some(&audit))
        .await?)
}

/// Activates or deactivates a user. Deactivation ends their sessions and tokens at once; nobody
/// deactivates themselves.
pub async fn set_active(
    host: &Host<'_>,
    who: &Principal<'_>,
    slug: &str,
    active: bool,
) -> HostResult<Account> {
    who.check(Action::AdminSystem)?;
    let user = find(host, slug).await?;
    if !active && who.user.is_some_and(|me| me.id == user.id) {
        return Err(HostError::invalid(
            "user",
            "You cannot deactivate your own account.",
        ));
    }
    change_active(host, who, &user, active).await
}

/// Flips an account's (user's or team's) active flag and audits it as `user.…` or `team.…`.
/// Deactivating a user must leave a system administrator, decided in the same transaction.
pub(super) async fn change_active(
    host: &Host<'_>,
    who: &Principal<'_>,
    account: &Account,
    active: bool,
) -> HostResult<Account> {
    let keep: Option<SysAdminRule<'_>> = (!active && account.kind == AccountKind::User)
        .then_some(&crate::domain::leaves_a_sys_admin);
    let verb = if active { "activated" } else { "deactivated" };
    let action = format!("{}.{verb}", account.kind);
    let target = format!("{}:{}", account.kind, account.slug);
    let audit = who.audit(&action, &target, "");
    match host
        .store
        .set_active(account.id, active, keep, Some(&audit))
        .await?
    {
        Guarded::Done(a) => Ok(a),
        Guarded::Refused => Err(last_sys_admin()),
    }
}

pub fn last_sys_admin() -> HostError {
    HostError::Conflict {
        kind: ConflictKind::LastSysAdmin,
        message: "This is the last system administrator; grant SYS_ADMIN to someone else first."
            .into(),
    }
}
