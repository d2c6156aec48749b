//! Application links, administered: identify what is at a URL, create a link (incoming side,
//! outgoing side or both), edit, relocate, test, view credentials, start pairing, delete. Every
//! operation needs a system administrator; those that create, change or show a side's
//! credentials need the person (`AdminCredentials`). The remote side is `services::links`.

use super::oauth_clients::{self, ClientInput};
use super::{Host, HostError, HostResult, Missing, Principal};
use crate::domain::applinks::{default_link_name, normalize_base_url, preset, redirect_uri};
use crate::domain::applinks::{LinkStatus, DEFAULT_INCOMING_SCOPE};
use crate::domain::{Action, DisplayName};
use crate::services::links::discover::Discovery;
use crate::services::links::flow::PURPOSE_TEST;
use crate::store::{AppLink, LinkFields, OAuthClient, Outgoing};

/// The incoming side as asked: redirect URLs and a scope (default REPO_READ).
#[derive(Debug, Clone, Default)]
pub struct IncomingInput {
    pub redirects: Vec<String>,
    pub scope: Option<String>,
}

/// The outgoing side as asked; a preset fills its endpoints and scopes.
#[derive(Debug, Clone, Default)]
pub struct OutgoingInput {
    pub preset: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    pub scopes: Option<String>,
}

/// A link to create, or the changes to one (`url` only on create: relocate moves a link).
#[derive(Debug, Clone, Default)]
pub struct LinkInput {
    pub name: Option<String>,
    pub url: Option<String>,
    pub incoming: Option<IncomingInput>,
    pub outgoing: Option<OutgoingInput>,
}

/// What deleting a link did here, and what is left for the remote's administrator.
pub struct Deleted {
    pub link: AppLink,
    pub connected_users: i64,
    pub revoked_at_remote: usize,
    pub remains_on_remote: Vec<String>,
}

/// A link's credentials, decrypted for one audited view.
pub struct Credentials {
    pub link: AppLink,
    /// The incoming client and its secret.
    pub incoming: Option<(OAuthClient, Option<String>)>,
    /// The outgoing client id and the redirect URI the remote must accept.
    pub outgoing: Option<(String, String)>,
}

/// The remote application as people are told (name and version).
pub fn application_name(l: &AppLink) -> String {
    crate::domain::applinks::application_label(l.app_name.as_deref(), l.app_version.as_deref())
}

/// Which way the link works, from the sides it has.
pub fn direction(l: &AppLink) -> crate::domain::applinks::Direction {
    crate::domain::applinks::Direction::of(l.incoming_client.is_some(), l.outgoing().is_some())
}

/// The last Test connection result kept with the link.
pub fn last_status(l: &AppLink) -> Option<LinkStatus> {
    l.last_status
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
}

/// What the audit log says of a link: its target, and its name and URL followed by `extra`.
fn audit_words(link_id: &str, f: &LinkFields, extra: &str) -> (String, String) {
    (
        format!("applink:{link_id}"),
        format!("{} ({}){extra}", f.name, f.url),
    )
}

/// Records something `who` did with a link that the link's own row does not keep (a view of
/// its credentials, a pairing step).
pub(crate) async fn record(host: &Host<'_>, who: &Principal<'_>, action: &str, l: &AppLink) {
    let (target, details) = audit_words(&l.link_id, &l.fields(), "");
    host.audit(who, action, &target, &details).await;
}

/// The link `id`, for a system administrator.
pub async fn find(host: &Host<'_>, who: &Principal<'_>, id: &str) -> HostResult<AppLink> {
    who.check(Action::AdminSystem)?;
    host.store
        .find_link(id)
        .await?
        .ok_or_else(|| HostError::NotFound(Missing::Link(id.into())))
}

pub async fn list(host: &Host<'_>, who: &Principal<'_>) -> HostResult<Vec<AppLink>> {
    who.check(Action::AdminSystem)?;
    Ok(host.store.list_links().await?)
}

/// The link's incoming OAuth client, if it has that side.
pub async fn incoming_of(host: &Host<'_>, l: &AppLink) -> HostResult<Option<OAuthClient>> {
    match l.incoming_client {
        Some(id) => Ok(host.store.find_oauth_client_by_id(id).await?),
        None => Ok(None),
    }
}

/// A URL that may not be used or a remote that failed, naming the input when there is one.
fn outbound(
    field: Option<&'static str>,
) -> impl Fn(crate::services::outbound::OutboundError) -> HostError {
    move |error| HostError::Outbound { field, error }
}

