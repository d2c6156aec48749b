//! What a pull request's page shows of its code: its commits, its diff by file and line, and
//! whether it would merge cleanly. Unreadable code (a branch deleted since) shows as absent.

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
        let code = pull_code::overview(host, who, at, COMMITS_SHOWN, 3)
            .await
            .map_err(|e| tracing::error!(error = ?e, "reading a pull request's code failed"));
        let Ok(pull_code::Overview {
            commits,
            more_commits,
            diff: Some(text),
            conflicts,
        }) = code
        else {
            return Self {
                available: false,
                commits: Vec::new(),
                more_commits: false,
                files: Vec::new(),
                conflicts: None,
            };
        };
        let commits = commits.into_iter().map(super::code::commit_row).collect();
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
