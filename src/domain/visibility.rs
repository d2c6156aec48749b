//! Which projects and repositories a principal may see (or write, or administer), as a few sets
//! the store turns into a query — so a list is filtered and paged in the database instead of
//! loading every row and asking `authorize()` about each.
//!
//! The sets are not a second copy of the rules: each is decided by calling `authorize()` on the
//! facts `facts_for` folds for one representative of a class (a project the principal holds a
//! grant on, a repository it holds a grant on, everything else), once for each value of the
//! facts that live in the rows (public or not; for a project, whether it holds a public
//! repository). That is exact because within a class only those row facts differ, and it
//! needs the classes to combine by union, which holds because `authorize()` never refuses more
//! as the level or the public flags rise (`tests::access_only_grows_with_level_and_publicity`).

use super::authz::{authorize, Action, Subject};
use super::permission::{facts_for, Grant, Restriction, ScopedGrant};

/// No real project or repository has this id: it stands for "one the principal holds no grant on".
const UNGRANTED: i64 = -1;

/// How much of a class of repositories the principal reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    Nothing,
    /// Only those readable by anyone (the repository or its project public).
    Public,
    Everything,
}

impl Reach {
    /// From whether the action is allowed on a private and on a public member of the class.
    fn decide(allowed_when_public: impl Fn(bool) -> bool) -> Self {
        match (allowed_when_public(false), allowed_when_public(true)) {
            (true, _) => Reach::Everything,
            (false, true) => Reach::Public,
            (false, false) => Reach::Nothing,
        }
    }
}

/// The repositories a principal may do one action on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoVisibility {
    /// Repositories the principal holds no grant on, in projects it holds no grant on.
    pub others: Reach,
    /// Repositories of a project the principal holds a project grant on (unless the repository
    /// has its own grant, listed in `repos`).
    pub projects: Vec<(i64, Reach)>,
    /// Repositories the principal holds a grant on.
    pub repos: Vec<(i64, Reach)>,
    /// A service account goes nowhere else, whatever is public.
    pub restriction: Option<Restriction>,
}

impl RepoVisibility {
    pub fn of(
        subject: &Subject,
        grants: &[ScopedGrant],
        restriction: Option<&Restriction>,
        action: Action,
    ) -> Self {
        let reach = |project: i64, repo: i64| {
            Reach::decide(|public| {
                let facts = facts_for(grants, None, project, Some(repo), public, false);
                authorize(subject, action, Some(&facts)).is_ok()
            })
        };
        let mut projects: Vec<i64> = grants
            .iter()
            .filter(|g| matches!(g.grant, Grant::Project(_)))
            .filter_map(|g| g.project_id)
            .collect();
        projects.sort_unstable();
        projects.dedup();
        let mut repos: Vec<(i64, i64)> = grants
            .iter()
            .filter(|g| matches!(g.grant, Grant::Repo(_)))
            .filter_map(|g| Some((g.repo_id?, g.project_id?)))
            .collect();
        repos.sort_unstable();
        repos.dedup();
        Self {
            others: reach(UNGRANTED, UNGRANTED),
            projects: projects.iter().map(|&p| (p, reach(p, UNGRANTED))).collect(),
            repos: repos.iter().map(|&(r, p)| (r, reach(p, r))).collect(),
            restriction: restriction.cloned(),
        }
    }
}

/// For one class of projects, whether the principal sees a project, for each combination of the
/// row's facts: `[public][holds a public repository]`.
pub type ProjectCells = [[bool; 2]; 2];

/// The projects a principal may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectVisibility {
    /// Projects the principal holds no grant on (nor on a repository of).
    pub others: ProjectCells,
    /// Projects the principal holds a grant on, or on a repository of.
    pub projects: Vec<(i64, ProjectCells)>,
    pub restriction: Option<Restriction>,
}

impl ProjectVisibility {
    pub fn of(
        subject: &Subject,
        grants: &[ScopedGrant],
        restriction: Option<&Restriction>,
    ) -> Self {
        let cells = |project: i64| {
            let sees = |public: bool, public_repo: bool| {
                let facts = facts_for(grants, None, project, None, public, public_repo);
                authorize(subject, Action::ViewProject, Some(&facts)).is_ok()
            };
            [
                [sees(false, false), sees(false, true)],
                [sees(true, false), sees(true, true)],
            ]
        };
        let mut projects: Vec<i64> = grants
            .iter()
            .filter(|g| !matches!(g.grant, Grant::Global(_)))
            .filter_map(|g| g.project_id)
            .collect();
        projects.sort_unstable();
        projects.dedup();
        Self {
            others: cells(UNGRANTED),
            projects: projects.iter().map(|&p| (p, cells(p))).collect(),
            restriction: restriction.cloned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::authz::{Capability, Ceiling};
    use crate::domain::permission::{Level, ResourceFacts};
    use crate::domain::GlobalPermission;

    const ACTIONS: [Action; 4] = [
        Action::ViewProject,
        Action::ViewRepo,
        Action::WriteRepo,
        Action::AdminRepo,
    ];
    const LEVELS: [Level; 5] = [
        Level::None,
        Level::Read,
        Level::Write,
        Level::Admin,
        Level::ProjectAdmin,
    ];

    fn subjects() -> Vec<Subject> {
        let caps = [
            vec![],
            vec![Capability::ReadPublicRepos],
            vec![Capability::ReadRepos],
            vec![Capability::ReadRepos, Capability::WriteRepos],
            vec![
                Capability::ReadRepos,
                Capability::WriteRepos,
                Capability::AdminRepos,
            ],
        ];
        let mut out = vec![Subject::ANONYMOUS];
        for global in [None, Some(GlobalPermission::LicensedUser)] {
            out.push(Subject {
                user_id: Some(1),
                global,
                ceiling: Ceiling::Full,
            });
            for c in &caps {
                out.push(Subject {
                    user_id: Some(1),
                    global,
                    ceiling: Ceiling::of(c),
                });
            }
        }
        out
    }

    /// The union of classes is exact only if raising a level or a public flag never takes
    /// access away.
    #[test]
    fn access_only_grows_with_level_and_publicity() {
        for s in subjects() {
            for action in ACTIONS {
                for bits in 0..16u8 {
                    let flag = |i: u8| bits & (1 << i) != 0;
                    for (li, &level) in LEVELS.iter().enumerate() {
                        let facts = ResourceFacts {
                            public: flag(0),
                            level,
                            inner_access: flag(1),
                            public_inner: flag(2),
                            author: false,
                        };
                        if authorize(&s, action, Some(&facts)).is_err() {
                            continue;
                        }
                        for &higher in &LEVELS[li..] {
                            for more in 0..8u8 {
                                let up = ResourceFacts {
                                    public: facts.public || more & 1 != 0,
                                    level: higher,
                                    inner_access: facts.inner_access || more & 2 != 0,
                                    public_inner: facts.public_inner || more & 4 != 0,
                                    author: false,
                                };
                                assert!(
                                    authorize(&s, action, Some(&up)).is_ok(),
                                    "{action:?} allowed at {facts:?} but refused at {up:?} for {s:?}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}
