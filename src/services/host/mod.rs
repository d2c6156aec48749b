//! The host service layer: typed operations on projects, repositories and pull requests that
//! every surface calls (Data Center REST, the pages, and the coming Cloud 2.0 REST for apps).
//! Each operation takes the acting `Principal` and typed input, decides access through the one
//! `authorize()`, calls the store, and returns typed values or one `HostError`. Nothing here
//! knows HTTP, JSON or templates; `web/error.rs` maps `HostError` to each surface's answer.
//!
//! Moved so far: projects and repositories (finding and creating one), pull requests with
//! reviews and comments, users and teams, permission grants, webhooks and their deliveries,
//! OAuth clients, the person's own account, personal
//! access tokens.

pub mod access_tokens;
pub mod accounts;
pub mod app_access;
pub mod app_calls;
pub mod app_catalog;
pub mod app_deliveries;
pub mod app_installations;
pub mod app_modules;
pub mod applinks;
pub mod apps;
pub mod audit_log;
pub mod browse;
pub mod code_insights;
pub mod commit_statuses;
pub mod link_connections;
pub mod oauth_clients;
pub mod permissions;
pub mod projects;
pub mod pull_code;
pub mod pulls;
pub mod pushes;
pub mod repositories;
pub mod service_accounts;
pub mod teams;
pub mod users;
pub mod webhook_deliveries;
pub mod webhooks;
pub mod workspaces;

use crate::domain::pull_request::PrRuleError;
use crate::domain::visibility::{ProjectVisibility, RepoVisibility};
use crate::domain::{
    self, authorize, Action, Denial, ResourceFacts, Restriction, ScopedGrant, Subject,
};
use crate::store::events::RenderEvent;
use crate::store::{Account, Emit, NewAudit, Project, Repository, Store, StoreError};

/// Who acts, as far as the host cares: borrowed from the surface's own view of the request.
#[derive(Clone, Copy)]
pub struct Principal<'a> {
    pub user: Option<&'a Account>,
    pub subject: &'a Subject,
    pub grants: &'a [ScopedGrant],
    /// Service accounts may be confined to some projects and repositories.
    pub restriction: Option<&'a Restriction>,
    /// The client's address, for the audit log.
    pub ip: &'a str,
}

impl<'a> Principal<'a> {
    pub fn user(&self) -> Result<&'a Account, HostError> {
        self.user.ok_or(HostError::Unauthenticated)
    }

    /// Who the audit log says acted.
    pub fn actor(&self) -> crate::services::audit::Actor<'a> {
        crate::services::audit::Actor {
            id: self.user.map(|u| u.id),
            name: self.user.map_or("anonymous", |u| u.slug.as_str()),
            ip: self.ip,
        }
    }

    /// The audit row of a change this principal makes, for the store to write inside the
    /// change's own transaction (a change and its record commit together or not at all).
    pub fn audit<'b>(&'b self, action: &'b str, target: &'b str, details: &'b str) -> NewAudit<'b> {
        self.actor().entry(action, target, details)
    }

    /// Decides an action not about one project or repository.
    pub fn check(&self, action: Action) -> Result<(), HostError> {
        authorize(self.subject, action, None).map_err(|denial| HostError::Denied {
            denial,
            missing: Missing::Nothing,
        })
    }

    pub fn project_facts(&self, p: &Project) -> ResourceFacts {
        domain::facts_for(
            self.grants,
            self.restriction,
            p.id,
            None,
            p.public,
            p.has_public_repo,
        )
    }

    pub fn check_project(&self, p: &Project, action: Action) -> Result<(), HostError> {
        authorize(self.subject, action, Some(&self.project_facts(p))).map_err(|d| {
            HostError::Denied {
                denial: d,
                missing: Missing::Project(p.key.clone()),
            }
        })
    }

    pub fn can_project(&self, p: &Project, action: Action) -> bool {
        self.check_project(p, action).is_ok()
    }

    pub fn repo_facts(&self, r: &Repository) -> ResourceFacts {
        domain::facts_for(
            self.grants,
            self.restriction,
            r.project_id,
            Some(r.id),
            r.readable_by_anyone(),
            false,
        )
    }

    /// Decides `action` on `r` (with `facts` adjusted by `adjust`, e.g. authorship); a principal
    /// that may not see it is told it does not exist.
    pub fn check_repo_with(
        &self,
        r: &Repository,
        action: Action,
        adjust: impl FnOnce(&mut ResourceFacts),
    ) -> Result<(), HostError> {
        let mut facts = self.repo_facts(r);
        adjust(&mut facts);
        authorize(self.subject, action, Some(&facts)).map_err(|d| HostError::Denied {
            denial: d,
            missing: Missing::Repository(r.project_key.clone(), r.slug.clone()),
        })
    }

    pub fn check_repo(&self, r: &Repository, action: Action) -> Result<(), HostError> {
        self.check_repo_with(r, action, |_| {})
    }

    pub fn can_repo(&self, r: &Repository, action: Action) -> bool {
        self.check_repo(r, action).is_ok()
    }

    /// The repositories this principal may do `action` on, as sets for a query.
    pub fn repo_visibility(&self, action: Action) -> RepoVisibility {
        RepoVisibility::of(self.subject, self.grants, self.restriction, action)
    }

    /// The projects this principal may see, as sets for a query.
    pub fn project_visibility(&self) -> ProjectVisibility {
        ProjectVisibility::of(self.subject, self.grants, self.restriction)
    }
}

