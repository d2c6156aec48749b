//! Group commit for issued OAuth tokens. Under load many requests issue tokens at once; one
//! background task takes every row waiting and writes them in one multi-row `INSERT`, so a
//! burst of N token requests costs one write instead of N. Each caller still waits for its own
//! rows to be committed before answering: no token is handed out that is not stored.

use super::Db;
use tokio::sync::{mpsc, oneshot};

/// One token row: hash, kind ("access" / "refresh"), grant, created, expires.
pub type TokenRow = (String, &'static str, i64, i64, i64);

type Job = (Vec<TokenRow>, oneshot::Sender<Result<(), String>>);

/// Rows per statement at most (5 parameters each, far below both databases' limits).
const MAX_ROWS: usize = 512;

#[derive(Clone)]
pub struct TokenBatcher {
    jobs: mpsc::UnboundedSender<Job>,
}

impl TokenBatcher {
    pub fn start(db: Db) -> Self {
        let (jobs, mut rx) = mpsc::unbounded_channel::<Job>();
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut batch = vec![first];
                let mut rows = batch[0].0.len();
                while rows < MAX_ROWS {
                    match rx.try_recv() {
                        Ok(job) => {
                            rows += job.0.len();
                            batch.push(job);
                        }
                        Err(_) => break,
                    }
                }
                let all: Vec<&TokenRow> = batch.iter().flat_map(|(r, _)| r.iter()).collect();
                let result = insert(&db, &all).await.map_err(|e| e.to_string());
                for (_, reply) in batch {
                    let _ = reply.send(result.clone());
                }
            }
        });
        Self { jobs }
    }

    /// Writes the rows (with whatever else is waiting) and returns once they are committed.
    pub async fn write(&self, rows: Vec<TokenRow>) -> Result<(), String> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send((rows, tx))
            .map_err(|_| "the token writer has stopped".to_string())?;
        rx.await
            .map_err(|_| "the token writer has stopped".to_string())?
    }
}

async fn insert(db: &Db, rows: &[&TokenRow]) -> sqlx::Result<()> {
    let values: Vec<String> = (0..rows.len())
        .map(|i| {
            let b = i * 5;
            format!(
                "(${}, ${}, ${}, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO oauth_tokens (token_hash, kind, grant_id, created_at, expires_at) VALUES {}",
        values.join(", ")
    );
    macro_rules! run {
        ($p:expr) => {{
            let mut q = sqlx::query(&sql);
            for (hash, kind, grant, created, expires) in rows.iter().copied() {
                q = q
                    .bind(hash.as_str())
                    .bind(*kind)
                    .bind(*grant)
                    .bind(*created)
                    .bind(*expires);
            }
            q.execute($p).await.map(|_| ())
        }};
    }
    match db {
        Db::Sqlite(_, writer) => run!(writer),
        Db::Postgres(p) => run!(p),
    }
}
