//! Connect app installations: one row per app and account, kept when uninstalled so the
//! clientKey never changes; the access tokens apps exchange their JWTs for. The catalog and
//! development mode are `connect_catalog.rs`.

use super::audit::write_audit;
use super::connect_webhooks::sync_app_hooks_in_tx;
use super::{on_pool, on_writer, Audited, BeginWrite, Store, StoreResult};

/// Where an installation stands; stored as its lower-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "TEXT", rename_all = "lowercase")]
pub enum InstallState {
    Enabled,
    Disabled,
    Uninstalled,
}

impl InstallState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enabled => "enabled",
            Self::Disabled => "disabled",
            Self::Uninstalled => "uninstalled",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Installation {
    pub id: i64,
    pub client_key: String,
    pub app_key: String,
    pub account_id: i64,
    pub name: String,
    pub vendor: Option<String>,
    pub descriptor: String,
    pub descriptor_url: Option<String>,
    pub base_url: String,
    pub scopes: String,
    /// Ciphertext (crypto::MasterKey).
    pub shared_secret: String,
    pub state: InstallState,
    pub installed_by: Option<i64>,
    pub installed_at: i64,
    pub updated_at: i64,
}

/// An installation with the names a page shows.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct InstallationRow {
    #[sqlx(flatten)]
    pub installation: Installation,
    pub account_slug: String,
    pub account_kind: super::AccountKind,
    pub installed_by_slug: Option<String>,
}

/// An installation with the account it is installed in: whom an app's call acts as. Shared
/// (`Arc`) between the cache and the requests it authenticates.
#[derive(Debug)]
pub struct AppCaller {
    pub installation: Installation,
    pub account: super::Account,
    /// The installation's scopes, read once.
    pub scopes: crate::domain::connect_scopes::ConnectScopes,
    /// What those scopes allow, worked out once: every call asks.
    pub ceiling: crate::domain::Ceiling,
    /// The shared secret as an HS256 key, decrypted and keyed by the service on first use and
    /// kept with this cached entry (so for at most the cache's lifetime); the store never
    /// decrypts.
    pub key: std::sync::OnceLock<crate::domain::connect_jwt::Key>,
}

/// The same installation in the same account (the memo of its key aside).
impl PartialEq for AppCaller {
    fn eq(&self, other: &Self) -> bool {
        self.installation == other.installation && self.account == other.account
    }
}

impl Eq for AppCaller {}

impl AppCaller {
    fn new(installation: Installation, account: super::Account) -> Self {
        let scopes = crate::domain::connect_scopes::ConnectScopes::from_text(&installation.scopes);
        Self {
            ceiling: scopes.ceiling(),
            scopes,
            installation,
            account,
            key: std::sync::OnceLock::new(),
        }
    }
}

#[derive(sqlx::FromRow)]
struct InstallationWithExpiry {
    #[sqlx(flatten)]
    installation: Installation,
    expires_at: i64,
}

/// What an update in place (`PUT /2.0/addon`) writes.
pub struct DescriptorUpdate<'a> {
    pub name: &'a str,
    pub descriptor: &'a str,
    /// `None`: the URL it came from stays.
    pub descriptor_url: Option<&'a str>,
    pub scopes: &'a str,
    pub hooks: &'a [crate::domain::connect_events::WebhookModule],
}

/// What installing writes.
pub struct NewInstallation<'a> {
    pub client_key: &'a str,
    pub app_key: &'a str,
    pub account_id: i64,
    pub name: &'a str,
    pub vendor: Option<&'a str>,
    pub descriptor: &'a str,
    pub descriptor_url: Option<&'a str>,
    pub base_url: &'a str,
    pub scopes: &'a str,
    pub shared_secret: &'a str,
    pub installed_by: i64,
    /// Its `webhooks` modules: what it subscribes to, from now on.
    pub hooks: &'a [crate::domain::connect_events::WebhookModule],
}

const COLUMNS: &str = "i.id, i.client_key, i.app_key, i.account_id, i.name, i.vendor, i.descriptor, \
    i.descriptor_url, i.base_url, i.scopes, i.shared_secret, i.state, i.installed_by, i.installed_at, i.updated_at";

fn listing(filter: &str) -> String {
    format!(
        "SELECT {COLUMNS}, a.slug AS account_slug, a.kind AS account_kind, b.slug AS installed_by_slug
         FROM connect_installations i JOIN accounts a ON a.id = i.account_id
         LEFT JOIN accounts b ON b.id = i.installed_by
         WHERE i.state <> 'uninstalled' {filter} ORDER BY a.slug, i.name, i.id"
    )
}

