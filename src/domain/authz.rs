//! The one authorization decision. Every handler asks `authorize`; none decides on its own.
//!
//! effective = ceiling(credential) ∩ permission(principal, resource)
//!
//! The ceiling is a set of capabilities the credential carries (a session carries all of them, a
//! personal access token those of its permission, and later OAuth 2.0 and app scopes theirs). The
//! permission side comes from the grants the store folded into `ResourceFacts`.

pub use super::permission::ResourceFacts;
use super::permission::{facts_for, global_of, GlobalPermission, Level, ScopedGrant};

/// Capabilities a credential can carry; the lattice both scope vocabularies map onto.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum Capability {
    ReadPublicRepos = 1 << 0,
    ReadAccount = 1 << 1,
    WriteAccount = 1 << 2,
    ReadRepos = 1 << 3,
    WriteRepos = 1 << 4,
    AdminRepos = 1 << 5,
    DeleteRepos = 1 << 6,
    AdminProjects = 1 << 7,
    AdminWrite = 1 << 8,
    SystemAdmin = 1 << 9,
    /// Taking part in pull requests (opening, commenting, approving, an author editing their
    /// own): what Data Center lets any reader do, and a Connect app only with
    /// `pullrequest:write`.
    ParticipatePullRequests = 1 << 10,
}

/// What the credential allows at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ceiling {
    /// Session or password: no cap beyond the user's own permissions.
    Full,
    Capped(u16),
}

impl Ceiling {
    /// The person themself (a signed-in session, or their password), as opposed to a token that
    /// acts for them. Only the person may create credentials (see `Action::creates_credential`).
    pub fn is_person(self) -> bool {
        self == Ceiling::Full
    }
    pub fn of(caps: &[Capability]) -> Self {
        Ceiling::Capped(caps.iter().fold(0, |acc, c| acc | *c as u16))
    }
    pub fn allows(self, cap: Capability) -> bool {
        match self {
            Ceiling::Full => true,
            Ceiling::Capped(bits) => bits & cap as u16 != 0,
        }
    }
}

/// A personal access token's permission. Tokens never carry `WriteAccount` (profile, password and
/// token management need a signed-in person) nor `SystemAdmin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TokenPermission {
    Read,
    Write,
    Admin,
}

impl TokenPermission {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "read" | "READ" | "REPO_READ" | "PROJECT_READ" => Some(Self::Read),
            "write" | "WRITE" | "REPO_WRITE" | "PROJECT_WRITE" => Some(Self::Write),
            "admin" | "ADMIN" | "REPO_ADMIN" | "PROJECT_ADMIN" => Some(Self::Admin),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Admin => "admin",
        }
    }
    pub fn ceiling(self) -> Ceiling {
        use Capability::*;
        let read = [
            ReadPublicRepos,
            ReadAccount,
            ReadRepos,
            ParticipatePullRequests,
        ];
        match self {
            Self::Read => Ceiling::of(&read),
            Self::Write => Ceiling::of(&[&read[..], &[WriteRepos]].concat()),
            Self::Admin => Ceiling::of(
                &[
                    &read[..],
                    &[
                        WriteRepos,
                        AdminRepos,
                        DeleteRepos,
                        AdminProjects,
                        AdminWrite,
                    ],
                ]
                .concat(),
            ),
        }
    }
}

/// Who is asking, as far as authorization cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subject {
    pub user_id: Option<i64>,
    pub global: Option<GlobalPermission>,
    pub ceiling: Ceiling,
}

