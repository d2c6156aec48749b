//! Connect JWTs, HS256 only: signing host → app tokens, and checking app → host tokens with a
//! refusal that says which check failed. Which installation a token is for is read from its
//! claims before any check (`Parsed::client_keys`: ACE puts the clientKey in `sub`, Python
//! `atlassian-jwt` in `iss` and `aud`); the caller looks the secret up and then `verify`s.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use std::borrow::Cow;

/// How far `exp` and `iat` may be off, in seconds (clocks of app servers drift a little).
pub const LEEWAY_SECONDS: i64 = 30;

/// A `qsh` claim that binds a token to no request: a context token, only where meant.
pub const CONTEXT_QSH: &str = "context-qsh";

/// A token's `aud`: one clientKey or several.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Audience<'a> {
    #[serde(borrow)]
    One(Cow<'a, str>),
    #[serde(borrow)]
    Many(Vec<Cow<'a, str>>),
}

/// The claims, read borrowing from the decoded JSON where they need no unescaping: one
/// request's check allocates almost nothing (issue 15's goal: a JWT read costs no more than a
/// token read, give or take a tenth). `into_owned` keeps them past the token.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Claims<'a> {
    #[serde(borrow)]
    pub iss: Cow<'a, str>,
    #[serde(borrow, default)]
    pub sub: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub aud: Option<Audience<'a>>,
    #[serde(default)]
    pub iat: Option<i64>,
    pub exp: i64,
    #[serde(borrow, default)]
    pub qsh: Option<Cow<'a, str>>,
}

impl Claims<'_> {
    pub fn into_owned(self) -> Claims<'static> {
        let owned = |c: Cow<'_, str>| Cow::Owned(c.into_owned());
        Claims {
            iss: owned(self.iss),
            sub: self.sub.map(owned),
            aud: self.aud.map(|a| match a {
                Audience::One(one) => Audience::One(owned(one)),
                Audience::Many(list) => Audience::Many(list.into_iter().map(owned).collect()),
            }),
            iat: self.iat,
            exp: self.exp,
            qsh: self.qsh.map(owned),
        }
    }
}

/// Why a token was refused, said so a developer can fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("The JWT is malformed: {0}.")]
    Malformed(&'static str),
    #[error(
        "The JWT is signed with {0}; only HS256 with the installation's shared secret is accepted."
    )]
    Algorithm(String),
    #[error("The JWT's signature does not match the installation's shared secret.")]
    Signature,
    #[error("The JWT expired at {exp} (now {now}, {LEEWAY_SECONDS} s leeway).")]
    Expired { exp: i64, now: i64 },
    #[error("The JWT was issued at {iat}, in the future (now {now}, {LEEWAY_SECONDS} s leeway).")]
    IssuedInFuture { iat: i64, now: i64 },
    #[error("The JWT has no qsh claim; it must bind the token to the request.")]
    MissingQsh,
    #[error("The JWT's qsh does not match this request. Junction's canonical request is \"{canonical}\".")]
    QshMismatch { canonical: String },
    #[error("This resource does not accept context tokens (qsh \"context-qsh\").")]
    ContextToken,
    #[error("No app installation has the clientKey named by the JWT (sub, iss or aud: {0}).")]
    UnknownClientKey(String),
    #[error("The app installation {client_key} is {state}; an administrator of its account can enable it again.")]
    NotEnabled {
        client_key: String,
        state: &'static str,
    },
}

#[derive(Deserialize)]
struct Header<'a> {
    #[serde(borrow)]
    alg: Cow<'a, str>,
}

fn parts(token: &str) -> Result<(&str, &str, &str), Refusal> {
    let mut it = token.split('.');
    match (it.next(), it.next(), it.next(), it.next()) {
        (Some(h), Some(p), Some(s), None) => Ok((h, p, s)),
        _ => Err(Refusal::Malformed(
            "it must be three base64url parts separated by dots",
        )),
    }
}

fn decode_into<'s>(part: &str, scratch: &'s mut Vec<u8>) -> Option<&'s [u8]> {
    scratch.clear();
    B64.decode_vec(part, scratch).ok()?;
    Some(scratch)
}

fn decode_claims<'s>(payload: &str, scratch: &'s mut Vec<u8>) -> Result<Claims<'s>, Refusal> {
    let bytes =
        decode_into(payload, scratch).ok_or(Refusal::Malformed("its claims are not base64url"))?;
    serde_json::from_slice(bytes)
        .map_err(|_| Refusal::Malformed("its claims lack iss or exp, or are not JSON"))
}

/// What the token's `qsh` must be: the canonical request, or context tokens allowed.
pub struct Expected<'a> {
    pub canonical_request: &'a str,
    pub context_allowed: bool,
}

