//! Storage: one interface named by intent, over SQLite (default, WAL) or PostgreSQL, chosen from
//! the database URL at start-up.
//!
//! Each query is written once, in SQL both databases accept (`$1` placeholders, `RETURNING`,
//! `ON CONFLICT`); the `on_pool!` macro compiles it for each backend, so the difference between
//! them stays in this module (migrations, pool options, how a write transaction begins) and never
//! reaches a caller.

use crate::clock::SharedClock;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::time::Duration;

mod accounts;
pub(crate) mod audit;
mod cache;
pub mod code_insights;
pub mod commit_statuses;
pub mod connect;
pub mod connect_access;
pub mod connect_catalog;
mod connect_webhooks;
mod deliveries;
mod delivery_stats;
pub mod events;
pub mod grants;
mod links;
mod oauth;
mod oauth_clients;
pub(crate) mod ordered;
mod projects;
pub(crate) mod pulls;
mod refs;
mod secrets;
mod service_accounts;
mod sessions;
pub mod sign_in_throttle;
mod token_batch;
mod tokens;
mod visible;
mod webhooks;

pub use accounts::{Account, AccountKind, TeamMember};
pub use audit::{AuditEntry, AuditFilter, Audited, NewAudit};
pub use connect_webhooks::AppHookTarget;
pub use deliveries::{
    subscriber_key, Attempt, AttemptRecord, Delivery, DeliveryState, DueDelivery, Outcome, Skipped,
    SubscriberKind,
};
pub use delivery_stats::{AttemptOutcome, Invocation, OutcomeCount};
pub use events::{Emit, EventFacts, PullRequestFacts, RenderEvent, StoredEvent};
pub use grants::{GrantHolder, GrantTarget, Guarded, SysAdminRule};
pub use links::{AppLink, LinkFields, LinkFlow, LinkToken, Outgoing, Pairing};
pub use oauth::{AuthorizedApp, OAuthToken, OAuthTokenKind, Redeemed, Rotated};
pub use oauth_clients::{ClientGrant, OAuthClient};
pub(crate) use projects::REPO_SELECT;
pub use projects::{Project, ProjectChanges, Repository, RepositoryChanges};
pub use pulls::{Comment, NewPullRequest, Participant, PullRequest, PullRequestEdit};
pub use refs::RepoWriteTurn;
pub use service_accounts::NewServiceAccount;
pub use sessions::Session;
pub use tokens::{AccessToken, TokenOwner};
pub use visible::{RepoFilter, Window};
pub use webhooks::{events_column, Webhook, WebhookFields};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write; nothing was written.
    #[error("duplicate")]
    Duplicate,
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Db(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Duplicate,
            _ => StoreError::Db(e),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Clone)]
enum Db {
    /// Readers, and one writer: SQLite allows one writer at a time, and queueing writers on an
    /// async pool of one beats letting them spin in SQLite's busy handler.
    Sqlite(SqlitePool, SqlitePool),
    Postgres(PgPool),
}

#[derive(Clone)]
pub struct Store {
    db: Db,
    clock: SharedClock,
    cache: std::sync::Arc<AuthCache>,
    /// When this node last recorded each OAuth grant's use (see `touch_oauth_grant`).
    touched_grants: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<i64, i64>>>,
    token_writer: token_batch::TokenBatcher,
    /// Woken when events or due deliveries were written, here or (PostgreSQL) on another node.
    events_signal: std::sync::Arc<tokio::sync::Notify>,
    /// PostgreSQL: woken to tell the other nodes; many writes coalesce into one `NOTIFY`.
    peer_signal: std::sync::Arc<tokio::sync::Notify>,
    /// This store's identity in notifications, so a node ignores its own.
    node_id: std::sync::Arc<str>,
}

/// What the authentication path caches; see `cache.rs` for how it stays correct.
type AuthCache = cache::Cache<
    Option<TokenOwner>,
    Vec<crate::domain::ScopedGrant>,
    Repository,
    Option<OAuthClient>,
    Option<OAuthToken>,
    Option<Account>,
    Option<AppLink>,
    Option<LinkToken>,
    Vec<Repository>,
    Option<std::sync::Arc<connect::AppCaller>>,
    std::sync::Arc<Vec<connect::InstallationRow>>,
>;

/// Runs `$body` with `$p` bound to the concrete pool; the body is compiled once per backend.
macro_rules! on_pool {
    ($store:expr, |$p:ident| $body:expr) => {
        match &$store.db {
            $crate::store::Db::Sqlite($p, _) => $body,
            $crate::store::Db::Postgres($p) => $body,
        }
    };
}
pub(crate) use on_pool;

