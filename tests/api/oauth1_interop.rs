//! Junction's OAuth 1.0a signature base string, HMAC-SHA1 and RSA-SHA1 (RFC 5849) against oauthlib's own
//! `Client` on generated requests: paths with escapes, repeated and empty query parameters,
//! reserved and non-ASCII characters, form bodies, default and other ports. One Python run
//! signs a few hundred with HMAC-SHA1 and RSA-SHA1; every one must verify here, and none with
//! a wrong secret or an altered base string.

use junction::domain::oauth1::{
    authorization_parameters, base_string, base_string_uri, hmac_sha1_verifies, rsa_public_key,
    rsa_sha1_verifies,
};
use serde_json::Value;

/// The parameters a provider collects (§3.4.1.3.1): the query and a form body, decoded as
/// forms are, and the `Authorization` header's.
fn collected(url: &url::Url, body: &str, header: &str) -> Vec<(String, String)> {
    let mut params: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    params.extend(url::form_urlencoded::parse(body.as_bytes()).into_owned());
    params.extend(authorization_parameters(header).expect("an OAuth header"));
    params
}

#[tokio::test]
async fn oauthlib_signatures_verify() {
    let Some(python) = crate::interop::python() else {
        return;
    };
    let out = crate::interop::run_client(&python, "python/oauth1_sign.py", &[]).await;
    let all: Value = serde_json::from_slice(&out.stdout).unwrap();
    let public_key = rsa_public_key(all["public_key"].as_str().unwrap()).unwrap();
    let signed = all["requests"].as_array().unwrap();
    assert_eq!(signed.len(), 360);
    for s in signed {
        let text = |k: &str| s[k].as_str().unwrap().to_string();
        let url = url::Url::parse(&text("url")).unwrap();
        let params = collected(&url, &text("body"), &text("authorization"));
        let signature = params
            .iter()
            .find(|(k, _)| k == "oauth_signature")
            .map(|(_, v)| v.clone())
            .unwrap();
        // The path as the request line carries it (`url` would resolve `.` and `..`, which a
        // server receiving the request does not); a default port is left out either way.
        let raw = text("url");
        let after_authority = &raw[raw.find("://").unwrap() + 3..];
        let path = after_authority[after_authority.find('/').unwrap()..]
            .split('?')
            .next()
            .unwrap();
        let uri = base_string_uri(url.scheme(), url.host_str().unwrap(), url.port(), path);
        let base = base_string(&text("method"), &uri, &params);
        let method = params
            .iter()
            .find(|(k, _)| k == "oauth_signature_method")
            .map(|(_, v)| v.as_str())
            .unwrap();
        if method == "RSA-SHA1" {
            assert!(
                rsa_sha1_verifies(&base, &public_key, &signature),
                "{s}\nbase string: {base}"
            );
            assert!(!rsa_sha1_verifies(
                &format!("{base}x"),
                &public_key,
                &signature
            ));
            continue;
        }
        assert!(
            hmac_sha1_verifies(&base, &text("secret"), &text("token_secret"), &signature),
            "{s}\nbase string: {base}"
        );
        assert!(!hmac_sha1_verifies(
            &base,
            &text("secret"),
            "not-it",
            &signature
        ));
    }
}