/// Checks a URL a person typed and says what answers there. A redirect is refused: Junction
/// never follows one, so a link cannot be steered to an address other than the one entered.
pub async fn discover(host: &Host<'_>, who: &Principal<'_>, raw: &str) -> HostResult<Discovery> {
    who.check(Action::AdminSystem)?;
    discover_url(host, raw).await
}

async fn discover_url(host: &Host<'_>, raw: &str) -> HostResult<Discovery> {
    let url = normalize_base_url(raw).map_err(|m| HostError::invalid("url", m))?;
    host.links
        .outbound
        .check_url(&url)
        .map_err(outbound(Some("url")))?;
    let d = host
        .links
        .discover(&url)
        .await
        .map_err(outbound(Some("url")))?;
    if let Some(loc) = &d.redirected_to {
        return Err(HostError::invalid(
            "url",
            format!("{url} redirects to {loc}. Junction does not follow redirects; enter the address of the application itself."),
        ));
    }
    Ok(d)
}

fn required(v: &Option<String>, field: &'static str, what: &str) -> HostResult<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or_else(|| HostError::invalid(field, format!("{what} is required.")))
}

/// The outgoing side from what was asked; `current` keeps the stored secret when none is sent.
fn outgoing_from(
    host: &Host<'_>,
    b: &OutgoingInput,
    current: Option<&Outgoing>,
) -> HostResult<Outgoing> {
    let preset_id = b.preset.clone().unwrap_or_else(|| "custom".into());
    let p = preset(&preset_id)
        .filter(|_| preset_id != "junction")
        .ok_or_else(|| {
            HostError::invalid(
                "outgoing.preset",
                "preset must be google, microsoft or custom.",
            )
        })?;
    let or_preset = |v: &Option<String>, fixed: &str| {
        v.clone()
            .filter(|s| !s.trim().is_empty())
            .or_else(|| (!fixed.is_empty()).then(|| fixed.to_string()))
    };
    let authorize_url = required(
        &or_preset(&b.authorization_endpoint, p.authorize_url),
        "outgoing.authorizationEndpoint",
        "The authorization endpoint",
    )?;
    let token_url = required(
        &or_preset(&b.token_endpoint, p.token_url),
        "outgoing.tokenEndpoint",
        "The token endpoint",
    )?;
    for (field, u) in [
        ("outgoing.authorizationEndpoint", &authorize_url),
        ("outgoing.tokenEndpoint", &token_url),
    ] {
        host.links
            .outbound
            .check_url(u)
            .map_err(outbound(Some(field)))?;
    }
    let secret = match (b.client_secret.as_deref().map(str::trim), current) {
        (Some(s), _) if !s.is_empty() => host.master_key.encrypt(s),
        (_, Some(c)) => c.secret_encrypted.clone(),
        _ => {
            return Err(HostError::invalid(
                "outgoing.clientSecret",
                "The client secret is required.",
            ))
        }
    };
    Ok(Outgoing {
        preset: preset_id,
        client_id: required(&b.client_id, "outgoing.clientId", "The client ID")?,
        secret_encrypted: secret,
        authorize_url,
        token_url,
        scopes: required(
            &or_preset(&b.scopes, p.scopes),
            "outgoing.scopes",
            "At least one scope",
        )?,
    })
}

/// Creates a link; returns it with the incoming client's secret (shown this once), if any.
/// The URL is checked and the remote identified first; a failure leaves nothing behind.
pub async fn create(
    host: &Host<'_>,
    who: &Principal<'_>,
    b: &LinkInput,
) -> HostResult<(AppLink, Option<String>)> {
    who.check(Action::AdminCredentials)?;
    let raw = required(&b.url, "url", "The application's URL")?;
    if b.incoming.is_none() && b.outgoing.is_none() {
        return Err(HostError::invalid(
            "incoming",
            "Say how the application connects: incoming (it calls Junction), outgoing (Junction calls it), or both.",
        ));
    }
    let outgoing = b
        .outgoing
        .as_ref()
        .map(|o| outgoing_from(host, o, None))
        .transpose()?;
    let d = discover_url(host, &raw).await?;
    let name = match &b.name {
        Some(n) => DisplayName::parse("name", n)?.as_str().to_string(),
        None => default_link_name(d.manifest.as_ref().map(|m| m.name.as_str()), &d.url),
    };
    let mut secret = None;
    let incoming_client = match &b.incoming {
        Some(i) => {
            let (c, s) = host
                .links
                .create_incoming_client(&name, &i.redirects, i.scope.as_deref())
                .await?;
            secret = Some(s);
            Some(c.id)
        }
        None => None,
    };
    let manifest = d.manifest.as_ref();
    let fields = LinkFields {
        name,
        url: d.url.clone(),
        type_id: manifest.map_or("generic".into(), |m| m.type_id.clone()),
        app_name: manifest.map(|m| m.name.clone()),
        app_version: manifest.map(|m| m.version.clone()),
        incoming_client,
        outgoing,
    };
    let link_id = crate::secret::new_uuid();
    let (target, details) = audit_words(&link_id, &fields, "");
    let audit = who.audit("applinks.link_created", &target, &details);
    let link = host
        .links
        .create_link(&link_id, &fields, Some(&audit))
        .await?;
    Ok((link, secret))
}