/// An installation's shared secret, keyed for HS256 once (the HMAC's inner and outer pads),
/// kept with the cached installation so each request only hashes its own bytes.
#[derive(Clone)]
pub struct Key(Hmac<Sha256>);

impl Key {
    pub fn new(secret: &[u8]) -> Self {
        Self(Hmac::new_from_slice(secret).expect("HMAC takes any key length"))
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(…)")
    }
}

/// A token read once: its algorithm checked and its claims decoded (to find the
/// installation); then `verify` checks it with the secret. The claims borrow from `scratch`,
/// the caller's buffer for the decoded JSON.
pub struct Parsed<'t> {
    head: &'t str,
    payload: &'t str,
    signature: &'t str,
    claims: Claims<'t>,
}

impl<'t> Parsed<'t> {
    /// The header is judged before the claims: `alg: none` is refused as such.
    pub fn read(token: &'t str, scratch: &'t mut Vec<u8>) -> Result<Self, Refusal> {
        let (head, payload, signature) = parts(token)?;
        // A header is small: decoded on the stack.
        let mut header_json = [0u8; 256];
        let header: Header<'_> = B64
            .decode_slice(head, &mut header_json)
            .ok()
            .and_then(|n| serde_json::from_slice(&header_json[..n]).ok())
            .ok_or(Refusal::Malformed(
                "its header is not base64url JSON with alg",
            ))?;
        if header.alg != "HS256" {
            return Err(Refusal::Algorithm(header.alg.into_owned()));
        }
        Ok(Self {
            head,
            payload,
            signature,
            claims: decode_claims(payload, scratch)?,
        })
    }

    /// The clientKeys the token may name, in the order to try: `sub` (ACE), `iss`, then `aud`.
    pub fn client_keys(&self) -> impl Iterator<Item = &str> {
        let c = &self.claims;
        let (one, many): (Option<&str>, &[Cow<'_, str>]) = match &c.aud {
            Some(Audience::One(a)) => (Some(a), &[]),
            Some(Audience::Many(list)) => (None, list),
            None => (None, &[]),
        };
        c.sub
            .as_deref()
            .into_iter()
            .chain([&*c.iss])
            .chain(one)
            .chain(many.iter().map(|a| &**a))
    }

    /// Checks signature, time and `qsh`, in that order.
    pub fn verify(&self, key: &Key, now: i64, expected: &Expected<'_>) -> Result<(), Refusal> {
        let (head, payload, signature) = (self.head, self.payload, self.signature);
        let mut given = [0u8; 32];
        match B64.decode_slice(signature, &mut given) {
            Ok(32) => {}
            _ => return Err(Refusal::Signature),
        }
        let mut mac = key.0.clone();
        mac.update(head.as_bytes());
        mac.update(b".");
        mac.update(payload.as_bytes());
        // Constant time.
        mac.verify_slice(&given).map_err(|_| Refusal::Signature)?;
        let claims = &self.claims;
        if claims.exp + LEEWAY_SECONDS < now {
            return Err(Refusal::Expired {
                exp: claims.exp,
                now,
            });
        }
        if let Some(iat) = claims.iat.filter(|iat| *iat > now + LEEWAY_SECONDS) {
            return Err(Refusal::IssuedInFuture { iat, now });
        }
        match claims.qsh.as_deref() {
            None => Err(Refusal::MissingQsh),
            Some(CONTEXT_QSH) if expected.context_allowed => Ok(()),
            Some(CONTEXT_QSH) => Err(Refusal::ContextToken),
            Some(q) => {
                let want = <Sha256 as sha2::Digest>::digest(expected.canonical_request);
                let mut got = [0u8; 32];
                let same = hex::decode_to_slice(q, &mut got).is_ok()
                    && bool::from(subtle::ConstantTimeEq::ct_eq(&got[..], &want[..]));
                if same {
                    Ok(())
                } else {
                    Err(Refusal::QshMismatch {
                        canonical: expected.canonical_request.to_string(),
                    })
                }
            }
        }
    }
}

/// Reads and checks a token (algorithm, claims, signature, time, `qsh`); its claims if all hold.
pub fn verify(
    token: &str,
    secret: &[u8],
    now: i64,
    expected: &Expected<'_>,
) -> Result<Claims<'static>, Refusal> {
    let mut scratch = Vec::new();
    let parsed = Parsed::read(token, &mut scratch)?;
    parsed.verify(&Key::new(secret), now, expected)?;
    Ok(parsed.claims.into_owned())
}

