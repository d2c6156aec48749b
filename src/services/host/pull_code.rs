//! The code of a pull request, from its repository's git: its branches must exist, its commits
//! and changes are read from them, and merging writes the target branch on the server (in the
//! repository's write turn, against the target's value the merge was computed from).

use super::pulls::PrRef;
use super::{pushes, ConflictKind, Host, HostError, HostResult, Principal};
use crate::domain::diff::{parse_name_status, ChangeKind};
use crate::domain::git::{short_name, Commit};
use crate::domain::pull_request::MergeStrategy;
use crate::domain::Action;
use crate::services::git::{MergeTree, Signature};
use crate::store::{Account, PullRequest, Repository};

/// Refuses a pull request between branches the repository does not have.
pub async fn require_branches(
    host: &Host<'_>,
    repo: &Repository,
    from: &str,
    to: &str,
) -> HostResult<()> {
    let refs = host.git.refs(repo.id).await?;
    for (field, name) in [("fromRef", from), ("toRef", to)] {
        if !refs.contains_key(name) {
            return Err(HostError::invalid(
                field,
                format!(
                    "The branch '{}' does not exist in {}/{}. Push it first.",
                    short_name(name),
                    repo.project_key,
                    repo.slug
                ),
            ));
        }
    }
    Ok(())
}

/// The commits the source has and the target lacks, newest first: `limit` from `start`, and
/// whether there are more.
pub async fn commits(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: PrRef<'_>,
    start: usize,
    limit: usize,
) -> HostResult<(Vec<Commit>, bool)> {
    let (repo, pr) = super::pulls::find(host, who, at, Action::ViewRepo).await?;
    log_between(host, &repo, (&pr.to_ref, &pr.from_ref), start, limit).await
}

/// What a pull request's diff compares: where the source left the target (their merge base)
/// and the source's tip.
#[derive(Debug, Clone)]
pub struct Compared {
    pub from_hash: String,
    pub to_hash: String,
}

/// The pull request's unified diff (`context` lines around each change).
pub async fn diff(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: PrRef<'_>,
    context: u32,
) -> HostResult<(Compared, String)> {
    let (repo, pr) = super::pulls::find(host, who, at, Action::ViewRepo).await?;
    let tips = tips(host, &repo, &pr).await?.ok_or_else(branch_gone)?;
    let c = compare(host, &repo, &tips).await?;
    let text = git_diff(host, &repo, &c, &[&format!("-U{context}")]).await?;
    Ok((c, text))
}

/// The paths the pull request changes, and how.
pub async fn changes(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: PrRef<'_>,
) -> HostResult<(Compared, Vec<(ChangeKind, String)>)> {
    let (repo, pr) = super::pulls::find(host, who, at, Action::ViewRepo).await?;
    let tips = tips(host, &repo, &pr).await?.ok_or_else(branch_gone)?;
    let c = compare(host, &repo, &tips).await?;
    let out = git_diff(host, &repo, &c, &["--name-status", "-z"]).await?;
    Ok((c, parse_name_status(&out)))
}

/// All a pull request's page shows of its code, read from one look at the branches.
pub struct Overview {
    /// The newest commits (at most the limit asked), and whether there are more.
    pub commits: Vec<Commit>,
    pub more_commits: bool,
    /// The unified diff; None when a branch no longer exists.
    pub diff: Option<String>,
    /// For an open pull request: the paths that would conflict (empty: it merges cleanly).
    pub conflicts: Option<Vec<String>>,
}

pub async fn overview(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: PrRef<'_>,
    limit: usize,
    context: u32,
) -> HostResult<Overview> {
    let (repo, pr) = super::pulls::find(host, who, at, Action::ViewRepo).await?;
    let Some(tips) = tips(host, &repo, &pr).await? else {
        return Ok(Overview {
            commits: Vec::new(),
            more_commits: false,
            diff: None,
            conflicts: None,
        });
    };
    let (commits, more_commits) = log_between(host, &repo, (&tips.0, &tips.1), 0, limit).await?;
    let c = compare(host, &repo, &tips).await?;
    let diff = git_diff(host, &repo, &c, &[&format!("-U{context}")]).await?;
    let conflicts = match pr.state {
        crate::domain::pull_request::PrState::Open => Some(
            match host.git.merge_tree(repo.id, &tips.0, &tips.1).await? {
                MergeTree::Clean(_) => Vec::new(),
                MergeTree::Conflicts(paths) => paths,
            },
        ),
        _ => None,
    };
    Ok(Overview {
        commits,
        more_commits,
        diff: Some(diff),
        conflicts,
    })
}

/// The commits of `source` that `target` lacks, newest first.
async fn log_between(
    host: &Host<'_>,
    repo: &Repository,
    (target, source): (&str, &str),
    start: usize,
    limit: usize,
) -> HostResult<(Vec<Commit>, bool)> {
    let revisions = vec![source.to_string(), format!("^{target}")];
    let mut commits = host.git.log(repo.id, &revisions, start, limit + 1).await?;
    let more = commits.len() > limit;
    commits.truncate(limit);
    Ok((commits, more))
}

