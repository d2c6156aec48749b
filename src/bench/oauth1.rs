//! `junction bench --suite oauth1`: what verifying an OAuth 1.0a signature costs per request,
//! on one core — building the base string and checking HMAC-SHA1 or RSA-SHA1 (2048-bit) —
//! next to hashing a personal access token (what a token read costs before its cached
//! lookup). The provider endpoints and the signed read against a bearer read come with them.
//! Not a test: nothing here asserts a time.

use super::BenchArgs;
use crate::domain::oauth1::{
    base_string, base_string_uri, hmac_sha1, hmac_sha1_verifies, rsa_sha1_verifies,
};
use crate::secret::{new_token, token_hash, TokenKind};
use std::time::Instant;

/// Microseconds per call of `f`, over `n` calls.
fn per_call(n: u32, mut f: impl FnMut()) -> f64 {
    let started = Instant::now();
    for _ in 0..n {
        f();
    }
    started.elapsed().as_secs_f64() * 1e6 / f64::from(n)
}

fn params() -> Vec<(String, String)> {
    [
        ("oauth_consumer_key", "jenkins"),
        ("oauth_token", "a1b2c3d4e5f6"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "1796563228"),
        ("oauth_nonce", "25185189254822558191796563228"),
        ("oauth_version", "1.0"),
        ("state", "OPEN"),
        ("limit", "50"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

pub async fn run(_args: BenchArgs) -> anyhow::Result<()> {
    let uri = base_string_uri(
        "https",
        "junction.example.com",
        None,
        "/rest/api/1.0/projects/PRJ/repos/code/pull-requests",
    );
    let params = params();
    let base = base_string("GET", &uri, &params);
    let signature = hmac_sha1(&base, "consumer-secret", "token-secret");
    let hmac = per_call(100_000, || {
        let base = base_string("GET", &uri, &params);
        std::hint::black_box(hmac_sha1_verifies(
            &base,
            "consumer-secret",
            "token-secret",
            &signature,
        ));
    });
    use rsa::pkcs1v15::SigningKey;
    use rsa::signature::{SignatureEncoding, Signer};
    let mut rng = rand::thread_rng();
    let private = rsa::RsaPrivateKey::new(&mut rng, 2048)?;
    let public = private.to_public_key();
    let signed = SigningKey::<sha1::Sha1>::new(private).sign(base.as_bytes());
    let rsa_signature = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        signed.to_bytes(),
    );
    let rsa = per_call(5_000, || {
        let base = base_string("GET", &uri, &params);
        std::hint::black_box(rsa_sha1_verifies(&base, &public, &rsa_signature));
    });
    let pat = new_token(TokenKind::Personal);
    let hash = per_call(100_000, || {
        std::hint::black_box(token_hash(&pat));
    });
    println!("OAuth 1.0a verification per request on one core (base string included):");
    println!("  HMAC-SHA1: {hmac:.2} µs; RSA-SHA1 (2048-bit key): {rsa:.2} µs");
    println!(
        "  baseline, hashing a personal access token: {hash:.2} µs; ratios {:.1}× and {:.1}×",
        hmac / hash,
        rsa / hash
    );
    Ok(())
}
