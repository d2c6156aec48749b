//! Installed apps after installing: who may manage one (its account's person, the team's
//! admins, administrators), removing, enabling and disabling (the app is told, signed with its
//! secret; a person can always complete the change), the app updating or removing itself
//! (`/2.0/addon`), the lists, and each person's development mode.

use super::apps::{decrypt, now_s, parties};
use super::{Host, HostError, HostResult, Missing, Principal};
use crate::domain::connect_descriptor::Descriptor;
use crate::domain::connect_scopes::ConnectScopes;
use crate::domain::Action;
use crate::services::apps::lifecycle::{self, Event};
use crate::services::apps::{self, AppError};
use crate::store::connect::{InstallState, Installation, InstallationRow};
use crate::store::{Account, AccountKind};

/// The installation `id` if the person may manage it: installed in their own account, in a
/// team they administer, or they are an administrator.
pub(super) async fn managed(
    host: &Host<'_>,
    who: &Principal<'_>,
    id: i64,
) -> HostResult<(Installation, Account)> {
    let me = who.user()?;
    let missing = || HostError::NotFound(Missing::Installation(id));
    let i = host
        .store
        .connect_installation_by_id(id)
        .await?
        .filter(|i| i.state != InstallState::Uninstalled)
        .ok_or_else(missing)?;
    let account = host
        .store
        .account_by_id(i.account_id)
        .await?
        .ok_or_else(missing)?;
    let allowed = account.id == me.id
        || who.check(Action::AdminSystem).is_ok()
        || (account.kind == AccountKind::Team
            && super::teams::administered(host, who, &account.slug)
                .await
                .is_ok());
    if !allowed {
        return Err(missing());
    }
    Ok((i, account))
}

/// Sends a lifecycle call signed with the installation's secret, if the app declared it.
async fn notify(
    host: &Host<'_>,
    i: &Installation,
    account: &Account,
    actor: Option<&Account>,
    event: Event,
) -> Result<(), HostError> {
    let d: Descriptor = crate::domain::connect_descriptor::validate(
        &serde_json::from_str(&i.descriptor).unwrap_or_default(),
    )
    .map_err(|_| {
        HostError::Internal(format!("installation {}: stored descriptor invalid", i.id))
    })?;
    let url = match event {
        Event::Installed => d.lifecycle.installed,
        Event::Uninstalled => d.lifecycle.uninstalled,
        Event::Enabled => d.lifecycle.enabled,
        Event::Disabled => d.lifecycle.disabled,
    };
    let Some(url) = url else { return Ok(()) };
    let secret = decrypt(host, i)?;
    let token = lifecycle::host_token(
        "POST",
        &url,
        &i.base_url,
        &i.client_key,
        &secret,
        now_s(host),
    );
    let body = lifecycle::payload(
        event,
        &parties(host, account, actor, &i.app_key, &i.client_key),
        None,
    );
    Ok(apps::lifecycle::call(&host.links.outbound, event, &url, &body, Some(token)).await?)
}

/// What became of a change whose callback the app did not accept: done all the same (a person
/// must always be able to remove or switch off an app), with the app's failure to tell them.
pub type Warning = Option<AppError>;

/// Uninstalls (for every member of a team, the installation being the team's). The app is told
/// with `uninstalled`; if it does not answer, the installation is removed anyway.
pub async fn uninstall(host: &Host<'_>, who: &Principal<'_>, id: i64) -> HostResult<Warning> {
    let (i, account) = managed(host, who, id).await?;
    let warning = warn(notify(host, &i, &account, who.user, Event::Uninstalled).await)?;
    let target = format!("app:{}@{}", i.app_key, account.slug);
    let audit = who.audit("app.uninstalled", &target, "");
    host.store
        .set_connect_installation_state(i.id, InstallState::Uninstalled, Some(&audit))
        .await?;
    Ok(warning)
}

/// The app removing itself (`DELETE /2.0/addon`, authenticated as the installation).
pub async fn uninstall_self(
    host: &Host<'_>,
    who: &Principal<'_>,
    i: &Installation,
) -> HostResult<()> {
    let account = host
        .store
        .account_by_id(i.account_id)
        .await?
        .ok_or(HostError::NotFound(Missing::Installation(i.id)))?;
    let _ = warn(notify(host, i, &account, None, Event::Uninstalled).await)?;
    let target = format!("app:{}@{}", i.app_key, account.slug);
    let audit = who.audit("app.uninstalled", &target, "by the app");
    host.store
        .set_connect_installation_state(i.id, InstallState::Uninstalled, Some(&audit))
        .await?;
    Ok(())
}

