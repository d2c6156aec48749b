//! Registered OAuth 2.0 clients (incoming links) and the admin's view of their grants.

use super::audit::write_audit;
use super::oauth::LIVE_TOKEN;
use super::{on_pool, on_writer, Audited, BeginWrite, Store, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OAuthClient {
    pub id: i64,
    pub client_id: String,
    pub name: String,
    pub confidential: bool,
    pub secret_hash: Option<String>,
    pub secret_encrypted: Option<String>,
    pub redirects: String,
    pub scope: String,
    pub created_at: i64,
}

impl OAuthClient {
    pub fn redirect_list(&self) -> Vec<String> {
        self.redirects.lines().map(str::to_string).collect()
    }
}

const CLIENT_COLUMNS: &str =
    "id, client_id, name, confidential, secret_hash, secret_encrypted, redirects, scope, created_at";

impl Store {
    #[allow(clippy::too_many_arguments)]
    pub async fn create_oauth_client(
        &self,
        client_id: &str,
        name: &str,
        confidential: bool,
        secret_hash: Option<&str>,
        secret_encrypted: Option<&str>,
        redirects: &[String],
        scope: &str,
        audit: Audited<'_>,
    ) -> StoreResult<OAuthClient> {
        let now = self.now();
        on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let c: OAuthClient = sqlx::query_as(&format!(
                "INSERT INTO oauth_clients (client_id, name, confidential, secret_hash, secret_encrypted, redirects, scope, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING {CLIENT_COLUMNS}"))
                .bind(client_id).bind(name).bind(confidential).bind(secret_hash).bind(secret_encrypted)
                .bind(redirects.join("\n")).bind(scope).bind(now).fetch_one(&mut *tx).await?;
            write_audit!(&mut *tx, now, audit);
            tx.commit().await?;
            Ok(c)
        })
    }

    pub async fn list_oauth_clients(&self) -> StoreResult<Vec<OAuthClient>> {
        on_pool!(self, |p| {
            let v: Vec<OAuthClient> = sqlx::query_as(&format!(
                "SELECT {CLIENT_COLUMNS} FROM oauth_clients ORDER BY name"
            ))
            .fetch_all(p)
            .await?;
            Ok(v)
        })
    }

    /// Looked up on every token request, so served from the authentication cache.
    pub async fn find_oauth_client(&self, client_id: &str) -> StoreResult<Option<OAuthClient>> {
        let (now, generation) = (self.now(), self.cache.generation());
        if let Some(hit) = self
            .cache
            .clients
            .get(&client_id.to_string(), generation, now)
        {
            return Ok(hit);
        }
        let found: Option<OAuthClient> = on_pool!(self, |p| {
            sqlx::query_as(&format!(
                "SELECT {CLIENT_COLUMNS} FROM oauth_clients WHERE client_id = $1"
            ))
            .bind(client_id)
            .fetch_optional(p)
            .await?
        });
        self.cache
            .clients
            .put(client_id.to_string(), found.clone(), generation, now);
        Ok(found)
    }

    pub async fn find_oauth_client_by_id(&self, id: i64) -> StoreResult<Option<OAuthClient>> {
        on_pool!(self, |p| {
            let v: Option<OAuthClient> = sqlx::query_as(&format!(
                "SELECT {CLIENT_COLUMNS} FROM oauth_clients WHERE id = $1"
            ))
            .bind(id)
            .fetch_optional(p)
            .await?;
            Ok(v)
        })
    }

    pub async fn update_oauth_client(
        &self,
        id: i64,
        name: &str,
        redirects: &[String],
        scope: &str,
        audit: Audited<'_>,
    ) -> StoreResult<OAuthClient> {
        let now = self.now();
        let c = on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let c: OAuthClient = sqlx::query_as(&format!(
                "UPDATE oauth_clients SET name = $1, redirects = $2, scope = $3, updated_at = $4 WHERE id = $5 RETURNING {CLIENT_COLUMNS}"))
                .bind(name).bind(redirects.join("\n")).bind(scope).bind(now).bind(id).fetch_one(&mut *tx).await?;
            write_audit!(&mut *tx, now, audit);
            tx.commit().await?;
            c
        });
        // A narrower scope must stop working at once for tokens already issued.
        self.invalidate().await;
        Ok(c)
    }

    pub async fn reset_oauth_client_secret(
        &self,
        id: i64,
        secret_hash: &str,
        secret_encrypted: &str,
        audit: Audited<'_>,
    ) -> StoreResult<OAuthClient> {
        let now = self.now();
        let c = on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let c: OAuthClient = sqlx::query_as(&format!(
                "UPDATE oauth_clients SET secret_hash = $1, secret_encrypted = $2, updated_at = $3 WHERE id = $4 AND confidential
                 RETURNING {CLIENT_COLUMNS}"))
                .bind(secret_hash).bind(secret_encrypted).bind(now).bind(id).fetch_one(&mut *tx).await?;
            write_audit!(&mut *tx, now, audit);
            tx.commit().await?;
            c
        });
        self.invalidate().await;
        Ok(c)
    }

    /// Deletes a client with every grant, code and token it holds.
    pub async fn delete_oauth_client(&self, id: i64, audit: Audited<'_>) -> StoreResult<bool> {
        let sql = "DELETE FROM oauth_clients WHERE id = $1";
        let deleted = self.execute_audited(sql, &[id], audit).await?;
        self.invalidate().await;
        Ok(deleted)
    }
}

/// One user's live authorization of a client, for the admin's view of the client.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ClientGrant {
    pub slug: String,
    pub display_name: String,
    pub scope: String,
    pub granted_at: i64,
    pub last_used_at: Option<i64>,
}

impl Store {
    /// Users holding live tokens of a client.
    pub async fn client_grants(&self, client: i64) -> StoreResult<Vec<ClientGrant>> {
        let now = self.now();
        on_pool!(self, |p| {
            let v: Vec<ClientGrant> = sqlx::query_as(&format!(
                "SELECT a.slug, a.display_name, MAX(g.scope) AS scope, MIN(g.created_at) AS granted_at, MAX(g.last_used_at) AS last_used_at
                 FROM oauth_grants g JOIN accounts a ON a.id = g.user_id
                 WHERE g.client_id = $1 AND g.revoked_at IS NULL
                   AND EXISTS (SELECT 1 FROM oauth_tokens t WHERE t.grant_id = g.id AND {LIVE_TOKEN}
                               AND t.expires_at > $2)
                 GROUP BY a.slug, a.display_name ORDER BY a.slug"))
                .bind(client).bind(now).fetch_all(p).await?;
            Ok(v)
        })
    }

    /// Revokes every grant of a client, for every user; consents are forgotten too.
    pub async fn revoke_client_grants(&self, client: i64, audit: Audited<'_>) -> StoreResult<()> {
        let now = self.now();
        on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            sqlx::query("UPDATE oauth_grants SET revoked_at = $1 WHERE client_id = $2 AND revoked_at IS NULL")
                .bind(now).bind(client).execute(&mut *tx).await?;
            sqlx::query("UPDATE oauth_tokens SET revoked_at = $1 WHERE revoked_at IS NULL AND grant_id IN (SELECT id FROM oauth_grants WHERE client_id = $2)")
                .bind(now).bind(client).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM oauth_consents WHERE client_id = $1")
                .bind(client)
                .execute(&mut *tx)
                .await?;
            write_audit!(&mut *tx, now, audit);
            tx.commit().await?;
        });
        self.invalidate().await;
        Ok(())
    }
}
