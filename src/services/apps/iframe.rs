//! The `src` of an app's iframe, as Bitbucket writes it: the module URL (context parameters
//! already written) under the app's `baseUrl`, then `xdm_e`, `xdm_c`, `cp`, `lic`, `cv`, and a
//! `jwt` signed with the installation's shared secret — `iss = aud = clientKey`, `sub` the
//! viewing person's account id, and the `qsh` of exactly this GET, so the app's own JWT
//! middleware (ACE's `addon.authenticate()`) accepts it.

use crate::domain::{connect_jwt, connect_qsh};
use serde_json::json;

/// How long a page's iframe token lives. The host signs while rendering and the browser loads
/// the frame moments later; ACE checks `exp` without leeway, so a slow phone must still make
/// it. Later calls take a fresh token (`AP.context.getToken`).
pub const FRAME_TOKEN_SECONDS: i64 = 900;

/// Connect's version string, as apps read it from `cv`.
pub const CONNECT_VERSION: &str = "1.1.0";

/// What signs one frame.
pub struct Frame<'a> {
    /// The app's `baseUrl` (no trailing slash).
    pub app_base_url: &'a str,
    pub client_key: &'a str,
    pub secret: &'a str,
    pub app_key: &'a str,
    pub module_key: &'a str,
    /// Junction's public base URL: `xdm_e`, where the frame's messages must go.
    pub host_base_url: &'a str,
    /// The viewing person's account id (`{uuid}`); `None` when nobody is signed in.
    pub viewer: Option<&'a str>,
    pub now_s: i64,
}

/// `true` when `url` (absolute) is the app's `baseUrl` or below it: only there does a frame
/// get a token — a module URL elsewhere would hand the token to someone else.
pub fn under_base(app_base_url: &str, url: &str) -> bool {
    url == app_base_url
        || url
            .strip_prefix(app_base_url)
            .is_some_and(|rest| rest.starts_with(['/', '?', '#']))
}

/// The channel name a module's frame and the host page agree on (`xdm_c`).
pub fn channel(app_key: &str, module_key: &str) -> String {
    format!("{app_key}__{module_key}")
}

impl Frame<'_> {
    pub fn channel(&self) -> String {
        channel(self.app_key, self.module_key)
    }

    /// `url`: the module's URL resolved against `baseUrl`, context parameters written.
    pub fn src(&self, url: &str) -> String {
        let (without_fragment, fragment) = match url.split_once('#') {
            Some((u, f)) => (u, Some(f)),
            None => (url, None),
        };
        let mut src = without_fragment.to_string();
        src.push(if src.contains('?') { '&' } else { '?' });
        let params = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("xdm_e", self.host_base_url)
            .append_pair("xdm_c", &self.channel())
            .append_pair("cp", "")
            .append_pair("lic", "none")
            .append_pair("cv", CONNECT_VERSION)
            .finish();
        src.push_str(&params);
        if under_base(self.app_base_url, without_fragment) {
            let token = self.token(&src);
            src.push_str("&jwt=");
            src.push_str(&token);
        }
        if let Some(f) = fragment {
            src.push('#');
            src.push_str(f);
        }
        src
    }

    fn token(&self, src: &str) -> String {
        let (path, query) = match url::Url::parse(src) {
            Ok(u) => (u.path().to_string(), u.query().unwrap_or("").to_string()),
            Err(_) => (src.to_string(), String::new()),
        };
        let base_path = url::Url::parse(self.app_base_url)
            .map(|u| u.path().to_string())
            .unwrap_or_default();
        let mut claims = json!({
            "iss": self.client_key,
            "aud": self.client_key,
            "iat": self.now_s,
            "exp": self.now_s + FRAME_TOKEN_SECONDS,
            "qsh": connect_qsh::qsh("GET", &path, &query, &base_path),
        });
        if let Some(sub) = self.viewer {
            claims["sub"] = json!(sub);
        }
        connect_jwt::sign(&claims, self.secret.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::connect_jwt;

    fn frame() -> Frame<'static> {
        Frame {
            app_base_url: "https://app.example.com/base",
            client_key: "ck",
            secret: "s3cret-s3cret-s3cret-s3cret-s3cret",
            app_key: "com.example.app",
            module_key: "panel",
            host_base_url: "https://junction.example.com",
            viewer: Some("{u-1}"),
            now_s: 1_700_000_000,
        }
    }

    #[test]
    fn the_frame_carries_bitbuckets_parameters_and_a_token_for_this_get() {
        let src = frame().src("https://app.example.com/base/panel?repo=%7Br%7D#top");
        let (before, fragment) = src.split_once('#').unwrap();
        assert_eq!(fragment, "top");
        let (url, token) = before.split_once("&jwt=").unwrap();
        assert_eq!(
            url,
            "https://app.example.com/base/panel?repo=%7Br%7D&xdm_e=https%3A%2F%2Fjunction.example.com&xdm_c=com.example.app__panel&cp=&lic=none&cv=1.1.0"
        );
        let parsed = url::Url::parse(url).unwrap();
        let canonical =
            connect_qsh::canonical_request("GET", parsed.path(), parsed.query().unwrap(), "/base");
        let expected = connect_jwt::Expected {
            canonical_request: &canonical,
            context_allowed: false,
        };
        let claims =
            connect_jwt::verify(token, frame().secret.as_bytes(), 1_700_000_000, &expected)
                .unwrap();
        assert_eq!(claims.sub.as_deref(), Some("{u-1}"));
        assert_eq!(claims.iss, "ck");
        assert_eq!(claims.exp, 1_700_000_000 + FRAME_TOKEN_SECONDS);
    }

    #[test]
    fn a_url_outside_the_app_gets_no_token() {
        let src = frame().src("https://elsewhere.example.com/page");
        assert!(!src.contains("jwt="), "{src}");
        assert!(!under_base(
            "https://app.example.com/base",
            "https://app.example.com/basement"
        ));
        assert!(under_base(
            "https://app.example.com/base",
            "https://app.example.com/base?x=1"
        ));
    }
}