impl Subject {
    pub const ANONYMOUS: Subject = Subject {
        user_id: None,
        global: None,
        ceiling: Ceiling::Capped(Capability::ReadPublicRepos as u16),
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ViewProject,
    CreateProject,
    /// Update a project, manage its permissions, create repositories in it.
    AdminProject,
    DeleteProject,
    ViewRepo,
    /// Create, comment on, approve pull requests.
    ParticipateInRepo,
    /// Merge pull requests (and push, later).
    WriteRepo,
    AdminRepo,
    DeleteRepo,
    /// Merge a pull request: a writer.
    MergePullRequest,
    /// Edit a pull request (title, description, target, reviewers): its author, or a writer.
    EditPullRequest,
    /// Decline a pull request: its author, or a writer.
    DeclinePullRequest,
    /// Delete a comment on a pull request: its author, or a repository administrator.
    DeleteComment,
    /// Post a build status or a Code Insights report for a commit: anyone signed in who reads
    /// the repository (Cloud asks only `repository`, Data Center `REPO_READ`).
    PostCommitStatus,
    /// Replace a build status or report someone posted: whoever posted it (`facts.author`), or
    /// a repository administrator.
    ReplaceCommitStatus,
    /// Post or read build statuses through Data Center's legacy API, which names a commit but no
    /// repository: anyone signed in whose credential reads repositories.
    LegacyBuildStatus,
    ViewUsers,
    /// Read one's own account (`/2.0/user`): the account a credential acts as.
    ViewOwnAccount,
    /// Change one's own profile (display name, e-mail).
    EditOwnAccount,
    /// Create a personal access token or change one's own password.
    CreateOwnCredential,
    /// Create, reset or reveal a credential that acts on its own: an OAuth client's secret, a
    /// service account, an application link's credentials, another person's password.
    AdminCredentials,
    /// Call a linked application as oneself (the application links request API). It acts for
    /// the person elsewhere, so it needs a credential that may act for them here too.
    ActThroughLink,
    /// Users, teams, global permissions below SYS_ADMIN, the audit log.
    AdminSystem,
    /// Change a team's members; `facts.level` is `Admin` for the team's own admins.
    AdminTeam,
    /// Granting SYS_ADMIN, infrastructure settings.
    SysAdmin,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    /// Nobody is signed in and the action needs someone.
    Unauthenticated,
    /// The principal may not even see the resource: answer as if it did not exist.
    NotVisible,
    /// The principal lacks the permission.
    Forbidden(&'static str),
    /// The user could, but the credential's scope does not allow it; `needs` is the capability
    /// missing (for a surface to name the scope in its own vocabulary).
    BeyondScope {
        why: &'static str,
        needs: Option<Capability>,
    },
}

impl Action {
    /// Actions that make or reveal a credential. Only the person may do them: a token must never
    /// create a credential wider or longer-lived than itself, and a token's scope (cumulative, so
    /// `REPO_READ` implies `ACCOUNT_WRITE`) says nothing about which credentials it may mint.
    pub fn creates_credential(self) -> bool {
        matches!(self, Action::CreateOwnCredential | Action::AdminCredentials)
    }
}

pub const CREDENTIAL_NEEDS_PERSON: &str = "Credentials can only be created, reset or shown to a person who is signed in or gives their password; a token cannot create a credential wider or longer-lived than itself.";

/// Decides `action` on a repository for an account that is not the one calling — a person
/// being added as a reviewer, the account an app is installed in — from its grants, capped by
/// `ceiling`. `public`: whether anyone may read the repository (counts for people, not for
/// app webhooks, whose reach is by grants).
pub fn account_may_on_repo(
    account_id: i64,
    grants: &[ScopedGrant],
    ceiling: Ceiling,
    action: Action,
    (project_id, repo_id): (i64, i64),
    public: bool,
) -> bool {
    let subject = Subject {
        user_id: Some(account_id),
        global: global_of(grants),
        ceiling,
    };
    let facts = facts_for(grants, None, project_id, Some(repo_id), public, false);
    authorize(&subject, action, Some(&facts)).is_ok()
}

/// Decides one access. `facts` is `None` for actions not about a project or repository.
pub fn authorize(
    subject: &Subject,
    action: Action,
    facts: Option<&ResourceFacts>,
) -> Result<(), Denial> {
    use Action::*;
    use Capability::*;
    let facts = facts.copied().unwrap_or_default();
    let signed_in = subject.user_id.is_some();

    // Step 1, for actions on a resource: can the subject see it at all?
    let is_project = matches!(action, ViewProject | AdminProject | DeleteProject);
    let is_repo = matches!(
        action,
        ViewRepo
            | ParticipateInRepo
            | WriteRepo
            | AdminRepo
            | DeleteRepo
            | MergePullRequest
            | EditPullRequest
            | DeclinePullRequest
            | DeleteComment
            | PostCommitStatus
            | ReplaceCommitStatus
    );
    if is_project || is_repo {
        let sees = facts.public || facts.level >= Level::Read || (is_project && facts.inner_access);
        let public_view = facts.public || (is_project && facts.public_inner);
        let scope_sees = subject.ceiling.allows(ReadRepos)
            || (public_view && subject.ceiling.allows(ReadPublicRepos));
        if !sees {
            return Err(if signed_in {
                Denial::NotVisible
            } else {
                Denial::Unauthenticated
            });
        }
        if !scope_sees {
            return Err(Denial::BeyondScope {
                why: "This token's scope does not allow reading this resource.",
                needs: Some(ReadRepos),
            });
        }
    }

    // Step 2: the permission the action needs, then the capability.
    let (permitted, needs, what): (bool, Option<Capability>, &'static str) = match action {
        ViewProject | ViewRepo => (true, None, ""),
        ParticipateInRepo => (
            signed_in,
            Some(ParticipatePullRequests),
            "You must be signed in and able to read the repository.",
        ),
        WriteRepo | MergePullRequest => (
            facts.level >= Level::Write,
            Some(WriteRepos),
            "You need write permission on this repository.",
        ),
        // The author-or-writer rule: authors act on their own with what lets them take part.
        EditPullRequest | DeclinePullRequest if facts.author => (
            signed_in,
            Some(ParticipatePullRequests),
            "You must be signed in and able to read the repository.",
        ),
        EditPullRequest | DeclinePullRequest => (
            facts.level >= Level::Write,
            Some(WriteRepos),
            "You need write permission on this repository.",
        ),
        DeleteComment if facts.author => (
            signed_in,
            Some(ParticipatePullRequests),
            "You must be signed in and able to read the repository.",
        ),
        DeleteComment => (
            facts.level >= Level::Admin,
            Some(AdminRepos),
            "Only the comment's author or a repository administrator can delete it.",
        ),
        PostCommitStatus => (
            signed_in,
            Some(ReadRepos),
            "You must be signed in and able to read the repository.",
        ),
        LegacyBuildStatus => (
            signed_in,
            Some(ReadRepos),
            "You must be signed in with a credential that reads repositories.",
        ),
        ReplaceCommitStatus if facts.author => (
            signed_in,
            Some(ReadRepos),
            "You must be signed in and able to read the repository.",
        ),
        ReplaceCommitStatus => (
            facts.level >= Level::Admin,
            Some(AdminRepos),
            "Only whoever posted this status, or a repository administrator, may replace it.",
        ),
        AdminRepo => (
            facts.level >= Level::Admin,
            Some(AdminRepos),
            "You need admin permission on this repository.",
        ),
        DeleteRepo => (
            facts.level >= Level::Admin,
            Some(DeleteRepos),
            "You need admin permission on this repository to delete it.",
        ),
        AdminProject => (
            facts.level >= Level::ProjectAdmin,
            Some(AdminProjects),
            "You need admin permission on this project.",
        ),
        DeleteProject => (
            facts.level >= Level::ProjectAdmin,
            Some(AdminProjects),
            "You need admin permission on this project to delete it.",
        ),
        CreateProject => (
            subject.global >= Some(GlobalPermission::ProjectCreate),
            Some(AdminProjects),
            "You need the PROJECT_CREATE permission to create projects.",
        ),
        ViewUsers => (
            subject.global >= Some(GlobalPermission::LicensedUser),
            Some(ReadAccount),
            "You need to be a licensed user.",
        ),
        ViewOwnAccount => (
            signed_in,
            Some(ReadAccount),
            "Sign in, or use a credential that acts for an account.",
        ),
        EditOwnAccount => (
            signed_in,
            Some(WriteAccount),
            "Only the signed-in account holder can do this.",
        ),
        CreateOwnCredential => (
            signed_in,
            None,
            "Only the signed-in account holder can do this.",
        ),
        AdminCredentials => (
            subject.global >= Some(GlobalPermission::Admin),
            None,
            "You need the ADMIN permission.",
        ),
        ActThroughLink => (
            signed_in,
            Some(WriteAccount),
            "Calling a linked application as you needs your session or an OAuth token with ACCOUNT_WRITE.",
        ),
        AdminSystem => (
            subject.global >= Some(GlobalPermission::Admin),
            Some(AdminWrite),
            "You need the ADMIN permission.",
        ),
        AdminTeam => (
            subject.global >= Some(GlobalPermission::Admin)
                || (signed_in && facts.level >= Level::Admin),
            Some(AdminProjects),
            "Only the team's admins and system administrators can change its members.",
        ),
        SysAdmin => (
            subject.global >= Some(GlobalPermission::SysAdmin),
            Some(SystemAdmin),
            "You need the SYS_ADMIN permission.",
        ),
    };
    if !permitted {
        return Err(if signed_in {
            Denial::Forbidden(what)
        } else {
            Denial::Unauthenticated
        });
    }
    if action.creates_credential() && !subject.ceiling.is_person() {
        return Err(Denial::BeyondScope {
            why: CREDENTIAL_NEEDS_PERSON,
            needs: None,
        });
    }
    if let Some(cap) = needs {
        if !subject.ceiling.allows(cap) {
            return Err(Denial::BeyondScope {
                why: "The credential used for this request does not have the scope this action needs.",
                needs: Some(cap),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(global: GlobalPermission, ceiling: Ceiling) -> Subject {
        Subject {
            user_id: Some(1),
            global: Some(global),
            ceiling,
        }
    }
    fn facts(public: bool, level: Level) -> ResourceFacts {
        ResourceFacts {
            public,
            level,
            ..Default::default()
        }
    }

    #[test]
    fn anonymous_reads_public_only() {
        let a = Subject::ANONYMOUS;
        assert_eq!(
            authorize(&a, Action::ViewRepo, Some(&facts(true, Level::None))),
            Ok(())
        );
        assert_eq!(
            authorize(&a, Action::ViewRepo, Some(&facts(false, Level::None))),
            Err(Denial::Unauthenticated)
        );
        assert_eq!(
            authorize(
                &a,
                Action::ParticipateInRepo,
                Some(&facts(true, Level::None))
            ),
            Err(Denial::Unauthenticated)
        );
        assert_eq!(
            authorize(&a, Action::CreateProject, None),
            Err(Denial::Unauthenticated)
        );
    }

    #[test]
    fn anonymous_sees_a_project_through_its_public_repository() {
        let f = ResourceFacts {
            inner_access: true,
            public_inner: true,
            ..Default::default()
        };
        assert_eq!(
            authorize(&Subject::ANONYMOUS, Action::ViewProject, Some(&f)),
            Ok(())
        );
        assert_eq!(
            authorize(&Subject::ANONYMOUS, Action::AdminProject, Some(&f)),
            Err(Denial::Unauthenticated)
        );
    }

    #[test]
    fn signed_in_without_access_sees_nothing() {
        let u = user(GlobalPermission::LicensedUser, Ceiling::Full);
        assert_eq!(
            authorize(&u, Action::ViewRepo, Some(&facts(false, Level::None))),
            Err(Denial::NotVisible)
        );
        assert!(matches!(
            authorize(&u, Action::WriteRepo, Some(&facts(false, Level::Read))),
            Err(Denial::Forbidden(_))
        ));
        assert_eq!(
            authorize(&u, Action::WriteRepo, Some(&facts(false, Level::Write))),
            Ok(())
        );
    }

    #[test]
    fn project_visible_through_a_repository() {
        let u = user(GlobalPermission::LicensedUser, Ceiling::Full);
        let f = ResourceFacts {
            inner_access: true,
            ..Default::default()
        };
        assert_eq!(authorize(&u, Action::ViewProject, Some(&f)), Ok(()));
        assert!(matches!(
            authorize(&u, Action::AdminProject, Some(&f)),
            Err(Denial::Forbidden(_))
        ));
    }

    #[test]
    fn token_ceiling_caps_but_never_raises() {
        let read = user(GlobalPermission::SysAdmin, TokenPermission::Read.ceiling());
        let f = facts(false, Level::ProjectAdmin);
        assert_eq!(
            authorize(&read, Action::ParticipateInRepo, Some(&f)),
            Ok(())
        );
        assert!(matches!(
            authorize(&read, Action::WriteRepo, Some(&f)),
            Err(Denial::BeyondScope { .. })
        ));
        let admin_token_plain_user = user(
            GlobalPermission::LicensedUser,
            TokenPermission::Admin.ceiling(),
        );
        assert!(matches!(
            authorize(
                &admin_token_plain_user,
                Action::AdminRepo,
                Some(&facts(false, Level::Read))
            ),
            Err(Denial::Forbidden(_))
        ));
        assert!(matches!(
            authorize(&admin_token_plain_user, Action::AdminSystem, None),
            Err(Denial::Forbidden(_))
        ));
        let admin_token = user(GlobalPermission::SysAdmin, TokenPermission::Admin.ceiling());
        assert_eq!(authorize(&admin_token, Action::AdminSystem, None), Ok(()));
        assert!(matches!(
            authorize(&admin_token, Action::SysAdmin, None),
            Err(Denial::BeyondScope { .. })
        ));
        assert!(matches!(
            authorize(&admin_token, Action::EditOwnAccount, None),
            Err(Denial::BeyondScope { .. })
        ));
    }

    #[test]
    fn authors_edit_and_decline_their_own_pull_requests_writers_any() {
        let reader = user(GlobalPermission::LicensedUser, Ceiling::Full);
        let read = |author| ResourceFacts {
            level: Level::Read,
            author,
            ..Default::default()
        };
        for action in [Action::EditPullRequest, Action::DeclinePullRequest] {
            assert_eq!(authorize(&reader, action, Some(&read(true))), Ok(()));
            assert!(matches!(
                authorize(&reader, action, Some(&read(false))),
                Err(Denial::Forbidden(_))
            ));
            let write = facts(false, Level::Write);
            assert_eq!(authorize(&reader, action, Some(&write)), Ok(()));
            // An author's read token still acts on their own; a writer's read token does not.
            let read_token = user(
                GlobalPermission::LicensedUser,
                TokenPermission::Read.ceiling(),
            );
            assert_eq!(authorize(&read_token, action, Some(&read(true))), Ok(()));
            assert!(matches!(
                authorize(&read_token, action, Some(&write)),
                Err(Denial::BeyondScope { .. })
            ));
        }
        // Merging is for writers only, authors included.
        assert!(matches!(
            authorize(&reader, Action::MergePullRequest, Some(&read(true))),
            Err(Denial::Forbidden(_))
        ));
        assert_eq!(
            authorize(
                &reader,
                Action::MergePullRequest,
                Some(&facts(false, Level::Write))
            ),
            Ok(())
        );
        // Comments: their author, or a repository administrator.
        assert_eq!(
            authorize(&reader, Action::DeleteComment, Some(&read(true))),
            Ok(())
        );
        assert_eq!(
            authorize(&reader, Action::DeleteComment, Some(&read(false))),
            Err(Denial::Forbidden(
                "Only the comment's author or a repository administrator can delete it."
            ))
        );
        assert_eq!(
            authorize(
                &reader,
                Action::DeleteComment,
                Some(&facts(false, Level::Admin))
            ),
            Ok(())
        );
        // Nobody sees a pull request of a repository they cannot see.
        assert_eq!(
            authorize(
                &reader,
                Action::EditPullRequest,
                Some(&ResourceFacts {
                    author: true,
                    ..Default::default()
                })
            ),
            Err(Denial::NotVisible)
        );
    }

    #[test]
    fn only_the_person_creates_credentials() {
        // A token with every capability there is still is not the person. (Every OAuth scope
        // is checked the same way in `oauth2.rs`.)
        let mut tokens = vec![Ceiling::Capped(u16::MAX)];
        tokens.extend(
            [
                TokenPermission::Read,
                TokenPermission::Write,
                TokenPermission::Admin,
            ]
            .map(TokenPermission::ceiling),
        );
        for action in [Action::CreateOwnCredential, Action::AdminCredentials] {
            for ceiling in &tokens {
                let sys = user(GlobalPermission::SysAdmin, *ceiling);
                assert_eq!(
                    authorize(&sys, action, None),
                    Err(Denial::BeyondScope {
                        why: CREDENTIAL_NEEDS_PERSON,
                        needs: None,
                    }),
                    "{action:?} with {ceiling:?}"
                );
            }
            let person = user(GlobalPermission::SysAdmin, Ceiling::Full);
            assert_eq!(authorize(&person, action, None), Ok(()));
            assert_eq!(
                authorize(&Subject::ANONYMOUS, action, None),
                Err(Denial::Unauthenticated)
            );
        }
        let plain = user(GlobalPermission::LicensedUser, Ceiling::Full);
        assert_eq!(authorize(&plain, Action::CreateOwnCredential, None), Ok(()));
        assert!(matches!(
            authorize(&plain, Action::AdminCredentials, None),
            Err(Denial::Forbidden(_))
        ));
    }

    #[test]
    fn team_admins_manage_their_team_only() {
        let u = user(GlobalPermission::LicensedUser, Ceiling::Full);
        let admin_of_team = ResourceFacts {
            level: Level::Admin,
            ..Default::default()
        };
        assert_eq!(
            authorize(&u, Action::AdminTeam, Some(&admin_of_team)),
            Ok(())
        );
        assert!(matches!(
            authorize(&u, Action::AdminTeam, Some(&ResourceFacts::default())),
            Err(Denial::Forbidden(_))
        ));
        let sys = user(GlobalPermission::Admin, Ceiling::Full);
        assert_eq!(
            authorize(&sys, Action::AdminTeam, Some(&ResourceFacts::default())),
            Ok(())
        );
        let read_token = user(GlobalPermission::Admin, TokenPermission::Read.ceiling());
        assert!(matches!(
            authorize(&read_token, Action::AdminTeam, None),
            Err(Denial::BeyondScope { .. })
        ));
    }

    #[test]
    fn scope_ordering_is_monotonic() {
        let perms = [
            TokenPermission::Read,
            TokenPermission::Write,
            TokenPermission::Admin,
        ];
        let actions = [
            Action::ViewRepo,
            Action::ParticipateInRepo,
            Action::WriteRepo,
            Action::AdminRepo,
            Action::DeleteRepo,
            Action::AdminProject,
            Action::CreateProject,
            Action::AdminSystem,
        ];
        let u = user(GlobalPermission::SysAdmin, Ceiling::Full);
        let f = facts(false, Level::ProjectAdmin);
        for w in perms.windows(2) {
            for a in actions {
                let lower = authorize(
                    &Subject {
                        ceiling: w[0].ceiling(),
                        ..u
                    },
                    a,
                    Some(&f),
                )
                .is_ok();
                let higher = authorize(
                    &Subject {
                        ceiling: w[1].ceiling(),
                        ..u
                    },
                    a,
                    Some(&f),
                )
                .is_ok();
                assert!(
                    !lower || higher,
                    "{a:?}: {:?} allows but {:?} does not",
                    w[0],
                    w[1]
                );
            }
        }
    }
}
