//! OAuth 1.0a signatures (RFC 5849 §3.4), as application links, Jenkins and Atlassian products
//! sign requests: the signature base string — method, base string URI, normalized parameters —
//! exactly as the RFC builds it, `HMAC-SHA1` over it, and `RSA-SHA1` with a consumer's public
//! key. Verification compares in constant
//! time and, when it fails, hands back the base string Junction computed, so a consumer's
//! administrator can compare it with theirs (`signature_invalid`).

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// RFC 3986 percent-encoding as §3.6 requires: unreserved characters as they are, every other
/// byte `%XX` in upper case (Connect's `qsh` encodes the same way).
pub fn encode(s: &str) -> String {
    super::connect_qsh::encode(s)
}

/// §3.4.1.2: scheme and host in lower case, the port only when not the scheme's default, the
/// path as requested (no query, no fragment).
pub fn base_string_uri(scheme: &str, host: &str, port: Option<u16>, path: &str) -> String {
    let scheme = scheme.to_ascii_lowercase();
    let host = host.to_ascii_lowercase();
    let default = matches!(
        (scheme.as_str(), port),
        ("http", Some(80)) | ("https", Some(443))
    );
    let path = if path.is_empty() { "/" } else { path };
    match port {
        Some(p) if !default => format!("{scheme}://{host}:{p}{path}"),
        _ => format!("{scheme}://{host}{path}"),
    }
}

/// §3.4.1.3.2: every parameter but `oauth_signature` (and the header's `realm`, left out by
/// the caller), names and values encoded, sorted by name then value, `name=value` joined by `&`.
pub fn normalized_parameters(params: &[(String, String)]) -> String {
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k != "oauth_signature")
        .map(|(k, v)| (encode(k), encode(v)))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// §3.4.1.1: `METHOD&encoded URI&encoded parameters`.
pub fn base_string(method: &str, uri: &str, params: &[(String, String)]) -> String {
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        encode(uri),
        encode(&normalized_parameters(params))
    )
}

/// §3.4.2: base64 of HMAC-SHA1 keyed by `consumer secret & token secret` (each encoded).
pub fn hmac_sha1(base: &str, consumer_secret: &str, token_secret: &str) -> String {
    let key = format!("{}&{}", encode(consumer_secret), encode(token_secret));
    let mut mac = Hmac::<Sha1>::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
    mac.update(base.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Whether `signature` is the HMAC-SHA1 of `base` under these secrets (constant time).
pub fn hmac_sha1_verifies(
    base: &str,
    consumer_secret: &str,
    token_secret: &str,
    signature: &str,
) -> bool {
    crate::secret::constant_time_eq(&hmac_sha1(base, consumer_secret, token_secret), signature)
}

/// A consumer's RSA public key, as Atlassian products hand it over (`consumer-info`'s
/// `publicKey`: base64 DER of an X.509 SubjectPublicKeyInfo) or as PEM.
pub fn rsa_public_key(text: &str) -> Result<rsa::RsaPublicKey, String> {
    use rsa::pkcs8::{DecodePublicKey, Document};
    let text = text.trim();
    if text.starts_with("-----BEGIN") {
        return rsa::RsaPublicKey::from_public_key_pem(text)
            .map_err(|e| format!("The public key is not an RSA public key in PEM: {e}."));
    }
    let der: String = text.split_whitespace().collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(der)
        .map_err(|_| "The public key is neither PEM nor base64.".to_string())?;
    let doc = Document::try_from(der.as_slice())
        .map_err(|e| format!("The public key is not DER: {e}."))?;
    rsa::RsaPublicKey::from_public_key_der(doc.as_bytes())
        .map_err(|e| format!("The public key is not an RSA public key: {e}."))
}

/// §3.4.3: whether `signature` (base64) is the RSASSA-PKCS1-v1_5 SHA-1 signature of `base`.
pub fn rsa_sha1_verifies(base: &str, key: &rsa::RsaPublicKey, signature: &str) -> bool {
    use rsa::signature::Verifier;
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
        return false;
    };
    let Ok(sig) = rsa::pkcs1v15::Signature::try_from(bytes.as_slice()) else {
        return false;
    };
    rsa::pkcs1v15::VerifyingKey::<Sha1>::new(key.clone())
        .verify(base.as_bytes(), &sig)
        .is_ok()
}

/// The parameters of an `Authorization: OAuth …` header (§3.5.1), decoded, `realm` left out.
/// `None` when it is not one, or a parameter is malformed.
pub fn authorization_parameters(header: &str) -> Option<Vec<(String, String)>> {
    let rest = header.trim();
    let (scheme, rest) = rest.split_once(char::is_whitespace)?;
    if !scheme.eq_ignore_ascii_case("OAuth") {
        return None;
    }
    let mut out = Vec::new();
    for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=')?;
        let v = v.trim().strip_prefix('"')?.strip_suffix('"')?;
        let k = decode(k.trim())?;
        if k != "realm" {
            out.push((k, decode(v)?));
        }
    }
    Some(out)
}

