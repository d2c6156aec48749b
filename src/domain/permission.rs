//! Host permissions as in Bitbucket Data Center, and how a set of grants folds into one level.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GlobalPermission {
    LicensedUser,
    ProjectCreate,
    Admin,
    SysAdmin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProjectPermission {
    ProjectRead,
    ProjectWrite,
    ProjectAdmin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RepoPermission {
    RepoRead,
    RepoWrite,
    RepoAdmin,
}

macro_rules! permission_names {
    ($ty:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $name),+ }
            }
        }
        impl FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($name => Ok($ty::$variant),)+
                    other => Err(format!(
                        "'{other}' is not a valid permission; use one of: {}",
                        [$($name),+].join(", ")
                    )),
                }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

permission_names!(GlobalPermission {
    LicensedUser => "LICENSED_USER",
    ProjectCreate => "PROJECT_CREATE",
    Admin => "ADMIN",
    SysAdmin => "SYS_ADMIN",
});
permission_names!(ProjectPermission {
    ProjectRead => "PROJECT_READ",
    ProjectWrite => "PROJECT_WRITE",
    ProjectAdmin => "PROJECT_ADMIN",
});
permission_names!(RepoPermission {
    RepoRead => "REPO_READ",
    RepoWrite => "REPO_WRITE",
    RepoAdmin => "REPO_ADMIN",
});

/// One stored grant, as the store reads it back for a principal and a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    Global(GlobalPermission),
    Project(ProjectPermission),
    Repo(RepoPermission),
}

impl Grant {
    /// Parses a stored `(scope, permission)` pair; unknown values are ignored by the caller.
    pub fn parse(scope: &str, permission: &str) -> Option<Self> {
        match scope {
            "global" => permission.parse().ok().map(Grant::Global),
            "project" => permission.parse().ok().map(Grant::Project),
            "repo" => permission.parse().ok().map(Grant::Repo),
            _ => None,
        }
    }
}

/// What a principal may do on one project or repository, after folding every grant that applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Level {
    #[default]
    None,
    Read,
    Write,
    /// Repository administration.
    Admin,
    /// Project administration; implies `Admin` on each repository in the project.
    ProjectAdmin,
}

impl Grant {
    fn level(self) -> Level {
        match self {
            Grant::Global(GlobalPermission::Admin | GlobalPermission::SysAdmin) => {
                Level::ProjectAdmin
            }
            Grant::Global(_) => Level::None,
            Grant::Project(ProjectPermission::ProjectRead)
            | Grant::Repo(RepoPermission::RepoRead) => Level::Read,
            Grant::Project(ProjectPermission::ProjectWrite)
            | Grant::Repo(RepoPermission::RepoWrite) => Level::Write,
            Grant::Repo(RepoPermission::RepoAdmin) => Level::Admin,
            Grant::Project(ProjectPermission::ProjectAdmin) => Level::ProjectAdmin,
        }
    }
}

/// A grant with what it applies to, as loaded for one principal (directly and through teams).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScopedGrant {
    pub grant: Grant,
    /// The project the grant is on, or the project of the repository it is on.
    pub project_id: Option<i64>,
    pub repo_id: Option<i64>,
}

/// Where a restricted principal (a service account) may go at all, whatever it was granted and
/// whatever is public. `None` where a `Restriction` is expected means unrestricted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Restriction {
    pub projects: Vec<i64>,
    /// `(project_id, repo_id)` pairs.
    pub repos: Vec<(i64, i64)>,
}

impl Restriction {
    pub fn allows(&self, project_id: i64, repo_id: Option<i64>) -> bool {
        if self.projects.contains(&project_id) {
            return true;
        }
        match repo_id {
            Some(r) => self.repos.iter().any(|(_, id)| *id == r),
            // A project is reachable through a repository of it.
            None => self.repos.iter().any(|(p, _)| *p == project_id),
        }
    }
}

/// What the store knows about the principal and one project or repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResourceFacts {
    /// Readable by anyone.
    pub public: bool,
    /// The principal's folded permission on the resource.
    pub level: Level,
    /// For a project: the principal can read at least one repository in it.
    pub inner_access: bool,
    /// For a project: at least one repository in it is public.
    pub public_inner: bool,
    /// For a pull request or comment: the principal wrote it.
    pub author: bool,
}

