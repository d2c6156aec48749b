//! Installing Connect apps: offering an app for install (who may, development mode, the
//! catalog) and installing it into a person's or a team's account after consent. The app is
//! called through `services/apps`; this file decides and stores; what follows an install
//! (remove, enable, disable, update, lists) is `app_installations.rs`.
//! Installing gives the app a credential, so only a person may do it (never a token):
//! `Action::CreateOwnCredential` for their own account, `AdminTeam` for a team's.

use super::{Host, HostError, HostResult, Missing, Principal};
use crate::domain::connect_descriptor::Descriptor;
use crate::domain::connect_events;
use crate::domain::connect_scopes::ConnectScopes;
use crate::domain::Action;
use crate::services::apps::lifecycle::{self, Event, Parties};
use crate::services::apps::{self, AppError};
use crate::store::connect::{Installation, NewInstallation};
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
                hooks: &connect_events::webhook_modules(d),
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

pub(super) fn parties(
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

pub(super) fn now_s(host: &Host<'_>) -> i64 {
    host.store.now().div_euclid(1000)
}

/// The installation's shared secret, decrypted.
pub fn decrypt(host: &Host<'_>, i: &Installation) -> HostResult<String> {
    host.master_key
        .decrypt(&i.shared_secret)
        .map_err(|e| HostError::Internal(format!("installation {}: {e}", i.id)))
}
