//! Secrets in memory and at rest: a wrapper that never prints, random prefixed tokens that are
//! stored only as SHA-256 hashes, and constant-time comparison.

use rand::RngCore;
use sha2::{Digest, Sha256};
use std::fmt;
use subtle::ConstantTimeEq;

/// A value that must never reach a log line. `Debug` and `Display` print a placeholder.
#[derive(Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if self.0.is_empty() { "" } else { "***" })
    }
}

/// Token kinds carry a recognisable prefix so secret scanners can find leaked ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Personal access token.
    Personal,
    /// Browser session.
    Session,
    /// CSRF synchronizer token.
    Csrf,
    /// OAuth 2.0 access token issued by Junction.
    OAuthAccess,
    /// OAuth 2.0 refresh token issued by Junction.
    OAuthRefresh,
    /// OAuth 2.0 authorization code.
    OAuthCode,
    /// Secret of an OAuth 2.0 client registered with Junction.
    ClientSecret,
    /// A Connect app installation's shared secret (sent to the app, kept encrypted).
    AppSecret,
    /// An access token a Connect app got for its JWT (`urn:bitbucket:oauth2:jwt`).
    AppAccess,
}

impl TokenKind {
    pub fn prefix(self) -> &'static str {
        match self {
            TokenKind::Personal => "jct_pat_",
            TokenKind::Session => "jct_ses_",
            TokenKind::Csrf => "",
            TokenKind::OAuthAccess => "jct_oat_",
            TokenKind::OAuthRefresh => "jct_ort_",
            TokenKind::OAuthCode => "jct_oac_",
            TokenKind::ClientSecret => "jct_ocs_",
            TokenKind::AppSecret => "jct_aps_",
            TokenKind::AppAccess => "jct_apt_",
        }
    }
}

/// 256 random bits, URL-safe base64, with the kind's prefix.
pub fn new_token(kind: TokenKind) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    use base64::Engine;
    let body = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    format!("{}{}", kind.prefix(), body)
}

/// An OAuth client ID: 128 random bits, hex.
pub fn new_client_id() -> String {
    let mut id = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut id);
    hex::encode(id)
}

/// A random (version 4) UUID: link and server identities, never derived from a URL.
pub fn new_uuid() -> String {
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// High-entropy tokens need no slow hash: SHA-256 hex is what we store and look up by.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_unique_and_long() {
        let a = new_token(TokenKind::Personal);
        let b = new_token(TokenKind::Personal);
        assert!(a.starts_with("jct_pat_"));
        assert_ne!(a, b);
        assert_eq!(a.len(), "jct_pat_".len() + 43);
    }

    #[test]
    fn uuids_are_version_4() {
        let u = new_uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(u, new_uuid());
    }

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"***\"");
    }

    #[test]
    fn hash_is_sha256_hex() {
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(constant_time_eq("x", "x"));
        assert!(!constant_time_eq("x", "y"));
        assert!(!constant_time_eq("x", "xx"));
    }
}
