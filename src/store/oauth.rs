//! OAuth 2.0 provider storage: grants (one user's authorization of one client), single-use
//! codes, access and refresh tokens (hashed), and remembered consent. Clients: `oauth_clients.rs`.

use super::audit::write_audit;
use super::{on_pool, on_writer, Account, Audited, BeginWrite, Store, StoreResult};

/// A live token with what it was issued for.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OAuthToken {
    pub token_id: i64,
    pub token_kind: OAuthTokenKind,
    pub token_created_at: i64,
    pub token_expires_at: i64,
    pub grant_id: i64,
    pub scope: String,
    pub grant_last_used_at: Option<i64>,
    pub oauth_client_id: String,
    /// The token belongs to a service account (client credentials).
    pub is_service: bool,
    #[sqlx(flatten)]
    pub account: Account,
}

/// What redeeming a code found.
pub enum Redeemed {
    /// First use: the grant it belongs to, the redirect URI and PKCE challenge it was issued with.
    Fresh {
        grant_id: i64,
        client: i64,
        redirect_uri: String,
        challenge: Option<(String, String)>,
        expired: bool,
        /// Whether the person who authorized it is active now.
        user_active: bool,
    },
    /// Used before (what that costs is `services/oauth2.rs`'s decision).
    Replayed {
        grant_id: i64,
    },
    Unknown,
}

/// What presenting a refresh token found.
pub enum Rotated {
    Fresh {
        grant_id: i64,
        client: i64,
        scope: String,
    },
    /// An already-rotated token (what that costs is `services/oauth2.rs`'s decision).
    Reused {
        grant_id: i64,
    },
    /// A live token of a deactivated person: left as it is (reactivation restores it).
    UserInactive,
    Unknown,
}

/// One application a user has authorized, for their "Authorized applications" page.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuthorizedApp {
    pub client_id: String,
    pub name: String,
    pub scope: String,
    pub granted_at: i64,
    pub last_used_at: Option<i64>,
}

/// What an issued OAuth token is; stored as `access` or `refresh` (the column's CHECK allows
/// only these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "TEXT", rename_all = "lowercase")]
pub enum OAuthTokenKind {
    Access,
    Refresh,
}

impl OAuthTokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
        }
    }
}

/// A token (`t`) still in use: not revoked, not rotated away by a refresh. Expiry is compared
/// by each query against its own parameter. (The refresh itself spells it out on the unaliased
/// row it updates: on PostgreSQL a second refresh waiting on the row lock re-checks only the
/// UPDATE's own conditions, so they must stay on the row, not in a subquery.)
pub(crate) const LIVE_TOKEN: &str = "t.revoked_at IS NULL AND t.rotated_at IS NULL";

const TOKEN_SELECT: &str = "SELECT t.id AS token_id, t.kind AS token_kind, t.created_at AS token_created_at,
    t.expires_at AS token_expires_at, g.id AS grant_id, g.scope, g.last_used_at AS grant_last_used_at,
    c.client_id AS oauth_client_id,
    EXISTS (SELECT 1 FROM service_accounts s WHERE s.account_id = a.id) AS is_service, a.id, a.kind, a.slug, a.display_name, a.email, a.active, a.created_at
    FROM oauth_tokens t JOIN oauth_grants g ON g.id = t.grant_id JOIN oauth_clients c ON c.id = g.client_id
    JOIN accounts a ON a.id = g.user_id";

impl Store {
    /// The scope a user has already consented to for a client, if any.
    pub async fn remembered_consent(
        &self,
        client: i64,
        user_id: i64,
    ) -> StoreResult<Option<String>> {
        on_pool!(self, |p| {
            let v: Option<String> = sqlx::query_scalar(
                "SELECT scope FROM oauth_consents WHERE client_id = $1 AND user_id = $2",
            )
            .bind(client)
            .bind(user_id)
            .fetch_optional(p)
            .await?;
            Ok(v)
        })
    }

