//! Writing a repository without a working tree: merges computed by `git merge-tree
//! --write-tree` (git ≥ 2.38), commits made with `git commit-tree`, and refs moved with
//! `git update-ref` only if they still hold the value the change was computed from.

use super::{failed, process, GitError, GitRepos};

/// What merging two commits gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeTree {
    /// The merged tree's id.
    Clean(String),
    /// The paths that conflict.
    Conflicts(Vec<String>),
}

/// Who a commit is by, and when (milliseconds).
#[derive(Debug, Clone)]
pub struct Signature {
    pub name: String,
    pub email: String,
    pub at_ms: i64,
}

impl GitRepos {
    /// Merges `theirs` into `ours` in memory.
    pub async fn merge_tree(
        &self,
        id: i64,
        ours: &str,
        theirs: &str,
    ) -> Result<MergeTree, GitError> {
        let args = vec![
            "merge-tree".into(),
            "--write-tree".into(),
            "--name-only".into(),
            "--no-messages".into(),
            ours.into(),
            theirs.into(),
        ];
        let (out, code) = self.output_with(id, args, &[0, 1]).await?;
        let text = String::from_utf8_lossy(&out);
        let mut lines = text.lines();
        let tree = lines.next().unwrap_or_default().to_string();
        if code == 0 {
            return Ok(MergeTree::Clean(tree));
        }
        let mut paths: Vec<String> = lines
            .take_while(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
        paths.dedup();
        Ok(MergeTree::Conflicts(paths))
    }

    /// A new commit of `tree` with `parents`, by `by`; returns its id.
    pub async fn commit_tree(
        &self,
        id: i64,
        tree: &str,
        parents: &[&str],
        message: &str,
        by: &Signature,
    ) -> Result<String, GitError> {
        let (path, home) = (self.path(id), self.home.clone());
        let mut args: Vec<String> = vec!["commit-tree".into(), tree.into()];
        for p in parents {
            args.extend(["-p".into(), (*p).to_string()]);
        }
        args.extend(["-m".into(), message.into()]);
        let date = format!("@{} +0000", by.at_ms.div_euclid(1000));
        let by = by.clone();
        tokio::task::spawn_blocking(move || {
            let out = process::git_in(&home, &path)
                .args(&args)
                .env("GIT_AUTHOR_NAME", &by.name)
                .env("GIT_AUTHOR_EMAIL", &by.email)
                .env("GIT_AUTHOR_DATE", &date)
                .env("GIT_COMMITTER_NAME", &by.name)
                .env("GIT_COMMITTER_EMAIL", &by.email)
                .env("GIT_COMMITTER_DATE", &date)
                .output()?;
            if !out.status.success() {
                return Err(failed("commit-tree", &out.stderr));
            }
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        })
        .await
        .map_err(|e| GitError::Spawn(std::io::Error::other(e)))?
    }

    /// Moves `name` from `old` to `new`; false if it no longer pointed at `old`.
    pub async fn update_ref(
        &self,
        id: i64,
        name: &str,
        new: &str,
        old: &str,
    ) -> Result<bool, GitError> {
        let args = vec!["update-ref".into(), name.into(), new.into(), old.into()];
        let (_, code) = self.output_with(id, args, &[0, 1, 128]).await?;
        Ok(code == 0)
    }
}
