//! Ref updates and their events. A push or a merge takes the repository's write turn, notes
//! that it is under way, lets git change the refs, then records what changed against the refs
//! Junction last recorded: one `repo:push` with every moved branch and tag (and
//! `pullrequest:updated` for pull requests whose source moved). Recording compares with what
//! the repository holds, not with what the client said, so a push that died half-way, or a
//! server that died after git and before the event (`reconcile_pending`, at start), still gets
//! exactly the event its refs call for.

use super::{Host, HostResult};
use crate::domain::git::{self, PushedRef, RefChange, RefKind, PUSH_COMMITS};
use crate::services::git::WriteTurn;
use crate::store::{Account, Repository};

/// A ref update under way: holds the repository's write turn until `finish`.
pub struct RefUpdate {
    _turn: WriteTurn,
    repo_id: i64,
}

/// Waits for the repository's write turn and notes that `actor` is about to change its refs.
pub async fn begin(host: &Host<'_>, repo: &Repository, actor: &Account) -> HostResult<RefUpdate> {
    let turn = host.git.write_turn(host.store, repo.id).await?;
    host.store.begin_ref_update(repo.id, actor.id).await?;
    Ok(RefUpdate {
        _turn: turn,
        repo_id: repo.id,
    })
}

/// Records what git changed (possibly nothing) and gives the write turn back.
pub async fn finish(host: &Host<'_>, update: RefUpdate, actor: &Account) -> HostResult<()> {
    record(host, update.repo_id, actor).await
}

/// At start: records the ref updates a stopped server never recorded. Returns how many
/// repositories had one.
pub async fn reconcile_pending(host: &Host<'_>) -> HostResult<usize> {
    let pending = host.store.pending_ref_updates().await?;
    for (repo_id, actor_id) in &pending {
        let Some(actor) = host.store.account_by_id(*actor_id).await? else {
            continue;
        };
        let _turn = host.git.write_turn(host.store, *repo_id).await?;
        record(host, *repo_id, &actor).await?;
        tracing::warn!(
            repo = repo_id,
            "recorded a push whose event a stopped server had not written"
        );
    }
    Ok(pending.len())
}

async fn record(host: &Host<'_>, repo_id: i64, actor: &Account) -> HostResult<()> {
    let recorded = host.store.recorded_refs(repo_id).await?;
    let actual = host.git.refs(repo_id).await?;
    let mut pushed = Vec::new();
    for change in git::ref_changes(&recorded, &actual) {
        pushed.push(describe(host, repo_id, change).await?);
    }
    host.store
        .record_ref_updates(repo_id, &pushed, &host.emit(actor))
        .await?;
    Ok(())
}

/// The commits a change brought, newest first: for a new ref those no other branch or tag
/// had, for a moved one those since its old target.
async fn describe(host: &Host<'_>, repo_id: i64, change: RefChange) -> HostResult<PushedRef> {
    let Some(new) = change.new.clone() else {
        return Ok(PushedRef {
            change,
            forced: false,
            commits: Vec::new(),
            truncated: false,
        });
    };
    let (revisions, forced) = match &change.old {
        Some(old) => {
            let forced = !host.git.is_ancestor(repo_id, old, &new).await?;
            (vec![new.clone(), format!("^{old}")], forced)
        }
        None => {
            let short = git::short_name(&change.name);
            let mut revisions = vec![new.clone(), "--not".to_string()];
            let exclude = format!("--exclude={short}");
            match change.kind() {
                Some(RefKind::Branch) => {
                    revisions.extend([exclude, "--branches".into(), "--tags".into()])
                }
                _ => revisions.extend(["--branches".into(), exclude, "--tags".into()]),
            }
            (revisions, false)
        }
    };
    let mut commits = host
        .git
        .log(repo_id, &revisions, 0, PUSH_COMMITS + 1)
        .await?;
    let truncated = commits.len() > PUSH_COMMITS;
    commits.truncate(PUSH_COMMITS);
    Ok(PushedRef {
        change,
        forced,
        commits,
        truncated,
    })
}
