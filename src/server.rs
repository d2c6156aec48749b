//! Building and running a Junction server from a configuration. The binary and the tests go
//! through the same `Server::build`, which binds its listeners first, so tests can ask for port 0
//! and read the address back.

use crate::clock::SharedClock;
use crate::config::Config;
use crate::crypto::MasterKey;
use crate::domain::GlobalPermission;
use crate::secret::Secret;
use crate::services::passwords;
use crate::store::Store;
use crate::web::{self, metrics::Metrics, state::AppState};
use anyhow::Context;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// How the first administrator gets a password when the database has no users yet.
#[derive(Debug, Clone, Default)]
pub struct Bootstrap {
    /// From `JUNCTION_ADMIN_PASSWORD`; when absent, a random one is printed once.
    pub admin_password: Option<Secret>,
}

pub struct Server {
    pub addr: SocketAddr,
    pub metrics_addr: Option<SocketAddr>,
    pub state: AppState,
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    metrics: Arc<Metrics>,
}

/// Connects to the configured database and applies pending migrations.
pub async fn open_store(config: &Config, clock: SharedClock) -> anyhow::Result<Store> {
    let url = config.database_url();
    let store = Store::connect(&url, config.database.max_connections, clock)
        .await
        .with_context(|| {
            format!(
                "cannot open the database configured in database.url ({})",
                redact(&url)
            )
        })?;
    store.migrate().await.context("database migration failed")?;
    Ok(store)
}

/// Hides a password in a database URL for messages.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// The master key from configuration, or the key file in the data directory.
pub fn master_key(config: &Config) -> anyhow::Result<MasterKey> {
    if config.security.master_key.is_empty() {
        MasterKey::load_or_create(&config.storage.data_dir.join("master.key"))
    } else {
        MasterKey::from_base64(config.security.master_key.expose())
            .context("invalid configuration: security.master_key")
    }
}

impl Server {
    pub async fn build(
        config: Config,
        clock: SharedClock,
        bootstrap: Bootstrap,
    ) -> anyhow::Result<Self> {
        let store = open_store(&config, clock.clone()).await?;
        let key = master_key(&config)?;
        let listener = TcpListener::bind(config.server.listen)
            .await
            .with_context(|| {
                format!("cannot listen on {} (server.listen)", config.server.listen)
            })?;
        let addr = listener.local_addr()?;
        let metrics_listener = match config.metrics.listen.as_str() {
            "" => None,
            a => Some(
                TcpListener::bind(a)
                    .await
                    .with_context(|| format!("cannot listen on {a} (metrics.listen)"))?,
            ),
        };
        let metrics_addr = metrics_listener
            .as_ref()
            .map(|l| l.local_addr())
            .transpose()?;
        // Only once the listeners are bound: a start that fails for a taken port must not have
        // created (and printed the password of) an administrator nobody can then sign in as.
        create_first_admin(&store, &bootstrap).await?;
        let base_url = config.base_url(addr);
        let server_id = store.server_id(&crate::secret::new_uuid()).await?;
        let state = AppState::new(store, config, clock, base_url, key, server_id)
            .context("cannot start the outbound HTTP client")?;
        // Pushes a stopped server ran but never recorded get their events before anyone is
        // served, so no client sees refs whose event is still missing.
        crate::services::host::pushes::reconcile_pending(&state.host())
            .await
            .map_err(|e| anyhow::anyhow!("cannot record unfinished pushes: {e:?}"))?;
        Ok(Self {
            addr,
            metrics_addr,
            state,
            listener,
            metrics_listener,
            metrics: Arc::new(Metrics::default()),
        })
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests and closes the database.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let store = self.state.store.clone();
        if let Some(l) = self.metrics_listener {
            let m = self.metrics.clone();
            let app = axum::Router::new().route(
                "/metrics",
                axum::routing::get(move || async move { m.render() }),
            );
            tokio::spawn(async move { axum::serve(l, app).await });
        }
        self.state.webhooks.start();
        // Sign-in counters that no longer hold anything back are forgotten, so guesses at
        // names that do not exist cannot grow the table without bound.
        let (purge_store, security) = (store.clone(), self.state.config.security.clone());
        let purger = tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                every.tick().await;
                if let Err(e) =
                    crate::services::sign_in::purge_counters(&purge_store, &security).await
                {
                    tracing::warn!(error = %e, "purging sign-in counters failed");
                }
            }
        });
        let webhooks = self.state.webhooks.clone();
        let app = web::router(self.state, self.metrics);
        tracing::info!(addr = %self.addr, "Junction is ready");
        axum::serve(
            self.listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await?;
        purger.abort();
        webhooks.stop().await;
        store.close().await;
        tracing::info!("Junction stopped");
        Ok(())
    }
}

/// On an empty database, creates `admin` with SYS_ADMIN. Without a configured password, a random
/// one is printed once on standard error (deliberately not through the log pipeline).
async fn create_first_admin(store: &Store, bootstrap: &Bootstrap) -> anyhow::Result<()> {
    if store.count_users().await? > 0 {
        return Ok(());
    }
    let (password, generated) = match &bootstrap.admin_password {
        Some(p) => {
            passwords::check_policy(p.expose())
                .map_err(|m| anyhow::anyhow!("JUNCTION_ADMIN_PASSWORD: {m}"))?;
            (p.expose().to_string(), false)
        }
        None => (
            crate::secret::new_token(crate::secret::TokenKind::Csrf),
            true,
        ),
    };
    let hash = passwords::hash_once(password.clone()).await?;
    match store
        .create_user(
            "admin",
            "Administrator",
            None,
            Some(&hash),
            Some(GlobalPermission::SysAdmin),
            None,
        )
        .await
    {
        // A printed password is for one sign-in: the first one replaces it.
        Ok(admin) if generated => store.require_password_change(admin.id).await?,
        Ok(_) => {}
        // Another node created it first.
        Err(crate::store::StoreError::Duplicate) => return Ok(()),
        Err(e) => return Err(e.into()),
    }
    if generated {
        eprintln!(
            "\n  First start: an administrator account was created.\n  Sign in as  admin  with this one-time password; you will choose your own at once:\n\n      {password}\n"
        );
    }
    tracing::info!("created the first administrator account 'admin'");
    Ok(())
}
