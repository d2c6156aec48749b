//! Atlassian Connect's query string hash: the canonical request a JWT's `qsh` claim binds a
//! token to, `METHOD&path&query`, and its SHA-256. Host → app tokens and app → host tokens both
//! use it (issue 15); the rules and the vectors are `shared/reference/connect.md`'s.

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// `METHOD&path&query` for a request to `path?query`, `base_path` being the path of the base
/// URL the request is relative to (`""` or `/` for none). Written into one string: it is
/// computed for every app call.
pub fn canonical_request(method: &str, path: &str, query: &str, base_path: &str) -> String {
    let mut out = String::with_capacity(method.len() + path.len() + query.len() + 4);
    out.extend(method.chars().map(|c| c.to_ascii_uppercase()));
    out.push('&');
    push_canonical_path(&mut out, path, base_path);
    out.push('&');
    if !query.is_empty() {
        out.push_str(&canonical_query(query));
    }
    out
}

/// The `qsh` claim of a request: the lower-case hex SHA-256 of its canonical request.
pub fn qsh(method: &str, path: &str, query: &str, base_path: &str) -> String {
    hex::encode(Sha256::digest(canonical_request(
        method, path, query, base_path,
    )))
}

/// The path relative to the base path, `&` escaped, with one leading and no trailing `/`.
fn push_canonical_path(out: &mut String, path: &str, base_path: &str) {
    let base = base_path.trim_end_matches('/');
    let under_base = !base.is_empty()
        && path.starts_with(base)
        && (path.len() == base.len() || path.as_bytes()[base.len()] == b'/');
    let mut relative = if under_base {
        &path[base.len()..]
    } else {
        path
    };
    if relative.len() > 1 && relative.ends_with('/') {
        relative = &relative[..relative.len() - 1];
    }
    if !relative.starts_with('/') {
        out.push('/');
    }
    for (i, piece) in relative.split('&').enumerate() {
        if i > 0 {
            out.push_str("%26");
        }
        out.push_str(piece);
    }
}

fn canonical_query(query: &str) -> String {
    if query.is_empty() {
        return String::new();
    }
    let mut params: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        if k != "jwt" {
            params
                .entry(k.into_owned())
                .or_default()
                .push(v.into_owned());
        }
    }
    params
        .into_iter()
        .map(|(k, mut values)| {
            values.sort();
            let values: Vec<String> = values.iter().map(|v| encode(v)).collect();
            format!("{}={}", encode(&k), values.join(","))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// RFC 3986: unreserved characters as they are, every other byte `%XX` in upper case. Also
/// how module URLs' context parameters are written (`domain/connect_ui.rs`).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference's vectors (both `atlassian-jwt` libraries agree on them).
    #[test]
    fn reference_vectors() {
        let cases: &[(&str, &str, &str, &str, &str, &str)] = &[
            ("GET", "/path/to/service", "zee_last=param&repeated=parameter 1&first=param&repeated=parameter 2", "",
             "GET&/path/to/service&first=param&repeated=parameter%201,parameter%202&zee_last=param",
             "e52bb281606c3bd9ca16cfe96fe2df78f5d9ffa126f06befd750dfa10fa1a897"),
            ("GET", "/path", "", "", "GET&/path&", "799be84a7fa35570087163c0cd9af3abff7ac05c2c12ba0bb1d7eebc984b3ac2"),
            ("GET", "/", "", "", "GET&/&", "c88caad15a1c1a900b8ac08aa9686f4e8184539bea1deda36e2f649430df3239"),
            ("POST", "/installed", "", "", "POST&/installed&", "4a2e1de8ca74e6cafe8862d332fa3ac7a8e51e692bc6d798ea4dfedc14948bf4"),
            ("GET", "/a/b/", "x=1", "", "GET&/a/b&x=1", "1494a5cd08c7d479e4c716b39ce43cb894f96940856c990e4bf7c101a92da6f4"),
            ("GET", "/x", "q=a+b&r=*~!'()", "", "GET&/x&q=a%20b&r=%2A~%21%27%28%29", "a315b8dca078ad5a8cadf7ec81ffacee6d9d5ae534b3c0e25dc58672a3aab716"),
            ("POST", "/bitbucket/webhook/", "", "", "POST&/bitbucket/webhook&", "dbcf4dcadc2373d44fff39fd9ecf9442792238144d029aa2502f63a9b6ed6393"),
        ];
        for (method, path, query, base, canonical, hash) in cases {
            assert_eq!(
                canonical_request(method, path, query, base),
                *canonical,
                "{path}?{query}"
            );
            assert_eq!(qsh(method, path, query, base), *hash, "{path}?{query}");
        }
    }

    #[test]
    fn keys_without_values_and_a_base_path() {
        assert_eq!(
            canonical_request("GET", "/hello-world", "a&b=foo&c", ""),
            "GET&/hello-world&a=&b=foo&c="
        );
        assert_eq!(
            canonical_request(
                "POST",
                "/jira/rest/api/2/project/jira&a=b&c=d",
                "x=y",
                "/jira"
            ),
            "POST&/rest/api/2/project/jira%26a=b%26c=d&x=y"
        );
    }

    #[test]
    fn the_jwt_parameter_is_not_hashed() {
        assert_eq!(
            canonical_request("get", "/2.0/user", "jwt=abc&x=1", ""),
            "GET&/2.0/user&x=1"
        );
    }

    /// Produced by npm atlassian-jwt 2.0.3 (`createCanonicalRequest`, `createQueryStringHash`,
    /// tests/node/qsh.js): lower-case methods, repeated keys, a base URL with a path, encoded
    /// values, `&` in the path, and the repeated `state` of a Cloud pull request list.
    #[test]
    fn npm_atlassian_jwt_vectors() {
        let vectors = [
            (
                "get",
                "/repos/x",
                "b=2&a=1&a=0",
                "",
                "GET&/repos/x&a=0,1&b=2",
                "8434b57f98904176fef9c2db957c93fd8e3e9e675f1645878adc07114ab20768",
            ),
            (
                "POST",
                "/app/hook/",
                "x=%20y&e=",
                "/app",
                "POST&/hook&e=&x=%20y",
                "f4abf49ff14cd2a0ff3087f8a2b02aed4f7c5666b09878364694c0deb339c333",
            ),
            (
                "GET",
                "/p",
                "q=%E2%9C%93&s=a%2Bb",
                "",
                "GET&/p&q=%E2%9C%93&s=a%2Bb",
                "7f5434b59b8fe1e093d9b206ab31c6bf88a9224bcebdc13912448a33e1fc152d",
            ),
            (
                "PUT",
                "/a&b/c",
                "k=v%26w",
                "",
                "PUT&/a%26b/c&k=v%26w",
                "8f8ad4d8ee2eebba1de15961fc40a12bed1df2208f30fa108c2ddc07f476d012",
            ),
            (
                "GET",
                "/2.0/repositories/ws/slug/pullrequests",
                "state=OPEN&state=MERGED&pagelen=50",
                "",
                "GET&/2.0/repositories/ws/slug/pullrequests&pagelen=50&state=MERGED,OPEN",
                "3364473fa901170aff097be7b7ecd78e5225e4227649906cd64c47207730516d",
            ),
        ];
        for (method, path, query, base, canonical, hash) in vectors {
            assert_eq!(canonical_request(method, path, query, base), canonical);
            assert_eq!(qsh(method, path, query, base), hash, "{path}?{query}");
        }
    }
}