    /// Creates a grant and its authorization code in one transaction; remembers the consent.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_grant_with_code(
        &self,
        client: i64,
        user_id: i64,
        scope: &str,
        code_hash: &str,
        redirect_uri: &str,
        challenge: Option<(&str, &str)>,
        expires_at: i64,
    ) -> StoreResult<i64> {
        let now = self.now();
        on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let grant: i64 = sqlx::query_scalar(
                "INSERT INTO oauth_grants (client_id, user_id, scope, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
                .bind(client).bind(user_id).bind(scope).bind(now).fetch_one(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO oauth_codes (code_hash, grant_id, redirect_uri, code_challenge, code_challenge_method, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(code_hash).bind(grant).bind(redirect_uri).bind(challenge.map(|c| c.0)).bind(challenge.map(|c| c.1))
                .bind(expires_at).execute(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO oauth_consents (client_id, user_id, scope, created_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (client_id, user_id) DO UPDATE SET scope = excluded.scope, created_at = excluded.created_at")
                .bind(client).bind(user_id).bind(scope).bind(now).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(grant)
        })
    }

    /// Marks a code used; a second use is reported as `Replayed`.
    pub async fn redeem_code(&self, code_hash: &str) -> StoreResult<Redeemed> {
        #[derive(sqlx::FromRow)]
        struct Row {
            grant_id: i64,
            client_id: i64,
            redirect_uri: String,
            code_challenge: Option<String>,
            code_challenge_method: Option<String>,
            expires_at: i64,
            user_active: bool,
        }
        let now = self.now();
        let row: Option<Row> = on_writer!(self, |p| {
            sqlx::query_as(
                "UPDATE oauth_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL
                 RETURNING grant_id, (SELECT client_id FROM oauth_grants WHERE id = grant_id) AS client_id,
                           redirect_uri, code_challenge, code_challenge_method, expires_at,
                           (SELECT a.active FROM oauth_grants g JOIN accounts a ON a.id = g.user_id
                             WHERE g.id = grant_id) AS user_active")
                .bind(now).bind(code_hash).fetch_optional(p).await?
        });
        if let Some(r) = row {
            let challenge = r.code_challenge.zip(r.code_challenge_method);
            return Ok(Redeemed::Fresh {
                grant_id: r.grant_id,
                client: r.client_id,
                redirect_uri: r.redirect_uri,
                challenge,
                expired: r.expires_at <= now,
                user_active: r.user_active,
            });
        }
        let used: Option<i64> = on_pool!(self, |p| {
            sqlx::query_scalar("SELECT grant_id FROM oauth_codes WHERE code_hash = $1")
                .bind(code_hash)
                .fetch_optional(p)
                .await?
        });
        Ok(match used {
            Some(grant_id) => Redeemed::Replayed { grant_id },
            None => Redeemed::Unknown,
        })
    }

    /// Issues an access token and, optionally, a refresh token on a grant. The rows go through
    /// the group-commit writer (`token_batch.rs`) and are committed when this returns.
    pub async fn issue_oauth_tokens(
        &self,
        grant_id: i64,
        access: (&str, i64),
        refresh: Option<(&str, i64)>,
    ) -> StoreResult<()> {
        let now = self.now();
        let mut rows = vec![(
            access.0.to_string(),
            OAuthTokenKind::Access.as_str(),
            grant_id,
            now,
            access.1,
        )];
        if let Some((hash, expires)) = refresh {
            rows.push((
                hash.to_string(),
                OAuthTokenKind::Refresh.as_str(),
                grant_id,
                now,
                expires,
            ));
        }
        self.token_writer.write(rows).await.map_err(|e| {
            super::StoreError::Db(sqlx::Error::Protocol(format!("token write failed: {e}")))
        })
    }

    /// Exchanges a refresh token: it and the grant's access tokens die. A token that was already
    /// exchanged is reported as `Reused`.
    pub async fn rotate_refresh_token(&self, token_hash: &str) -> StoreResult<Rotated> {
        #[derive(sqlx::FromRow)]
        struct Row {
            grant_id: i64,
            client_id: i64,
            scope: String,
        }
        let now = self.now();
        let fresh: Option<Row> = on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let row: Option<Row> = sqlx::query_as(
                "UPDATE oauth_tokens SET rotated_at = $1
                 WHERE token_hash = $2 AND kind = 'refresh' AND rotated_at IS NULL AND revoked_at IS NULL AND expires_at > $1
                   AND grant_id IN (SELECT g.id FROM oauth_grants g JOIN accounts a ON a.id = g.user_id
                                    WHERE g.revoked_at IS NULL AND a.active)
                 RETURNING grant_id, (SELECT client_id FROM oauth_grants WHERE id = grant_id) AS client_id,
                           (SELECT scope FROM oauth_grants WHERE id = grant_id) AS scope")
                .bind(now).bind(token_hash).fetch_optional(&mut *tx).await?;
            if let Some(r) = &row {
                sqlx::query("UPDATE oauth_tokens SET revoked_at = $1 WHERE grant_id = $2 AND kind = 'access' AND revoked_at IS NULL")
                    .bind(now).bind(r.grant_id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            row
        });
        if let Some(r) = fresh {
            self.invalidate_grant(r.grant_id).await;
            return Ok(Rotated::Fresh {
                grant_id: r.grant_id,
                client: r.client_id,
                scope: r.scope,
            });
        }
        let seen: Option<(i64, bool, bool)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT t.grant_id, t.rotated_at IS NOT NULL, a.active FROM oauth_tokens t
                 JOIN oauth_grants g ON g.id = t.grant_id JOIN accounts a ON a.id = g.user_id
                 WHERE t.token_hash = $1 AND t.kind = 'refresh'",
            )
            .bind(token_hash)
            .fetch_optional(p)
            .await?
        });
        match seen {
            Some((grant_id, true, _)) => Ok(Rotated::Reused { grant_id }),
            Some((_, false, false)) => Ok(Rotated::UserInactive),
            _ => Ok(Rotated::Unknown),
        }
    }

    /// Ends a grant and every token issued on it.
    pub async fn revoke_oauth_grant(&self, grant_id: i64) -> StoreResult<()> {
        let now = self.now();
        on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            sqlx::query(
                "UPDATE oauth_grants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(grant_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE oauth_tokens SET revoked_at = $1 WHERE grant_id = $2 AND revoked_at IS NULL")
                .bind(now).bind(grant_id).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        self.invalidate().await;
        Ok(())
    }

    pub async fn revoke_oauth_token(&self, token_id: i64) -> StoreResult<()> {
        let now = self.now();
        on_writer!(self, |p| {
            sqlx::query(
                "UPDATE oauth_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(token_id)
            .execute(p)
            .await?;
        });
        self.invalidate().await;
        Ok(())
    }

    /// A token that is live now: not expired, not revoked or rotated, its grant not revoked,
    /// its user active. Served from the authentication cache (every revocation invalidates it;
    /// expiry is checked here on each use).
    pub async fn find_live_oauth_token(&self, token_hash: &str) -> StoreResult<Option<OAuthToken>> {
        let (now, generation) = (self.now(), self.cache.generation());
        let found = match self
            .cache
            .oauth_tokens
            .get(&token_hash.to_string(), generation, now)
        {
            Some(hit) => hit,
            None => {
                let targeted = self.cache.targeted();
                let fetched: Option<OAuthToken> = on_pool!(self, |p| {
                    sqlx::query_as(&format!(
                        "{TOKEN_SELECT} WHERE t.token_hash = $1 AND {LIVE_TOKEN}
                         AND g.revoked_at IS NULL AND a.active"
                    ))
                    .bind(token_hash)
                    .fetch_optional(p)
                    .await?
                });
                // A grant invalidated while we read may have made this answer stale: don't keep it.
                if self.cache.targeted() == targeted {
                    self.cache.oauth_tokens.put(
                        token_hash.to_string(),
                        fetched.clone(),
                        generation,
                        now,
                    );
                }
                fetched
            }
        };
        Ok(found.filter(|t| t.token_expires_at > now))
    }

    /// Records that a grant was used, at most once a minute per grant. `seen` is the last use
    /// the caller knows of (possibly from the cache); this node also remembers its own writes.
    pub async fn touch_oauth_grant(&self, grant_id: i64, seen: Option<i64>) -> StoreResult<()> {
        let now = self.now();
        {
            let mut touched = self
                .touched_grants
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let last = touched.get(&grant_id).copied().max(seen);
            if last.is_some_and(|at| now - at <= 60_000) {
                return Ok(());
            }
            if touched.len() > 100_000 {
                touched.clear();
            }
            touched.insert(grant_id, now);
        }
        on_writer!(self, |p| {
            sqlx::query("UPDATE oauth_grants SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(grant_id)
                .execute(p)
                .await?;
            Ok(())
        })
    }

    /// The applications a user has authorized and not revoked, one row per client.
    pub async fn authorized_apps(&self, user_id: i64) -> StoreResult<Vec<AuthorizedApp>> {
        let now = self.now();
        on_pool!(self, |p| {
            let v: Vec<AuthorizedApp> = sqlx::query_as(&format!(
                "SELECT c.client_id, c.name, MAX(g.scope) AS scope, MIN(g.created_at) AS granted_at, MAX(g.last_used_at) AS last_used_at
                 FROM oauth_grants g JOIN oauth_clients c ON c.id = g.client_id
                 WHERE g.user_id = $1 AND g.revoked_at IS NULL
                   AND EXISTS (SELECT 1 FROM oauth_tokens t WHERE t.grant_id = g.id AND {LIVE_TOKEN}
                               AND t.expires_at > $2)
                 GROUP BY c.client_id, c.name ORDER BY c.name"))
                .bind(user_id).bind(now).fetch_all(p).await?;
            Ok(v)
        })
    }

    /// Revokes everything a user granted a client, and forgets the consent.
    pub async fn revoke_client_for_user(
        &self,
        client: i64,
        user_id: i64,
        audit: Audited<'_>,
    ) -> StoreResult<u64> {
        let now = self.now();
        let n = on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let r = sqlx::query("UPDATE oauth_grants SET revoked_at = $1 WHERE client_id = $2 AND user_id = $3 AND revoked_at IS NULL")
                .bind(now).bind(client).bind(user_id).execute(&mut *tx).await?;
            sqlx::query(
                "UPDATE oauth_tokens SET revoked_at = $1 WHERE revoked_at IS NULL
                 AND grant_id IN (SELECT id FROM oauth_grants WHERE client_id = $2 AND user_id = $3)")
                .bind(now).bind(client).bind(user_id).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM oauth_consents WHERE client_id = $1 AND user_id = $2")
                .bind(client)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            write_audit!(&mut *tx, now, audit);
            tx.commit().await?;
            r.rows_affected()
        });
        self.invalidate().await;
        Ok(n)
    }
}

impl Store {
    pub async fn grant_scope(&self, grant_id: i64) -> StoreResult<String> {
        on_pool!(self, |p| {
            let s: String = sqlx::query_scalar("SELECT scope FROM oauth_grants WHERE id = $1")
                .bind(grant_id)
                .fetch_one(p)
                .await?;
            Ok(s)
        })
    }
}