/// What the host needs besides the principal: the store, how events are rendered, and how
/// passwords are checked and hashed.
#[derive(Clone, Copy)]
pub struct Host<'a> {
    pub store: &'a Store,
    pub events: &'a dyn RenderEvent,
    pub sign_in: &'a crate::services::sign_in::SignIn,
    pub passwords: &'a crate::services::passwords::Passwords,
    pub security: &'a crate::config::SecurityConfig,
    pub webhooks: &'a crate::services::webhooks::Webhooks,
    /// Encrypts and decrypts secrets kept at rest.
    pub master_key: &'a crate::crypto::MasterKey,
    /// Application links' remote side.
    pub links: &'a crate::services::links::Links,
    /// Public base URL without a trailing slash.
    pub base_url: &'a str,
    /// Bare repositories on disk.
    pub git: &'a crate::services::git::GitRepos,
}

impl<'a> Host<'a> {
    /// Records something `who` did that changed nothing else in the store (a view of
    /// credentials, a test delivery); a change passes `Principal::audit` to its store write.
    pub async fn audit(&self, who: &Principal<'_>, action: &str, target: &str, details: &str) {
        crate::services::audit::record(self.store, &who.actor(), action, target, details).await;
    }

    pub fn emit(&self, actor: &'a Account) -> Emit<'a> {
        Emit {
            actor,
            render: self.events,
        }
    }
}

/// The thing that was not found (or may not be seen), for the surface to name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    /// Nothing in particular (an action not about one resource, which is never invisible).
    Nothing,
    Project(String),
    Repository(String, String),
    AccessToken,
    PullRequest(i64),
    Comment(i64),
    User(String),
    Team(String),
    TeamMember {
        user: String,
        team: String,
    },
    Webhook(i64),
    Delivery(i64),
    OAuthClient(String),
    Link(String),
    /// The person has not connected their account to this link.
    Connection(String),
    ServiceAccount(String),
    /// A branch, tag or commit (`at`) the repository does not have.
    Revision(String),
    /// A path that does not exist at the revision.
    Path(String),
    /// An app the catalog does not list (by key).
    App(String),
    /// An app installation (by id) the person may not manage or that was removed.
    Installation(i64),
    /// An app's page (by module key) that is not shown to this person here.
    AppModule(String),
    /// A build status (by key) the commit does not have.
    CommitStatus(String),
    /// A Code Insights report (by key) the commit does not have.
    Report(String),
}

