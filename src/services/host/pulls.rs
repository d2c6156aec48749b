//! Pull requests, with their reviews and comments: typed operations for every surface.

use super::{repositories, ConflictKind, Host, HostError, HostResult, Missing, Principal};
use crate::domain::names::bounded_text;
use crate::domain::pull_request::MergeStrategy;
use crate::domain::pull_request::{branch_ref, check_change, valid_ref, PrRuleError, PrState};
use crate::domain::{self, Action, Ceiling};
use crate::store::{
    Comment, NewPullRequest, Participant, PullRequest, PullRequestEdit, Repository, StoreError,
};
use std::collections::HashMap;

const MAX_TITLE: usize = 255;
pub const MAX_TEXT: usize = 32_768;

/// Which pull request: project key, repository slug, number.
#[derive(Debug, Clone, Copy)]
pub struct PrRef<'a> {
    pub key: &'a str,
    pub slug: &'a str,
    pub number: i64,
}

/// A pull request with its repository and the people on it, as every surface shows it.
pub struct PullRequestView {
    pub repo: Repository,
    pub pr: PullRequest,
    pub participants: Vec<Participant>,
}

impl PullRequestView {
    pub fn state(&self) -> PrState {
        self.pr.state
    }
}

/// A branch as given: its id and, optionally, the repository it is said to belong to.
#[derive(Debug, Clone, Default)]
pub struct BranchInput {
    pub id: Option<String>,
    pub repository_slug: Option<String>,
    pub project_key: Option<String>,
}

