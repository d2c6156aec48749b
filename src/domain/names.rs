//! Names that parse instead of being validated later: once you hold a `ProjectKey`, it is valid.

use std::fmt;

/// A rejected value: which field and a sentence a person understands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValidationError {
    pub field: &'static str,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

macro_rules! string_newtype {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

/// Project key as in Bitbucket: starts with a letter, then letters, digits or `_`; up to 128
/// characters; stored upper-case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProjectKey(String);
string_newtype!(ProjectKey);

impl ProjectKey {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let s = raw.trim();
        let ok = !s.is_empty()
            && s.len() <= 128
            && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ok {
            return Err(ValidationError::new(
                "key",
                "Project keys must start with a letter and may only consist of ASCII letters, numbers and underscores (_), at most 128 characters.",
            ));
        }
        Ok(Self(s.to_ascii_uppercase()))
    }
}

/// Repository and account slug: lower-case letters, digits, `-`, `_`, `.`; starts with a letter
/// or digit; up to 128 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slug(String);
string_newtype!(Slug);

impl Slug {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        let s = raw.trim();
        let ok = !s.is_empty()
            && s.len() <= 128
            && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !ok {
            return Err(ValidationError::new(
                field,
                format!("{field} must start with a letter or number and may contain only letters, numbers, '-', '_' and '.', at most 128 characters."),
            ));
        }
        Ok(Self(s.to_ascii_lowercase()))
    }

    /// Derives a slug from a display name the way Bitbucket does: lower-case, spaces to `-`.
    pub fn from_name(field: &'static str, name: &str) -> Result<Self, ValidationError> {
        let derived: String = name
            .trim()
            .chars()
            .map(|c| {
                if c.is_whitespace() {
                    '-'
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect();
        Self::parse(field, &derived)
    }
}

/// A user's or team's name (their slug). Same rules as `Slug`.
pub type Username = Slug;

/// Human-readable name: 1 to 255 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);
string_newtype!(DisplayName);

impl DisplayName {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        let s = raw.trim();
        if s.is_empty() || s.chars().count() > 255 || s.chars().any(char::is_control) {
            return Err(ValidationError::new(
                field,
                format!(
                    "{field} must be between 1 and 255 characters, without control characters."
                ),
            ));
        }
        Ok(Self(s.to_string()))
    }
}

/// An e-mail address: one `@`, something on both sides, no spaces. Deliverability is not ours to judge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);
string_newtype!(Email);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let s = raw.trim();
        let ok = s.len() <= 254
            && !s.chars().any(|c| c.is_whitespace() || c.is_control())
            && matches!(s.split_once('@'), Some((l, d)) if !l.is_empty() && d.contains('.') && !d.contains('@'));
        if !ok {
            return Err(ValidationError::new(
                "emailAddress",
                "Enter a valid e-mail address, like jane@example.com.",
            ));
        }
        Ok(Self(s.to_string()))
    }
}

/// Parses an optional field of an update: absent stays absent, present must parse.
pub fn parse_optional<T: fmt::Display>(
    raw: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, ValidationError>,
) -> Result<Option<String>, ValidationError> {
    raw.map(parse).transpose().map(|v| v.map(|v| v.to_string()))
}

/// Limits free text (descriptions, comments) so one request cannot store megabytes.
pub fn bounded_text(
    field: &'static str,
    raw: &str,
    max_chars: usize,
) -> Result<String, ValidationError> {
    if raw.chars().count() > max_chars {
        return Err(ValidationError::new(
            field,
            format!("{field} must be at most {max_chars} characters."),
        ));
    }
    Ok(raw.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn project_keys() {
        assert_eq!(ProjectKey::parse("proj_1").unwrap().as_str(), "PROJ_1");
        for bad in ["", "1ABC", "A-B", "A B", "ÄB", &"A".repeat(129)] {
            assert!(ProjectKey::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn slugs() {
        assert_eq!(
            Slug::parse("slug", "My.Repo-1").unwrap().as_str(),
            "my.repo-1"
        );
        assert_eq!(
            Slug::from_name("slug", "My Repo").unwrap().as_str(),
            "my-repo"
        );
        for bad in ["", "-x", ".x", "a/b", "a b", "../x"] {
            assert!(Slug::parse("slug", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails() {
        assert!(Email::parse("a@b.co").is_ok());
        for bad in ["", "a", "a@", "@b.co", "a b@c.d", "a@b"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn parsed_slugs_are_safe_path_segments(s in "\\PC{0,40}") {
            if let Ok(slug) = Slug::parse("slug", &s) {
                prop_assert!(!slug.as_str().contains('/'));
                prop_assert!(!slug.as_str().starts_with('.'));
                prop_assert_eq!(Slug::parse("slug", slug.as_str()).unwrap(), slug);
            }
        }
    }
}
