//! Build statuses of commits, for Bitbucket Cloud's `…/commit/{node}/statuses/build`, Data
//! Center's `…/commits/{id}/builds` and its legacy `/rest/build-status/1.0/commits/{id}`, and
//! the pull request page. Posting needs to read the repository; replacing someone else's
//! status needs to administer it (`Action::{PostCommitStatus, ReplaceCommitStatus}`).

use super::{browse, repositories, Host, HostError, HostResult, Missing, Principal};
use crate::domain::build_status::{StatusInput, ValidStatus};
use crate::domain::Action;
use crate::store::commit_statuses::CommitStatus;
use crate::store::Repository;

fn valid(input: StatusInput) -> HostResult<ValidStatus> {
    input
        .validate()
        .map_err(|(field, message)| HostError::Invalid { field, message })
}

/// The repository and the full id of the commit `node` names in it (a full or abbreviated id,
/// or a branch or tag).
async fn commit_in(
    host: &Host<'_>,
    who: &Principal<'_>,
    (key, slug): (&str, &str),
    node: &str,
) -> HostResult<(Repository, String)> {
    let repo = repositories::find(host, who, key, slug, Action::ViewRepo).await?;
    let commit = browse::resolve(host, &repo, Some(node)).await?;
    Ok((repo, commit))
}

/// Creates the status, or replaces the one with its key. Whether it was created.
pub async fn post(
    host: &Host<'_>,
    who: &Principal<'_>,
    repo_names: (&str, &str),
    node: &str,
    input: StatusInput,
) -> HostResult<(Repository, CommitStatus, bool)> {
    let me = who.user()?;
    let (repo, commit) = commit_in(host, who, repo_names, node).await?;
    who.check_repo(&repo, Action::PostCommitStatus)?;
    let status = valid(input)?;
    if let Some(existing) = host
        .store
        .commit_status(Some(repo.id), &commit, &status.key)
        .await?
    {
        who.check_repo_with(&repo, Action::ReplaceCommitStatus, |f| {
            f.author = existing.created_by == Some(me.id)
        })?;
    }
    let target = format!(
        "{}/{}@{}",
        repo.project_key,
        repo.slug,
        &commit[..12.min(commit.len())]
    );
    let audit = who.audit("commit_status.saved", &target, &status.key);
    let emit = host.emit(me);
    let (saved, created) = host
        .store
        .save_commit_status(Some((&repo, &emit)), &commit, &status, me.id, Some(&audit))
        .await?;
    Ok((repo, saved, created))
}

/// One status of a commit, by key.
pub async fn get(
    host: &Host<'_>,
    who: &Principal<'_>,
    repo_names: (&str, &str),
    node: &str,
    key: &str,
) -> HostResult<(Repository, CommitStatus)> {
    let (repo, commit) = commit_in(host, who, repo_names, node).await?;
    let found = host
        .store
        .commit_status(Some(repo.id), &commit, key)
        .await?;
    let found = match found {
        Some(s) => Some(s),
        None => host.store.commit_status(None, &commit, key).await?,
    };
    found
        .map(|s| (repo, s))
        .ok_or_else(|| HostError::NotFound(Missing::CommitStatus(key.to_string())))
}

/// Every status of a commit in the repository (its own and legacy ones), newest first.
pub async fn list(
    host: &Host<'_>,
    who: &Principal<'_>,
    repo_names: (&str, &str),
    node: &str,
) -> HostResult<(Repository, Vec<CommitStatus>)> {
    let (repo, commit) = commit_in(host, who, repo_names, node).await?;
    let all = host.store.commit_statuses(Some(repo.id), &commit).await?;
    Ok((repo, all))
}

/// The statuses of a pull request's source commit (the pull request page's "Builds"), read by
/// someone who has read the pull request; none when its source branch is gone.
pub async fn of_pull_request(
    host: &Host<'_>,
    v: &super::pulls::PullRequestView,
) -> HostResult<Vec<CommitStatus>> {
    let Ok(commit) = browse::resolve(host, &v.repo, Some(&v.pr.from_ref)).await else {
        return Ok(Vec::new());
    };
    Ok(host.store.commit_statuses(Some(v.repo.id), &commit).await?)
}

/// A full commit id, as the legacy API takes (it names no repository to resolve it in).
fn full_id(commit: &str) -> HostResult<String> {
    let ok = matches!(commit.len(), 40 | 64) && commit.bytes().all(|b| b.is_ascii_hexdigit());
    if !ok {
        return Err(HostError::Invalid {
            field: "commitId",
            message: format!(
                "'{commit}' is not a full commit id (40 or 64 hexadecimal characters)."
            ),
        });
    }
    Ok(commit.to_ascii_lowercase())
}

/// Data Center's legacy `POST /rest/build-status/1.0/commits/{id}`: a status of the commit
/// wherever it is. It names no repository, so it writes no repository event; the pages of
/// repositories holding the commit show it.
pub async fn post_legacy(
    host: &Host<'_>,
    who: &Principal<'_>,
    commit: &str,
    input: StatusInput,
) -> HostResult<CommitStatus> {
    let me = who.user()?;
    who.check(Action::LegacyBuildStatus)?;
    let commit = full_id(commit)?;
    let status = valid(input)?;
    // As in Data Center, anyone who may post here may replace a key posted here: these statuses
    // belong to no repository whose administrators could be asked.
    let audit = who.audit("commit_status.saved", &commit, &status.key);
    let (saved, _) = host
        .store
        .save_commit_status(None, &commit, &status, me.id, Some(&audit))
        .await?;
    Ok(saved)
}

/// Data Center's legacy `GET /rest/build-status/1.0/commits/{id}`: the statuses posted there.
pub async fn list_legacy(
    host: &Host<'_>,
    who: &Principal<'_>,
    commit: &str,
) -> HostResult<Vec<CommitStatus>> {
    who.check(Action::LegacyBuildStatus)?;
    let commit = full_id(commit)?;
    Ok(host.store.commit_statuses(None, &commit).await?)
}
