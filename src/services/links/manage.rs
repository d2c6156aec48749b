//! Creating and removing links and their incoming clients so that a failure half-way leaves
//! nothing behind.

use super::{LinkError, Links};
use crate::domain::oauth2::{check_redirect_uri, ScopeSet};
use crate::store::{AppLink, Audited, LinkFields, OAuthClient, StoreError};

impl Links {
    /// An incoming side: a confidential OAuth 2.0 client of Junction. Returns it with its
    /// secret, which is shown once.
    pub async fn create_incoming_client(
        &self,
        name: &str,
        redirects: &[String],
        scope: Option<&str>,
    ) -> Result<(OAuthClient, String), LinkError> {
        let scope = scope.unwrap_or(crate::domain::applinks::DEFAULT_INCOMING_SCOPE);
        if redirects.is_empty() {
            return Err(LinkError::Invalid(
                "redirects",
                "At least one redirect URL is required.".into(),
            ));
        }
        for r in redirects {
            check_redirect_uri(r).map_err(|m| LinkError::Invalid("redirects", m))?;
        }
        let scope = ScopeSet::parse(scope).map_err(|m| LinkError::Invalid("scope", m))?;
        let (secret, hash, encrypted) = crate::crypto::new_client_secret(&self.key);
        let client = self
            .store
            .create_oauth_client(
                &crate::secret::new_client_id(),
                name,
                true,
                Some(&hash),
                Some(&encrypted),
                redirects,
                scope.as_str(),
                // Part of a link's creation, which the link's own record covers.
                None,
            )
            .await
            .map_err(|e| match e {
                StoreError::Duplicate => LinkError::Duplicate(name.to_string()),
                e => e.into(),
            })?;
        Ok((client, secret))
    }

    /// Stores a new link under `link_id` (`crate::secret::new_uuid()`, made by the caller so
    /// that `audit` can name it); if that fails, the incoming client made for it is deleted
    /// again.
    pub async fn create_link(
        &self,
        link_id: &str,
        fields: &LinkFields,
        audit: Audited<'_>,
    ) -> Result<AppLink, LinkError> {
        let stored = self.store.create_link(link_id, fields, audit).await;
        self.settle(stored, fields, None).await
    }

    /// Stores a link's changed settings; if that fails, an incoming client made for this
    /// change (one the link did not have) is deleted again.
    pub async fn save_link(
        &self,
        current: &AppLink,
        fields: &LinkFields,
        audit: Audited<'_>,
    ) -> Result<AppLink, LinkError> {
        let stored = self.store.update_link(current.id, fields, audit).await;
        self.settle(stored, fields, current.incoming_client).await
    }

    /// One rule for a failed link write: nothing made for it stays behind, and a taken name
    /// is said as such.
    async fn settle(
        &self,
        stored: Result<AppLink, StoreError>,
        fields: &LinkFields,
        had_client: Option<i64>,
    ) -> Result<AppLink, LinkError> {
        match stored {
            Ok(l) => Ok(l),
            Err(e) => {
                if fields.incoming_client != had_client {
                    self.drop_client(fields.incoming_client).await;
                }
                Err(match e {
                    StoreError::Duplicate => LinkError::Duplicate(fields.name.clone()),
                    e => e.into(),
                })
            }
        }
    }

    /// Revokes at the remote (RFC 7009, where its metadata names a revocation endpoint) what
    /// people authorized Junction to do there through this link: each refresh token (which ends
    /// the grant), or the access token when there is none. Best effort: returns how many
    /// connections the remote confirmed revoking.
    pub async fn revoke_remote_tokens(&self, link: &AppLink) -> usize {
        let Some(out) = link.outgoing() else {
            return 0;
        };
        let Ok(Some(endpoint)) = self
            .fetch_metadata(&link.url)
            .await
            .map(|m| m.and_then(|m| m.revocation_endpoint))
        else {
            return 0;
        };
        let Ok(tokens) = self.store.link_tokens_of(link.id).await else {
            return 0;
        };
        let mut revoked = 0;
        for t in tokens.iter().filter(|t| t.status == "connected") {
            let (sealed, hint) = match &t.refresh_encrypted {
                Some(r) => (r, "refresh_token"),
                None => (&t.access_encrypted, "access_token"),
            };
            let Ok(token) = self.reveal(sealed) else {
                continue;
            };
            match self.revoke_at_remote(&out, &endpoint, &token, hint).await {
                Ok(()) => revoked += 1,
                Err(e) => {
                    tracing::warn!(link = %link.link_id, error = %e, "could not revoke a token at the remote")
                }
            }
        }
        revoked
    }

    /// Undoes an incoming client created for a link that did not come to be.
    pub async fn drop_client(&self, client: Option<i64>) {
        if let Some(id) = client {
            if let Err(e) = self.store.delete_oauth_client(id, None).await {
                tracing::error!(error = %e, client = id, "could not remove an incoming client after a failed link creation");
            }
        }
    }
}
