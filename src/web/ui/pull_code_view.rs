//! What a pull request's page shows of its code: its commits, its diff by file and line, and
//! whether it would merge cleanly. Unreadable code (a branch deleted since) shows as absent.

use crate::clock::display;
use crate::domain::diff::{parse_unified, LineKind};
use crate::services::host::pull_code;
use crate::services::host::pulls::PrRef;
use crate::services::host::{Host, Principal};

/// At most this many commits are listed on the page.
const COMMITS_SHOWN: usize = 50;

pub struct PrCode {
    /// False when the branches cannot be read (deleted since).
    pub available: bool,
    /// (short id, first line of the message, author, when)
    pub commits: Vec<(String, String, String, String)>,
    pub more_commits: bool,
    pub files: Vec<FileView>,
    /// For an open pull request: the paths that would conflict (empty: merges cleanly).
    pub conflicts: Option<Vec<String>>,
}

pub struct FileView {
    pub path: String,
    pub change: &'static str,
    pub binary: bool,
    /// (css class, old line number, new line number, sign and text); a hunk starts with a
    /// line of class "hunk".
    pub lines: Vec<(&'static str, String, String, String)>,
}

impl PrCode {
    pub async fn read(host: &Host<'_>, who: &Principal<'_>, at: PrRef<'_>) -> Self {
        let commits = pull_code::commits(host, who, at, 0, COMMITS_SHOWN).await;
        let diff = pull_code::diff(host, who, at, 3).await;
        let conflicts = pull_code::conflicts(host, who, at).await.ok().flatten();
        let (Ok((commits, more_commits)), Ok((_, text))) = (commits, diff) else {
            return Self {
                available: false,
                commits: Vec::new(),
                more_commits: false,
                files: Vec::new(),
                conflicts,
            };
        };
        let commits = commits
            .into_iter()
            .map(|c| {
                let subject = c.message.lines().next().unwrap_or_default().to_string();
                (
                    c.hash[..c.hash.len().min(11)].to_string(),
                    subject,
                    c.author_name,
                    display(c.author_at),
                )
            })
            .collect();
        let files = parse_unified(&text).into_iter().map(file_view).collect();
        Self {
            available: true,
            commits,
            more_commits,
            files,
            conflicts,
        }
    }
}

fn file_view(f: crate::domain::diff::FileDiff) -> FileView {
    let change = match (&f.source, &f.destination) {
        (None, _) => "added",
        (_, None) => "deleted",
        _ => "modified",
    };
    let path = f
        .destination
        .clone()
        .or(f.source.clone())
        .unwrap_or_default();
    let mut lines = Vec::new();
    for h in &f.hunks {
        let header = format!(
            "@@ -{},{} +{},{} @@",
            h.source_line, h.source_span, h.destination_line, h.destination_span
        );
        lines.push(("hunk", String::new(), String::new(), header));
        for s in &h.segments {
            for l in &s.lines {
                let (class, old, new, sign) = match s.kind {
                    LineKind::Added => ("added", String::new(), l.destination.to_string(), '+'),
                    LineKind::Removed => ("removed", l.source.to_string(), String::new(), '-'),
                    LineKind::Context => (
                        "context",
                        l.source.to_string(),
                        l.destination.to_string(),
                        ' ',
                    ),
                };
                lines.push((class, old, new, format!("{sign}{}", l.text)));
            }
        }
    }
    FileView {
        path,
        change,
        binary: f.binary,
        lines,
    }
}
