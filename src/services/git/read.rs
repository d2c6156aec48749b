//! Reading a repository with short git commands, each run to its end on a blocking thread:
//! refs, commit logs, ancestry. Output is parsed from NUL-separated formats, never from text
//! meant for people.

use super::{failed, process, GitError, GitRepos};
use crate::domain::git::{Commit, Refs};

/// `git log`'s format for `Commit`: fields NUL-separated, commits ended by RS (0x1e).
const COMMIT_FORMAT: &str = "--format=%H%x00%P%x00%an%x00%ae%x00%at%x00%cn%x00%ce%x00%ct%x00%B%x1e";

impl GitRepos {
    /// Runs `git <args>` on repository `id` and returns its output; `Failed` on a non-zero exit.
    pub async fn output(&self, id: i64, args: Vec<String>) -> Result<Vec<u8>, GitError> {
        self.output_with(id, args, &[0]).await.map(|(out, _)| out)
    }

    /// Like `output`, accepting any exit code in `ok`; returns the output and the code.
    pub async fn output_with(
        &self,
        id: i64,
        args: Vec<String>,
        ok: &'static [i32],
    ) -> Result<(Vec<u8>, i32), GitError> {
        let (path, home) = (self.path(id), self.home.clone());
        tokio::task::spawn_blocking(move || {
            let out = process::git_in(&home, &path).args(&args).output()?;
            let code = out.status.code().unwrap_or(-1);
            if !ok.contains(&code) {
                return Err(failed("command", &out.stderr));
            }
            Ok((out.stdout, code))
        })
        .await
        .map_err(|e| GitError::Spawn(std::io::Error::other(e)))?
    }

    /// The object `name` (`rev:path`, as git reads it from `cat-file --batch`'s input, never as
    /// an argument) with its type: one process resolves and reads it. None if it does not exist.
    pub async fn object(&self, id: i64, name: &str) -> Result<Option<(String, Vec<u8>)>, GitError> {
        use std::io::Write;
        let (path, home) = (self.path(id), self.home.clone());
        let input = format!("{name}\n");
        tokio::task::spawn_blocking(move || {
            let mut child = process::git_in(&home, &path)
                .args(["cat-file", "--batch"])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()?;
            // One short line: git reads it whole before it writes, so this cannot block.
            child
                .stdin
                .take()
                .expect("piped")
                .write_all(input.as_bytes())?;
            let out = child.wait_with_output()?;
            if !out.status.success() {
                return Err(failed("cat-file", &out.stderr));
            }
            let header_end = out
                .stdout
                .iter()
                .position(|b| *b == b'\n')
                .unwrap_or(out.stdout.len());
            let header = String::from_utf8_lossy(&out.stdout[..header_end]).to_string();
            let mut fields = header.split(' ');
            let (Some(_oid), Some(kind), Some(size)) =
                (fields.next(), fields.next(), fields.next())
            else {
                return Ok(None); // "<name> missing" or "ambiguous"
            };
            let size: usize = size.parse().unwrap_or(0);
            let body = out
                .stdout
                .get(header_end + 1..header_end + 1 + size)
                .unwrap_or_default()
                .to_vec();
            Ok(Some((kind.to_string(), body)))
        })
        .await
        .map_err(|e| GitError::Spawn(std::io::Error::other(e)))?
    }

    /// The repository's branches and tags.
    pub async fn refs(&self, id: i64) -> Result<Refs, GitError> {
        let out = self
            .output(
                id,
                vec![
                    "for-each-ref".into(),
                    "--format=%(objectname) %(refname)".into(),
                    "refs/heads".into(),
                    "refs/tags".into(),
                ],
            )
            .await?;
        Ok(String::from_utf8_lossy(&out)
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(target, name)| (name.to_string(), target.to_string()))
            .collect())
    }

    /// Commits of `revisions` (as `git log` takes them: `new`, `^old`, `--not`, …), newest
    /// first, at most `limit`, after skipping `skip`.
    pub async fn log(
        &self,
        id: i64,
        revisions: &[String],
        skip: usize,
        limit: usize,
    ) -> Result<Vec<Commit>, GitError> {
        let mut args = vec![
            "log".to_string(),
            COMMIT_FORMAT.to_string(),
            format!("--skip={skip}"),
            format!("--max-count={limit}"),
        ];
        args.extend(revisions.iter().cloned());
        args.push("--".into());
        let out = self.output(id, args).await?;
        Ok(parse_log(&out))
    }

    /// Whether `ancestor` is in the history of `of`.
    pub async fn is_ancestor(&self, id: i64, ancestor: &str, of: &str) -> Result<bool, GitError> {
        let args = vec![
            "merge-base".into(),
            "--is-ancestor".into(),
            ancestor.into(),
            of.into(),
        ];
        let (_, code) = self.output_with(id, args, &[0, 1]).await?;
        Ok(code == 0)
    }
}

fn parse_log(out: &[u8]) -> Vec<Commit> {
    String::from_utf8_lossy(out)
        .split('\u{1e}')
        .filter_map(|record| {
            let record = record.trim_start_matches('\n');
            let f: Vec<&str> = record.splitn(9, '\0').collect();
            let [hash, parents, an, ae, at, cn, ce, ct, message] = f.as_slice() else {
                return None;
            };
            let ms = |s: &str| s.parse::<i64>().unwrap_or(0) * 1000;
            Some(Commit {
                hash: hash.to_string(),
                parents: parents.split_whitespace().map(str::to_string).collect(),
                author_name: an.to_string(),
                author_email: ae.to_string(),
                author_at: ms(at),
                committer_name: cn.to_string(),
                committer_email: ce.to_string(),
                committer_at: ms(ct),
                message: message.trim_end().to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_log_record_becomes_a_commit() {
        let out = b"abc\0p1 p2\0Ann\0ann@example.com\x001700000000\0Cy\0cy@example.com\x001700000001\0Subject\n\nBody\n\x1e\n";
        let c = &super::parse_log(out)[0];
        assert_eq!(c.hash, "abc");
        assert_eq!(c.parents, vec!["p1", "p2"]);
        assert_eq!(c.author_at, 1_700_000_000_000);
        assert_eq!(c.committer_email, "cy@example.com");
        assert_eq!(c.message, "Subject\n\nBody");
    }
}