/// Folds a principal's grants into the facts about one project (`repo_id` None) or repository.
/// `public` says whether the resource is readable by anyone; `has_public_repo` whether a project
/// holds a public repository (which makes the project visible).
pub fn facts_for(
    grants: &[ScopedGrant],
    restriction: Option<&Restriction>,
    project_id: i64,
    repo_id: Option<i64>,
    public: bool,
    has_public_repo: bool,
) -> ResourceFacts {
    if restriction.is_some_and(|r| !r.allows(project_id, repo_id)) {
        return ResourceFacts::default();
    }
    let applies = |g: &&ScopedGrant| match g.grant {
        Grant::Global(_) => true,
        Grant::Project(_) => g.project_id == Some(project_id),
        Grant::Repo(_) => repo_id.is_some() && g.repo_id == repo_id,
    };
    let level = grants
        .iter()
        .filter(applies)
        .map(|g| g.grant.level())
        .max()
        .unwrap_or_default();
    let inner_access = repo_id.is_none()
        && (has_public_repo
            || grants
                .iter()
                .any(|g| matches!(g.grant, Grant::Repo(_)) && g.project_id == Some(project_id)));
    let public_inner = repo_id.is_none() && has_public_repo;
    ResourceFacts {
        public,
        level,
        inner_access,
        public_inner,
        author: false,
    }
}

/// The system must keep someone to administer it: a change (demotion, revocation,
/// deactivation) that would take the last active user holding SYS_ADMIN directly away is
/// refused. The store runs this in the change's own transaction, over the counts before and
/// after the change.
pub fn leaves_a_sys_admin(before: i64, after: i64) -> bool {
    after >= 1 || before == 0
}

/// The highest global permission among the grants (direct or through teams).
pub fn global_of(grants: &[ScopedGrant]) -> Option<GlobalPermission> {
    grants
        .iter()
        .filter_map(|g| match g.grant {
            Grant::Global(p) => Some(p),
            _ => None,
        })
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in GlobalPermission::ALL {
            assert_eq!(p.as_str().parse::<GlobalPermission>().unwrap(), *p);
        }
        assert!("REPO_READ"
            .parse::<GlobalPermission>()
            .unwrap_err()
            .contains("LICENSED_USER"));
    }

    fn g(grant: Grant, project_id: Option<i64>, repo_id: Option<i64>) -> ScopedGrant {
        ScopedGrant {
            grant,
            project_id,
            repo_id,
        }
    }

    #[test]
    fn folding() {
        use Grant::*;
        let grants = [
            g(Global(GlobalPermission::LicensedUser), None, None),
            g(Project(ProjectPermission::ProjectWrite), Some(1), None),
            g(Repo(RepoPermission::RepoAdmin), Some(2), Some(20)),
        ];
        assert_eq!(
            facts_for(&grants, None, 1, Some(10), false, false).level,
            Level::Write
        );
        assert_eq!(
            facts_for(&grants, None, 2, Some(20), false, false).level,
            Level::Admin
        );
        assert_eq!(
            facts_for(&grants, None, 2, Some(21), false, false).level,
            Level::None
        );
        let project2 = facts_for(&grants, None, 2, None, false, false);
        assert_eq!((project2.level, project2.inner_access), (Level::None, true));
        assert!(!facts_for(&grants, None, 3, None, false, false).inner_access);
        assert!(facts_for(&grants, None, 3, None, false, true).inner_access);
        let admin = [g(Global(GlobalPermission::Admin), None, None)];
        assert_eq!(
            facts_for(&admin, None, 9, Some(9), false, false).level,
            Level::ProjectAdmin
        );
        assert_eq!(global_of(&grants), Some(GlobalPermission::LicensedUser));
        // A restriction hides everything outside it, even what is granted or public.
        let only_repo_20 = Restriction {
            projects: vec![],
            repos: vec![(2, 20)],
        };
        assert_eq!(
            facts_for(&grants, Some(&only_repo_20), 2, Some(20), false, false).level,
            Level::Admin
        );
        assert_eq!(
            facts_for(&grants, Some(&only_repo_20), 1, Some(10), true, false),
            super::ResourceFacts::default()
        );
        assert!(facts_for(&grants, Some(&only_repo_20), 2, None, false, false).inner_access);
        let only_project_1 = Restriction {
            projects: vec![1],
            repos: vec![],
        };
        assert_eq!(
            facts_for(&grants, Some(&only_project_1), 1, Some(10), false, false).level,
            Level::Write
        );
        assert_eq!(global_of(&[]), None);
    }
}
