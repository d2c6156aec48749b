//! Encryption at rest for secrets Junction must read back (app shared secrets, outgoing-link client
//! secrets, users' remote tokens). XChaCha20-Poly1305 with a random 192-bit nonce per value, so
//! nonces never need coordinating between nodes. The master key comes from configuration or from a
//! key file created (mode 0600) on first start.

use anyhow::{bail, Context};
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use std::path::Path;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
/// Version tag in front of every ciphertext so the scheme can change without guessing.
const VERSION: &str = "v1:";

#[derive(Clone)]
pub struct MasterKey(XChaCha20Poly1305);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

impl MasterKey {
    pub fn from_base64(text: &str) -> anyhow::Result<Self> {
        let bytes = B64
            .decode(text.trim())
            .context("the master key is not valid base64")?;
        if bytes.len() != 32 {
            bail!("the master key must be 32 bytes (44 base64 characters)");
        }
        Ok(Self(XChaCha20Poly1305::new_from_slice(&bytes)?))
    }

    pub fn generate_base64() -> String {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        B64.encode(key)
    }

    /// Reads the key file, creating it with a fresh key if it does not exist yet.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        if !path.exists() {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            write_private(path, &Self::generate_base64())
                .with_context(|| format!("cannot create key file {}", path.display()))?;
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read key file {}", path.display()))?;
        Self::from_base64(&text).with_context(|| format!("key file {}", path.display()))
    }

    pub fn encrypt(&self, plaintext: &str) -> String {
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = self
            .0
            .encrypt(XNonce::from_slice(&nonce), plaintext.as_bytes())
            .expect("encryption with a valid key cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        format!("{VERSION}{}", B64.encode(out))
    }

    pub fn decrypt(&self, stored: &str) -> anyhow::Result<String> {
        let body = stored
            .strip_prefix(VERSION)
            .context("unknown ciphertext version")?;
        let raw = B64.decode(body).context("ciphertext is not base64")?;
        if raw.len() < 24 {
            bail!("ciphertext too short");
        }
        let (nonce, ct) = raw.split_at(24);
        let pt = self
            .0
            .decrypt(XNonce::from_slice(nonce), ct)
            .map_err(|_| anyhow::anyhow!("ciphertext does not decrypt with this master key"))?;
        Ok(String::from_utf8(pt)?)
    }
}

/// A new OAuth client secret: the value (shown once), its SHA-256 (to check it) and its
/// ciphertext (so an admin can view it again).
pub fn new_client_secret(key: &MasterKey) -> (String, String, String) {
    use crate::secret::{new_token, token_hash, TokenKind};
    let secret = new_token(TokenKind::ClientSecret);
    let hash = token_hash(&secret);
    let encrypted = key.encrypt(&secret);
    (secret, hash, encrypted)
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper_detection() {
        let key = MasterKey::from_base64(&MasterKey::generate_base64()).unwrap();
        let c1 = key.encrypt("client-secret");
        let c2 = key.encrypt("client-secret");
        assert_ne!(c1, c2, "a fresh nonce per value");
        assert_eq!(key.decrypt(&c1).unwrap(), "client-secret");
        let other = MasterKey::from_base64(&MasterKey::generate_base64()).unwrap();
        assert!(other.decrypt(&c1).is_err());
        let mut raw = B64.decode(&c1[VERSION.len()..]).unwrap();
        raw[30] ^= 1;
        let tampered = format!("{VERSION}{}", B64.encode(raw));
        assert!(key.decrypt(&tampered).is_err());
    }

    #[test]
    fn key_file_is_created_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let k1 = MasterKey::load_or_create(&path).unwrap();
        let c = k1.encrypt("s");
        let k2 = MasterKey::load_or_create(&path).unwrap();
        assert_eq!(k2.decrypt(&c).unwrap(), "s");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn rejects_short_keys() {
        assert!(MasterKey::from_base64("AAAA").is_err());
    }
}
