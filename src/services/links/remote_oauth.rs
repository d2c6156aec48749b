//! Junction as an OAuth 2.0 client of a link's remote: the token endpoint calls (code
//! exchange, refresh, and the credentials probe Test connection uses).

use super::Links;
use crate::services::outbound::OutboundError;
use crate::store::Outgoing;
use reqwest::Method;

/// A token response (RFC 6749 §5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSet {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_in: Option<i64>,
    pub scope: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemoteOAuthError {
    /// The token endpoint answered with an error (RFC 6749 §5.2).
    #[error("the remote answered HTTP {status}{}", .error.as_ref().map(|e| format!(": {e}")).unwrap_or_default())]
    Refused { status: u16, error: Option<String> },
    #[error(transparent)]
    Network(#[from] OutboundError),
    #[error("{0}")]
    Invalid(String),
}

impl RemoteOAuthError {
    /// The remote no longer honours the grant: the user must connect again.
    pub fn is_revocation(&self) -> bool {
        matches!(self, Self::Refused { error: Some(e), .. } if e == "invalid_grant")
    }
    pub fn is_bad_client(&self) -> bool {
        matches!(self, Self::Refused { status, error } if *status == 401 || error.as_deref() == Some("invalid_client"))
    }
}

fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl Links {
    /// POSTs a form to one of the remote's OAuth endpoints with HTTP Basic client
    /// authentication (`client_secret_basic`, RFC 6749 §2.3.1: both parts form-encoded first).
    /// A non-2xx answer is `Refused` with its OAuth error code.
    async fn post_as_client(
        &self,
        out: &Outgoing,
        url: &str,
        form: &[(&str, &str)],
    ) -> Result<serde_json::Value, RemoteOAuthError> {
        let secret = self.key.decrypt(&out.secret_encrypted).map_err(|e| {
            RemoteOAuthError::Invalid(format!("the stored client secret cannot be read: {e}"))
        })?;
        let body = serde_urlencoded::to_string(form).expect("pairs of strings encode");
        let req = self
            .outbound
            .request(Method::POST, url)?
            .basic_auth(form_encode(&out.client_id), Some(form_encode(&secret)))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(body);
        let r = self.outbound.send(req).await?;
        let json = r.json();
        if !r.is_success() {
            let error = json
                .as_ref()
                .and_then(|j| j["error"].as_str())
                .map(str::to_string);
            return Err(RemoteOAuthError::Refused {
                status: r.status,
                error,
            });
        }
        Ok(json.unwrap_or(serde_json::Value::Null))
    }

    /// POSTs a grant to the token endpoint; the answer must be a token response.
    async fn token_request(
        &self,
        out: &Outgoing,
        form: &[(&str, &str)],
    ) -> Result<TokenSet, RemoteOAuthError> {
        let j = self.post_as_client(out, &out.token_url, form).await?;
        let j = Some(j).filter(|j| j.is_object()).ok_or_else(|| {
            RemoteOAuthError::Invalid("the token endpoint did not answer JSON".into())
        })?;
        let access_token = j["access_token"]
            .as_str()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                RemoteOAuthError::Invalid("the token response has no access_token".into())
            })?
            .to_string();
        Ok(TokenSet {
            access_token,
            refresh_token: j["refresh_token"].as_str().map(str::to_string),
            expires_in: j["expires_in"]
                .as_i64()
                .or_else(|| j["expires_in"].as_str().and_then(|s| s.parse().ok())),
            scope: j["scope"].as_str().map(str::to_string),
        })
    }

    pub async fn exchange_code(
        &self,
        out: &Outgoing,
        code: &str,
        redirect_uri: &str,
        verifier: &str,
    ) -> Result<TokenSet, RemoteOAuthError> {
        self.token_request(
            out,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", redirect_uri),
                ("code_verifier", verifier),
            ],
        )
        .await
    }

    pub async fn refresh(
        &self,
        out: &Outgoing,
        refresh_token: &str,
    ) -> Result<TokenSet, RemoteOAuthError> {
        self.token_request(
            out,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ],
        )
        .await
    }

    /// Revokes a token at the remote (RFC 7009).
    pub async fn revoke_at_remote(
        &self,
        out: &Outgoing,
        endpoint: &str,
        token: &str,
        hint: &str,
    ) -> Result<(), RemoteOAuthError> {
        self.post_as_client(
            out,
            endpoint,
            &[("token", token), ("token_type_hint", hint)],
        )
        .await
        .map(|_| ())
    }

    /// Checks the client credentials without a user: a code exchange with a code that cannot
    /// exist. A server that knows the client answers `invalid_grant`; one that does not accept
    /// the credentials answers `invalid_client` (RFC 6749 §5.2 checks the client first).
    pub async fn probe_credentials(
        &self,
        out: &Outgoing,
        redirect_uri: &str,
    ) -> Result<(), RemoteOAuthError> {
        match self
            .exchange_code(
                out,
                "junction-connection-test",
                redirect_uri,
                "junction-connection-test-verifier-0000000000000",
            )
            .await
        {
            Ok(_) => Ok(()),
            // Any other OAuth error about the grant means the client itself was accepted.
            Err(RemoteOAuthError::Refused {
                status: 400,
                error: Some(e),
            }) if e != "invalid_client" => Ok(()),
            Err(e) => Err(e),
        }
    }
}