pub async fn set_enabled(
    host: &Host<'_>,
    who: &Principal<'_>,
    id: i64,
    enabled: bool,
) -> HostResult<Warning> {
    let (i, account) = managed(host, who, id).await?;
    let (event, state, action) = if enabled {
        (Event::Enabled, InstallState::Enabled, "app.enabled")
    } else {
        (Event::Disabled, InstallState::Disabled, "app.disabled")
    };
    if i.state == state {
        return Ok(None);
    }
    let warning = warn(notify(host, &i, &account, who.user, event).await)?;
    let target = format!("app:{}@{}", i.app_key, account.slug);
    let audit = who.audit(action, &target, "");
    host.store
        .set_connect_installation_state(i.id, state, Some(&audit))
        .await?;
    Ok(warning)
}

/// A callback failure becomes a warning; anything else stays an error.
fn warn(r: Result<(), HostError>) -> HostResult<Warning> {
    match r {
        Ok(()) => Ok(None),
        Err(HostError::App(e @ AppError::Callback { .. })) => Ok(Some(e)),
        Err(e) => Err(e),
    }
}

/// Installations a person sees: in their own account and their teams; all for administrators.
pub async fn list(host: &Host<'_>, who: &Principal<'_>) -> HostResult<Vec<InstallationRow>> {
    let me = who.user()?;
    if who.check(Action::AdminSystem).is_ok() {
        return Ok(host.store.all_connect_installations().await?);
    }
    let mut ids = vec![me.id];
    ids.extend(
        host.store
            .teams_administered_by(me.id)
            .await?
            .iter()
            .map(|t| t.id),
    );
    Ok(host.store.connect_installations_in(&ids).await?)
}

pub async fn development_mode(host: &Host<'_>, who: &Principal<'_>) -> HostResult<bool> {
    Ok(host.store.development_mode(who.user()?.id).await?)
}

pub async fn set_development_mode(
    host: &Host<'_>,
    who: &Principal<'_>,
    on: bool,
) -> HostResult<()> {
    who.check(Action::CreateOwnCredential)?;
    let me = who.user()?;
    let action = if on {
        "app.development_mode_on"
    } else {
        "app.development_mode_off"
    };
    let target = format!("user:{}", me.slug);
    let audit = who.audit(action, &target, "");
    Ok(host
        .store
        .set_development_mode(me.id, on, Some(&audit))
        .await?)
}

/// Where an update's descriptor comes from (`PUT /2.0/addon`).
pub enum UpdateSource {
    /// `{}`: the descriptor URL the installation came from, fetched again.
    Again,
    Url(String),
    Inline(serde_json::Value),
}

/// The app updating its own installation's descriptor: same app key, scopes that neither grow
/// (that needs a person's consent: install again) nor shrink to none; the secret is kept.
pub async fn update_self(
    host: &Host<'_>,
    who: &Principal<'_>,
    i: &Installation,
    source: UpdateSource,
) -> HostResult<()> {
    let (d, raw, url) = match source {
        UpdateSource::Again => {
            let url = i.descriptor_url.clone().ok_or_else(|| {
                HostError::invalid(
                    "descriptor_url",
                    "This installation has no descriptor URL to fetch again; send descriptor or descriptor_url.",
                )
            })?;
            let (d, raw) = apps::fetch_descriptor(&host.links.outbound, &url).await?;
            (d, raw, Some(url))
        }
        UpdateSource::Url(url) => {
            let (d, raw) = apps::fetch_descriptor(&host.links.outbound, &url).await?;
            (d, raw, Some(url))
        }
        UpdateSource::Inline(v) => {
            let (d, raw) = apps::parse_descriptor(&v)?;
            (d, raw, None)
        }
    };
    if d.key != i.app_key {
        return Err(HostError::invalid(
            "descriptor",
            format!(
                "The descriptor's key is {}, but this installation is of {}; an update cannot change the app.",
                d.key, i.app_key
            ),
        ));
    }
    let before = ConnectScopes::from_text(&i.scopes);
    if d.scopes.is_empty() {
        return Err(AppError::ScopesEmpty.into());
    }
    if !before.covers(d.scopes) {
        let added: Vec<&str> = d
            .scopes
            .expanded()
            .iter()
            .filter(|s| !before.expanded().contains(*s))
            .map(|s| s.as_str())
            .collect();
        return Err(AppError::ScopesGrew(added.join(", ")).into());
    }
    let target = format!("app:{}", i.client_key);
    let scopes = d.scopes.to_text();
    let audit = who.audit("app.updated", &target, &scopes);
    host.store
        .update_connect_descriptor(
            i.id,
            &crate::store::connect::DescriptorUpdate {
                name: &d.name,
                descriptor: &raw,
                descriptor_url: url.as_deref(),
                scopes: &scopes,
                hooks: &crate::domain::connect_events::webhook_modules(&d),
            },
            Some(&audit),
        )
        .await?;
    Ok(())
}
