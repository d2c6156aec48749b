//! Personal access tokens. Only the SHA-256 of a token is stored; the token is shown once.

use super::audit::write_audit;
use super::{on_pool, on_writer, Account, Audited, BeginWrite, Store, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AccessToken {
    #[sqlx(rename = "token_id")]
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub permission: String,
    /// Data Center's pair when it differs from `permission` on one side.
    pub scopes: Option<String>,
    #[sqlx(rename = "token_created_at")]
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

/// A token presented on a request, with its active owner.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TokenOwner {
    #[sqlx(flatten)]
    pub token: AccessToken,
    #[sqlx(flatten)]
    pub account: Account,
}

/// "Last used" is recorded at most this often, so authenticated reads stay reads.
const TOUCH_EVERY_MS: i64 = 60_000;
const TOKEN_COLUMNS: &str =
    "id AS token_id, user_id, name, permission, scopes, created_at AS token_created_at, expires_at, last_used_at";

impl Store {
    pub async fn create_access_token(
        &self,
        user_id: i64,
        name: &str,
        token_hash: &str,
        (permission, scopes): (&str, Option<&str>),
        expires_at: Option<i64>,
        audit: Audited<'_>,
    ) -> StoreResult<AccessToken> {
        let now = self.now();
        on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let t: AccessToken = sqlx::query_as(&format!(
                "INSERT INTO access_tokens (user_id, name, token_hash, permission, scopes, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {TOKEN_COLUMNS}"))
                .bind(user_id).bind(name).bind(token_hash).bind(permission).bind(scopes).bind(now).bind(expires_at)
                .fetch_one(&mut *tx).await?;
            write_audit!(&mut *tx, now, audit);
            tx.commit().await?;
            Ok(t)
        })
    }

    pub async fn list_access_tokens(&self, user_id: i64) -> StoreResult<Vec<AccessToken>> {
        on_pool!(self, |p| {
            let v: Vec<AccessToken> = sqlx::query_as(&format!(
                "SELECT {TOKEN_COLUMNS} FROM access_tokens WHERE user_id = $1 ORDER BY created_at DESC, id DESC"))
                .bind(user_id).fetch_all(p).await?;
            Ok(v)
        })
    }

    pub async fn find_access_token(
        &self,
        user_id: i64,
        token_id: i64,
    ) -> StoreResult<Option<AccessToken>> {
        on_pool!(self, |p| {
            let v: Option<AccessToken> = sqlx::query_as(&format!(
                "SELECT {TOKEN_COLUMNS} FROM access_tokens WHERE user_id = $1 AND id = $2"
            ))
            .bind(user_id)
            .bind(token_id)
            .fetch_optional(p)
            .await?;
            Ok(v)
        })
    }

    /// The unexpired token with this hash and its active owner; records the use (at most once
    /// a minute). Served from the authentication cache when it can be.
    pub async fn use_access_token(&self, token_hash: &str) -> StoreResult<Option<TokenOwner>> {
        let now = self.now();
        let generation = self.cache.generation();
        let found = match self
            .cache
            .tokens
            .get(&token_hash.to_string(), generation, now)
        {
            Some(hit) => hit,
            None => {
                let fetched: Option<TokenOwner> = on_pool!(self, |p| {
                    sqlx::query_as(
                        "SELECT t.id AS token_id, t.user_id, t.name, t.permission, t.scopes, t.created_at AS token_created_at, t.expires_at,
                                t.last_used_at, a.id, a.kind, a.slug, a.display_name, a.email, a.active, a.created_at
                         FROM access_tokens t JOIN accounts a ON a.id = t.user_id
                         WHERE t.token_hash = $1 AND a.active")
                        .bind(token_hash).fetch_optional(p).await?
                });
                self.cache
                    .tokens
                    .put(token_hash.to_string(), fetched.clone(), generation, now);
                fetched
            }
        };
        let Some(mut owner) = found else {
            return Ok(None);
        };
        if owner.token.expires_at.is_some_and(|e| e <= now) {
            return Ok(None);
        }
        if owner
            .token
            .last_used_at
            .is_none_or(|t| now - t > TOUCH_EVERY_MS)
        {
            on_writer!(self, |p| {
                sqlx::query("UPDATE access_tokens SET last_used_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(owner.token.id)
                    .execute(p)
                    .await?;
            });
            owner.token.last_used_at = Some(now);
            self.cache
                .tokens
                .put(token_hash.to_string(), Some(owner.clone()), generation, now);
        }
        Ok(Some(owner))
    }

    pub async fn delete_access_token(
        &self,
        user_id: i64,
        token_id: i64,
        audit: Audited<'_>,
    ) -> StoreResult<bool> {
        let sql = "DELETE FROM access_tokens WHERE user_id = $1 AND id = $2";
        let deleted = self
            .execute_audited(sql, &[user_id, token_id], audit)
            .await?;
        self.invalidate().await;
        Ok(deleted)
    }
}
