//! Two-way links between two Junction servers in one guided flow.
//!
//! 1. On A, an admin enters B's URL. A makes a pending link and a pairing: an id and a 256-bit
//!    secret (stored encrypted, single-use, 10 minutes), and sends the browser to B with both.
//! 2. On B, B's admin signs in and approves. B creates an incoming client for A (its redirect
//!    URI is derived from B's authorization endpoint, so no placeholder), then calls A over the
//!    back channel: `POST A/rest/applinks/latest/pairing/{id}`, its body HMAC-signed with the
//!    pairing secret and timestamped. The secret itself never crosses the back channel.
//! 3. A checks signature, time and that the pairing is unused, marks it used, creates its
//!    incoming client for B, stores B's credentials as its link's outgoing side, and answers
//!    with its own credentials, signed the same way.
//! 4. B stores A's credentials as the outgoing side of its new link; both sides then run Test
//!    connection. A failure at any step removes what that step's side had created.

use super::discover::Discovery;
use super::{LinkError, Links};
use crate::domain::applinks::{
    default_link_name, normalize_base_url, pairing_signature, redirect_uri,
};
use crate::secret::{constant_time_eq, new_token, TokenKind};
use crate::store::{AppLink, LinkFields, Outgoing, Pairing};
use reqwest::Method;
use serde::{Deserialize, Serialize};

const PAIRING_TTL_MS: i64 = 10 * 60 * 1000;
/// A signed message older or newer than this is refused (replay, clock skew).
const SIGNATURE_WINDOW_MS: i64 = 5 * 60 * 1000;
pub const TIMESTAMP_HEADER: &str = "x-junction-pairing-timestamp";
pub const SIGNATURE_HEADER: &str = "x-junction-pairing-signature";

/// What each side tells the other: who it is and the credentials of the incoming link it made.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PairingMessage {
    pub url: String,
    pub name: String,
    pub version: String,
    pub link_id: String,
    pub client_id: String,
    pub client_secret: String,
    pub authorize_url: String,
    pub token_url: String,
    pub scope: String,
}

/// A signed message: body, timestamp and signature.
pub struct Signed {
    pub body: Vec<u8>,
    pub timestamp: i64,
    pub signature: String,
}

fn sign(secret: &str, now: i64, msg: &PairingMessage) -> Signed {
    let body = serde_json::to_vec(msg).expect("serialisable");
    Signed {
        signature: pairing_signature(secret, now, &body),
        timestamp: now,
        body,
    }
}

impl Links {
    /// Step 1, on A: returns the pending link and where to send the admin's browser.
    pub async fn begin_pairing(
        &self,
        peer: &Discovery,
        scope: &str,
    ) -> Result<(AppLink, String), LinkError> {
        let manifest = peer.manifest.as_ref().filter(|_| peer.kind == "junction").ok_or_else(|| {
            LinkError::Invalid(
                "url",
                format!(
                    "{} is not a Junction server{}; create the incoming and outgoing links separately.",
                    peer.url,
                    peer.manifest_note.as_deref().map(|n| format!(" ({})", n.trim_end_matches('.'))).unwrap_or_default()
                ),
            )
        })?;
        crate::domain::oauth2::ScopeSet::parse(scope)
            .map_err(|m| LinkError::Invalid("scope", m))?;
        let link = self
            .create_link(
                &crate::secret::new_uuid(),
                &LinkFields {
                    name: default_link_name(Some(&manifest.name), &peer.url),
                    url: peer.url.clone(),
                    type_id: "junction".into(),
                    app_name: Some(manifest.name.clone()),
                    app_version: Some(manifest.version.clone()),
                    incoming_client: None,
                    outgoing: None,
                },
                None,
            )
            .await?;
        let pairing_id = new_token(TokenKind::Csrf);
        let secret = new_token(TokenKind::Csrf);
        self.store
            .create_pairing(&Pairing {
                pairing_id: pairing_id.clone(),
                secret_encrypted: self.key.encrypt(&secret),
                link_id: link.id,
                peer_url: peer.url.clone(),
                scope: scope.to_string(),
                expires_at: self.now() + PAIRING_TTL_MS,
                used_at: None,
            })
            .await?;
        let mut go = url::Url::parse(&format!("{}/admin/application-links/pair", peer.url))
            .map_err(|_| LinkError::Invalid("url", "the peer's URL is invalid".into()))?;
        go.query_pairs_mut()
            .append_pair("peer", &self.base_url)
            .append_pair("pairing", &format!("{pairing_id}.{secret}"));
        Ok((link, go.into()))
    }

