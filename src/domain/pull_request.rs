//! Pull request rules, following Bitbucket Data Center: optimistic locking on `version`, and which
//! state changes are allowed. Merge and decline change state only until git hosting arrives.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrState {
    Open,
    Merged,
    Declined,
}

impl PrState {
    pub fn as_str(self) -> &'static str {
        match self {
            PrState::Open => "OPEN",
            PrState::Merged => "MERGED",
            PrState::Declined => "DECLINED",
        }
    }
}

impl FromStr for PrState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_uppercase().as_str() {
            "OPEN" => Ok(PrState::Open),
            "MERGED" => Ok(PrState::Merged),
            "DECLINED" => Ok(PrState::Declined),
            _ => Err(format!(
                "'{s}' is not a pull request state; use OPEN, MERGED, DECLINED or ALL"
            )),
        }
    }
}

impl fmt::Display for PrState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrRuleError {
    #[error("You are attempting to modify a pull request based on out-of-date information: the current version is {current}, you supplied {given}.")]
    OutOfDate { current: i64, given: i64 },
    #[error("This pull request is {0} and can no longer be changed.")]
    NotOpen(PrState),
    #[error("The source and target branch of a pull request must differ.")]
    SameBranch,
    #[error("The author of a pull request cannot be one of its reviewers or approve it.")]
    AuthorIsReviewer,
}

impl PrRuleError {
    /// Bitbucket's exception name, which clients match on.
    pub fn exception(&self) -> &'static str {
        match self {
            PrRuleError::OutOfDate { .. } => {
                "com.atlassian.bitbucket.pull.PullRequestOutOfDateException"
            }
            PrRuleError::NotOpen(_) => {
                "com.atlassian.bitbucket.pull.IllegalPullRequestStateException"
            }
            PrRuleError::SameBranch => "com.atlassian.bitbucket.pull.EmptyPullRequestException",
            PrRuleError::AuthorIsReviewer => {
                "com.atlassian.bitbucket.pull.InvalidPullRequestReviewersException"
            }
        }
    }
    /// Rule violations that are conflicts with the current state answer 409, the rest 400.
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            PrRuleError::OutOfDate { .. } | PrRuleError::NotOpen(_)
        )
    }
}

/// Checks that a change (update, merge, decline) may be applied to a pull request as it is now.
pub fn check_change(
    state: PrState,
    current_version: i64,
    given_version: Option<i64>,
) -> Result<(), PrRuleError> {
    // Bitbucket checks the version before the state: a stale client must refresh first.
    if let Some(given) = given_version {
        if given != current_version {
            return Err(PrRuleError::OutOfDate {
                current: current_version,
                given,
            });
        }
    }
    if state != PrState::Open {
        return Err(PrRuleError::NotOpen(state));
    }
    Ok(())
}

/// Normalises a branch name the way Bitbucket reports it: `refs/heads/<name>`.
pub fn branch_ref(name: &str) -> String {
    let name = name.trim();
    if name.starts_with("refs/") {
        name.to_string()
    } else {
        format!("refs/heads/{name}")
    }
}

/// The short name of a ref: `refs/heads/main` → `main`.
pub fn display_id(r: &str) -> &str {
    r.strip_prefix("refs/heads/")
        .or_else(|| r.strip_prefix("refs/tags/"))
        .unwrap_or(r)
}

/// A ref name must be a plausible git ref: no spaces, control characters, `..` or `~^:?*[\`.
pub fn valid_ref(r: &str) -> bool {
    let name = display_id(r);
    !name.is_empty()
        && r.len() <= 255
        && !r.contains("..")
        && !r.ends_with('/')
        && !r
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "~^:?*[\\".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_is_checked_before_state() {
        assert_eq!(check_change(PrState::Open, 2, Some(2)), Ok(()));
        assert_eq!(
            check_change(PrState::Open, 2, Some(1)),
            Err(PrRuleError::OutOfDate {
                current: 2,
                given: 1
            })
        );
        assert_eq!(
            check_change(PrState::Declined, 3, Some(3)),
            Err(PrRuleError::NotOpen(PrState::Declined))
        );
        assert!(check_change(PrState::Merged, 3, Some(1))
            .unwrap_err()
            .is_conflict());
    }

    #[test]
    fn refs() {
        assert_eq!(branch_ref("feature/x"), "refs/heads/feature/x");
        assert_eq!(branch_ref("refs/heads/main"), "refs/heads/main");
        assert_eq!(display_id("refs/heads/feature/x"), "feature/x");
        assert!(valid_ref("refs/heads/feature/x"));
        for bad in [
            "refs/heads/",
            "refs/heads/a..b",
            "refs/heads/a b",
            "refs/heads/a:b",
        ] {
            assert!(!valid_ref(bad), "{bad}");
        }
    }
}

/// How a pull request is merged, by Data Center's strategy ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MergeStrategy {
    /// `no-ff`: always a merge commit (the default).
    #[default]
    MergeCommit,
    /// `ff`: fast-forward when the target has nothing new, else a merge commit.
    FastForward,
    /// `ff-only`: fast-forward, or refuse.
    FastForwardOnly,
    /// `squash`: one new commit on the target with the source's changes.
    Squash,
    /// `squash-ff-only`: squash, only when the target has nothing new.
    SquashFastForwardOnly,
}

impl MergeStrategy {
    pub const IDS: &'static [&'static str] =
        &["no-ff", "ff", "ff-only", "squash", "squash-ff-only"];

    /// The strategy of a Data Center id; the sentence says which exist.
    pub fn parse(id: &str) -> Result<Self, String> {
        match id {
            "no-ff" => Ok(Self::MergeCommit),
            "ff" => Ok(Self::FastForward),
            "ff-only" => Ok(Self::FastForwardOnly),
            "squash" => Ok(Self::Squash),
            "squash-ff-only" => Ok(Self::SquashFastForwardOnly),
            "rebase-no-ff" | "rebase-ff-only" => Err(format!(
                "The '{id}' strategy is not offered here; use one of: {}.",
                Self::IDS.join(", ")
            )),
            _ => Err(format!(
                "'{id}' is not a merge strategy; use one of: {}.",
                Self::IDS.join(", ")
            )),
        }
    }

    pub fn id(self) -> &'static str {
        match self {
            Self::MergeCommit => "no-ff",
            Self::FastForward => "ff",
            Self::FastForwardOnly => "ff-only",
            Self::Squash => "squash",
            Self::SquashFastForwardOnly => "squash-ff-only",
        }
    }

    /// Whether it refuses when the target has commits the source lacks.
    pub fn needs_fast_forward(self) -> bool {
        matches!(self, Self::FastForwardOnly | Self::SquashFastForwardOnly)
    }
}

#[cfg(test)]
mod merge_strategy_tests {
    use super::MergeStrategy;

    #[test]
    fn data_center_ids_round_trip_and_others_are_named() {
        for id in MergeStrategy::IDS {
            assert_eq!(MergeStrategy::parse(id).unwrap().id(), *id);
        }
        assert!(MergeStrategy::parse("rebase-no-ff")
            .unwrap_err()
            .contains("not offered"));
        assert!(MergeStrategy::parse("octopus")
            .unwrap_err()
            .starts_with("'octopus' is not a merge strategy"));
    }
}