/// Like `on_pool!`, for bodies that write: on SQLite they run on the single writer connection.
macro_rules! on_writer {
    ($store:expr, |$p:ident| $body:expr) => {
        match &$store.db {
            $crate::store::Db::Sqlite(_, $p) => $body,
            $crate::store::Db::Postgres($p) => $body,
        }
    };
}
pub(crate) use on_writer;

/// Starts a transaction that will write. On SQLite it takes the write lock up front
/// (`BEGIN IMMEDIATE`), so two writers queue on the busy timeout instead of one failing when it
/// upgrades a read lock.
pub(crate) trait BeginWrite {
    type Db: sqlx::Database;
    fn begin_write(
        &self,
    ) -> impl std::future::Future<Output = sqlx::Result<sqlx::Transaction<'static, Self::Db>>> + Send;
    /// A write transaction whose loss in a crash is harmless because it would be redone: the
    /// webhook dispatcher's fan-out, claims and attempt records (losing one means an event is
    /// fanned out again, or a delivery is sent again: at least once still holds). On
    /// PostgreSQL its commit does not wait for the WAL flush, which is most of its cost.
    fn begin_redoable(
        &self,
    ) -> impl std::future::Future<Output = sqlx::Result<sqlx::Transaction<'static, Self::Db>>> + Send;
}

impl BeginWrite for SqlitePool {
    type Db = sqlx::Sqlite;
    async fn begin_write(&self) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
    async fn begin_redoable(&self) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        self.begin_write().await
    }
}

impl BeginWrite for PgPool {
    type Db = sqlx::Postgres;
    async fn begin_write(&self) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        self.begin().await
    }
    async fn begin_redoable(&self) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        let mut tx = self.begin().await?;
        sqlx::query("SET LOCAL synchronous_commit = off")
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }
}

/// Creates the SQLite database file readable by its owner only, before SQLite opens it: SQLite
/// gives its `-wal` and `-shm` files the database file's permissions, so all three are `0600`.
/// An existing file keeps the permissions its operator gave it.
fn create_private(path: &std::path::Path) -> std::io::Result<()> {
    if path.as_os_str().is_empty() || path.to_str() == Some(":memory:") || path.exists() {
        return Ok(());
    }
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    match open.open(path) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(e),
        _ => Ok(()),
    }
}

/// A page request in Bitbucket's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub start: i64,
    pub limit: i64,
}

impl PageRequest {
    pub const MAX_LIMIT: i64 = 1000;
    /// Takes one page out of an already filtered list. Returns the items and whether more follow.
    pub fn slice<T>(self, items: Vec<T>) -> (Vec<T>, bool) {
        let start = self.start.max(0) as usize;
        let limit = self.limit.clamp(1, Self::MAX_LIMIT) as usize;
        let more = items.len() > start + limit;
        (items.into_iter().skip(start).take(limit).collect(), more)
    }
}

