//! "Grant access": the second consent, a person's, before an installed app acts for them
//! (`AP.request`, its pages calling the API as them). Remembered per person and installation
//! with the scopes they read; asked again when the installation's scopes grow past them;
//! listed under Account → App authorizations, where revoking takes effect on the next call.
//!
//! An app acting for a person is that person with the app's scopes as ceiling: never more than
//! either (`acting_for`), and — being capped — never able to create a credential.

use super::{Host, HostError, HostResult, Missing, Principal};
use crate::domain::connect_scopes::ConnectScopes;
use crate::services::apps::AppError;
use crate::store::connect::Installation;
use crate::store::connect_access::AppAccess;

/// What the consent asks about.
pub struct AccessAsk {
    pub installation_id: i64,
    pub app_name: String,
    pub vendor: Option<String>,
    /// The account the app is installed in.
    pub account_slug: String,
    pub scopes: ConnectScopes,
    /// Whether the person already granted these scopes.
    pub granted: bool,
}

/// The installation, if `who` is shown it (enabled, in their account or one of their teams),
/// and the slug of the account it is installed in.
pub async fn seen(
    host: &Host<'_>,
    who: &Principal<'_>,
    id: i64,
) -> HostResult<(Installation, String)> {
    let me = who.user()?;
    host.store
        .connect_installations_seen_by(me.id)
        .await?
        .iter()
        .find(|r| r.installation.id == id)
        .map(|r| (r.installation.clone(), r.account_slug.clone()))
        .ok_or(HostError::NotFound(Missing::Installation(id)))
}

fn covered(granted: Option<&str>, wanted: ConnectScopes) -> bool {
    granted.is_some_and(|g| ConnectScopes::from_text(g).covers(wanted))
}

pub async fn ask(host: &Host<'_>, who: &Principal<'_>, id: i64) -> HostResult<AccessAsk> {
    let (i, account_slug) = seen(host, who, id).await?;
    let scopes = ConnectScopes::from_text(&i.scopes);
    let granted = host.store.app_access(id, who.user()?.id).await?;
    Ok(AccessAsk {
        installation_id: id,
        granted: covered(granted.as_deref(), scopes),
        app_name: i.name,
        vendor: i.vendor,
        account_slug,
        scopes,
    })
}

/// Records the person's grant of the installation's scopes as they are now. Only the person
/// themself grants (a session, never a token acting for them).
pub async fn grant(host: &Host<'_>, who: &Principal<'_>, id: i64) -> HostResult<()> {
    who.check(crate::domain::Action::CreateOwnCredential)?;
    let (i, account_slug) = seen(host, who, id).await?;
    let target = format!("app:{}@{account_slug}", i.app_key);
    let audit = who.audit("app.access_granted", &target, &i.scopes);
    host.store
        .grant_app_access(id, who.user()?.id, &i.scopes, Some(&audit))
        .await?;
    Ok(())
}

/// Ends the person's grant: the app's next call for them is refused.
pub async fn revoke(host: &Host<'_>, who: &Principal<'_>, id: i64) -> HostResult<()> {
    let me = who.user()?;
    let i = host
        .store
        .connect_installation_by_id(id)
        .await?
        .ok_or(HostError::NotFound(Missing::Installation(id)))?;
    let target = format!("app:{}", i.app_key);
    let audit = who.audit("app.access_revoked", &target, "");
    if !host
        .store
        .revoke_app_access(id, me.id, Some(&audit))
        .await?
    {
        return Err(HostError::NotFound(Missing::Installation(id)));
    }
    Ok(())
}

pub async fn list(host: &Host<'_>, who: &Principal<'_>) -> HostResult<Vec<AppAccess>> {
    Ok(host.store.app_accesses_of(who.user()?.id).await?)
}

/// The person's OAuth authorizations of clients that installed apps they are shown name as
/// their `oauthConsumer` — the consent an app acting through OAuth got on Junction's OAuth
/// consent page — with the app's name, for Account → App authorizations.
pub async fn through_oauth(
    host: &Host<'_>,
    who: &Principal<'_>,
) -> HostResult<Vec<(String, crate::store::AuthorizedApp)>> {
    let me = who.user()?;
    let seen = host.store.connect_installations_seen_by(me.id).await?;
    let consumers: Vec<(String, String)> = seen
        .iter()
        .filter_map(|r| {
            let raw: serde_json::Value = serde_json::from_str(&r.installation.descriptor).ok()?;
            let id = raw.pointer("/modules/oauthConsumer/clientId")?.as_str()?;
            Some((id.to_string(), r.installation.name.clone()))
        })
        .collect();
    if consumers.is_empty() {
        return Ok(Vec::new());
    }
    let authorized = host.store.authorized_apps(me.id).await?;
    Ok(authorized
        .into_iter()
        .filter_map(|a| {
            let (_, app) = consumers.iter().find(|(id, _)| *id == a.client_id)?;
            Some((app.clone(), a))
        })
        .collect())
}

/// The app acting for `who`: allowed only once they granted its current scopes. The answer is
/// the ceiling its calls carry: the app's scopes (the person's own grants still apply).
pub async fn acting_for(
    host: &Host<'_>,
    who: &Principal<'_>,
    id: i64,
) -> HostResult<crate::domain::Ceiling> {
    let (i, _) = seen(host, who, id).await?;
    let scopes = ConnectScopes::from_text(&i.scopes);
    let granted = host.store.app_access(id, who.user()?.id).await?;
    if !covered(granted.as_deref(), scopes) {
        return Err(AppError::AccessNotGranted {
            app: i.name,
            installation_id: id,
        }
        .into());
    }
    Ok(scopes.ceiling())
}
