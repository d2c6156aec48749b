//! Git facts as the host records and reports them, pure: how a repository's refs changed, and
//! the commits a change brought. Reading them from disk is `services/git`'s work.

use std::collections::BTreeMap;

/// A repository's refs: full name (`refs/heads/main`) to the object it points at.
pub type Refs = BTreeMap<String, String>;

/// How many commits a `repo:push` change lists (Bitbucket Cloud's number); more are `truncated`.
pub const PUSH_COMMITS: usize = 5;

/// One ref's move: `old` None means created, `new` None means deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefChange {
    pub name: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

impl RefChange {
    /// `branch` or `tag`, as `repo:push` names the kind; None for other refs.
    pub fn kind(&self) -> Option<RefKind> {
        RefKind::of(&self.name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    Branch,
    Tag,
}

impl RefKind {
    pub fn of(name: &str) -> Option<Self> {
        if name.starts_with("refs/heads/") {
            Some(Self::Branch)
        } else if name.starts_with("refs/tags/") {
            Some(Self::Tag)
        } else {
            None
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Branch => "branch",
            Self::Tag => "tag",
        }
    }
}

/// The short name of a branch or tag (`main` for `refs/heads/main`).
pub fn short_name(full: &str) -> &str {
    full.strip_prefix("refs/heads/")
        .or_else(|| full.strip_prefix("refs/tags/"))
        .unwrap_or(full)
}

/// What changed from `recorded` to `actual`, in ref name order; only branches and tags.
pub fn ref_changes(recorded: &Refs, actual: &Refs) -> Vec<RefChange> {
    let names: std::collections::BTreeSet<&String> = recorded.keys().chain(actual.keys()).collect();
    names
        .into_iter()
        .filter(|n| RefKind::of(n).is_some())
        .filter_map(|n| {
            let (old, new) = (recorded.get(n), actual.get(n));
            (old != new).then(|| RefChange {
                name: n.clone(),
                old: old.cloned(),
                new: new.cloned(),
            })
        })
        .collect()
}

/// A commit as events, pull requests and browsing show it. Times in milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    pub hash: String,
    pub parents: Vec<String>,
    pub author_name: String,
    pub author_email: String,
    pub author_at: i64,
    pub committer_name: String,
    pub committer_email: String,
    pub committer_at: i64,
    pub message: String,
}

/// A ref's move with what it brought: the newest commits first (at most `PUSH_COMMITS`),
/// `truncated` if there were more, `forced` if the old target is not in the new history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedRef {
    pub change: RefChange,
    pub forced: bool,
    pub commits: Vec<Commit>,
    pub truncated: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(pairs: &[(&str, &str)]) -> Refs {
        pairs
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect()
    }

    #[test]
    fn changes_name_created_moved_and_deleted_refs_in_order() {
        let before = refs(&[
            ("refs/heads/main", "a"),
            ("refs/heads/old", "b"),
            ("refs/tags/v1", "c"),
        ]);
        let after = refs(&[
            ("refs/heads/main", "d"),
            ("refs/heads/new", "e"),
            ("refs/tags/v1", "c"),
            ("refs/notes/x", "f"),
        ]);
        let change = |n: &str, o: Option<&str>, w: Option<&str>| RefChange {
            name: n.into(),
            old: o.map(Into::into),
            new: w.map(Into::into),
        };
        assert_eq!(
            ref_changes(&before, &after),
            vec![
                change("refs/heads/main", Some("a"), Some("d")),
                change("refs/heads/new", None, Some("e")),
                change("refs/heads/old", Some("b"), None),
            ]
        );
    }

    #[test]
    fn short_names_and_kinds() {
        assert_eq!(short_name("refs/heads/feature/x"), "feature/x");
        assert_eq!(short_name("refs/tags/v1"), "v1");
        assert_eq!(RefKind::of("refs/tags/v1"), Some(RefKind::Tag));
        assert_eq!(RefKind::of("refs/pull/1"), None);
    }
}