/// An HS256 token of `claims` (host → app: lifecycle, webhooks, iframes).
pub fn sign(claims: &serde_json::Value, secret: &[u8]) -> String {
    let head = B64.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let body = B64.encode(claims.to_string());
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(format!("{head}.{body}").as_bytes());
    format!("{head}.{body}.{}", B64.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SECRET: &[u8] = b"a shared secret of the installation";
    const NOW: i64 = 1_800_000_000;
    const CANONICAL: &str = "GET&/2.0/user&";

    fn expected() -> Expected<'static> {
        Expected {
            canonical_request: CANONICAL,
            context_allowed: false,
        }
    }

    fn token(claims: serde_json::Value) -> String {
        sign(&claims, SECRET)
    }

    fn qsh() -> String {
        hex::encode(<Sha256 as sha2::Digest>::digest(CANONICAL))
    }

    #[test]
    fn both_claim_shapes_verify_and_name_their_client_key() {
        let ace = token(
            json!({"iss": "app-key", "sub": "ck", "iat": NOW, "exp": NOW + 180, "qsh": qsh()}),
        );
        let python =
            token(json!({"iss": "ck", "aud": "ck", "iat": NOW, "exp": NOW + 3600, "qsh": qsh()}));
        for t in [&ace, &python] {
            assert!(verify(t, SECRET, NOW, &expected()).is_ok());
            let mut scratch = Vec::new();
            let parsed = Parsed::read(t, &mut scratch).unwrap();
            assert!(parsed.client_keys().any(|k| k == "ck"));
        }
        let mut scratch = Vec::new();
        let ace = Parsed::read(&ace, &mut scratch).unwrap();
        assert_eq!(ace.client_keys().collect::<Vec<_>>(), ["ck", "app-key"]);
    }

    #[test]
    fn each_failed_check_says_which() {
        let ok = json!({"iss": "ck", "exp": NOW + 60, "qsh": qsh()});
        let none = format!(
            "{}.{}.",
            B64.encode(br#"{"alg":"none"}"#),
            B64.encode(ok.to_string())
        );
        assert_eq!(
            verify(&none, SECRET, NOW, &expected()),
            Err(Refusal::Algorithm("none".into()))
        );
        assert_eq!(
            verify(&sign(&ok, b"another secret"), SECRET, NOW, &expected()),
            Err(Refusal::Signature)
        );
        let expired = token(json!({"iss": "ck", "exp": NOW - 31, "qsh": qsh()}));
        assert_eq!(
            verify(&expired, SECRET, NOW, &expected()),
            Err(Refusal::Expired {
                exp: NOW - 31,
                now: NOW
            })
        );
        let within_leeway = token(json!({"iss": "ck", "exp": NOW - 29, "qsh": qsh()}));
        assert!(verify(&within_leeway, SECRET, NOW, &expected()).is_ok());
        let other = token(json!({"iss": "ck", "exp": NOW + 60, "qsh": "0".repeat(64)}));
        let e = verify(&other, SECRET, NOW, &expected()).unwrap_err();
        assert_eq!(e.to_string(), "The JWT's qsh does not match this request. Junction's canonical request is \"GET&/2.0/user&\".");
        let context = token(json!({"iss": "ck", "exp": NOW + 60, "qsh": CONTEXT_QSH}));
        assert_eq!(
            verify(&context, SECRET, NOW, &expected()),
            Err(Refusal::ContextToken)
        );
        let allowed = Expected {
            canonical_request: CANONICAL,
            context_allowed: true,
        };
        assert!(verify(&context, SECRET, NOW, &allowed).is_ok());
        assert!(matches!(
            verify("a.b", SECRET, NOW, &expected()),
            Err(Refusal::Malformed(_))
        ));
    }

    /// A token PyPI `atlassian-jwt` 3.0.0 made (`encode_token("GET",
    /// "https://h/2.0/user?x=1", "ck", "secret-secret-secret-secret-secr")`), checked here.
    #[test]
    fn a_token_made_by_python_atlassian_jwt_verifies() {
        let t = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJjayIsImV4cCI6MTc5NjUzODI3MCwiaWF0IjoxNzk2NTM0NjcwLCJpc3MiOiJjayIsInFzaCI6ImRkMGEzMDFlYjAxMzg2MTU1NDY2M2FjZTcwM2U3ZmU5MWE3N2M3MDNmNzYyNGIzZjJkOTliNTMxNWMwYzZiYmQifQ.fyCJw0MZjMKpXR-WtIMYvmOmGhI8Yuz_KV0M5toiLII";
        let canonical =
            crate::domain::connect_qsh::canonical_request("GET", "/2.0/user", "x=1", "");
        let e = Expected {
            canonical_request: &canonical,
            context_allowed: false,
        };
        let c = verify(t, b"secret-secret-secret-secret-secr", 1_796_534_670, &e).unwrap();
        assert_eq!(c.iss, "ck");
        assert_eq!(c.aud, Some(Audience::One("ck".into())));
    }
}
