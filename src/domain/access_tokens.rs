//! A personal access token's permissions in Bitbucket Data Center's terms: a project permission
//! and a repository permission (`PROJECT_READ`, `REPO_WRITE`, …), kept as asked — a token asked
//! for `["REPO_WRITE", "PROJECT_READ"]` is not widened to `PROJECT_WRITE`. Junction's older
//! single word (`read`, `write`, `admin`) means both at that level.

use super::authz::{Capability, Ceiling, TokenPermission};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenPermissions {
    pub project: TokenPermission,
    pub repo: TokenPermission,
}

impl TokenPermissions {
    pub const fn both(level: TokenPermission) -> Self {
        Self {
            project: level,
            repo: level,
        }
    }

    /// Reads what a request asked for: each entry `PROJECT_*`, `REPO_*`, or a single word for
    /// both. Of several entries for one side, the highest counts; a side not named is READ.
    /// `Err` names the entry that is not a permission.
    pub fn from_requested(entries: &[String]) -> Result<Self, String> {
        let (mut project, mut repo) = (None::<TokenPermission>, None::<TokenPermission>);
        for e in entries {
            let e = e.trim();
            let level = |word: &str| match word.to_ascii_uppercase().as_str() {
                "READ" => Some(TokenPermission::Read),
                "WRITE" => Some(TokenPermission::Write),
                "ADMIN" => Some(TokenPermission::Admin),
                _ => None,
            };
            let upper = e.to_ascii_uppercase();
            if let Some(l) = upper.strip_prefix("PROJECT_").and_then(level) {
                project = project.max(Some(l));
            } else if let Some(l) = upper.strip_prefix("REPO_").and_then(level) {
                repo = repo.max(Some(l));
            } else if let Some(l) = level(e) {
                project = project.max(Some(l));
                repo = repo.max(Some(l));
            } else {
                return Err(e.to_string());
            }
        }
        Ok(Self {
            project: project.unwrap_or(TokenPermission::Read),
            repo: repo.unwrap_or(TokenPermission::Read),
        })
    }

    /// The stored form: the single word (the higher side), and both names when the sides
    /// differ.
    pub fn to_stored(self) -> (&'static str, Option<String>) {
        let pair = (self.project != self.repo).then(|| self.names().join(" "));
        (self.word(), pair)
    }

    pub fn from_stored(word: &str, pair: Option<&str>) -> Option<Self> {
        match pair {
            Some(p) => {
                let entries: Vec<String> = p.split_whitespace().map(str::to_string).collect();
                Self::from_requested(&entries).ok()
            }
            None => TokenPermission::parse(word).map(Self::both),
        }
    }

    /// Data Center's names, project first.
    pub fn names(self) -> [&'static str; 2] {
        let name = |prefix: &str, l: TokenPermission| match (prefix, l) {
            ("PROJECT", TokenPermission::Read) => "PROJECT_READ",
            ("PROJECT", TokenPermission::Write) => "PROJECT_WRITE",
            ("PROJECT", TokenPermission::Admin) => "PROJECT_ADMIN",
            (_, TokenPermission::Read) => "REPO_READ",
            (_, TokenPermission::Write) => "REPO_WRITE",
            (_, TokenPermission::Admin) => "REPO_ADMIN",
        };
        [name("PROJECT", self.project), name("REPO", self.repo)]
    }

    /// Junction's single word: the higher side.
    pub fn word(self) -> &'static str {
        self.project.max(self.repo).as_str()
    }

    /// What the token allows at most: what either side allows (a project permission covers the
    /// project's repositories).
    pub fn ceiling(self) -> Ceiling {
        use Capability::*;
        let mut caps = vec![
            ReadPublicRepos,
            ReadAccount,
            ReadRepos,
            ParticipatePullRequests,
        ];
        let repo_side: &[Capability] = match self.repo {
            TokenPermission::Read => &[],
            TokenPermission::Write => &[WriteRepos],
            TokenPermission::Admin => &[WriteRepos, AdminRepos],
        };
        let project_side: &[Capability] = match self.project {
            TokenPermission::Read => &[],
            TokenPermission::Write => &[WriteRepos],
            TokenPermission::Admin => &[
                WriteRepos,
                AdminRepos,
                DeleteRepos,
                AdminProjects,
                AdminWrite,
            ],
        };
        caps.extend_from_slice(repo_side);
        caps.extend_from_slice(project_side);
        Ceiling::of(&caps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TokenPermission::*;

    fn asked(e: &[&str]) -> TokenPermissions {
        TokenPermissions::from_requested(&e.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .unwrap()
    }

    #[test]
    fn kept_as_asked() {
        let t = asked(&["REPO_WRITE", "PROJECT_READ"]);
        assert_eq!(
            t,
            TokenPermissions {
                project: Read,
                repo: Write
            }
        );
        assert_eq!(t.names(), ["PROJECT_READ", "REPO_WRITE"]);
        assert_eq!(
            t.to_stored(),
            ("write", Some("PROJECT_READ REPO_WRITE".into()))
        );
        let (word, pair) = t.to_stored();
        assert_eq!(
            TokenPermissions::from_stored(word, pair.as_deref()),
            Some(t)
        );
        assert_eq!(asked(&["write"]), TokenPermissions::both(Write));
        assert_eq!(TokenPermissions::both(Admin).to_stored(), ("admin", None));
        assert_eq!(
            asked(&["REPO_ADMIN"]).project,
            Read,
            "an unnamed side is read"
        );
        assert!(TokenPermissions::from_requested(&["SUPERUSER".into()]).is_err());
    }

    #[test]
    fn single_words_keep_their_old_ceilings() {
        for l in [Read, Write, Admin] {
            assert_eq!(TokenPermissions::both(l).ceiling(), l.ceiling(), "{l:?}");
        }
    }

    #[test]
    fn a_repository_writer_token_does_not_administer_projects() {
        let c = asked(&["PROJECT_READ", "REPO_WRITE"]).ceiling();
        assert!(c.allows(Capability::WriteRepos));
        assert!(!c.allows(Capability::AdminProjects));
        assert!(!c.allows(Capability::AdminRepos));
    }
}