impl Store {
    pub async fn connect_installation(
        &self,
        app_key: &str,
        account_id: i64,
    ) -> StoreResult<Option<Installation>> {
        on_pool!(self, |p| {
            let found: Option<Installation> = sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM connect_installations i WHERE i.app_key = $1 AND i.account_id = $2"
            ))
            .bind(app_key)
            .bind(account_id)
            .fetch_optional(p)
            .await?;
            Ok(found)
        })
    }

    pub async fn connect_installation_by_id(&self, id: i64) -> StoreResult<Option<Installation>> {
        on_pool!(self, |p| {
            let found: Option<Installation> = sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM connect_installations i WHERE i.id = $1"
            ))
            .bind(id)
            .fetch_optional(p)
            .await?;
            Ok(found)
        })
    }

    /// The installation a JWT names and the account it is installed in, cached like other
    /// credentials (at most 5 s; every installation write invalidates).
    pub async fn connect_caller(
        &self,
        client_key: &str,
    ) -> StoreResult<Option<std::sync::Arc<AppCaller>>> {
        self.read_through(&self.cache.installations, client_key, || async {
            let found: Option<Installation> = on_pool!(self, |p| {
                sqlx::query_as(&format!(
                    "SELECT {COLUMNS} FROM connect_installations i WHERE i.client_key = $1"
                ))
                .bind(client_key)
                .fetch_optional(p)
                .await?
            });
            self.with_account(found).await
        })
        .await
    }

    /// An installation found, with the account it is installed in.
    async fn with_account(
        &self,
        found: Option<Installation>,
    ) -> StoreResult<Option<std::sync::Arc<AppCaller>>> {
        let Some(installation) = found else {
            return Ok(None);
        };
        let account = self.account_by_id(installation.account_id).await?;
        Ok(account.map(|account| std::sync::Arc::new(AppCaller::new(installation, account))))
    }

    /// Stores an access token (its hash) acting as the installation until `expires_at`.
    pub async fn issue_connect_access_token(
        &self,
        token_hash: &str,
        installation_id: i64,
        expires_at: i64,
    ) -> StoreResult<()> {
        on_writer!(self, |p| {
            sqlx::query(
                "INSERT INTO connect_access_tokens (token_hash, installation_id, expires_at) VALUES ($1, $2, $3)",
            )
            .bind(token_hash)
            .bind(installation_id)
            .bind(expires_at)
            .execute(p)
            .await?;
            Ok(())
        })
    }

    /// The installation (and its account) a live access token acts as.
    pub async fn connect_token_caller(
        &self,
        token_hash: &str,
    ) -> StoreResult<Option<std::sync::Arc<AppCaller>>> {
        let (found, expires_at) = self
            .read_through(&self.cache.app_tokens, token_hash, || async {
                let row: Option<(Installation, i64)> = on_pool!(self, |p| {
                    sqlx::query_as(&format!(
                        "SELECT {COLUMNS}, t.expires_at FROM connect_access_tokens t
                         JOIN connect_installations i ON i.id = t.installation_id
                         WHERE t.token_hash = $1"
                    ))
                    .bind(token_hash)
                    .fetch_optional(p)
                    .await?
                    .map(|row: InstallationWithExpiry| (row.installation, row.expires_at))
                });
                let (found, expires_at) = row.map_or((None, 0), |(i, e)| (Some(i), e));
                Ok((self.with_account(found).await?, expires_at))
            })
            .await?;
        Ok(found.filter(|_| expires_at > self.now()))
    }

    /// Installs, or re-installs over the same row (same clientKey), enabled, with a new secret.
    pub async fn save_connect_installation(
        &self,
        n: &NewInstallation<'_>,
        audit: Audited<'_>,
    ) -> StoreResult<Installation> {
        let now = self.now();
        let saved = on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let saved: Installation = sqlx::query_as(&format!(
                "INSERT INTO connect_installations AS i (client_key, app_key, account_id, name, vendor, descriptor,
                     descriptor_url, base_url, scopes, shared_secret, state, installed_by, installed_at, updated_at, events_from)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'enabled', $11, $12, $12,
                         (SELECT COALESCE(MAX(id), 0) FROM events))
                 ON CONFLICT (app_key, account_id) DO UPDATE SET name = excluded.name, vendor = excluded.vendor,
                     descriptor = excluded.descriptor, descriptor_url = excluded.descriptor_url,
                     base_url = excluded.base_url, scopes = excluded.scopes, shared_secret = excluded.shared_secret,
                     state = 'enabled', installed_by = excluded.installed_by, events_from = excluded.events_from,
                     installed_at = CASE WHEN i.state = 'uninstalled' THEN excluded.installed_at ELSE i.installed_at END,
                     updated_at = excluded.updated_at
                 RETURNING {}", COLUMNS.replace("i.", "")))
                .bind(n.client_key).bind(n.app_key).bind(n.account_id).bind(n.name).bind(n.vendor)
                .bind(n.descriptor).bind(n.descriptor_url).bind(n.base_url).bind(n.scopes)
                .bind(n.shared_secret).bind(n.installed_by).bind(now)
                .fetch_one(&mut *tx).await?;
            sync_app_hooks_in_tx!(tx, saved.id, n.hooks);
            write_audit!(&mut *tx, now, audit);
            tx.commit().await?;
            Ok::<_, super::StoreError>(saved)
        })?;
        self.invalidate().await;
        Ok(saved)
    }

    /// Updates the descriptor of an installation in place (`PUT /2.0/addon`): same secret.
    pub async fn update_connect_descriptor(
        &self,
        id: i64,
        u: &DescriptorUpdate<'_>,
        audit: Audited<'_>,
    ) -> StoreResult<()> {
        let now = self.now();
        on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            sqlx::query(
                "UPDATE connect_installations SET name = $2, descriptor = $3,
                     descriptor_url = COALESCE($4, descriptor_url), scopes = $5, updated_at = $6 WHERE id = $1",
            )
            .bind(id).bind(u.name).bind(u.descriptor).bind(u.descriptor_url).bind(u.scopes).bind(now)
            .execute(&mut *tx).await?;
            sync_app_hooks_in_tx!(tx, id, u.hooks);
            write_audit!(&mut *tx, now, audit);
            tx.commit().await?;
            Ok::<_, super::StoreError>(())
        })?;
        self.invalidate().await;
        Ok(())
    }

    pub async fn set_connect_installation_state(
        &self,
        id: i64,
        state: InstallState,
        audit: Audited<'_>,
    ) -> StoreResult<()> {
        let now = self.now();
        on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            // Enabling starts its events afresh (see the migration): none from while it was off.
            sqlx::query(
                "UPDATE connect_installations SET state = $2, updated_at = $3,
                     events_from = CASE WHEN $2 = 'enabled' AND state <> 'enabled'
                                   THEN (SELECT COALESCE(MAX(id), 0) FROM events) ELSE events_from END
                 WHERE id = $1",
            )
            .bind(id)
            .bind(state.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            // Removing an app ends what people granted it: installing it again asks again.
            if state == InstallState::Uninstalled {
                sqlx::query("DELETE FROM connect_user_grants WHERE installation_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            write_audit!(&mut *tx, now, audit);
            tx.commit().await?;
            Ok::<_, super::StoreError>(())
        })?;
        self.invalidate().await;
        Ok(())
    }

    /// Live installations in these accounts (a person's own and their teams').
    pub async fn connect_installations_in(
        &self,
        account_ids: &[i64],
    ) -> StoreResult<Vec<InstallationRow>> {
        if account_ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = account_ids
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        on_pool!(self, |p| {
            let rows: Vec<InstallationRow> =
                sqlx::query_as(&listing(&format!("AND i.account_id IN ({ids})")))
                    .fetch_all(p)
                    .await?;
            Ok(rows)
        })
    }

    /// Enabled installations whose UI a person may be shown: in their own account or a team
    /// they belong to (whether each reaches what the page shows is the service's decision).
    pub async fn connect_installations_seen_by(
        &self,
        user_id: i64,
    ) -> StoreResult<std::sync::Arc<Vec<InstallationRow>>> {
        self.read_through(&self.cache.seen_installations, &user_id, || async {
            let sql = listing(
                "AND i.state = 'enabled'
                 AND (i.account_id = $1
                      OR i.account_id IN (SELECT m.team_id FROM team_members m
                                          JOIN accounts t ON t.id = m.team_id
                                          WHERE m.user_id = $1 AND t.active))",
            );
            let rows: Vec<InstallationRow> = on_pool!(self, |p| {
                sqlx::query_as(&sql).bind(user_id).fetch_all(p).await?
            });
            Ok(std::sync::Arc::new(rows))
        })
        .await
    }

    /// Every live installation (administrators).
    pub async fn all_connect_installations(&self) -> StoreResult<Vec<InstallationRow>> {
        on_pool!(self, |p| {
            let rows: Vec<InstallationRow> = sqlx::query_as(&listing("")).fetch_all(p).await?;
            Ok(rows)
        })
    }
}
