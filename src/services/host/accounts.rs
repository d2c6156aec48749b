//! The signed-in person's own account: profile and password.

use super::{Host, HostError, HostResult, Principal};
use crate::domain::{Action, DisplayName, Email};
use crate::services::sign_in::SignInError;
use crate::services::{audit, passwords};
use crate::store::Account;

/// New profile values; `None` keeps what is there, an empty e-mail removes it.
#[derive(Debug, Clone, Default)]
pub struct ProfileChange {
    pub display_name: Option<String>,
    pub email: Option<String>,
}

/// The account the principal acts as (a person, or the account an app is installed in).
pub fn me<'a>(who: &Principal<'a>) -> HostResult<&'a Account> {
    who.check(Action::ViewOwnAccount)?;
    who.user()
}

pub async fn update_profile(
    host: &Host<'_>,
    who: &Principal<'_>,
    change: ProfileChange,
) -> HostResult<Account> {
    who.check(Action::EditOwnAccount)?;
    let me = who.user()?;
    let display = match change.display_name.as_deref() {
        Some(d) => DisplayName::parse("displayName", d)?.to_string(),
        None => me.display_name.clone(),
    };
    let email = match change.email.as_deref().map(str::trim) {
        Some("") => None,
        Some(e) => Some(Email::parse(e)?.to_string()),
        None => me.email.clone(),
    };
    let target = format!("user:{}", me.slug);
    let audit = who.audit("user.profile_updated", &target, "");
    Ok(host
        .store
        .update_account(me.id, &display, email.as_deref(), Some(&audit))
        .await?)
}

#[derive(Debug, Clone, Default)]
pub struct PasswordChange {
    pub old: String,
    pub new: String,
    pub confirm: String,
}

/// Changes the person's own password (only the person may: `CreateOwnCredential`), proven by
/// the current one. Every session but `keep_session` ends.
pub async fn change_password(
    host: &Host<'_>,
    who: &Principal<'_>,
    change: PasswordChange,
    keep_session: Option<i64>,
) -> HostResult<()> {
    who.check(Action::CreateOwnCredential)?;
    let me = who.user()?;
    // Judged before the current password, so a mistake in the new one costs no sign-in attempt.
    check_new_password(&change.new, &change.confirm)?;
    let checked = host
        .sign_in
        .check_password(host.store, host.security, &me.slug, &change.old, who.ip)
        .await;
    match checked {
        Ok(_) | Err(SignInError::PasswordChangeRequired(_)) => {}
        Err(e @ (SignInError::Invalid | SignInError::Throttled { .. })) => {
            return Err(HostError::invalid(
                "oldPassword",
                format!("The current password is not right. {e}"),
            ))
        }
        Err(e) => return Err(HostError::SignIn(e)),
    }
    store_password(host, me, who.ip, change.new, keep_session, "").await
}

/// A new password must match its confirmation and meet the policy.
pub fn check_new_password(new: &str, confirm: &str) -> HostResult<()> {
    if new != confirm {
        return Err(HostError::invalid(
            "passwordConfirm",
            "The new password and its confirmation differ.",
        ));
    }
    passwords::check_policy(new).map_err(|m| HostError::invalid("password", m))
}

/// Stores `me`'s new password (already checked, the person already proven) and audits it; every
/// session but `keep_session` ends.
pub async fn store_password(
    host: &Host<'_>,
    me: &Account,
    ip: &str,
    new: String,
    keep_session: Option<i64>,
    details: &str,
) -> HostResult<()> {
    let hash = host
        .passwords
        .hash(new)
        .await?
        .map_err(|e| HostError::Internal(e.to_string()))?;
    let target = format!("user:{}", me.slug);
    let actor = audit::Actor {
        id: Some(me.id),
        name: &me.slug,
        ip,
    };
    let audit = actor.entry("user.password_changed", &target, details);
    host.store
        .set_password(me.id, &hash, keep_session, Some(&audit))
        .await?;
    Ok(())
}

/// The OAuth applications the person has authorized and that still hold live tokens.
pub async fn authorized_applications(
    host: &Host<'_>,
    who: &Principal<'_>,
) -> HostResult<Vec<crate::store::AuthorizedApp>> {
    let me = who.user()?;
    Ok(host.store.authorized_apps(me.id).await?)
}

/// Ends the person's authorization of an OAuth application: its tokens for them stop working.
/// An application they never authorized (or one that is gone) leaves nothing to do.
pub async fn revoke_application(
    host: &Host<'_>,
    who: &Principal<'_>,
    client_id: &str,
) -> HostResult<Option<String>> {
    who.check(Action::EditOwnAccount)?;
    let me = who.user()?;
    let Some(c) = host.store.find_oauth_client(client_id).await? else {
        return Ok(None);
    };
    let target = format!("client:{}", c.client_id);
    let audit = who.audit("oauth2.authorization_revoked", &target, &c.name);
    host.store
        .revoke_client_for_user(c.id, me.id, Some(&audit))
        .await?;
    Ok(Some(c.name))
}
