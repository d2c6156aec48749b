//! Calls to a link's remote as the current user: the request API and Junction's own features
//! use this. Tokens are refreshed shortly before they expire and once more after a 401; a
//! refresh the remote refuses marks the connection revoked, which the user then sees.

use super::{LinkError, Links};
use crate::domain::applinks::request_target;
use crate::services::outbound::Fetched;
use crate::store::{AppLink, LinkToken};
use reqwest::Method;

/// Refresh this long before the remote's expiry (Atlassian's clock-skew tolerance).
const REFRESH_EARLY_MS: i64 = 60_000;

pub struct RemoteRequest<'a> {
    pub method: Method,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub body: Option<(String, Vec<u8>)>,
}

impl Links {
    pub async fn call_as_user(
        &self,
        link: &AppLink,
        user_id: i64,
        req: RemoteRequest<'_>,
    ) -> Result<Fetched, LinkError> {
        let target = request_target(&link.url, req.path, req.query)
            .map_err(|m| LinkError::Invalid("path", m))?;
        let mut token = self.live_token(link, user_id).await?;
        if token
            .expires_at
            .is_some_and(|e| e - REFRESH_EARLY_MS <= self.now())
            && token.refresh_encrypted.is_some()
        {
            token = self.refresh_user_token(link, user_id, &token).await?;
        }
        let first = self.send_with(&req, target.as_str(), &token).await?;
        if first.status != 401 {
            return Ok(first);
        }
        if token.refresh_encrypted.is_none() {
            // Nothing to refresh with: the remote ended this authorization.
            self.store.mark_link_token_revoked(link.id, user_id).await?;
            return Err(LinkError::Revoked(link.name.clone()));
        }
        // The remote may have expired the token early; one refresh and one retry.
        let token = self.refresh_user_token(link, user_id, &token).await?;
        let second = self.send_with(&req, target.as_str(), &token).await?;
        if second.status == 401 {
            self.store.mark_link_token_revoked(link.id, user_id).await?;
            return Err(LinkError::Revoked(link.name.clone()));
        }
        Ok(second)
    }

    async fn live_token(&self, link: &AppLink, user_id: i64) -> Result<LinkToken, LinkError> {
        if link.outgoing().is_none() {
            return Err(LinkError::NoOutgoing(link.name.clone()));
        }
        match self.store.link_token(link.id, user_id).await? {
            None => Err(LinkError::NotConnected(link.name.clone())),
            Some(t) if t.status != "connected" => Err(LinkError::Revoked(link.name.clone())),
            Some(t) => Ok(t),
        }
    }

    async fn send_with(
        &self,
        req: &RemoteRequest<'_>,
        url: &str,
        token: &LinkToken,
    ) -> Result<Fetched, LinkError> {
        let access = self.reveal(&token.access_encrypted)?;
        let mut r = self
            .outbound
            .request(req.method.clone(), url)?
            .bearer_auth(access)
            .header("accept", "application/json");
        if let Some((content_type, body)) = &req.body {
            r = r.header("content-type", content_type).body(body.clone());
        }
        Ok(self.outbound.send(r).await?)
    }

    /// Refreshes once per (link, user) at a time; a caller that waited for another's refresh
    /// uses its result instead of spending the (rotated) refresh token again.
    async fn refresh_user_token(
        &self,
        link: &AppLink,
        user_id: i64,
        used: &LinkToken,
    ) -> Result<LinkToken, LinkError> {
        let lock = self.refresh_lock(link.id, user_id);
        let _guard = lock.lock().await;
        let current = self.live_token(link, user_id).await?;
        if current.access_encrypted != used.access_encrypted {
            return Ok(current);
        }
        let out = link
            .outgoing()
            .ok_or_else(|| LinkError::NoOutgoing(link.name.clone()))?;
        let Some(refresh_enc) = &current.refresh_encrypted else {
            return Err(LinkError::Revoked(link.name.clone()));
        };
        let refresh = self.reveal(refresh_enc)?;
        match self.refresh(&out, &refresh).await {
            Ok(t) => {
                let (access, refresh, expires_at) = self.sealed(&t);
                self.store
                    .refresh_link_token(link.id, user_id, &access, refresh.as_deref(), expires_at)
                    .await?;
                self.live_token(link, user_id).await
            }
            Err(e) if e.is_revocation() => {
                self.store.mark_link_token_revoked(link.id, user_id).await?;
                Err(LinkError::Revoked(link.name.clone()))
            }
            Err(e) => Err(e.into()),
        }
    }
}