/// Percent-decoding (no `+` for space: OAuth's encoding has none).
fn decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// RFC 5849 §3.4.1.1's example: the query, the form body and the header's parameters
    /// (decoded), `realm` and `oauth_signature` left out.
    #[test]
    fn rfc_5849_signature_base_string() {
        let params = pairs(&[
            ("b5", "=%3D"),
            ("a3", "a"),
            ("c@", ""),
            ("a2", "r b"),
            ("oauth_consumer_key", "9djdj82h48djs9d2"),
            ("oauth_token", "kkk9d7dh3k39sjv7"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "137131201"),
            ("oauth_nonce", "7d8f3e4a"),
            ("c2", ""),
            ("a3", "2 q"),
            ("oauth_signature", "bYT5CMsGcbgUdFHObYMEfcx6bsw="),
        ]);
        let uri = base_string_uri("HTTP", "EXAMPLE.COM", Some(80), "/request");
        assert_eq!(uri, "http://example.com/request");
        assert_eq!(
            base_string("post", &uri, &params),
            "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
        );
    }

    /// RFC 5849 §3.4.1.2's base string URIs.
    #[test]
    fn rfc_5849_base_string_uris() {
        assert_eq!(
            base_string_uri("http", "EXAMPLE.COM", Some(80), "/r%20v/X"),
            "http://example.com/r%20v/X"
        );
        assert_eq!(
            base_string_uri("https", "www.example.net", Some(8080), "/"),
            "https://www.example.net:8080/"
        );
    }

    /// OAuth Core 1.0's worked example (Appendix A.5), which RFC 5849 keeps: the photos
    /// request, its base string and its HMAC-SHA1 signature.
    #[test]
    fn the_photos_example_signs_as_published() {
        let params = pairs(&[
            ("file", "vacation.jpg"),
            ("size", "original"),
            ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
            ("oauth_token", "nnch734d00sl2jdk"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "1191242096"),
            ("oauth_nonce", "kllo9940pd9333jh"),
            ("oauth_version", "1.0"),
        ]);
        let uri = base_string_uri("http", "photos.example.net", None, "/photos");
        let base = base_string("GET", &uri, &params);
        assert_eq!(
            base,
            "GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg%26oauth_consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3Dkllo9940pd9333jh%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1191242096%26oauth_token%3Dnnch734d00sl2jdk%26oauth_version%3D1.0%26size%3Doriginal"
        );
        assert_eq!(
            hmac_sha1(&base, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00"),
            "tR3+Ty81lMeYAr/Fid0kMTYa/WM="
        );
        assert!(hmac_sha1_verifies(
            &base,
            "kd94hf93k423kf44",
            "pfkkdhi9sl3r4s00",
            "tR3+Ty81lMeYAr/Fid0kMTYa/WM="
        ));
        assert!(!hmac_sha1_verifies(
            &base,
            "kd94hf93k423kf44",
            "wrong",
            "tR3+Ty81lMeYAr/Fid0kMTYa/WM="
        ));
    }

    #[test]
    fn a_public_key_that_is_none_says_so() {
        assert_eq!(
            rsa_public_key("not a key!").unwrap_err(),
            "The public key is neither PEM nor base64."
        );
        assert!(rsa_public_key("AAAA")
            .unwrap_err()
            .starts_with("The public key is not"));
        assert!(
            rsa_public_key("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")
                .unwrap_err()
                .contains("PEM")
        );
    }

    #[test]
    fn the_authorization_header_is_read_and_realm_left_out() {
        let h = r#"OAuth realm="Example", oauth_consumer_key="9djdj82h48djs9d2", oauth_signature="bYT5CMsGcbgUdFHObYMEfcx6bsw%3D",oauth_nonce="7d8f3e4a""#;
        assert_eq!(
            authorization_parameters(h).unwrap(),
            pairs(&[
                ("oauth_consumer_key", "9djdj82h48djs9d2"),
                ("oauth_signature", "bYT5CMsGcbgUdFHObYMEfcx6bsw="),
                ("oauth_nonce", "7d8f3e4a"),
            ])
        );
        assert!(authorization_parameters("Bearer x").is_none());
        assert!(authorization_parameters(r#"OAuth oauth_nonce=unquoted"#).is_none());
        assert!(authorization_parameters(r#"OAuth oauth_nonce="%zz""#).is_none());
    }
}