impl Store {
    /// Connects to the database named by `url` (`sqlite://...` or `postgres://...`).
    pub async fn connect(
        url: &str,
        max_connections: u32,
        clock: SharedClock,
    ) -> anyhow::Result<Self> {
        let db = if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            if let Some(parent) = opts.get_filename().parent() {
                std::fs::create_dir_all(parent)?;
            }
            create_private(opts.get_filename())?;
            let readers = SqlitePoolOptions::new()
                .max_connections(max_connections)
                .connect_with(opts.clone())
                .await?;
            let writer = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(opts)
                .await?;
            Db::Sqlite(readers, writer)
        } else {
            let opts = PgConnectOptions::from_str(url)?;
            Db::Postgres(
                PgPoolOptions::new()
                    .max_connections(max_connections)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(opts)
                    .await?,
            )
        };
        let token_writer = token_batch::TokenBatcher::start(db.clone());
        let store = Self {
            db,
            clock,
            cache: std::sync::Arc::new(AuthCache::new()),
            touched_grants: Default::default(),
            token_writer,
            events_signal: Default::default(),
            peer_signal: Default::default(),
            node_id: crate::secret::new_uuid().into(),
        };
        store.notify_peers_of_events();
        store.listen_for_invalidations(url).await?;
        Ok(store)
    }

    pub fn backend(&self) -> &'static str {
        match self.db {
            Db::Sqlite(..) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Applies the backend's migrations that have not run yet.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match &self.db {
            Db::Sqlite(_, w) => sqlx::migrate!("./migrations/sqlite").run(w).await?,
            Db::Postgres(p) => sqlx::migrate!("./migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    /// Readiness: the database answers.
    pub async fn ping(&self) -> StoreResult<()> {
        on_pool!(self, |p| sqlx::query("SELECT 1")
            .execute(p)
            .await
            .map(|_| ())
            .map_err(Into::into))
    }

    pub async fn close(&self) {
        if let Db::Sqlite(_, w) = &self.db {
            w.close().await;
        }
        on_pool!(self, |p| p.close().await)
    }

    /// What a claim query appends to lock the rows it picks and skip those another node holds.
    /// SQLite needs nothing: its single writer serialises claims.
    fn skip_locked(&self) -> &'static str {
        match self.db {
            Db::Sqlite(..) => "",
            Db::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// What a read appends to lock the rows it reads until its transaction ends (PostgreSQL;
    /// SQLite's single writer already serialises writers).
    fn for_update(&self) -> &'static str {
        match self.db {
            Db::Sqlite(..) => "",
            Db::Postgres(_) => " FOR UPDATE",
        }
    }

    /// What a read appends to keep the rows it saw from being deleted before its transaction
    /// ends (PostgreSQL; SQLite's single writer already excludes that).
    fn key_share(&self) -> &'static str {
        match self.db {
            Db::Sqlite(..) => "",
            Db::Postgres(_) => " FOR KEY SHARE",
        }
    }

    /// The statement that makes concurrent transactions take turns at one ordered subscriber
    /// (`settle_ordered!`): a transaction-scoped advisory lock on PostgreSQL, where two nodes
    /// may settle at once; nothing on SQLite, whose single writer already serialises them.
    fn settle_lock(&self) -> &'static str {
        match self.db {
            Db::Sqlite(..) => "",
            Db::Postgres(_) => "SELECT pg_advisory_xact_lock($1)",
        }
    }

    /// The signal the webhook dispatcher waits on.
    pub fn events_signal(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.events_signal.clone()
    }

    /// Called after a commit that wrote events or made deliveries due: wakes this node's
    /// dispatcher and, on PostgreSQL, the other nodes'.
    pub(crate) async fn events_written(&self) {
        // Every repository change writes an event in its transaction: cached list pages go.
        self.cache.bump_lists();
        self.events_signal.notify_one();
        if let Db::Postgres(_) = &self.db {
            self.peer_signal.notify_one();
        }
    }

    /// PostgreSQL: one task sends `NOTIFY junction_events` whenever events were written since
    /// its last one, so a burst of writes costs one notification, not one each.
    fn notify_peers_of_events(&self) {
        let Db::Postgres(p) = &self.db else { return };
        let (pool, signal, node) = (p.clone(), self.peer_signal.clone(), self.node_id.clone());
        tokio::spawn(async move {
            loop {
                signal.notified().await;
                if pool.is_closed() {
                    break;
                }
                if let Err(e) = sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(EVENTS_CHANNEL)
                    .bind(&*node)
                    .execute(&pool)
                    .await
                {
                    tracing::warn!(error = %e, "could not wake other nodes' webhook dispatchers");
                }
            }
        });
    }

    pub(crate) fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Called after every write that could change who may do what, or what a cached lookup
    /// returns: drops this node's cache and tells the other nodes to drop theirs.
    /// The one read-through path of the cache: a fresh entry for `key`, or what `fetch` finds,
    /// kept under the generation read *before* the fetch (an invalidation during the fetch makes
    /// it stale at once).
    pub(crate) async fn read_through<K, Q, V, Fut>(
        &self,
        map: &cache::Map<K, V>,
        key: &Q,
        fetch: impl FnOnce() -> Fut,
    ) -> StoreResult<V>
    where
        K: Eq + std::hash::Hash + std::borrow::Borrow<Q>,
        Q: Eq + std::hash::Hash + ToOwned<Owned = K> + ?Sized,
        V: Clone,
        Fut: std::future::Future<Output = StoreResult<V>>,
    {
        let (now, generation) = (self.now(), self.cache.generation());
        // Looked up by a borrowed key: a hit allocates nothing.
        if let Some(hit) = map.get(key, generation, now) {
            return Ok(hit);
        }
        let value = fetch().await?;
        map.put(key.to_owned(), value.clone(), generation, now);
        Ok(value)
    }

    pub(crate) async fn invalidate(&self) {
        self.cache.bump();
        if let Db::Postgres(p) = &self.db {
            if let Err(e) = sqlx::query("SELECT pg_notify($1, '')")
                .bind(cache::CHANNEL)
                .execute(p)
                .await
            {
                tracing::warn!(error = %e, "could not notify other nodes of a cache invalidation");
            }
        }
    }

    /// Drops the cached tokens of one OAuth grant here and on the other nodes. A refresh
    /// rotation only kills its own grant's tokens: no reason to empty everyone's cache.
    pub(crate) async fn invalidate_grant(&self, grant_id: i64) {
        self.drop_grant_tokens(grant_id);
        if let Db::Postgres(p) = &self.db {
            let payload = format!("{}{grant_id}", cache::GRANT_PREFIX);
            if let Err(e) = sqlx::query("SELECT pg_notify($1, $2)")
                .bind(cache::CHANNEL)
                .bind(payload)
                .execute(p)
                .await
            {
                tracing::warn!(error = %e, "could not notify other nodes of a grant invalidation");
            }
        }
    }

    fn drop_grant_tokens(&self, grant_id: i64) {
        self.cache
            .drop_grant(|t| t.as_ref().is_some_and(|t| t.grant_id == grant_id));
    }

    /// On PostgreSQL, other nodes' invalidations arrive by `LISTEN`; a lost connection also
    /// invalidates (notifications may have been missed), then the listener reconnects.
    async fn listen_for_invalidations(&self, url: &str) -> anyhow::Result<()> {
        let Db::Postgres(pool) = &self.db else {
            return Ok(());
        };
        let pool = pool.clone();
        // Its own connection, not one from the pool: the pool must be able to close.
        let mut listener = sqlx::postgres::PgListener::connect(url).await?;
        listener.listen(cache::CHANNEL).await?;
        listener.listen(EVENTS_CHANNEL).await?;
        let cache = std::sync::Arc::downgrade(&self.cache);
        let events = std::sync::Arc::downgrade(&self.events_signal);
        let node = self.node_id.clone();
        tokio::spawn(async move {
            loop {
                let received = listener.try_recv().await;
                // The store closed (or is gone): nothing left to keep fresh.
                if pool.is_closed() {
                    break;
                }
                let Some(cache) = cache.upgrade() else { break };
                if let Some(events) = events.upgrade() {
                    // Another node's events (or a reconnect, which may have missed some): look.
                    let wake = match &received {
                        Ok(Some(n)) => n.channel() == EVENTS_CHANNEL && n.payload() != &*node,
                        _ => true,
                    };
                    if wake {
                        events.notify_one();
                    }
                }
                match received {
                    // Another node changed something that wrote an event: its list pages may
                    // differ now.
                    Ok(Some(n)) if n.channel() == EVENTS_CHANNEL => {
                        if n.payload() != &*node {
                            cache.bump_lists();
                        }
                    }
                    Ok(Some(n)) => match n
                        .payload()
                        .strip_prefix(cache::GRANT_PREFIX)
                        .and_then(|g| g.parse::<i64>().ok())
                    {
                        Some(grant) => {
                            cache.drop_grant(|t| t.as_ref().is_some_and(|t| t.grant_id == grant))
                        }
                        None => cache.bump(),
                    },
                    // Reconnected after a drop: anything may have changed meanwhile.
                    Ok(None) => cache.bump(),
                    Err(e) => {
                        cache.bump();
                        tracing::warn!(error = %e, "cache invalidation listener failed; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        });
        Ok(())
    }
}

/// PostgreSQL channel on which a node tells the others' dispatchers that events were written.
const EVENTS_CHANNEL: &str = "junction_events";

/// Creates an empty PostgreSQL database `name` on the server at `server_url` (a URL without a
/// database, or with one to connect through). Used by the test harness and the benchmark.
pub async fn create_database(server_url: &str, name: &str) -> anyhow::Result<()> {
    on_server(
        server_url,
        name,
        &[
            &format!("DROP DATABASE IF EXISTS {name}"),
            &format!("CREATE DATABASE {name}"),
        ],
    )
    .await
}

/// Drops a database `create_database` made (benchmarks clean up after themselves).
pub async fn drop_database(server_url: &str, name: &str) -> anyhow::Result<()> {
    on_server(
        server_url,
        name,
        &[&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")],
    )
    .await
}

/// Runs statements about database `name` on the PostgreSQL server of `server_url`.
async fn on_server(server_url: &str, name: &str, statements: &[&str]) -> anyhow::Result<()> {
    use sqlx::{Connection, Executor};
    anyhow::ensure!(
        name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
        "invalid database name"
    );
    let mut url = url::Url::parse(server_url)?;
    url.set_path("/postgres");
    let mut conn = sqlx::PgConnection::connect(url.as_str()).await?;
    for s in statements {
        conn.execute(*s).await?;
    }
    conn.close().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_slices() {
        let p = PageRequest { start: 2, limit: 2 };
        assert_eq!(p.slice(vec![1, 2, 3, 4, 5]), (vec![3, 4], true));
        assert_eq!(
            PageRequest { start: 4, limit: 2 }.slice(vec![1, 2, 3, 4, 5]),
            (vec![5], false)
        );
        assert_eq!(
            PageRequest { start: 9, limit: 2 }.slice(vec![1]),
            (vec![], false)
        );
    }
}
