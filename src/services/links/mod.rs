//! Application links as a service: what Junction does *to* remotes. Discovery (manifest, OAuth
//! metadata), Junction as an OAuth 2.0 client (connect, refresh), calls through a link as a
//! user, Test connection, and the two-way pairing back channel. Every remote request goes
//! through the one SSRF-guarded client (`services::outbound`).

pub mod call;
pub mod diagnose;
pub mod discover;
pub mod flow;
pub mod manage;
pub mod pairing;
pub mod remote_oauth;

use crate::clock::SharedClock;
use crate::crypto::MasterKey;
use crate::domain::applinks::{Manifest, AUTH_OAUTH};
use crate::services::outbound::Outbound;
use crate::store::Store;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// One async lock per (link, user) connection; at most one entry per connection ever made.
type RefreshLocks = Arc<Mutex<HashMap<(i64, i64), Arc<tokio::sync::Mutex<()>>>>>;

#[derive(Clone)]
pub struct Links {
    pub store: Store,
    pub outbound: Outbound,
    pub key: MasterKey,
    pub clock: SharedClock,
    /// This server's public base URL (no trailing slash).
    pub base_url: String,
    /// One refresh at a time per (link, user) on this node: with rotating refresh tokens, two
    /// concurrent refreshes would make the second look like a revocation.
    refreshing: RefreshLocks,
    server_id: Arc<tokio::sync::OnceCell<String>>,
}

impl Links {
    pub fn new(
        store: Store,
        outbound: Outbound,
        key: MasterKey,
        clock: SharedClock,
        base_url: String,
    ) -> Self {
        Self {
            store,
            outbound,
            key,
            clock,
            base_url,
            refreshing: Default::default(),
            server_id: Default::default(),
        }
    }

    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    fn refresh_lock(&self, link: i64, user: i64) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.refreshing.lock().expect("lock is never poisoned");
        map.entry((link, user)).or_default().clone()
    }

    /// What this server says about itself at `/rest/applinks/1.0/manifest`.
    pub async fn manifest(&self) -> Result<Manifest, crate::store::StoreError> {
        let id = self
            .server_id
            .get_or_try_init(|| async { self.store.server_id(&crate::secret::new_uuid()).await })
            .await?;
        Ok(Manifest {
            id: id.clone(),
            name: "Junction".into(),
            type_id: "junction".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            build_number: 1,
            applinks_version: "9.0.0".into(),
            inbound_authentication_types: vec![AUTH_OAUTH.into()],
            outbound_authentication_types: vec![AUTH_OAUTH.into()],
            public_signup: false,
            url: self.base_url.clone(),
            icon_url: None,
        })
    }

    /// Decrypts a secret stored with the master key (client secrets, people's remote tokens).
    pub(crate) fn reveal(&self, ciphertext: &str) -> Result<String, LinkError> {
        self.key
            .decrypt(ciphertext)
            .map_err(|e| LinkError::Internal(format!("a stored secret cannot be decrypted: {e}")))
    }

    /// A token response as stored: access and refresh token encrypted, expiry on our clock.
    pub(crate) fn sealed(
        &self,
        t: &remote_oauth::TokenSet,
    ) -> (String, Option<String>, Option<i64>) {
        (
            self.key.encrypt(&t.access_token),
            t.refresh_token.as_ref().map(|r| self.key.encrypt(r)),
            t.expires_in.map(|s| self.now() + s.max(0) * 1000),
        )
    }

    /// This server's OAuth 2.0 authorization endpoint, as peers see it.
    pub fn authorize_url(&self) -> String {
        format!("{}/rest/oauth2/latest/authorize", self.base_url)
    }

    pub fn token_url(&self) -> String {
        format!("{}/rest/oauth2/latest/token", self.base_url)
    }
}

/// Why an operation on a link's outgoing side failed, in words for the person who asked.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("This link has no outgoing side: Junction holds no credentials to call {0}.")]
    NoOutgoing(String),
    #[error("Connect your account to {0} first (Account → Connected applications).")]
    NotConnected(String),
    #[error(
        "{0} no longer accepts your authorization: it was revoked or expired there. Connect again."
    )]
    Revoked(String),
    #[error("This authorization has expired, was already completed, or was started by someone else. Start again.")]
    FlowExpired,
    #[error("{0}")]
    Remote(#[from] remote_oauth::RemoteOAuthError),
    #[error("{0}")]
    Network(#[from] crate::services::outbound::OutboundError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("Another application link or incoming client is already named {0:?}.")]
    Duplicate(String),
    /// Input that cannot be used: the field and a sentence.
    #[error("{1}")]
    Invalid(&'static str, String),
    #[error("{0}")]
    Internal(String),
}
