//! Reading a repository's code for people and apps: branches, tags, commits, trees and files
//! at any revision. Every request names the repository through the database and checks
//! `ViewRepo`; revisions and paths reach git only as arguments it resolves inside the
//! repository (never as options, never as filesystem paths).

use super::{repositories, Host, HostError, HostResult, Missing, Principal};
use crate::domain::git::{Commit, Refs};
use crate::domain::Action;
use crate::store::Repository;

/// A directory entry at a revision.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    pub kind: EntryKind,
    pub size: Option<u64>,
    pub object: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Directory,
    Submodule,
}

/// What a path at a revision is.
pub enum Found {
    Directory(Vec<Entry>),
    File(Vec<u8>),
}

/// The repository if the principal may read it.
pub async fn readable(
    host: &Host<'_>,
    who: &Principal<'_>,
    key: &str,
    slug: &str,
) -> HostResult<Repository> {
    repositories::find(host, who, key, slug, Action::ViewRepo).await
}

/// Its branches and tags.
pub async fn refs(host: &Host<'_>, repo: &Repository) -> HostResult<Refs> {
    Ok(host.git.refs(repo.id).await?)
}

/// `at` (the default branch when None) if it is one name: never an option, never `rev:path`
/// or a range.
fn checked<'a>(repo: &'a Repository, at: Option<&'a str>) -> HostResult<&'a str> {
    let at = at.filter(|a| !a.is_empty()).unwrap_or(&repo.default_branch);
    if at.starts_with('-')
        || at.contains(':')
        || at.contains("..")
        || at.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(HostError::NotFound(Missing::Revision(at.into())));
    }
    Ok(at)
}

/// The commit `at` names (a branch, tag or commit id; the default branch when None).
pub async fn resolve(host: &Host<'_>, repo: &Repository, at: Option<&str>) -> HostResult<String> {
    let at = checked(repo, at)?;
    let args = vec![
        "rev-parse".into(),
        "--verify".into(),
        "--quiet".into(),
        "--end-of-options".into(),
        format!("{at}^{{commit}}"),
    ];
    match host.git.output_with(repo.id, args, &[0, 1, 128]).await? {
        (out, 0) => Ok(String::from_utf8_lossy(&out).trim().to_string()),
        _ => Err(HostError::NotFound(Missing::Revision(at.into()))),
    }
}

/// Commits reachable from `until` and not from `since`, newest first: `limit` from `start`,
/// and whether more follow.
pub async fn commits(
    host: &Host<'_>,
    repo: &Repository,
    until: Option<&str>,
    since: Option<&str>,
    start: usize,
    limit: usize,
) -> HostResult<(Vec<Commit>, bool)> {
    let mut revisions = vec![resolve(host, repo, until).await?];
    if let Some(since) = since.filter(|s| !s.is_empty()) {
        revisions.push(format!("^{}", resolve(host, repo, Some(since)).await?));
    }
    let mut commits = host.git.log(repo.id, &revisions, start, limit + 1).await?;
    let more = commits.len() > limit;
    commits.truncate(limit);
    Ok((commits, more))
}

/// One commit.
pub async fn commit(host: &Host<'_>, repo: &Repository, id: &str) -> HostResult<Commit> {
    let hash = resolve(host, repo, Some(id)).await?;
    let mut found = host
        .git
        .log(repo.id, &[hash, "--no-walk".into()], 0, 1)
        .await?;
    found
        .pop()
        .ok_or_else(|| HostError::NotFound(Missing::Revision(id.into())))
}

/// A path's normal form: no leading, trailing or doubled slashes, no `.` or `..` parts.
fn clean(path: &str) -> HostResult<String> {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    // No climbing, and nothing that would end `cat-file --batch`'s input line.
    if parts
        .iter()
        .any(|p| *p == "." || *p == ".." || p.chars().any(char::is_control))
    {
        return Err(HostError::NotFound(Missing::Path(path.into())));
    }
    Ok(parts.join("/"))
}

/// The directory or file at `path` of commit `at`: one git process for a file (the hot
/// case), two for a directory.
pub async fn find(
    host: &Host<'_>,
    repo: &Repository,
    at: Option<&str>,
    path: &str,
) -> HostResult<Found> {
    let at = checked(repo, at)?;
    let path = clean(path)?;
    let object = format!("{at}^{{commit}}:{path}");
    let Some((kind, body)) = host.git.object(repo.id, &object).await? else {
        return Err(
            match host
                .git
                .object(repo.id, &format!("{at}^{{commit}}"))
                .await?
            {
                None => HostError::NotFound(Missing::Revision(at.into())),
                Some(_) => HostError::NotFound(Missing::Path(path)),
            },
        );
    };
    match kind.as_str() {
        "blob" => Ok(Found::File(body)),
        _ => {
            let args = vec![
                "ls-tree".into(),
                "-z".into(),
                "-l".into(),
                "--end-of-options".into(),
                object,
            ];
            let out = host.git.output(repo.id, args).await?;
            Ok(Found::Directory(parse_ls_tree(&String::from_utf8_lossy(
                &out,
            ))))
        }
    }
}

/// `git ls-tree -z -l`: `<mode> <type> <object> <size>\t<name>`, NUL-ended; directories first.
fn parse_ls_tree(out: &str) -> Vec<Entry> {
    let mut entries: Vec<Entry> = out
        .split('\0')
        .filter_map(|record| {
            let (meta, name) = record.split_once('\t')?;
            let mut f = meta.split_whitespace();
            let (_mode, kind, object, size) = (f.next()?, f.next()?, f.next()?, f.next()?);
            let kind = match kind {
                "tree" => EntryKind::Directory,
                "commit" => EntryKind::Submodule,
                _ => EntryKind::File,
            };
            Some(Entry {
                name: name.to_string(),
                kind,
                size: size.parse().ok(),
                object: object.to_string(),
            })
        })
        .collect();
    entries.sort_by(|a, b| {
        (a.kind != EntryKind::Directory, &a.name).cmp(&(b.kind != EntryKind::Directory, &b.name))
    });
    entries
}

#[cfg(test)]
mod tests {
    #[test]
    fn paths_are_normalized_and_climbing_is_refused() {
        assert_eq!(super::clean("/src//lib/").unwrap(), "src/lib");
        assert!(super::clean("src/../../etc/passwd").is_err());
        assert!(super::clean("./x").is_err());
        assert!(super::clean("a\nmain:secret").is_err());
    }

    #[test]
    fn directories_come_first() {
        let out =
            "100644 blob aaa 12\tz.txt\x00040000 tree bbb -\tsrc\x00100644 blob ccc 3\ta.txt\x00";
        let names: Vec<String> = super::parse_ls_tree(out)
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, ["src", "a.txt", "z.txt"]);
    }
}
