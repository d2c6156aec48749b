//! What every handler can reach. Built once per server; tests build one per test server.

use super::client_addr::ClientAddress;
use crate::clock::SharedClock;
use crate::config::Config;
use crate::crypto::MasterKey;
use crate::services::host::Host;
use crate::services::links::Links;
use crate::services::outbound::Outbound;
use crate::services::passwords::Passwords;
use crate::services::sign_in::SignIn;
use crate::services::webhooks::payload::CloudPayloads;
use crate::services::webhooks::Webhooks;
use crate::store::{Account, Emit, Store};
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub store: Store,
    pub config: Config,
    pub clock: SharedClock,
    /// Public base URL without a trailing slash; links in responses are built from it.
    pub base_url: String,
    pub master_key: MasterKey,
    /// Application links' outgoing side: remote calls through the SSRF-guarded client.
    pub links: Links,
    /// Webhook delivery (the dispatcher runs once the server serves).
    pub webhooks: Webhooks,
    /// Password hashing, bounded (see `services/passwords.rs`).
    pub passwords: Passwords,
    /// Checking passwords, known people first (see `services/sign_in/mod.rs`).
    pub sign_in: SignIn,
    /// Who the client is, behind trusted proxies too.
    pub client_address: ClientAddress,
    /// Bare repositories on disk and git's server programs.
    pub git: crate::services::git::GitRepos,
}

impl AppState {
    pub fn new(
        store: Store,
        config: Config,
        clock: SharedClock,
        base_url: String,
        master_key: MasterKey,
        server_id: String,
    ) -> anyhow::Result<Self> {
        // Fails only if the TLS backend cannot start; the settings were validated with the config.
        let outbound = Outbound::new(&config.outbound)?;
        let links = Links::new(
            store.clone(),
            outbound,
            master_key.clone(),
            clock.clone(),
            base_url.clone(),
        );
        let webhooks = Webhooks::new(
            store.clone(),
            clock.clone(),
            master_key.clone(),
            &config.outbound,
            config.webhooks.clone(),
            CloudPayloads::new(base_url.clone(), server_id),
        )?;
        let client_address = ClientAddress::new(&config.security.trusted_proxies);
        let passwords = Passwords::new(
            config.security.password_hash_threads as usize,
            std::time::Duration::from_millis(u64::from(config.security.password_hash_wait_ms)),
        );
        let git = crate::services::git::GitRepos::open(&config.storage.repositories())?;
        Ok(Self(Arc::new(Inner {
            git,
            sign_in: SignIn::new(passwords.clone()),
            passwords,
            client_address,
            links,
            webhooks,
            store,
            config,
            clock,
            base_url,
            master_key,
        })))
    }
    /// The host service layer, as this server's surfaces call it.
    pub fn host(&self) -> Host<'_> {
        Host {
            store: &self.store,
            events: self.webhooks.payloads(),
            sign_in: &self.sign_in,
            passwords: &self.passwords,
            security: &self.config.security,
            webhooks: &self.webhooks,
            master_key: &self.master_key,
            links: &self.links,
            base_url: &self.base_url,
            git: &self.git,
        }
    }
    /// How a change made by `actor` writes its events.
    pub fn emit<'a>(&'a self, actor: &'a Account) -> Emit<'a> {
        Emit {
            actor,
            render: self.webhooks.payloads(),
        }
    }
    /// Session cookies carry `Secure` when the server is reached over https.
    pub fn secure_cookies(&self) -> bool {
        self.base_url.starts_with("https://")
    }
    pub fn session_idle_ms(&self) -> i64 {
        i64::from(self.config.security.session_idle_hours) * 3_600_000
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
