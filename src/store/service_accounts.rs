//! Service accounts: password-less accounts tied to a confidential OAuth client, authenticating
//! with client credentials, optionally confined to some projects and repositories.

use super::audit::write_audit;
use super::{on_pool, on_writer, Account, Audited, BeginWrite, OAuthClient, Store, StoreResult};
use crate::domain::{GlobalPermission, Restriction};

/// What creating a service account needs.
pub struct NewServiceAccount<'a> {
    pub slug: &'a str,
    pub display_name: &'a str,
    pub client_id: &'a str,
    pub secret_hash: &'a str,
    pub secret_encrypted: &'a str,
    pub scope: &'a str,
    pub restriction: Option<&'a Restriction>,
}

impl Store {
    /// Creates the account, its client and its restriction in one transaction.
    pub async fn create_service_account(
        &self,
        n: &NewServiceAccount<'_>,
        audit: Audited<'_>,
    ) -> StoreResult<()> {
        let now = self.now();
        on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let account: i64 = sqlx::query_scalar(
                "INSERT INTO accounts (kind, slug, display_name, active, created_at, updated_at)
                 VALUES ('user', $1, $2, TRUE, $3, $3) RETURNING id",
            )
            .bind(n.slug)
            .bind(n.display_name)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query("INSERT INTO grants (scope, target_id, account_id, permission) VALUES ('global', 0, $1, $2)")
                .bind(account).bind(GlobalPermission::LicensedUser.as_str()).execute(&mut *tx).await?;
            let client: i64 = sqlx::query_scalar(
                "INSERT INTO oauth_clients (client_id, name, confidential, secret_hash, secret_encrypted, redirects, scope, created_at, updated_at)
                 VALUES ($1, $2, TRUE, $3, $4, '', $5, $6, $6) RETURNING id")
                .bind(n.client_id).bind(n.display_name).bind(n.secret_hash).bind(n.secret_encrypted).bind(n.scope).bind(now)
                .fetch_one(&mut *tx).await?;
            sqlx::query("INSERT INTO service_accounts (account_id, oauth_client_id, created_at) VALUES ($1, $2, $3)")
                .bind(account).bind(client).bind(now).execute(&mut *tx).await?;
            if let Some(r) = n.restriction {
                for project in &r.projects {
                    sqlx::query("INSERT INTO service_account_resources (account_id, project_id) VALUES ($1, $2)")
                        .bind(account).bind(*project).execute(&mut *tx).await?;
                }
                for (project, repo) in &r.repos {
                    sqlx::query("INSERT INTO service_account_resources (account_id, project_id, repo_id) VALUES ($1, $2, $3)")
                        .bind(account).bind(*project).bind(*repo).execute(&mut *tx).await?;
                }
            }
            write_audit!(&mut *tx, now, audit);
            tx.commit().await?;
            Ok(())
        })
    }

    /// The account a client acts as under client credentials, if it is a service client.
    pub async fn service_account_of_client(&self, client: i64) -> StoreResult<Option<Account>> {
        self.read_through(&self.cache.service_accounts, &client, || async {
            on_pool!(self, |p| {
                let found: Option<Account> = sqlx::query_as(
                    "SELECT a.id, a.kind, a.slug, a.display_name, a.email, a.active, a.created_at
                     FROM service_accounts s JOIN accounts a ON a.id = s.account_id
                     WHERE s.oauth_client_id = $1",
                )
                .bind(client)
                .fetch_optional(p)
                .await?;
                Ok(found)
            })
        })
        .await
    }

    /// `None`: not restricted.
    pub async fn service_account_restriction(
        &self,
        account_id: i64,
    ) -> StoreResult<Option<Restriction>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            project_id: Option<i64>,
            repo_id: Option<i64>,
        }
        let rows: Vec<Row> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT project_id, repo_id FROM service_account_resources WHERE account_id = $1",
            )
            .bind(account_id)
            .fetch_all(p)
            .await?
        });
        if rows.is_empty() {
            return Ok(None);
        }
        let mut r = Restriction::default();
        for row in rows {
            match (row.project_id, row.repo_id) {
                (Some(p), Some(repo)) => r.repos.push((p, repo)),
                (Some(p), None) => r.projects.push(p),
                _ => {}
            }
        }
        Ok(Some(r))
    }

    pub async fn list_service_accounts(&self) -> StoreResult<Vec<(Account, OAuthClient)>> {
        let clients = self.list_oauth_clients().await?;
        let mut out = Vec::new();
        for c in clients {
            if let Some(a) = self.service_account_of_client(c.id).await? {
                out.push((a, c));
            }
        }
        Ok(out)
    }

    /// The grant client-credentials tokens hang off: one live grant per service client and
    /// scope, found (usually in the cache) or created.
    pub async fn service_grant(
        &self,
        client: i64,
        account_id: i64,
        scope: &str,
    ) -> StoreResult<i64> {
        let now = self.now();
        let key = (client, account_id, scope.to_string());
        self.read_through(&self.cache.service_grants, &key, || async {
            let existing: Option<i64> = on_pool!(self, |p| {
                sqlx::query_scalar(
                    "SELECT id FROM oauth_grants WHERE client_id = $1 AND user_id = $2 AND scope = $3 AND revoked_at IS NULL ORDER BY id LIMIT 1")
                    .bind(client).bind(account_id).bind(scope).fetch_optional(p).await?
            });
            let id = match existing {
                Some(id) => id,
                None => on_writer!(self, |p| {
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO oauth_grants (client_id, user_id, scope, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
                        .bind(client).bind(account_id).bind(scope).bind(now).fetch_one(p).await?;
                    id
                }),
            };
            Ok(id)
        })
        .await
    }

    /// Deletes the client (revoking every token) and deactivates the account, keeping its
    /// history, in one transaction.
    pub async fn delete_service_account(
        &self,
        account_id: i64,
        client: i64,
        audit: Audited<'_>,
    ) -> StoreResult<()> {
        let now = self.now();
        on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            sqlx::query("DELETE FROM oauth_clients WHERE id = $1")
                .bind(client)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE accounts SET active = FALSE, updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(account_id)
                .execute(&mut *tx)
                .await?;
            write_audit!(&mut *tx, now, audit);
            tx.commit().await?;
        });
        self.invalidate().await;
        Ok(())
    }
}
