//! Connect app installations: offering an app for install (who may, development mode, the
//! catalog), installing it into a person's or a team's account after consent, and removing,
//! enabling and disabling it. The app is called through `services/apps`; this file decides and
//! stores. Installing gives the app a credential, so only a person may do it (never a token):
//! `Action::CreateOwnCredential` for their own account, `AdminTeam` for a team's.

use super::{Host, HostError, HostResult, Missing, Principal};
use crate::domain::connect_descriptor::Descriptor;
use crate::domain::connect_scopes::ConnectScopes;
use crate::domain::Action;
use crate::services::apps::lifecycle::{self, Event, Parties};
use crate::services::apps::{self, AppError};
use crate::store::connect::{InstallState, Installation, InstallationRow, NewInstallation};
use crate::store::{Account, AccountKind};
use serde_json::json;

/// Where the descriptor comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A descriptor URL (development mode, unless the catalog lists that URL).
    Url(String),
    /// An app the administrator listed, by key.
    Catalog(String),
}

/// An app ready for the consent page.
pub struct Offer {
    pub descriptor: Descriptor,
    pub raw: String,
    pub descriptor_url: String,
    /// Accounts the person may install into: their own, then the teams they administer.
    pub accounts: Vec<Account>,
}

/// Step one of installing: the person's right to install, the source allowed, the descriptor
/// fetched and valid, and `redirect_uri` (if any) inside the app.
pub async fn offer(
    host: &Host<'_>,
    who: &Principal<'_>,
    source: &Source,
    redirect_uri: Option<&str>,
) -> HostResult<Offer> {
    who.check(Action::CreateOwnCredential)?;
    let me = who.user()?;
    let url = match source {
        Source::Catalog(key) => {
            host.store
                .catalog_app(key)
                .await?
                .ok_or_else(|| HostError::NotFound(Missing::App(key.clone())))?
                .descriptor_url
        }
        Source::Url(url) => {
            let listed = host
                .store
                .catalog_apps()
                .await?
                .into_iter()
                .any(|a| a.descriptor_url == *url);
            if !listed && !host.store.development_mode(me.id).await? {
                return Err(AppError::DevelopmentModeOff.into());
            }
            url.clone()
        }
    };
    let (descriptor, raw) = apps::fetch_descriptor(&host.links.outbound, &url).await?;
    if let Some(r) = redirect_uri {
        if !within(&descriptor.base_url, r) {
            return Err(AppError::RedirectOutsideApp {
                redirect_uri: r.to_string(),
                base_url: descriptor.base_url.clone(),
            }
            .into());
        }
    }
    let mut accounts = vec![me.clone()];
    accounts.extend(host.store.teams_administered_by(me.id).await?);
    Ok(Offer {
        descriptor,
        raw,
        descriptor_url: url,
        accounts,
    })
}

/// Whether `target` is the app's base URL or below it (same origin, path under its path).
pub fn within(base_url: &str, target: &str) -> bool {
    let (Ok(base), Ok(t)) = (url::Url::parse(base_url), url::Url::parse(target)) else {
        return false;
    };
    let base_path = base.path().trim_end_matches('/');
    base.origin() == t.origin()
        && (t.path() == base_path
            || t.path().starts_with(&format!("{base_path}/"))
            || base_path.is_empty())
}

/// The account `slug` if the person may install into it: their own, or a team they administer.
async fn installable_into(host: &Host<'_>, who: &Principal<'_>, slug: &str) -> HostResult<Account> {
    let me = who.user()?;
    if me.slug.eq_ignore_ascii_case(slug) {
        return Ok(me.clone());
    }
    super::teams::administered(host, who, slug)
        .await
        .map_err(|e| e.named_by("account"))
}

