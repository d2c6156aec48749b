//! The authorization-code flow Junction runs as a client: a user connecting their account to
//! a link's remote, or an admin's interactive Test connection. State and PKCE verifier are
//! stored (state hashed, verifier encrypted), single-use and short-lived.

use super::remote_oauth::TokenSet;
use super::{LinkError, Links};
use crate::domain::applinks::redirect_uri;
use crate::secret::{new_token, token_hash, TokenKind};
use crate::store::{AppLink, LinkFlow};
use base64::Engine;
use sha2::{Digest, Sha256};

/// How long a user has to finish authorizing at the remote.
const FLOW_TTL_MS: i64 = 10 * 60 * 1000;

pub const PURPOSE_CONNECT: &str = "connect";
pub const PURPOSE_TEST: &str = "test";

/// The outcome of a finished flow.
pub struct Finished {
    pub link: AppLink,
    pub purpose: String,
    pub tokens: TokenSet,
}

impl Links {
    /// Records a pending flow and returns the remote's authorization URL to send the browser to.
    pub async fn start_flow(
        &self,
        link: &AppLink,
        user_id: i64,
        purpose: &str,
    ) -> Result<String, LinkError> {
        let out = link
            .outgoing()
            .ok_or_else(|| LinkError::NoOutgoing(link.name.clone()))?;
        let state = new_token(TokenKind::Csrf);
        let verifier = new_token(TokenKind::Csrf);
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(Sha256::digest(verifier.as_bytes()));
        self.store
            .create_link_flow(
                &token_hash(&state),
                &LinkFlow {
                    link_id: link.id,
                    user_id,
                    purpose: purpose.to_string(),
                    verifier_encrypted: self.key.encrypt(&verifier),
                },
                self.now() + FLOW_TTL_MS,
            )
            .await?;
        let mut url = url::Url::parse(&out.authorize_url).map_err(|_| {
            LinkError::Internal("the link's authorization endpoint is not a URL".into())
        })?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &out.client_id)
            .append_pair(
                "redirect_uri",
                &redirect_uri(&self.base_url, &out.authorize_url),
            )
            .append_pair("state", &state)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        if !out.scopes.trim().is_empty() {
            url.query_pairs_mut()
                .append_pair("scope", out.scopes.trim());
        }
        Ok(url.into())
    }

    /// Completes a flow at the callback: the state must be pending, unexpired, started by this
    /// same user, and arrive at the redirect URI of that link.
    pub async fn finish_flow(
        &self,
        callback_key: &str,
        state: &str,
        code: &str,
        user_id: i64,
    ) -> Result<Finished, LinkError> {
        let flow = self
            .store
            .take_link_flow(&token_hash(state))
            .await?
            .filter(|f| f.user_id == user_id)
            .ok_or(LinkError::FlowExpired)?;
        let link = self
            .store
            .find_link_by_id(flow.link_id)
            .await?
            .ok_or(LinkError::FlowExpired)?;
        let out = link
            .outgoing()
            .ok_or_else(|| LinkError::NoOutgoing(link.name.clone()))?;
        if crate::domain::applinks::callback_key(&out.authorize_url) != callback_key {
            return Err(LinkError::FlowExpired);
        }
        let verifier = self.reveal(&flow.verifier_encrypted)?;
        let redirect = redirect_uri(&self.base_url, &out.authorize_url);
        let tokens = self.exchange_code(&out, code, &redirect, &verifier).await?;
        if flow.purpose == PURPOSE_CONNECT {
            self.save_tokens(&link, user_id, &tokens).await?;
        }
        Ok(Finished {
            link,
            purpose: flow.purpose,
            tokens,
        })
    }

    /// Keeps a user's tokens at the remote, encrypted.
    pub async fn save_tokens(
        &self,
        link: &AppLink,
        user_id: i64,
        t: &TokenSet,
    ) -> Result<(), LinkError> {
        let (access, refresh, expires_at) = self.sealed(t);
        self.store
            .put_link_token(
                link.id,
                user_id,
                &access,
                refresh.as_deref(),
                expires_at,
                t.scope.as_deref(),
            )
            .await?;
        Ok(())
    }
}
