//! Build statuses: their states in both vocabularies (Bitbucket Cloud's `SUCCESSFUL`,
//! `FAILED`, `INPROGRESS`, `STOPPED`; Data Center's adds `CANCELLED` and `UNKNOWN`) and what
//! a posted status must be. Who may post or replace one is `authz.rs`'s
//! (`Action::{PostCommitStatus, ReplaceCommitStatus}`).

use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildState {
    Successful,
    Failed,
    InProgress,
    /// Cloud's `STOPPED`, Data Center's `CANCELLED`.
    Stopped,
    /// Data Center's `UNKNOWN`.
    Unknown,
}

impl BuildState {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Successful => "SUCCESSFUL",
            Self::Failed => "FAILED",
            Self::InProgress => "INPROGRESS",
            Self::Stopped => "STOPPED",
            Self::Unknown => "UNKNOWN",
        }
    }

    /// Cloud has no `UNKNOWN`: a build with no verdict that is not running reads as stopped.
    pub fn cloud(self) -> &'static str {
        match self {
            Self::Unknown => "STOPPED",
            s => s.as_str(),
        }
    }

    /// Data Center calls a stopped build `CANCELLED`.
    pub fn data_center(self) -> &'static str {
        match self {
            Self::Stopped => "CANCELLED",
            s => s.as_str(),
        }
    }
}

impl FromStr for BuildState {
    type Err = String;

    /// Either vocabulary, any letter case.
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s.trim().to_ascii_uppercase().as_str() {
            "SUCCESSFUL" => Self::Successful,
            "FAILED" => Self::Failed,
            "INPROGRESS" => Self::InProgress,
            "STOPPED" | "CANCELLED" => Self::Stopped,
            "UNKNOWN" => Self::Unknown,
            _ => {
                return Err(format!(
                    "'{s}' is not a build state: use SUCCESSFUL, FAILED, INPROGRESS or STOPPED (CANCELLED and UNKNOWN are accepted too)."
                ))
            }
        })
    }
}

pub const KEY_MAX: usize = 255;
pub const NAME_MAX: usize = 255;
pub const URL_MAX: usize = 2048;
pub const DESCRIPTION_MAX: usize = 1024;

/// A posted status, as both surfaces send it (Data Center's `ref` is `refname`).
#[derive(Debug, Clone, Default)]
pub struct StatusInput {
    pub key: Option<String>,
    pub state: Option<String>,
    pub url: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub refname: Option<String>,
}

/// A status that may be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidStatus {
    pub key: String,
    pub state: BuildState,
    pub url: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub refname: Option<String>,
}

/// The field at fault and what to say.
pub type Refusal = (&'static str, String);

impl StatusInput {
    pub fn validate(self) -> Result<ValidStatus, Refusal> {
        let required = |v: Option<String>, field: &'static str| {
            v.map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .ok_or((field, format!("'{field}' is required.")))
        };
        let limit = |v: Option<String>, field: &'static str, max: usize| match v {
            Some(s) if s.chars().count() > max => {
                Err((field, format!("'{field}' may be at most {max} characters.")))
            }
            other => Ok(other.filter(|s| !s.trim().is_empty())),
        };
        let key = required(self.key, "key")?;
        if key.chars().count() > KEY_MAX {
            return Err(("key", format!("'key' may be at most {KEY_MAX} characters.")));
        }
        let state = required(self.state, "state")?
            .parse()
            .map_err(|m| ("state", m))?;
        let url = required(self.url, "url")?;
        if url.chars().count() > URL_MAX {
            return Err(("url", format!("'url' may be at most {URL_MAX} characters.")));
        }
        match url::Url::parse(&url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => {}
            _ => {
                return Err((
                    "url",
                    format!("'{url}' is not an http(s) URL: give the address of the build's page."),
                ))
            }
        }
        Ok(ValidStatus {
            key,
            state,
            url,
            name: limit(self.name, "name", NAME_MAX)?,
            description: limit(self.description, "description", DESCRIPTION_MAX)?,
            refname: limit(self.refname, "refname", NAME_MAX)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(state: &str, url: &str) -> StatusInput {
        StatusInput {
            key: Some("ci".into()),
            state: Some(state.into()),
            url: Some(url.into()),
            ..Default::default()
        }
    }

    #[test]
    fn both_vocabularies_read_and_write() {
        assert_eq!("cancelled".parse(), Ok(BuildState::Stopped));
        assert_eq!(BuildState::Stopped.data_center(), "CANCELLED");
        assert_eq!(BuildState::Stopped.cloud(), "STOPPED");
        assert_eq!(BuildState::Unknown.cloud(), "STOPPED");
        assert!("DONE"
            .parse::<BuildState>()
            .unwrap_err()
            .contains("'DONE' is not a build state"));
    }

    #[test]
    fn a_status_needs_a_key_a_state_and_a_web_url() {
        assert_eq!(
            input("SUCCESSFUL", "https://ci/1")
                .validate()
                .unwrap()
                .state,
            BuildState::Successful
        );
        assert_eq!(
            input("SUCCESSFUL", "ftp://ci/1").validate().unwrap_err().0,
            "url"
        );
        assert_eq!(
            input("", "https://ci/1").validate().unwrap_err(),
            ("state", "'state' is required.".into())
        );
        let long = StatusInput {
            key: Some("k".repeat(256)),
            ..input("FAILED", "https://ci")
        };
        assert_eq!(long.validate().unwrap_err().0, "key");
    }
}