/// Changes the name, the incoming side (scope, redirects) and the outgoing settings (the
/// secret kept unless a new one is sent). The URL changes only by relocating.
pub async fn update(
    host: &Host<'_>,
    who: &Principal<'_>,
    id: &str,
    b: &LinkInput,
) -> HostResult<AppLink> {
    let link = find(host, who, id).await?;
    if b.incoming.is_some() || b.outgoing.is_some() {
        // Either side's settings are the link's credentials (a new incoming client, a remote
        // secret Junction acts with).
        who.check(Action::AdminCredentials)?;
    }
    if b.url
        .as_deref()
        .is_some_and(|u| normalize_base_url(u).ok().as_deref() != Some(link.url.as_str()))
    {
        return Err(HostError::invalid(
            "url",
            "Use relocate to change a link's URL; it keeps every user's authorization.",
        ));
    }
    let mut fields = link.fields();
    if let Some(n) = &b.name {
        fields.name = DisplayName::parse("name", n)?.as_str().to_string();
    }
    if let Some(o) = &b.outgoing {
        fields.outgoing = Some(outgoing_from(host, o, link.outgoing().as_ref())?);
    }
    // The incoming client is changed first: it is the side that can refuse (redirect rules).
    let renamed = |redirects: Option<Vec<String>>, scope: Option<String>| ClientInput {
        name: Some(fields.name.clone()),
        redirects,
        scope,
        confidential: None,
    };
    match (&b.incoming, incoming_of(host, &link).await?) {
        (Some(i), Some(c)) => {
            let input = renamed(Some(i.redirects.clone()), i.scope.clone());
            oauth_clients::update(host, who, &c.client_id, &input).await?;
        }
        (None, Some(c)) if c.name != fields.name => {
            let input = renamed(None, None);
            oauth_clients::update(host, who, &c.client_id, &input).await?;
        }
        (Some(i), None) => {
            let (c, _) = host
                .links
                .create_incoming_client(&fields.name, &i.redirects, i.scope.as_deref())
                .await?;
            fields.incoming_client = Some(c.id);
        }
        _ => {}
    }
    let (target, details) = audit_words(&link.link_id, &fields, "");
    let audit = who.audit("applinks.link_updated", &target, &details);
    Ok(host.links.save_link(&link, &fields, Some(&audit)).await?)
}

/// A new URL, same link, same id, same people's authorizations. The incoming side's redirect
/// URLs move with it.
pub async fn relocate(
    host: &Host<'_>,
    who: &Principal<'_>,
    id: &str,
    raw_url: &str,
) -> HostResult<AppLink> {
    let link = find(host, who, id).await?;
    let url = normalize_base_url(raw_url).map_err(|m| HostError::invalid("url", m))?;
    host.links
        .outbound
        .check_url(&url)
        .map_err(outbound(None))?;
    if let Some(c) = incoming_of(host, &link).await? {
        let moved: Vec<String> = c
            .redirect_list()
            .into_iter()
            .map(|r| match r.strip_prefix(&link.url) {
                Some(rest) => format!("{url}{rest}"),
                None => r,
            })
            .collect();
        let input = ClientInput {
            redirects: Some(moved),
            ..ClientInput::default()
        };
        oauth_clients::update(host, who, &c.client_id, &input).await?;
    }
    let mut fields = link.fields();
    fields.url = url.clone();
    let moved = format!(" moved from {}", link.url);
    let (target, details) = audit_words(&link.link_id, &fields, &moved);
    let audit = who.audit("applinks.link_relocated", &target, &details);
    Ok(host.links.save_link(&link, &fields, Some(&audit)).await?)
}

