//! Code on the pages: the clone URL, branches and top-level files on the repository page, and
//! the browse page (a directory's entries or a file's text at any branch, tag or commit).

use super::{render, Nav, OrPage, UiResult};
use crate::domain::git::{short_name, Commit, RefKind};
use crate::services::host::browse::{self, EntryKind, Found};
use crate::services::host::Host;
use crate::store::Repository;
use crate::web::auth::Caller;
use crate::web::extract::{Path, Query};
use crate::web::state::AppState;
use askama::Template;
use axum::extract::State;
use serde::Deserialize;

/// The repository's code as its page shows it.
pub struct RepoCode {
    pub clone_url: String,
    /// (name, short commit id, is default)
    pub branches: Vec<(String, String, bool)>,
    pub tags: Vec<String>,
    /// (name, link, is directory) at the default branch; empty before the first push.
    pub files: Vec<(String, String, bool)>,
    /// The newest commits on the default branch: (short id, first line, author, when).
    pub commits: Vec<(String, String, String, String)>,
}

/// How many commits the repository page lists.
const RECENT_COMMITS: usize = 10;

impl RepoCode {
    pub async fn read(host: &Host<'_>, base_url: &str, repo: &Repository) -> Self {
        let clone_url = format!(
            "{base_url}/scm/{}/{}.git",
            repo.project_key.to_ascii_lowercase(),
            repo.slug
        );
        let refs = browse::refs(host, repo).await.unwrap_or_default();
        let mut branches: Vec<(String, String, bool)> = refs
            .iter()
            .filter(|(n, _)| RefKind::of(n) == Some(RefKind::Branch))
            .map(|(n, t)| {
                (
                    short_name(n).to_string(),
                    t[..t.len().min(11)].to_string(),
                    *n == repo.default_branch,
                )
            })
            .collect();
        branches.sort_by_key(|b| !b.2);
        let tags = refs
            .keys()
            .filter(|n| RefKind::of(n) == Some(RefKind::Tag))
            .map(|n| short_name(n).to_string())
            .collect();
        // An empty repository has nothing more to read.
        let (files, commits) = match refs.get(&repo.default_branch) {
            None => (Vec::new(), Vec::new()),
            Some(head) => {
                let files = match browse::find(host, repo, Some(head), "").await {
                    Ok(Found::Directory(entries)) => entries
                        .into_iter()
                        .map(|e| {
                            let link = browse_link(repo, &e.name, None);
                            (e.name, link, e.kind == EntryKind::Directory)
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                let commits = browse::commits(host, repo, Some(head), None, 0, RECENT_COMMITS)
                    .await
                    .map(|(commits, _)| commits.into_iter().map(commit_row).collect())
                    .unwrap_or_default();
                (files, commits)
            }
        };
        Self {
            clone_url,
            branches,
            tags,
            files,
            commits,
        }
    }
}

/// A commit as a row of the pages: (short id, first line of the message, author, when).
pub(super) fn commit_row(c: Commit) -> (String, String, String, String) {
    let subject = c.message.lines().next().unwrap_or_default().to_string();
    let short = c.hash[..c.hash.len().min(11)].to_string();
    (
        short,
        subject,
        c.author_name,
        crate::clock::display(c.author_at),
    )
}

fn browse_link(repo: &Repository, path: &str, at: Option<&str>) -> String {
    let encoded: Vec<String> = path
        .split('/')
        .map(|p| url::form_urlencoded::byte_serialize(p.as_bytes()).collect())
        .collect();
    let mut link = format!(
        "/projects/{}/repos/{}/browse/{}",
        repo.project_key,
        repo.slug,
        encoded.join("/")
    );
    if let Some(at) = at {
        link.push_str("?at=");
        link.extend(url::form_urlencoded::byte_serialize(at.as_bytes()));
    }
    link
}

#[derive(Template)]
#[template(path = "code.html")]
struct CodePage {
    nav: Nav,
    repo: Repository,
    at: String,
    /// (name, link) for each part of the path, for the breadcrumb.
    crumbs: Vec<(String, String)>,
    /// A directory: (name, link, is directory).
    entries: Option<Vec<(String, String, bool)>>,
    /// A file's text (None for a directory or a binary file).
    text: Option<String>,
    raw_link: String,
}

#[derive(Deserialize)]
pub struct AtParam {
    at: Option<String>,
}

pub async fn browse_page(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, slug, path)): Path<(String, String, String)>,
    Query(q): Query<AtParam>,
) -> UiResult {
    let host = state.host();
    let repo = browse::readable(&host, &caller.principal(), &key, &slug)
        .await
        .or_page(&caller)?;
    let found = browse::find(&host, &repo, q.at.as_deref(), &path)
        .await
        .or_page(&caller)?;
    let at =
        q.at.clone()
            .unwrap_or_else(|| short_name(&repo.default_branch).to_string());
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let crumbs = (0..parts.len())
        .map(|i| {
            (
                parts[i].to_string(),
                browse_link(&repo, &parts[..=i].join("/"), q.at.as_deref()),
            )
        })
        .collect();
    let (entries, text) = match found {
        Found::Directory(list) => {
            let entries = list
                .into_iter()
                .map(|e| {
                    let full = if parts.is_empty() {
                        e.name.clone()
                    } else {
                        format!("{}/{}", parts.join("/"), e.name)
                    };
                    (
                        e.name,
                        browse_link(&repo, &full, q.at.as_deref()),
                        e.kind == EntryKind::Directory,
                    )
                })
                .collect();
            (Some(entries), None)
        }
        Found::File(bytes) if bytes.contains(&0) => (None, None),
        Found::File(bytes) => (None, Some(String::from_utf8_lossy(&bytes).into_owned())),
    };
    let raw_link = format!(
        "/rest/api/1.0/projects/{}/repos/{}/raw/{}?at={}",
        repo.project_key,
        repo.slug,
        parts.join("/"),
        url::form_urlencoded::byte_serialize(at.as_bytes()).collect::<String>()
    );
    Ok(render(&CodePage {
        nav: Nav::of(&caller),
        repo,
        at,
        crumbs,
        entries,
        text,
        raw_link,
    }))
}