/// Why a conflicting change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictKind {
    /// Another open pull request has the same source and target.
    DuplicatePullRequest,
    /// The comment changed since the version given.
    CommentOutOfDate,
    /// Another project has this key (`field` "key") or name (`field` "name").
    ProjectTaken { field: &'static str },
    /// The project already has a repository with this name or slug.
    RepositoryTaken,
    /// The project still holds repositories.
    ProjectNotEmpty,
    /// The owner already has an access token with this name.
    TokenNameTaken,
    /// A user or team already has this name (users and teams share one namespace); what was
    /// being created.
    AccountNameTaken(crate::store::AccountKind),
    /// The change would leave no system administrator.
    LastSysAdmin,
    /// The delivery is already queued.
    DeliveryQueued,
    /// Another OAuth client (application link) has this name.
    ClientNameTaken,
    /// Merging would conflict (the message names the paths).
    MergeConflict,
    /// The branches cannot be merged as asked (fast-forward impossible, a branch gone, the
    /// target moved while merging).
    MergeRefused,
}

/// The one error of host operations.
#[derive(Debug)]
pub enum HostError {
    /// Nobody is signed in and the operation needs someone.
    Unauthenticated,
    /// `authorize()` said no; `missing` is what to call absent when it may not even be seen.
    Denied {
        denial: Denial,
        missing: Missing,
    },
    NotFound(Missing),
    /// An input (`field`) names something that does not exist.
    Unknown {
        field: &'static str,
        missing: Missing,
    },
    /// Refused for a reason `authorize()` does not model, said in a sentence.
    Forbidden(String),
    /// Bad input: which field, and a sentence a person understands.
    Invalid {
        field: &'static str,
        message: String,
    },
    /// A pull request rule (state, version, branches, reviewers).
    Rule(PrRuleError),
    Conflict {
        kind: ConflictKind,
        message: String,
    },
    /// Something that should not fail did (logged, never shown).
    Internal(String),
    /// A URL that may not or cannot be used, or a remote that failed; `field` names the input.
    Outbound {
        field: Option<&'static str>,
        error: crate::services::outbound::OutboundError,
    },
    /// An application link's remote side failed or refused.
    Link(crate::services::links::LinkError),
    /// A Connect app could not be fetched, validated or called, or the install was refused.
    App(crate::services::apps::AppError),
    /// A Connect JWT was refused (which check failed).
    Jwt(crate::domain::connect_jwt::Refusal),
    /// Password hashing is saturated: try again shortly.
    Busy(crate::services::passwords::Busy),
    /// Checking a password failed for a reason other than the password (throttled, busy).
    SignIn(crate::services::sign_in::SignInError),
    Store(StoreError),
}

impl HostError {
    /// A lookup's "not found" as a mistake in the input `field` that named it (a form shows
    /// it next to that field); other errors unchanged.
    pub fn named_by(self, field: &'static str) -> Self {
        match self {
            HostError::NotFound(missing) => HostError::Unknown { field, missing },
            e => e,
        }
    }

    pub fn repository_taken() -> Self {
        HostError::Conflict {
            kind: ConflictKind::RepositoryTaken,
            message: "This project already contains a repository with that name or slug.".into(),
        }
    }

    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        HostError::Invalid {
            field,
            message: message.into(),
        }
    }
}

/// Git failing on Junction's own repository is Junction's failure (logged, never shown).
impl From<crate::services::git::GitError> for HostError {
    fn from(e: crate::services::git::GitError) -> Self {
        HostError::Internal(e.to_string())
    }
}

impl From<crate::services::apps::AppError> for HostError {
    fn from(e: crate::services::apps::AppError) -> Self {
        HostError::App(e)
    }
}

impl From<StoreError> for HostError {
    fn from(e: StoreError) -> Self {
        HostError::Store(e)
    }
}

impl From<crate::services::passwords::Busy> for HostError {
    fn from(e: crate::services::passwords::Busy) -> Self {
        HostError::Busy(e)
    }
}

impl From<crate::services::links::LinkError> for HostError {
    fn from(e: crate::services::links::LinkError) -> Self {
        HostError::Link(e)
    }
}

impl From<PrRuleError> for HostError {
    fn from(e: PrRuleError) -> Self {
        HostError::Rule(e)
    }
}

impl From<crate::domain::ValidationError> for HostError {
    fn from(e: crate::domain::ValidationError) -> Self {
        HostError::Invalid {
            field: e.field,
            message: e.message,
        }
    }
}

pub type HostResult<T> = Result<T, HostError>;
