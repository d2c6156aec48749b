//! Application links: the link rows, users' tokens at remotes, pending client-side
//! authorization flows, and two-way pairings. Secrets arrive here already encrypted.

use super::audit::write_audit;
use super::{on_pool, on_writer, Audited, BeginWrite, Store, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AppLink {
    pub id: i64,
    pub link_id: String,
    pub name: String,
    pub url: String,
    pub type_id: String,
    pub app_name: Option<String>,
    pub app_version: Option<String>,
    pub incoming_client: Option<i64>,
    pub out_preset: Option<String>,
    pub out_client_id: Option<String>,
    pub out_secret_encrypted: Option<String>,
    pub out_authorize_url: Option<String>,
    pub out_token_url: Option<String>,
    pub out_scopes: Option<String>,
    pub last_status: Option<String>,
    pub last_checked_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The outgoing side of a link: Junction as an OAuth 2.0 client of the remote.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outgoing {
    pub preset: String,
    pub client_id: String,
    pub secret_encrypted: String,
    pub authorize_url: String,
    pub token_url: String,
    pub scopes: String,
}

impl AppLink {
    /// The link's current settings, to change some of them.
    pub fn fields(&self) -> LinkFields {
        LinkFields {
            name: self.name.clone(),
            url: self.url.clone(),
            type_id: self.type_id.clone(),
            app_name: self.app_name.clone(),
            app_version: self.app_version.clone(),
            incoming_client: self.incoming_client,
            outgoing: self.outgoing(),
        }
    }

    pub fn outgoing(&self) -> Option<Outgoing> {
        Some(Outgoing {
            preset: self.out_preset.clone().unwrap_or_default(),
            client_id: self.out_client_id.clone()?,
            secret_encrypted: self.out_secret_encrypted.clone()?,
            authorize_url: self.out_authorize_url.clone()?,
            token_url: self.out_token_url.clone()?,
            scopes: self.out_scopes.clone().unwrap_or_default(),
        })
    }
}

/// Everything an admin sets on a link (create and edit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkFields {
    pub name: String,
    pub url: String,
    pub type_id: String,
    pub app_name: Option<String>,
    pub app_version: Option<String>,
    pub incoming_client: Option<i64>,
    pub outgoing: Option<Outgoing>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LinkToken {
    pub link_id: i64,
    pub user_id: i64,
    pub access_encrypted: String,
    pub refresh_encrypted: Option<String>,
    pub expires_at: Option<i64>,
    pub scope: Option<String>,
    pub status: String,
    pub connected_at: i64,
    pub refreshed_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LinkFlow {
    pub link_id: i64,
    pub user_id: i64,
    pub purpose: String,
    pub verifier_encrypted: String,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Pairing {
    pub pairing_id: String,
    pub secret_encrypted: String,
    pub link_id: i64,
    pub peer_url: String,
    pub scope: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

const LINK_COLUMNS: &str = "id, link_id, name, url, type_id, app_name, app_version, incoming_client, out_preset, out_client_id, out_secret_encrypted, out_authorize_url, out_token_url, out_scopes, last_status, last_checked_at, created_at, updated_at";
const TOKEN_COLUMNS: &str = "link_id, user_id, access_encrypted, refresh_encrypted, expires_at, scope, status, connected_at, refreshed_at";

impl Store {
    /// This server's stable identity in its manifest, created on first use.
    pub async fn server_id(&self, fresh: &str) -> StoreResult<String> {
        on_writer!(self, |p| {
            sqlx::query("INSERT INTO server_settings (name, value) VALUES ('server_id', $1) ON CONFLICT (name) DO NOTHING")
                .bind(fresh).execute(p).await?;
            let v: String =
                sqlx::query_scalar("SELECT value FROM server_settings WHERE name = 'server_id'")
                    .fetch_one(p)
                    .await?;
            Ok(v)
        })
    }

    pub async fn create_link(
        &self,
        link_id: &str,
        f: &LinkFields,
        audit: Audited<'_>,
    ) -> StoreResult<AppLink> {
        let now = self.now();
        let o = f.outgoing.clone().unwrap_or_default();
        let has_out = f.outgoing.is_some();
        let opt = |s: &str| has_out.then(|| s.to_string());
        let r = on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let l: AppLink = sqlx::query_as(&format!(
                "INSERT INTO app_links (link_id, name, url, type_id, app_name, app_version, incoming_client, out_preset, out_client_id, out_secret_encrypted, out_authorize_url, out_token_url, out_scopes, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) RETURNING {LINK_COLUMNS}"))
                .bind(link_id).bind(&f.name).bind(&f.url).bind(&f.type_id).bind(&f.app_name).bind(&f.app_version)
                .bind(f.incoming_client).bind(opt(&o.preset)).bind(opt(&o.client_id)).bind(opt(&o.secret_encrypted))
                .bind(opt(&o.authorize_url)).bind(opt(&o.token_url)).bind(opt(&o.scopes)).bind(now)
                .fetch_one(&mut *tx).await?;
            write_audit!(&mut *tx, now, audit);
            tx.commit().await?;
            Ok(l)
        });
        self.invalidate().await;
        r
    }

    pub async fn update_link(
        &self,
        id: i64,
        f: &LinkFields,
        audit: Audited<'_>,
    ) -> StoreResult<AppLink> {
        let now = self.now();
        let o = f.outgoing.clone().unwrap_or_default();
        let has_out = f.outgoing.is_some();
        let opt = |s: &str| has_out.then(|| s.to_string());
        let r = on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let l: AppLink = sqlx::query_as(&format!(
                "UPDATE app_links SET name = $1, url = $2, type_id = $3, app_name = $4, app_version = $5, incoming_client = $6,
                   out_preset = $7, out_client_id = $8, out_secret_encrypted = $9, out_authorize_url = $10, out_token_url = $11, out_scopes = $12,
                   updated_at = $13 WHERE id = $14 RETURNING {LINK_COLUMNS}"))
                .bind(&f.name).bind(&f.url).bind(&f.type_id).bind(&f.app_name).bind(&f.app_version).bind(f.incoming_client)
                .bind(opt(&o.preset)).bind(opt(&o.client_id)).bind(opt(&o.secret_encrypted))
                .bind(opt(&o.authorize_url)).bind(opt(&o.token_url)).bind(opt(&o.scopes)).bind(now).bind(id)
                .fetch_one(&mut *tx).await?;
            write_audit!(&mut *tx, now, audit);
            tx.commit().await?;
            Ok(l)
        });
        self.invalidate().await;
        r
    }

    pub async fn list_links(&self) -> StoreResult<Vec<AppLink>> {
        on_pool!(self, |p| {
            let v: Vec<AppLink> = sqlx::query_as(&format!(
                "SELECT {LINK_COLUMNS} FROM app_links ORDER BY name"
            ))
            .fetch_all(p)
            .await?;
            Ok(v)
        })
    }

    pub async fn find_link(&self, link_id: &str) -> StoreResult<Option<AppLink>> {
        on_pool!(self, |p| {
            let v: Option<AppLink> = sqlx::query_as(&format!(
                "SELECT {LINK_COLUMNS} FROM app_links WHERE link_id = $1"
            ))
            .bind(link_id)
            .fetch_optional(p)
            .await?;
            Ok(v)
        })
    }

    /// `find_link` from the cache, for the request path (its `last_status` may be seconds old).
    pub async fn find_link_cached(&self, link_id: &str) -> StoreResult<Option<AppLink>> {
        self.read_through(&self.cache.links, link_id, || self.find_link(link_id))
            .await
    }

    pub async fn find_link_by_id(&self, id: i64) -> StoreResult<Option<AppLink>> {
        on_pool!(self, |p| {
            let v: Option<AppLink> = sqlx::query_as(&format!(
                "SELECT {LINK_COLUMNS} FROM app_links WHERE id = $1"
            ))
            .bind(id)
            .fetch_optional(p)
            .await?;
            Ok(v)
        })
    }

    /// Keeps the result of a Test connection; returns the link as it now is.
    pub async fn set_link_status(&self, id: i64, status_json: &str) -> StoreResult<AppLink> {
        let now = self.now();
        on_writer!(self, |p| {
            let l: AppLink = sqlx::query_as(&format!(
                "UPDATE app_links SET last_status = $1, last_checked_at = $2 WHERE id = $3 RETURNING {LINK_COLUMNS}"))
                .bind(status_json).bind(now).bind(id).fetch_one(p).await?;
            Ok(l)
        })
    }

    /// Deletes a link, its incoming OAuth client (with every grant and token issued to it) and
    /// every user's tokens at the remote, in one transaction. Returns how many users had
    /// connected their account through it.
    pub async fn delete_link(&self, link: &AppLink, audit: Audited<'_>) -> StoreResult<i64> {
        let now = self.now();
        let connected = on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let n: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM app_link_tokens WHERE link_id = $1")
                    .bind(link.id)
                    .fetch_one(&mut *tx)
                    .await?;
            sqlx::query("DELETE FROM app_links WHERE id = $1")
                .bind(link.id)
                .execute(&mut *tx)
                .await?;
            if let Some(c) = link.incoming_client {
                sqlx::query("DELETE FROM oauth_clients WHERE id = $1")
                    .bind(c)
                    .execute(&mut *tx)
                    .await?;
            }
            write_audit!(&mut *tx, now, audit);
            tx.commit().await?;
            n
        });
        self.invalidate().await;
        Ok(connected)
    }

    pub async fn put_link_token(
        &self,
        link: i64,
        user: i64,
        access_encrypted: &str,
        refresh_encrypted: Option<&str>,
        expires_at: Option<i64>,
        scope: Option<&str>,
    ) -> StoreResult<()> {
        let now = self.now();
        let r = on_writer!(self, |p| {
            sqlx::query(
                "INSERT INTO app_link_tokens (link_id, user_id, access_encrypted, refresh_encrypted, expires_at, scope, status, connected_at)
                 VALUES ($1, $2, $3, $4, $5, $6, 'connected', $7)
                 ON CONFLICT (link_id, user_id) DO UPDATE SET access_encrypted = excluded.access_encrypted,
                   refresh_encrypted = excluded.refresh_encrypted, expires_at = excluded.expires_at, scope = excluded.scope,
                   status = 'connected', connected_at = excluded.connected_at, refreshed_at = NULL")
                .bind(link).bind(user).bind(access_encrypted).bind(refresh_encrypted).bind(expires_at).bind(scope).bind(now)
                .execute(p).await?;
            Ok(())
        });
        self.invalidate().await;
        r
    }

    /// Stores refreshed tokens. A refresh that did not rotate the refresh token keeps the old one.
    pub async fn refresh_link_token(
        &self,
        link: i64,
        user: i64,
        access_encrypted: &str,
        refresh_encrypted: Option<&str>,
        expires_at: Option<i64>,
    ) -> StoreResult<()> {
        let now = self.now();
        let r = on_writer!(self, |p| {
            sqlx::query(
                "UPDATE app_link_tokens SET access_encrypted = $1, refresh_encrypted = COALESCE($2, refresh_encrypted),
                   expires_at = $3, refreshed_at = $4, status = 'connected' WHERE link_id = $5 AND user_id = $6")
                .bind(access_encrypted).bind(refresh_encrypted).bind(expires_at).bind(now).bind(link).bind(user)
                .execute(p).await?;
            Ok(())
        });
        self.invalidate().await;
        r
    }

    pub async fn mark_link_token_revoked(&self, link: i64, user: i64) -> StoreResult<()> {
        let r = on_writer!(self, |p| {
            sqlx::query(
                "UPDATE app_link_tokens SET status = 'revoked' WHERE link_id = $1 AND user_id = $2",
            )
            .bind(link)
            .bind(user)
            .execute(p)
            .await?;
            Ok(())
        });
        self.invalidate().await;
        r
    }

    pub async fn delete_link_token(
        &self,
        link: i64,
        user: i64,
        audit: Audited<'_>,
    ) -> StoreResult<bool> {
        let sql = "DELETE FROM app_link_tokens WHERE link_id = $1 AND user_id = $2";
        let deleted = self.execute_audited(sql, &[link, user], audit).await?;
        self.invalidate().await;
        Ok(deleted)
    }

    /// Read on every call through a link, so cached; every token write invalidates.
    pub async fn link_token(&self, link: i64, user: i64) -> StoreResult<Option<LinkToken>> {
        self.read_through(&self.cache.link_tokens, &(link, user), || async {
            on_pool!(self, |p| {
                let found: Option<LinkToken> = sqlx::query_as(&format!(
                    "SELECT {TOKEN_COLUMNS} FROM app_link_tokens WHERE link_id = $1 AND user_id = $2"
                ))
                .bind(link)
                .bind(user)
                .fetch_optional(p)
                .await?;
                Ok(found)
            })
        })
        .await
    }

    /// Everyone's tokens at one link's remote.
    pub async fn link_tokens_of(&self, link: i64) -> StoreResult<Vec<LinkToken>> {
        on_pool!(self, |p| {
            let v: Vec<LinkToken> = sqlx::query_as(&format!(
                "SELECT {TOKEN_COLUMNS} FROM app_link_tokens WHERE link_id = $1"
            ))
            .bind(link)
            .fetch_all(p)
            .await?;
            Ok(v)
        })
    }

    pub async fn user_link_tokens(&self, user: i64) -> StoreResult<Vec<LinkToken>> {
        on_pool!(self, |p| {
            let v: Vec<LinkToken> = sqlx::query_as(&format!(
                "SELECT {TOKEN_COLUMNS} FROM app_link_tokens WHERE user_id = $1"
            ))
            .bind(user)
            .fetch_all(p)
            .await?;
            Ok(v)
        })
    }

    pub async fn create_link_flow(
        &self,
        state_hash: &str,
        f: &LinkFlow,
        expires_at: i64,
    ) -> StoreResult<()> {
        let now = self.now();
        on_writer!(self, |p| {
            sqlx::query("DELETE FROM app_link_flows WHERE expires_at < $1")
                .bind(now)
                .execute(p)
                .await?;
            sqlx::query("INSERT INTO app_link_flows (state_hash, link_id, user_id, purpose, verifier_encrypted, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(state_hash).bind(f.link_id).bind(f.user_id).bind(&f.purpose).bind(&f.verifier_encrypted).bind(expires_at)
                .execute(p).await?;
            Ok(())
        })
    }

    /// Takes a pending flow: single use, and only while it has not expired.
    pub async fn take_link_flow(&self, state_hash: &str) -> StoreResult<Option<LinkFlow>> {
        let now = self.now();
        on_writer!(self, |p| {
            let v: Option<LinkFlow> = sqlx::query_as(
                "DELETE FROM app_link_flows WHERE state_hash = $1 AND expires_at >= $2 RETURNING link_id, user_id, purpose, verifier_encrypted")
                .bind(state_hash).bind(now).fetch_optional(p).await?;
            Ok(v)
        })
    }

    pub async fn create_pairing(&self, p_: &Pairing) -> StoreResult<()> {
        on_writer!(self, |p| {
            sqlx::query("INSERT INTO app_link_pairings (pairing_id, secret_encrypted, link_id, peer_url, scope, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(&p_.pairing_id).bind(&p_.secret_encrypted).bind(p_.link_id).bind(&p_.peer_url).bind(&p_.scope).bind(p_.expires_at)
                .execute(p).await?;
            Ok(())
        })
    }

    pub async fn find_pairing(&self, pairing_id: &str) -> StoreResult<Option<Pairing>> {
        on_pool!(self, |p| {
            let v: Option<Pairing> = sqlx::query_as(
                "SELECT pairing_id, secret_encrypted, link_id, peer_url, scope, expires_at, used_at FROM app_link_pairings WHERE pairing_id = $1")
                .bind(pairing_id).fetch_optional(p).await?;
            Ok(v)
        })
    }

    /// Marks a pairing used; `false` when it was already used or has expired (single use).
    pub async fn use_pairing(&self, pairing_id: &str) -> StoreResult<bool> {
        let now = self.now();
        on_writer!(self, |p| {
            let r = sqlx::query("UPDATE app_link_pairings SET used_at = $1 WHERE pairing_id = $2 AND used_at IS NULL AND expires_at >= $1")
                .bind(now).bind(pairing_id).execute(p).await?;
            Ok(r.rows_affected() == 1)
        })
    }
}
