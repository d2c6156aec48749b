//! Browser sessions. Only the SHA-256 of the cookie value is stored.

use super::{on_pool, on_writer, Account, Store, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Session {
    #[sqlx(rename = "session_id")]
    pub id: i64,
    pub user_id: i64,
    pub csrf_token: String,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

/// Sessions refresh their idle expiry at most this often, so reading pages does not write on
/// every request.
const TOUCH_EVERY_MS: i64 = 60_000;

impl Store {
    pub async fn create_session(
        &self,
        user_id: i64,
        token_hash: &str,
        csrf: &str,
        idle_ms: i64,
    ) -> StoreResult<Session> {
        let now = self.now();
        on_writer!(self, |p| {
            let s: Session = sqlx::query_as(
                "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at)
                 VALUES ($1, $2, $3, $4, $4, $5) RETURNING id AS session_id, user_id, csrf_token, last_seen_at, expires_at")
                .bind(token_hash).bind(user_id).bind(csrf).bind(now).bind(now + idle_ms).fetch_one(p).await?;
            Ok(s)
        })
    }

    /// The live session with this hash and its active user; extends the idle expiry.
    pub async fn find_session(
        &self,
        token_hash: &str,
        idle_ms: i64,
    ) -> StoreResult<Option<(Session, Account)>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            session: Session,
            #[sqlx(flatten)]
            account: Account,
        }
        let now = self.now();
        let row: Option<Row> =
            on_pool!(self, |p| {
                sqlx::query_as(
                "SELECT s.id AS session_id, s.user_id, s.csrf_token, s.last_seen_at, s.expires_at,
                        a.id, a.kind, a.slug, a.display_name, a.email, a.active, a.created_at
                 FROM sessions s JOIN accounts a ON a.id = s.user_id
                 WHERE s.token_hash = $1 AND s.expires_at > $2 AND a.active")
                .bind(token_hash).bind(now).fetch_optional(p).await?
            });
        let Some(row) = row else { return Ok(None) };
        if now - row.session.last_seen_at > TOUCH_EVERY_MS {
            on_writer!(self, |p| {
                sqlx::query("UPDATE sessions SET last_seen_at = $1, expires_at = $2 WHERE id = $3")
                    .bind(now)
                    .bind(now + idle_ms)
                    .bind(row.session.id)
                    .execute(p)
                    .await?;
            });
        }
        Ok(Some((row.session, row.account)))
    }

    pub async fn delete_session(&self, session_id: i64) -> StoreResult<()> {
        on_writer!(self, |p| {
            sqlx::query("DELETE FROM sessions WHERE id = $1")
                .bind(session_id)
                .execute(p)
                .await?;
            Ok(())
        })
    }
}