/// Revokes at the remote what people authorized Junction to do there (where it offers RFC
/// 7009), then removes the link, its incoming client (every token issued to the remote dies)
/// and every person's tokens; says what is left on the remote side.
pub async fn delete(host: &Host<'_>, who: &Principal<'_>, id: &str) -> HostResult<Deleted> {
    let link = find(host, who, id).await?;
    let revoked_there = host.links.revoke_remote_tokens(&link).await;
    let (target, details) = audit_words(&link.link_id, &link.fields(), "");
    let audit = who.audit("applinks.link_deleted", &target, &details);
    let connected = host.store.delete_link(&link, Some(&audit)).await?;
    let mut remains = Vec::new();
    if let Some(o) = link.outgoing() {
        let left = (connected as usize).saturating_sub(revoked_there);
        remains.push(format!(
            "On {}: the incoming link (client ID {}) Junction used to call it{}. Delete that link there.",
            link.url,
            o.client_id,
            if left > 0 {
                format!(", and the authorizations {left} Junction user(s) granted there, which it did not confirm revoking")
            } else {
                String::new()
            }
        ));
    }
    if link.incoming_client.is_some() {
        remains.push(format!(
            "On {}: its outgoing link to Junction; it will now fail with invalid_client. Delete it there.",
            link.url
        ));
    }
    Ok(Deleted {
        link,
        connected_users: connected,
        revoked_at_remote: revoked_there,
        remains_on_remote: remains,
    })
}

/// The incoming client's ID and secret and the outgoing client ID, decrypted. Every view is
/// audited.
pub async fn credentials(
    host: &Host<'_>,
    who: &Principal<'_>,
    id: &str,
) -> HostResult<Credentials> {
    who.check(Action::AdminCredentials)?;
    let link = find(host, who, id).await?;
    let incoming = match incoming_of(host, &link).await? {
        Some(c) => {
            let secret = oauth_clients::secret_of(host, &c)?;
            Some((c, secret))
        }
        None => None,
    };
    let outgoing = link.outgoing().map(|o| {
        (
            o.client_id.clone(),
            redirect_uri(host.base_url, &o.authorize_url),
        )
    });
    record(host, who, "applinks.credentials_viewed", &link).await;
    Ok(Credentials {
        link,
        incoming,
        outgoing,
    })
}

/// Runs Test connection and keeps the result as the link's last status.
pub async fn test(
    host: &Host<'_>,
    who: &Principal<'_>,
    id: &str,
) -> HostResult<(LinkStatus, AppLink)> {
    let link = find(host, who, id).await?;
    test_link(host, &link).await
}

/// Test connection on a link already found (pairing runs it on the link it just made).
pub async fn test_link(host: &Host<'_>, link: &AppLink) -> HostResult<(LinkStatus, AppLink)> {
    let status = host.links.test_connection(link).await;
    let link = keep_status(host, link, &status).await?;
    Ok((status, link))
}

/// Keeps a status as the link's last one (the admin page shows it); returns the link as it is.
pub async fn keep_status(host: &Host<'_>, link: &AppLink, s: &LinkStatus) -> HostResult<AppLink> {
    let text = serde_json::to_string(s).map_err(|e| HostError::Internal(e.to_string()))?;
    Ok(host.store.set_link_status(link.id, &text).await?)
}

/// Starts the interactive test: where the administrator's browser goes to authorize.
pub async fn start_test_authorization(
    host: &Host<'_>,
    who: &Principal<'_>,
    id: &str,
) -> HostResult<String> {
    let link = find(host, who, id).await?;
    let me = who.user()?;
    Ok(host.links.start_flow(&link, me.id, PURPOSE_TEST).await?)
}

/// Starts pairing with the Junction server at `url` (scope of the incoming side, default
/// REPO_READ); returns the link and where the administrator's browser goes next.
pub async fn begin_pairing(
    host: &Host<'_>,
    who: &Principal<'_>,
    url: &str,
    scope: Option<&str>,
) -> HostResult<(AppLink, String)> {
    who.check(Action::AdminCredentials)?;
    let peer = discover_url(host, url).await?;
    let scope = scope.unwrap_or(DEFAULT_INCOMING_SCOPE);
    let (link, next) = host.links.begin_pairing(&peer, scope).await?;
    record(host, who, "applinks.pairing_started", &link).await;
    Ok((link, next))
}

/// On the second server: approves a pairing the first one started (`pairing`, from `peer_url`)
/// with `scope` for the first one's calls; tests this side. Returns the link here, the peer's
/// link id and the peer's base URL (where the administrator's browser goes back).
pub async fn approve_pairing(
    host: &Host<'_>,
    who: &Principal<'_>,
    peer_url: &str,
    pairing: &str,
    scope: &str,
) -> HostResult<(AppLink, String, String)> {
    who.check(Action::AdminCredentials)?;
    let peer = discover_url(host, peer_url).await?;
    let (link, peer_link) = host.links.approve_pairing(&peer, pairing, scope).await?;
    record(host, who, "applinks.link_paired", &link).await;
    let (_, link) = test_link(host, &link).await?;
    Ok((link, peer_link, peer.url))
}