/// The commits the target and the source branch point at, if both still exist.
async fn tips(
    host: &Host<'_>,
    repo: &Repository,
    pr: &PullRequest,
) -> HostResult<Option<(String, String)>> {
    let mut refs = host.git.refs(repo.id).await?;
    Ok(refs.remove(&pr.to_ref).zip(refs.remove(&pr.from_ref)))
}

fn branch_gone() -> HostError {
    HostError::Conflict {
        kind: ConflictKind::MergeRefused,
        message: "A branch of this pull request no longer exists.".into(),
    }
}

/// Where the source left the target, and the source's tip.
async fn compare(
    host: &Host<'_>,
    repo: &Repository,
    (target, source): &(String, String),
) -> HostResult<Compared> {
    let args = vec!["merge-base".into(), target.clone(), source.clone()];
    let base = host.git.output(repo.id, args).await?;
    Ok(Compared {
        from_hash: String::from_utf8_lossy(&base).trim().to_string(),
        to_hash: source.clone(),
    })
}

/// `git diff` from the merge base to the source's tip, with `options`.
async fn git_diff(
    host: &Host<'_>,
    repo: &Repository,
    c: &Compared,
    options: &[&str],
) -> HostResult<String> {
    let mut args: Vec<String> = [
        "-c",
        "core.quotePath=false",
        "diff",
        "--no-color",
        "--no-ext-diff",
        "--no-renames",
    ]
    .into_iter()
    .chain(options.iter().copied())
    .map(str::to_string)
    .collect();
    args.extend([c.from_hash.clone(), c.to_hash.clone(), "--".into()]);
    let out = host.git.output(repo.id, args).await?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// The merge as asked, done on the server: moves the target branch, records the push (its
/// `repo:push`), and leaves closing the pull request to the caller.
pub async fn merge_branches(
    host: &Host<'_>,
    repo: &Repository,
    pr: &PullRequest,
    me: &Account,
    strategy: MergeStrategy,
    message: Option<&str>,
) -> HostResult<()> {
    let update = pushes::begin(host, repo, me).await?;
    let merged = merge_in_turn(host, repo, pr, me, strategy, message).await;
    pushes::finish(host, update, me).await?;
    merged
}

async fn merge_in_turn(
    host: &Host<'_>,
    repo: &Repository,
    pr: &PullRequest,
    me: &Account,
    strategy: MergeStrategy,
    message: Option<&str>,
) -> HostResult<()> {
    let Some((ref target, ref source)) = tips(host, repo, pr).await? else {
        return Err(refused(
            "A branch of this pull request no longer exists, so it cannot be merged.",
        ));
    };
    let git = host.git;
    if git.is_ancestor(repo.id, source, target).await? {
        return Ok(()); // The target has everything already.
    }
    let fast_forward = git.is_ancestor(repo.id, target, source).await?;
    if strategy.needs_fast_forward() && !fast_forward {
        return Err(refused(&format!(
            "'{}' has commits that '{}' does not, so it cannot be fast-forwarded ({}). Merge with another strategy, or bring '{}' up to date first.",
            short_name(&pr.to_ref), short_name(&pr.from_ref), strategy.id(), short_name(&pr.from_ref)
        )));
    }
    let new = match strategy {
        MergeStrategy::FastForward | MergeStrategy::FastForwardOnly if fast_forward => {
            source.clone()
        }
        _ => {
            let tree = match git.merge_tree(repo.id, target, source).await? {
                MergeTree::Clean(tree) => tree,
                MergeTree::Conflicts(paths) => {
                    return Err(HostError::Conflict {
                        kind: ConflictKind::MergeConflict,
                        message: format!(
                            "This pull request has conflicts and cannot be merged. Conflicting paths: {}.",
                            paths.join(", ")
                        ),
                    })
                }
            };
            let squash = matches!(
                strategy,
                MergeStrategy::Squash | MergeStrategy::SquashFastForwardOnly
            );
            let parents: Vec<&str> = if squash {
                vec![target]
            } else {
                vec![target, source]
            };
            let default = if squash {
                format!("{} (pull request #{})", pr.title, pr.number)
            } else {
                format!(
                    "Merge pull request #{} in {}/{} from {} to {}\n\n{}",
                    pr.number,
                    repo.project_key,
                    repo.slug,
                    short_name(&pr.from_ref),
                    short_name(&pr.to_ref),
                    pr.title
                )
            };
            let by = Signature {
                name: me.display_name.clone(),
                email: me
                    .email
                    .clone()
                    .unwrap_or_else(|| format!("{}@users.noreply.junction", me.slug)),
                at_ms: host.store.now(),
            };
            git.commit_tree(repo.id, &tree, &parents, message.unwrap_or(&default), &by)
                .await?
        }
    };
    if !git.update_ref(repo.id, &pr.to_ref, &new, target).await? {
        return Err(refused("The target branch moved while merging. Try again."));
    }
    Ok(())
}

fn refused(message: &str) -> HostError {
    HostError::Conflict {
        kind: ConflictKind::MergeRefused,
        message: message.into(),
    }
}