impl BranchInput {
    pub fn named(id: impl Into<String>) -> Self {
        Self {
            id: Some(id.into()),
            ..Default::default()
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct NewPullRequestInput {
    pub title: Option<String>,
    pub description: Option<String>,
    pub from: Option<BranchInput>,
    pub to: Option<BranchInput>,
    /// Usernames.
    pub reviewers: Vec<String>,
}

/// A change to an open pull request; `None` keeps what is there.
#[derive(Debug, Clone, Default)]
pub struct PullRequestChange {
    pub version: Option<i64>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub to: Option<BranchInput>,
    pub reviewers: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewStatus {
    Approved,
    Unapproved,
    NeedsWork,
}

impl ReviewStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "APPROVED",
            Self::Unapproved => "UNAPPROVED",
            Self::NeedsWork => "NEEDS_WORK",
        }
    }
}

/// The repository and pull request, if the principal may see them and then do `action`.
pub(super) async fn find(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: PrRef<'_>,
    action: Action,
) -> HostResult<(Repository, PullRequest)> {
    let repo = repositories::find(host, who, at.key, at.slug, Action::ViewRepo).await?;
    let pr = host
        .store
        .find_pull_request(repo.id, at.number)
        .await?
        .ok_or(HostError::NotFound(Missing::PullRequest(at.number)))?;
    let author = who.user.is_some_and(|u| u.id == pr.author_id);
    who.check_repo_with(&repo, action, |f| f.author = author)?;
    Ok((repo, pr))
}

async fn view(host: &Host<'_>, repo: Repository, pr: PullRequest) -> HostResult<PullRequestView> {
    let participants = host.store.participants(pr.id).await?;
    Ok(PullRequestView {
        repo,
        pr,
        participants,
    })
}

/// The repository's pull requests in `state` (all with `None`), each with its people.
pub async fn list(
    host: &Host<'_>,
    who: &Principal<'_>,
    key: &str,
    slug: &str,
    state: Option<PrState>,
) -> HostResult<(Repository, Vec<(PullRequest, Vec<Participant>)>)> {
    let repo = repositories::find(host, who, key, slug, Action::ViewRepo).await?;
    let prs = host
        .store
        .list_pull_requests(repo.id, state.map(PrState::as_str))
        .await?;
    let mut people: HashMap<i64, Vec<Participant>> = HashMap::new();
    for p in host.store.participants_of_repo(repo.id).await? {
        people.entry(p.pr_id).or_default().push(p);
    }
    let listed = prs
        .into_iter()
        .map(|pr| {
            let mine = people.remove(&pr.id).unwrap_or_default();
            (pr, mine)
        })
        .collect();
    Ok((repo, listed))
}

pub async fn get(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: PrRef<'_>,
) -> HostResult<PullRequestView> {
    let (repo, pr) = find(host, who, at, Action::ViewRepo).await?;
    view(host, repo, pr).await
}

/// A branch of this repository. Pull requests between repositories come with forks.
fn branch(field: &'static str, b: Option<&BranchInput>, repo: &Repository) -> HostResult<String> {
    let b = b.ok_or_else(|| HostError::invalid(field, format!("{field} is required.")))?;
    let same_slug = b
        .repository_slug
        .as_deref()
        .is_none_or(|s| s.eq_ignore_ascii_case(&repo.slug));
    let same_project = b
        .project_key
        .as_deref()
        .is_none_or(|k| k.eq_ignore_ascii_case(&repo.project_key));
    if !(same_slug && same_project) {
        return Err(HostError::invalid(field, format!(
            "{field} must be a branch of {}/{}: pull requests between repositories are not supported yet.",
            repo.project_key, repo.slug
        )));
    }
    let id = branch_ref(b.id.as_deref().unwrap_or(""));
    if !valid_ref(&id) {
        return Err(HostError::invalid(
            field,
            format!("{field}.id must name a branch, like refs/heads/main."),
        ));
    }
    Ok(id)
}

/// Reviewers: each an active user who can read the repository, and not the author.
async fn reviewers(
    host: &Host<'_>,
    repo: &Repository,
    author: i64,
    names: &[String],
) -> HostResult<Vec<i64>> {
    let mut ids = Vec::new();
    for name in names {
        let bad = |why: &str| {
            HostError::invalid("reviewers", format!("{name} cannot be a reviewer: {why}"))
        };
        let user = host.store.find_account(&name.to_ascii_lowercase()).await?;
        let user = user
            .filter(|u| u.kind == crate::store::AccountKind::User && u.active)
            .ok_or_else(|| bad("there is no active user by that name."))?;
        if user.id == author {
            return Err(PrRuleError::AuthorIsReviewer.into());
        }
        let grants = host.store.grants_of_user(user.id).await?;
        if !domain::authz::account_may_on_repo(
            user.id,
            &grants,
            Ceiling::Full,
            Action::ParticipateInRepo,
            (repo.project_id, repo.id),
            repo.readable_by_anyone(),
        ) {
            return Err(bad("they cannot read this repository."));
        }
        if !ids.contains(&user.id) {
            ids.push(user.id);
        }
    }
    Ok(ids)
}

fn title(raw: &str) -> HostResult<String> {
    let t = raw.trim();
    if t.is_empty() {
        return Err(HostError::invalid("title", "A pull request needs a title."));
    }
    Ok(bounded_text("title", t, MAX_TITLE)?)
}

pub async fn create(
    host: &Host<'_>,
    who: &Principal<'_>,
    key: &str,
    slug: &str,
    input: NewPullRequestInput,
) -> HostResult<PullRequestView> {
    let repo = repositories::find(host, who, key, slug, Action::ParticipateInRepo).await?;
    let me = who.user()?;
    let title = title(input.title.as_deref().unwrap_or(""))?;
    let description = bounded_text(
        "description",
        input.description.as_deref().unwrap_or(""),
        MAX_TEXT,
    )?;
    let from = branch("fromRef", input.from.as_ref(), &repo)?;
    let to = branch("toRef", input.to.as_ref(), &repo)?;
    if from == to {
        return Err(PrRuleError::SameBranch.into());
    }
    super::pull_code::require_branches(host, &repo, &from, &to).await?;
    let reviewer_ids = reviewers(host, &repo, me.id, &input.reviewers).await?;
    let new = NewPullRequest {
        repo_id: repo.id,
        title: &title,
        description: &description,
        from_ref: &from,
        to_ref: &to,
        author_id: me.id,
        reviewer_ids: &reviewer_ids,
    };
    let pr = match host.store.create_pull_request(&new, &host.emit(me)).await {
        Err(StoreError::Duplicate) => {
            return Err(HostError::Conflict {
                kind: ConflictKind::DuplicatePullRequest,
                message: "Only one pull request may be open for a given source and target branch."
                    .into(),
            })
        }
        other => other?,
    };
    view(host, repo, pr).await
}

/// A conditional change lost a race: re-reads to say why.
async fn conflict_after_race(host: &Host<'_>, pr: &PullRequest, given: i64) -> HostError {
    match host.store.pull_request_by_id(pr.id).await {
        Ok(now) => match check_change(now.state, now.version, Some(given)) {
            Err(e) => e.into(),
            Ok(()) => PrRuleError::OutOfDate {
                current: now.version,
                given,
            }
            .into(),
        },
        Err(e) => e.into(),
    }
}

pub async fn update(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: PrRef<'_>,
    change: PullRequestChange,
) -> HostResult<PullRequestView> {
    let (repo, pr) = find(host, who, at, Action::EditPullRequest).await?;
    let version = change.version.ok_or_else(|| {
        HostError::invalid("version", "version is required to update a pull request.")
    })?;
    check_change(pr.state, pr.version, Some(version))?;
    let title = match change.title.as_deref() {
        Some(t) => self::title(t)?,
        None => pr.title.clone(),
    };
    let description = match change.description.as_deref() {
        Some(d) => bounded_text("description", d, MAX_TEXT)?,
        None => pr.description.clone(),
    };
    let to = match change.to.as_ref() {
        Some(b) => branch("toRef", Some(b), &repo)?,
        None => pr.to_ref.clone(),
    };
    if to == pr.from_ref {
        return Err(PrRuleError::SameBranch.into());
    }
    let reviewer_ids = match change.reviewers.as_deref() {
        Some(names) => Some(reviewers(host, &repo, pr.author_id, names).await?),
        None => None,
    };
    let edit = PullRequestEdit {
        title: &title,
        description: &description,
        to_ref: &to,
        reviewers: reviewer_ids.as_deref(),
    };
    let me = who.user()?;
    if !host
        .store
        .update_pull_request(pr.id, version, &edit, &host.emit(me))
        .await?
    {
        return Err(conflict_after_race(host, &pr, version).await);
    }
    let pr = host.store.pull_request_by_id(pr.id).await?;
    view(host, repo, pr).await
}

/// Merges or declines. Without `version` the change applies to the state just read, still
/// atomically.
async fn close(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: PrRef<'_>,
    version: Option<i64>,
    target: PrState,
) -> HostResult<PullRequestView> {
    let action = match target {
        PrState::Merged => Action::MergePullRequest,
        _ => Action::DeclinePullRequest,
    };
    let (repo, pr) = find(host, who, at, action).await?;
    check_change(pr.state, pr.version, version)?;
    let expected = version.unwrap_or(pr.version);
    let me = who.user()?;
    if !host
        .store
        .close_pull_request(pr.id, expected, target.as_str(), &host.emit(me))
        .await?
    {
        return Err(conflict_after_race(host, &pr, expected).await);
    }
    let pr = host.store.pull_request_by_id(pr.id).await?;
    view(host, repo, pr).await
}

/// How to merge: Data Center's strategy (merge commit by default) and an optional message.
#[derive(Debug, Clone, Default)]
pub struct MergeRequest {
    pub strategy: MergeStrategy,
    pub message: Option<String>,
}

/// Merges on the server (see `pull_code::merge_branches`), then closes the pull request as
/// merged: `repo:push` for the target branch, then `pullrequest:fulfilled`.
pub async fn merge(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: PrRef<'_>,
    version: Option<i64>,
    how: MergeRequest,
) -> HostResult<PullRequestView> {
    let (repo, pr) = find(host, who, at, Action::MergePullRequest).await?;
    check_change(pr.state, pr.version, version)?;
    let me = who.user()?;
    super::pull_code::merge_branches(host, &repo, &pr, me, how.strategy, how.message.as_deref())
        .await?;
    close(host, who, at, version, PrState::Merged).await
}

pub async fn decline(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: PrRef<'_>,
    version: Option<i64>,
) -> HostResult<PullRequestView> {
    close(host, who, at, version, PrState::Declined).await
}

/// A review status is set by its owner only: `user`, when a surface names whose it sets, must
/// be the principal.
pub fn check_own_review(who: &Principal<'_>, at: PrRef<'_>, user: &str) -> HostResult<()> {
    if who.user()?.slug.eq_ignore_ascii_case(user) {
        return Ok(());
    }
    Err(HostError::Denied {
        denial: crate::domain::Denial::Forbidden("You can only change your own review status."),
        missing: Missing::PullRequest(at.number),
    })
}

/// The principal's own review status. A surface that names whose status it sets checks that
/// name first with `check_own_review`.
pub async fn set_review_status(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: PrRef<'_>,
    status: ReviewStatus,
) -> HostResult<Participant> {
    let me = who.user()?;
    let (_, pr) = find(host, who, at, Action::ParticipateInRepo).await?;
    if me.id == pr.author_id {
        return Err(PrRuleError::AuthorIsReviewer.into());
    }
    check_change(pr.state, pr.version, None)?;
    Ok(host
        .store
        .set_review_status(pr.id, me.id, status.as_str(), &host.emit(me))
        .await?)
}

pub async fn comments(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: PrRef<'_>,
) -> HostResult<Vec<Comment>> {
    let (_, pr) = find(host, who, at, Action::ViewRepo).await?;
    Ok(host.store.comments(pr.id).await?)
}

/// A pull request with its comments, as its review page shows it (one lookup for both).
pub async fn get_with_comments(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: PrRef<'_>,
) -> HostResult<(PullRequestView, Vec<Comment>)> {
    let (repo, pr) = find(host, who, at, Action::ViewRepo).await?;
    let comments = host.store.comments(pr.id).await?;
    Ok((view(host, repo, pr).await?, comments))
}

pub async fn add_comment(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: PrRef<'_>,
    text: Option<&str>,
) -> HostResult<Comment> {
    let (_, pr) = find(host, who, at, Action::ParticipateInRepo).await?;
    let text = text.map(str::trim).unwrap_or("");
    if text.is_empty() {
        return Err(HostError::invalid("text", "A comment needs text."));
    }
    let text = bounded_text("text", text, MAX_TEXT)?;
    let me = who.user()?;
    Ok(host
        .store
        .add_comment(pr.id, me.id, &text, &host.emit(me))
        .await?)
}

/// Deletes a comment as of `version` (the version the person saw).
pub async fn delete_comment(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: PrRef<'_>,
    comment_id: i64,
    version: Option<i64>,
) -> HostResult<()> {
    let (repo, pr) = find(host, who, at, Action::ParticipateInRepo).await?;
    let version = version.ok_or_else(|| {
        HostError::invalid(
            "version",
            "version is required: the version of the comment you saw.",
        )
    })?;
    let comment = host
        .store
        .comment(pr.id, comment_id)
        .await?
        .ok_or(HostError::NotFound(Missing::Comment(comment_id)))?;
    let me = who.user()?;
    let author = comment.author_id == me.id;
    who.check_repo_with(&repo, Action::DeleteComment, |f| f.author = author)?;
    match host
        .store
        .delete_comment(pr.id, comment_id, version, &host.emit(me))
        .await
    {
        Ok(true) => Ok(()),
        Ok(false) => Err(HostError::Conflict {
            kind: ConflictKind::CommentOutOfDate,
            message: format!(
                "You are attempting to modify a comment based on out-of-date information: the current version is {}, you supplied {version}.",
                comment.version
            ),
        }),
        Err(StoreError::NotFound) => Err(HostError::NotFound(Missing::Comment(comment_id))),
        Err(e) => Err(e.into()),
    }
}
