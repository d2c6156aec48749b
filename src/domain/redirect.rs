//! Where a browser may be sent after an action, when the target came with the request (`next`
//! after signing in, and every later flow that takes one): the one rule against open redirects.
//!
//! The target is resolved against Junction's base URL exactly as a browser resolves a
//! `Location` header (the WHATWG URL parser: tabs and newlines dropped, `\` read as `/`), and is
//! accepted only when the result has Junction's own origin. Checking the text instead (a leading
//! `/`, no `//`) misses what the browser's parser rewrites, such as `/\t/evil.example`.

use url::{Position, Url};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedirectError {
    /// Control characters never belong in an address; they are refused, not cleaned up.
    ControlCharacter,
}

impl std::fmt::Display for RedirectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("The address to go to next contains control characters (such as a tab or a line break); remove them and try again.")
    }
}

/// The local target (path, query and fragment) to redirect to: `raw` if it stays on the origin
/// of `base_url`, otherwise `/`.
pub fn same_origin_target(base_url: &str, raw: Option<&str>) -> Result<String, RedirectError> {
    let Some(raw) = raw.filter(|r| !r.is_empty()) else {
        return Ok("/".into());
    };
    if raw.chars().any(char::is_control) {
        return Err(RedirectError::ControlCharacter);
    }
    let Ok(base) = Url::parse(base_url) else {
        return Ok("/".into());
    };
    match base.join(raw) {
        Ok(target) if target.origin() == base.origin() => {
            Ok(target[Position::BeforePath..].to_string())
        }
        _ => Ok("/".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "https://junction.example:8443";

    fn target(raw: &str) -> Result<String, RedirectError> {
        same_origin_target(BASE, Some(raw))
    }

    #[test]
    fn local_targets_are_kept() {
        assert_eq!(target("/projects/A").unwrap(), "/projects/A");
        assert_eq!(target("/a?b=c#d").unwrap(), "/a?b=c#d");
        assert_eq!(target("projects").unwrap(), "/projects");
        assert_eq!(
            target("https://junction.example:8443/x").unwrap(),
            "/x",
            "an absolute URL of the same origin is fine"
        );
        assert_eq!(same_origin_target(BASE, None).unwrap(), "/");
        assert_eq!(same_origin_target(BASE, Some("")).unwrap(), "/");
    }

    #[test]
    fn other_origins_go_home() {
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "javascript:alert(1)",
            "http://junction.example:8443/x",
            "https://junction.example/x",
            "https://junction.example:8443@evil.example/",
        ] {
            assert_eq!(
                target(bad).unwrap(),
                "/",
                "{bad:?} must not leave the origin"
            );
        }
        // Percent-encoded slashes stay a path here: browsers do not decode them.
        assert_eq!(
            target("/%2F%2Fevil.example").unwrap(),
            "/%2F%2Fevil.example"
        );
    }

    #[test]
    fn control_characters_are_refused() {
        for bad in [
            "/\t/evil.example",
            "/\n/x",
            "/\r\nSet-Cookie: a=b",
            "/\u{7f}",
            "/\0",
        ] {
            assert_eq!(target(bad), Err(RedirectError::ControlCharacter), "{bad:?}");
        }
    }
}
