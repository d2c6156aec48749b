//! Calls an app makes to Junction, signed with its installation's shared secret: which
//! installation a JWT names (`sub`, `iss`, then `aud` — both claim shapes real libraries send),
//! whether it is enabled, and the token checked against this very request
//! (`domain/connect_jwt.rs`: algorithm, signature, time, `qsh`). The surface then acts as the
//! installation: its account's reach, capped by its scopes.

use super::apps::decrypt;
use super::{Host, HostError, HostResult};
use crate::domain::connect_jwt::{self, Expected, Refusal};
use crate::domain::connect_qsh::canonical_request;
use crate::secret::{new_token, token_hash, TokenKind};
use crate::store::connect::{AppCaller, InstallState, Installation};
use std::sync::Arc;

/// The request a token must be bound to.
pub struct SignedRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    /// Whether this resource takes context tokens (`qsh: "context-qsh"`).
    pub context_allowed: bool,
}

/// The installation (and its account) a valid token speaks for.
pub async fn authenticate(
    host: &Host<'_>,
    token: &str,
    req: &SignedRequest<'_>,
) -> HostResult<Arc<AppCaller>> {
    let mut scratch = Vec::new();
    let parsed = connect_jwt::Parsed::read(token, &mut scratch).map_err(HostError::Jwt)?;
    let mut found = None;
    for key in parsed.client_keys() {
        if let Some(hit) = host.store.connect_caller(key).await? {
            found = Some(hit);
            break;
        }
    }
    let app = found.ok_or_else(|| {
        let named: Vec<&str> = parsed.client_keys().collect();
        HostError::Jwt(Refusal::UnknownClientKey(named.join(", ")))
    })?;
    let installation = &app.installation;
    if installation.state != InstallState::Enabled {
        return Err(HostError::Jwt(Refusal::NotEnabled {
            client_key: installation.client_key.clone(),
            state: installation.state.as_str(),
        }));
    }
    let key = match app.key.get() {
        Some(k) => k,
        None => {
            let plain = crate::secret::Secret::new(decrypt(host, installation)?);
            let key = connect_jwt::Key::new(plain.expose().as_bytes());
            app.key.get_or_init(|| key)
        }
    };
    let canonical = canonical_request(req.method, req.path, req.query, base_path(host.base_url));
    let now = host.store.now().div_euclid(1000);
    parsed
        .verify(
            key,
            now,
            &Expected {
                canonical_request: &canonical,
                context_allowed: req.context_allowed,
            },
        )
        .map_err(HostError::Jwt)?;
    Ok(app)
}

/// How long an access token exchanged for a JWT lives.
pub const ACCESS_TOKEN_SECONDS: i64 = 3600;

/// `grant_type=urn:bitbucket:oauth2:jwt`: an access token acting as `installation` (the one
/// whose JWT authenticated the request), with its scopes — never wider — for an hour, and no
/// longer than the installation stays enabled.
pub async fn exchange(host: &Host<'_>, installation: &Installation) -> HostResult<(String, i64)> {
    let token = new_token(TokenKind::AppAccess);
    let expires_at = host.store.now() + ACCESS_TOKEN_SECONDS * 1000;
    host.store
        .issue_connect_access_token(&token_hash(&token), installation.id, expires_at)
        .await?;
    Ok((token, ACCESS_TOKEN_SECONDS))
}

/// The installation an exchanged access token acts as, if it is live and enabled.
pub async fn from_access_token(host: &Host<'_>, token: &str) -> HostResult<Option<Arc<AppCaller>>> {
    Ok(host
        .store
        .connect_token_caller(&token_hash(token))
        .await?
        .filter(|a| a.installation.state == InstallState::Enabled))
}

/// The path of Junction's base URL (`""` for an origin), which a request's canonical path
/// leaves out; read without parsing the URL on every request.
fn base_path(base_url: &str) -> &str {
    let after_scheme = base_url
        .split_once("://")
        .map_or(base_url, |(_, rest)| rest);
    after_scheme.find('/').map_or("", |i| &after_scheme[i..])
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_base_path_is_what_follows_the_origin() {
        assert_eq!(super::base_path("https://junction.example"), "");
        assert_eq!(
            super::base_path("https://junction.example:8443/code"),
            "/code"
        );
        assert_eq!(super::base_path("http://127.0.0.1:7990/"), "/");
    }
}