    /// Steps 2 and 4, on B after its admin approved: returns B's new link and A's link id.
    pub async fn approve_pairing(
        &self,
        peer: &Discovery,
        pairing: &str,
        scope: &str,
    ) -> Result<(AppLink, String), LinkError> {
        let (pairing_id, secret) = pairing.split_once('.').ok_or_else(|| {
            LinkError::Invalid(
                "pairing",
                "The pairing request is malformed; start again on the other server.".into(),
            )
        })?;
        let manifest = peer
            .manifest
            .clone()
            .filter(|_| peer.kind == "junction")
            .ok_or_else(|| {
                LinkError::Invalid("peer", format!("{} is not a Junction server.", peer.url))
            })?;
        let name = default_link_name(Some(&manifest.name), &peer.url);
        let (client, client_secret) = self
            .create_incoming_client(
                &name,
                &[redirect_uri(&peer.url, &self.authorize_url())],
                Some(scope),
            )
            .await?;
        let ours = self
            .local_manifest_message(&client.client_id, &client_secret, &client.scope)
            .await?;
        let answer = match self
            .send_pairing(&peer.url, pairing_id, secret, &ours)
            .await
        {
            Ok(a) => a,
            Err(e) => {
                self.drop_client(Some(client.id)).await;
                return Err(e);
            }
        };
        // It becomes part of the URL the admin is sent back to.
        let uuid_like = answer.link_id.len() == 36
            && answer
                .link_id
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == '-');
        if !uuid_like {
            self.drop_client(Some(client.id)).await;
            return Err(LinkError::Invalid(
                "pairing",
                format!("{} answered the pairing with an invalid link id.", peer.url),
            ));
        }
        let link = self
            .create_link(
                &crate::secret::new_uuid(),
                &LinkFields {
                    name,
                    url: peer.url.clone(),
                    type_id: "junction".into(),
                    app_name: Some(manifest.name),
                    app_version: Some(manifest.version),
                    incoming_client: Some(client.id),
                    outgoing: Some(Outgoing {
                        preset: "junction".into(),
                        client_id: answer.client_id,
                        secret_encrypted: self.key.encrypt(&answer.client_secret),
                        authorize_url: answer.authorize_url,
                        token_url: answer.token_url,
                        scopes: answer.scope,
                    }),
                },
                None,
            )
            .await?;
        Ok((link, answer.link_id))
    }

    async fn local_manifest_message(
        &self,
        client_id: &str,
        client_secret: &str,
        scope: &str,
    ) -> Result<PairingMessage, LinkError> {
        let m = self.manifest().await?;
        Ok(PairingMessage {
            url: self.base_url.clone(),
            name: m.name,
            version: m.version,
            link_id: String::new(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            authorize_url: self.authorize_url(),
            token_url: self.token_url(),
            scope: scope.into(),
        })
    }

    async fn send_pairing(
        &self,
        peer: &str,
        pairing_id: &str,
        secret: &str,
        msg: &PairingMessage,
    ) -> Result<PairingMessage, LinkError> {
        let signed = sign(secret, self.now(), msg);
        let url = format!(
            "{peer}/rest/applinks/latest/pairing/{}",
            url::form_urlencoded::byte_serialize(pairing_id.as_bytes()).collect::<String>()
        );
        let req = self
            .outbound
            .request(Method::POST, &url)?
            .header("content-type", "application/json")
            .header(TIMESTAMP_HEADER, signed.timestamp.to_string())
            .header(SIGNATURE_HEADER, signed.signature)
            .body(signed.body);
        let r = self.outbound.send(req).await?;
        if !r.is_success() {
            let said = r
                .json()
                .and_then(|j| j["errors"][0]["message"].as_str().map(str::to_string))
                .unwrap_or_else(|| format!("HTTP {}", r.status));
            return Err(LinkError::Invalid(
                "pairing",
                format!("{peer} refused the pairing: {said}"),
            ));
        }
        let ts = r
            .header(TIMESTAMP_HEADER)
            .and_then(|t| t.parse::<i64>().ok());
        let sig = r.header(SIGNATURE_HEADER).unwrap_or_default();
        let valid = ts.is_some_and(|ts| {
            (ts - self.now()).abs() <= SIGNATURE_WINDOW_MS
                && constant_time_eq(&pairing_signature(secret, ts, &r.body), sig)
        });
        if !valid {
            return Err(LinkError::Invalid(
                "pairing",
                format!("{peer} answered without a valid pairing signature."),
            ));
        }
        serde_json::from_slice(&r.body).map_err(|_| {
            LinkError::Invalid(
                "pairing",
                format!("{peer} answered the pairing with something unreadable."),
            )
        })
    }

    /// Step 3, on A: the peer's signed message in, ours out.
    pub async fn complete_pairing(
        &self,
        pairing_id: &str,
        timestamp: Option<i64>,
        signature: &str,
        body: &[u8],
    ) -> Result<(Signed, AppLink), LinkError> {
        let refused = || {
            LinkError::Invalid("pairing", "This pairing is unknown, expired, already used, or not signed with its secret. Start again.".into())
        };
        let pairing = self
            .store
            .find_pairing(pairing_id)
            .await?
            .ok_or_else(refused)?;
        let secret = self.reveal(&pairing.secret_encrypted)?;
        let ts = timestamp.ok_or_else(refused)?;
        if (ts - self.now()).abs() > SIGNATURE_WINDOW_MS
            || !constant_time_eq(&pairing_signature(&secret, ts, body), signature)
        {
            return Err(refused());
        }
        let msg: PairingMessage = serde_json::from_slice(body).map_err(|_| {
            LinkError::Invalid("pairing", "The pairing message is not valid JSON.".into())
        })?;
        let peer_url = normalize_base_url(&msg.url).map_err(|m| LinkError::Invalid("url", m))?;
        if peer_url != pairing.peer_url {
            return Err(LinkError::Invalid(
                "url",
                format!(
                    "This pairing was started for {}, not {peer_url}.",
                    pairing.peer_url
                ),
            ));
        }
        if !self.store.use_pairing(pairing_id).await? {
            return Err(refused());
        }
        let link = self
            .store
            .find_link_by_id(pairing.link_id)
            .await?
            .ok_or_else(refused)?;
        let (client, client_secret) = self
            .create_incoming_client(
                &link.name,
                &[redirect_uri(&peer_url, &self.authorize_url())],
                Some(&pairing.scope),
            )
            .await?;
        let fields = LinkFields {
            incoming_client: Some(client.id),
            outgoing: Some(Outgoing {
                preset: "junction".into(),
                client_id: msg.client_id,
                secret_encrypted: self.key.encrypt(&msg.client_secret),
                authorize_url: msg.authorize_url,
                token_url: msg.token_url,
                scopes: msg.scope,
            }),
            app_name: Some(msg.name),
            app_version: Some(msg.version),
            ..link.fields()
        };
        let link = self.save_link(&link, &fields, None).await?;
        let mut ours = self
            .local_manifest_message(&client.client_id, &client_secret, &client.scope)
            .await?;
        ours.link_id = link.link_id.clone();
        Ok((sign(&secret, self.now(), &ours), link))
    }
}
