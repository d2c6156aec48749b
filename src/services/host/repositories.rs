//! Repositories: finding one the principal may act on, and creating one.

use super::projects::MAX_DESCRIPTION;
use super::{Host, HostError, HostResult, Missing, Principal};
use crate::domain::names::{bounded_text, parse_optional};
use crate::domain::pull_request::{branch_ref, valid_ref};
use crate::domain::{Action, DisplayName, Slug};
use crate::store::{RepoFilter, Repository, RepositoryChanges, StoreError, Window};

/// The repository `key`/`slug`, if the principal may do `action` on it. One it may not see is
/// `NotFound`-like (`Denied` with `NotVisible`), so its existence is not revealed.
pub async fn find(
    host: &Host<'_>,
    who: &Principal<'_>,
    key: &str,
    slug: &str,
    action: Action,
) -> HostResult<Repository> {
    let repo = host
        .store
        .find_repository(key, slug)
        .await?
        .ok_or_else(|| HostError::NotFound(Missing::Repository(key.into(), slug.into())))?;
    who.check_repo(&repo, action)?;
    Ok(repo)
}

#[derive(Debug, Clone, Default)]
pub struct NewRepository {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub description: Option<String>,
    pub public: bool,
    pub default_branch: Option<String>,
    pub scm_id: Option<String>,
}

/// A branch name as given, made a full ref (`main` → `refs/heads/main`), or why it is not one.
pub fn default_branch(raw: Option<&str>) -> HostResult<Option<String>> {
    raw.map(|b| {
        let r = branch_ref(b);
        if valid_ref(&r) {
            Ok(r)
        } else {
            Err(HostError::invalid(
                "defaultBranch",
                format!("'{b}' is not a valid branch name."),
            ))
        }
    })
    .transpose()
}

/// Creates a repository in project `key` (its administrators may).
pub async fn create(
    host: &Host<'_>,
    who: &Principal<'_>,
    key: &str,
    new: NewRepository,
) -> HostResult<Repository> {
    let project = super::projects::find(host, who, key, Action::AdminProject).await?;
    if new.scm_id.as_deref().is_some_and(|s| s != "git") {
        return Err(HostError::invalid(
            "scmId",
            "Only git repositories are supported (scmId \"git\").",
        ));
    }
    let name = DisplayName::parse("name", new.name.as_deref().unwrap_or(""))?;
    let slug = match new.slug.as_deref() {
        Some(s) => Slug::parse("slug", s)?,
        None => Slug::from_name("slug", name.as_str())?,
    };
    let description = bounded_text(
        "description",
        new.description.as_deref().unwrap_or(""),
        MAX_DESCRIPTION,
    )?;
    let branch =
        default_branch(new.default_branch.as_deref())?.unwrap_or_else(|| "refs/heads/main".into());
    let me = who.user()?;
    let target = format!("repo:{}/{}", project.key, slug.as_str());
    let audit = who.audit("repo.created", &target, "");
    let created = host
        .store
        .create_repository(
            project.id,
            slug.as_str(),
            name.as_str(),
            &description,
            new.public,
            &branch,
            &host.emit(me),
            Some(&audit),
        )
        .await;
    let repo = match created {
        Err(StoreError::Duplicate) => return Err(HostError::repository_taken()),
        other => other?,
    };
    // Its bare repository; should this fail, the first git request creates it (`on_disk`).
    if let Err(e) = host.git.create(repo.id, &repo.default_branch).await {
        tracing::error!(error = %e, repo = repo.id, "could not create a bare repository");
    }
    Ok(repo)
}

/// The repository's bare repository, created if it is missing (a repository made before
/// Junction hosted git, or one whose creation on disk failed).
pub async fn on_disk(host: &Host<'_>, repo: &Repository) -> HostResult<()> {
    if host.git.path(repo.id).exists() {
        return Ok(());
    }
    host.git
        .create(repo.id, &repo.default_branch)
        .await
        .map_err(|e| HostError::Internal(e.to_string()))
}

/// What a repository list may ask to be able to do with each one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Needed {
    #[default]
    Read,
    Write,
    Admin,
}

impl Needed {
    fn action(self) -> Action {
        match self {
            Needed::Read => Action::ViewRepo,
            Needed::Write => Action::WriteRepo,
            Needed::Admin => Action::AdminRepo,
        }
    }
}

/// The repositories the principal may `needed` that match `filter`, by project key and slug,
/// one window of them; filtered and paged in the database.
pub async fn list(
    host: &Host<'_>,
    who: &Principal<'_>,
    needed: Needed,
    filter: &RepoFilter<'_>,
    window: Window,
) -> HostResult<Vec<Repository>> {
    let visible = who.repo_visibility(needed.action());
    Ok(host
        .store
        .visible_repositories(&visible, filter, window)
        .await?)
}

/// New values for a repository; `None` keeps what is there.
#[derive(Debug, Clone, Default)]
pub struct RepositoryChange {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub description: Option<String>,
    pub public: Option<bool>,
    pub default_branch: Option<String>,
}

/// Changes a repository and writes its `repo:updated` event.
pub async fn update(
    host: &Host<'_>,
    who: &Principal<'_>,
    key: &str,
    slug: &str,
    change: RepositoryChange,
) -> HostResult<Repository> {
    let repo = find(host, who, key, slug, Action::AdminRepo).await?;
    let changes = RepositoryChanges {
        slug: parse_optional(change.slug.as_deref(), |s| Slug::parse("slug", s))?,
        name: parse_optional(change.name.as_deref(), |n| DisplayName::parse("name", n))?,
        description: super::projects::new_description(change.description.as_deref())?,
        public: change.public,
        default_branch: default_branch(change.default_branch.as_deref())?,
    };
    let emit = host.emit(who.user()?);
    let new_slug = changes.slug.as_deref().unwrap_or(&repo.slug);
    let target = format!("repo:{}/{new_slug}", repo.project_key);
    let audit = who.audit("repo.updated", &target, "");
    let updated = host
        .store
        .update_repository(repo.id, &changes, &emit, Some(&audit))
        .await;
    match updated {
        Err(StoreError::Duplicate) => Err(HostError::repository_taken()),
        other => Ok(other?),
    }
}

/// Deletes a repository and writes its `repo:deleted` event.
pub async fn delete(host: &Host<'_>, who: &Principal<'_>, key: &str, slug: &str) -> HostResult<()> {
    let repo = find(host, who, key, slug, Action::DeleteRepo).await?;
    let emit = host.emit(who.user()?);
    let target = format!("repo:{}/{}", repo.project_key, repo.slug);
    let audit = who.audit("repo.deleted", &target, "");
    host.store
        .delete_repository(repo.id, &emit, Some(&audit))
        .await?;
    // Only once the database no longer knows it.
    host.git.remove(repo.id).await;
    Ok(())
}
