//! Authenticating the OAuth client at the token, revocation and introspection endpoints:
//! `client_secret_basic`, `client_secret_post`, or `none` for public clients (which use PKCE).

use super::error::OAuthError;
use crate::secret::{constant_time_eq, token_hash};
use crate::store::{OAuthClient, Store};
use axum::http::{header, HeaderMap};
use base64::Engine;

/// Form fields every client-authenticated endpoint may carry.
pub struct PostedCredentials<'a> {
    pub client_id: Option<&'a str>,
    pub client_secret: Option<&'a str>,
}

pub async fn authenticate(
    store: &Store,
    headers: &HeaderMap,
    posted: PostedCredentials<'_>,
) -> Result<OAuthClient, OAuthError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        });
    let (id, secret, used_basic) = match basic {
        Some(encoded) => {
            if posted.client_secret.is_some() {
                return Err(OAuthError::invalid_request(
                    "Use one client authentication method, not both Basic and client_secret.",
                ));
            }
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| OAuthError::invalid_client(true))?;
            let (id, secret) = decoded
                .split_once(':')
                .ok_or_else(|| OAuthError::invalid_client(true))?;
            // RFC 6749 §2.3.1: both parts are form-urlencoded inside Basic.
            let id = form_decode(id);
            let secret = form_decode(secret);
            if posted.client_id.is_some_and(|p| p != id) {
                return Err(OAuthError::invalid_request(
                    "client_id does not match the authenticated client.",
                ));
            }
            (id, Some(secret), true)
        }
        None => {
            let id = posted
                .client_id
                .ok_or_else(|| OAuthError::invalid_client(false))?;
            (
                id.to_string(),
                posted.client_secret.map(str::to_string),
                false,
            )
        }
    };
    let client = store
        .find_oauth_client(&id)
        .await?
        .ok_or_else(|| OAuthError::invalid_client(used_basic))?;
    match (&client.secret_hash, secret) {
        (Some(expected), Some(given))
            if client.confidential && constant_time_eq(expected, &token_hash(&given)) =>
        {
            Ok(client)
        }
        (None, None) if !client.confidential => Ok(client),
        _ => Err(OAuthError::invalid_client(used_basic)),
    }
}

fn form_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}
