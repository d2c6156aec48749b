//! Named secrets Junction must read back, stored only as ciphertext made with the master key
//! (`crypto::MasterKey`). The store never sees the key or a plaintext.

use super::{on_pool, on_writer, Store, StoreResult};

impl Store {
    pub async fn put_encrypted_secret(&self, name: &str, ciphertext: &str) -> StoreResult<()> {
        let now = self.now();
        on_writer!(self, |p| {
            sqlx::query(
                "INSERT INTO encrypted_secrets (name, ciphertext, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (name) DO UPDATE SET ciphertext = excluded.ciphertext, updated_at = excluded.updated_at")
                .bind(name).bind(ciphertext).bind(now).execute(p).await?;
            Ok(())
        })
    }

    pub async fn encrypted_secret(&self, name: &str) -> StoreResult<Option<String>> {
        on_pool!(self, |p| {
            let v: Option<String> =
                sqlx::query_scalar("SELECT ciphertext FROM encrypted_secrets WHERE name = $1")
                    .bind(name)
                    .fetch_optional(p)
                    .await?;
            Ok(v)
        })
    }
}