/// Installs the offered app into `account` (its slug) after consent to `consented` scopes
/// (what the page showed): the app receives `installed` before anything is stored, and a failed
/// callback leaves nothing installed. Re-installing keeps the clientKey.
pub async fn install(
    host: &Host<'_>,
    who: &Principal<'_>,
    offer: &Offer,
    account: &str,
    consented: ConnectScopes,
) -> HostResult<Installation> {
    let account = installable_into(host, who, account).await?;
    let me = who.user()?;
    let d = &offer.descriptor;
    if d.scopes != consented {
        return Err(AppError::ScopesChanged.into());
    }
    let existing = host.store.connect_installation(&d.key, account.id).await?;
    let client_key = existing.as_ref().map_or_else(
        || client_key_for(host, &account, &d.key),
        |i| i.client_key.clone(),
    );
    let secret = crate::secret::new_token(crate::secret::TokenKind::AppSecret);
    let parties = parties(host, &account, Some(me), &d.key, &client_key);
    if let Some(url) = &d.lifecycle.installed {
        let previous = existing.as_ref().map(|i| decrypt(host, i)).transpose()?;
        let token = previous
            .map(|s| lifecycle::host_token("POST", url, &d.base_url, &client_key, &s, now_s(host)));
        let body = lifecycle::payload(Event::Installed, &parties, Some(&secret));
        apps::lifecycle::call(&host.links.outbound, Event::Installed, url, &body, token).await?;
    }
    let target = format!("app:{}@{}", d.key, account.slug);
    let scopes = d.scopes.to_text();
    let audit = who.audit("app.installed", &target, &scopes);
    let saved = host
        .store
        .save_connect_installation(
            &NewInstallation {
                client_key: &client_key,
                app_key: &d.key,
                account_id: account.id,
                name: &d.name,
                vendor: d.vendor_name.as_deref(),
                descriptor: &offer.raw,
                descriptor_url: Some(&offer.descriptor_url),
                base_url: &d.base_url,
                scopes: &scopes,
                shared_secret: &host.master_key.encrypt(&secret),
                installed_by: me.id,
            },
            Some(&audit),
        )
        .await?;
    Ok(saved)
}

/// Bitbucket's form: `ari:cloud:bitbucket::app/{<account uuid>}/<app key>`.
fn client_key_for(host: &Host<'_>, account: &Account, app_key: &str) -> String {
    let uuid = host.webhooks.payloads().uuid("account", account.id);
    format!("ari:cloud:bitbucket::app/{uuid}/{app_key}")
}

fn parties(
    host: &Host<'_>,
    account: &Account,
    actor: Option<&Account>,
    app_key: &str,
    client_key: &str,
) -> Parties {
    let payloads = host.webhooks.payloads();
    let uuid = payloads.uuid("account", account.id);
    let kind = match account.kind {
        AccountKind::User => "user",
        AccountKind::Team => "team",
    };
    Parties {
        app_key: app_key.to_string(),
        client_key: client_key.to_string(),
        host_base_url: host.base_url.to_string(),
        principal: json!({
            "type": kind,
            "uuid": uuid,
            "account_id": uuid,
            "username": account.slug,
            "nickname": account.slug,
            "display_name": account.display_name,
            "links": { "html": { "href": format!("{}/users/{}", host.base_url, account.slug) } },
        }),
        actor: actor.map(|a| payloads.user(a)),
    }
}

fn now_s(host: &Host<'_>) -> i64 {
    host.store.now().div_euclid(1000)
}

/// The installation's shared secret, decrypted.
pub fn decrypt(host: &Host<'_>, i: &Installation) -> HostResult<String> {
    host.master_key
        .decrypt(&i.shared_secret)
        .map_err(|e| HostError::Internal(format!("installation {}: {e}", i.id)))
}

/// The installation `id` if the person may manage it: installed in their own account, in a
/// team they administer, or they are an administrator.
async fn managed(
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
        .update_connect_descriptor(i.id, &d.name, &raw, url.as_deref(), &scopes, Some(&audit))
        .await?;
    Ok(())
}
