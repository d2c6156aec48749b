//! Unified diffs as git prints them, read into files, hunks and runs of lines (the structure
//! Data Center's diff REST resource shows), and `--name-status -z` into changed paths.

/// One file's part of a diff. A path is None where the file did not exist on that side.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileDiff {
    pub source: Option<String>,
    pub destination: Option<String>,
    pub binary: bool,
    pub hunks: Vec<Hunk>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Hunk {
    pub source_line: u32,
    pub source_span: u32,
    pub destination_line: u32,
    pub destination_span: u32,
    pub segments: Vec<Segment>,
}

/// Consecutive lines of one kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub kind: LineKind,
    pub lines: Vec<DiffLine>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    Added,
    Removed,
    Context,
}

impl LineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "ADDED",
            Self::Removed => "REMOVED",
            Self::Context => "CONTEXT",
        }
    }
}

/// A line with its number on each side (the side it is not on keeps the last number there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    pub source: u32,
    pub destination: u32,
    pub text: String,
}

/// How a path changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Add,
    Modify,
    Delete,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Add => "ADD",
            Self::Modify => "MODIFY",
            Self::Delete => "DELETE",
        }
    }
}

/// Reads `git diff --name-status -z --no-renames` output.
pub fn parse_name_status(out: &str) -> Vec<(ChangeKind, String)> {
    let mut fields = out.split('\0').filter(|f| !f.is_empty());
    let mut changes = Vec::new();
    while let (Some(status), Some(path)) = (fields.next(), fields.next()) {
        let kind = match status.chars().next() {
            Some('A') => ChangeKind::Add,
            Some('D') => ChangeKind::Delete,
            _ => ChangeKind::Modify,
        };
        changes.push((kind, path.to_string()));
    }
    changes
}

/// Reads a unified diff (`git diff` with `a/` and `b/` prefixes).
pub fn parse_unified(text: &str) -> Vec<FileDiff> {
    let mut files: Vec<FileDiff> = Vec::new();
    let (mut src, mut dst) = (0u32, 0u32);
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("diff --git ") {
            let (a, b) = rest.split_once(" b/").unwrap_or((rest, rest));
            files.push(FileDiff {
                source: Some(a.trim_start_matches("a/").to_string()),
                destination: Some(b.to_string()),
                ..FileDiff::default()
            });
            continue;
        }
        let Some(file) = files.last_mut() else {
            continue;
        };
        if line.starts_with("new file mode") {
            file.source = None;
        } else if line.starts_with("deleted file mode") {
            file.destination = None;
        } else if line.starts_with("Binary files ") {
            file.binary = true;
        } else if let Some(h) = line.strip_prefix("@@ ") {
            let hunk = parse_hunk_header(h);
            (src, dst) = (hunk.source_line, hunk.destination_line);
            file.hunks.push(hunk);
        } else if let Some(hunk) = file.hunks.last_mut() {
            let (kind, text) = match line.chars().next() {
                Some('+') if !line.starts_with("+++ ") || hunk_open(hunk) => {
                    (LineKind::Added, &line[1..])
                }
                Some('-') if !line.starts_with("--- ") || hunk_open(hunk) => {
                    (LineKind::Removed, &line[1..])
                }
                Some(' ') => (LineKind::Context, &line[1..]),
                _ => continue,
            };
            let l = DiffLine {
                source: src,
                destination: dst,
                text: text.to_string(),
            };
            match kind {
                LineKind::Added => dst += 1,
                LineKind::Removed => src += 1,
                LineKind::Context => (src, dst) = (src + 1, dst + 1),
            }
            match hunk.segments.last_mut() {
                Some(s) if s.kind == kind => s.lines.push(l),
                _ => hunk.segments.push(Segment {
                    kind,
                    lines: vec![l],
                }),
            }
        }
    }
    files
}

/// Whether a hunk still expects lines (so `+++`/`---` inside it are content, not headers).
fn hunk_open(h: &Hunk) -> bool {
    let (mut s, mut d) = (0, 0);
    for seg in &h.segments {
        let n = seg.lines.len() as u32;
        match seg.kind {
            LineKind::Added => d += n,
            LineKind::Removed => s += n,
            LineKind::Context => (s, d) = (s + n, d + n),
        }
    }
    s < h.source_span || d < h.destination_span
}

/// `-a,b +c,d @@ …` (a span of 1 may be left out).
fn parse_hunk_header(h: &str) -> Hunk {
    let mut parts = h.split_whitespace();
    let range = |p: Option<&str>, sign: char| {
        let p = p.unwrap_or("").trim_start_matches(sign);
        let (line, span) = p.split_once(',').unwrap_or((p, "1"));
        (line.parse().unwrap_or(0), span.parse().unwrap_or(0))
    };
    let (source_line, source_span) = range(parts.next(), '-');
    let (destination_line, destination_span) = range(parts.next(), '+');
    Hunk {
        source_line,
        source_span,
        destination_line,
        destination_span,
        segments: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIFF: &str = "diff --git a/README.md b/README.md
index 1111111..2222222 100644
--- a/README.md
+++ b/README.md
@@ -1,3 +1,3 @@
 one
--- two
+++ two
 three
diff --git a/new.txt b/new.txt
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ b/new.txt
@@ -0,0 +1 @@
+hello
diff --git a/logo.png b/logo.png
deleted file mode 100644
index 4444444..0000000
Binary files a/logo.png and /dev/null differ
";

    #[test]
    fn files_hunks_and_segments_with_line_numbers() {
        let files = parse_unified(DIFF);
        assert_eq!(files.len(), 3);
        let f = &files[0];
        assert_eq!(
            (f.source.as_deref(), f.destination.as_deref()),
            (Some("README.md"), Some("README.md"))
        );
        let h = &f.hunks[0];
        assert_eq!(
            (
                h.source_line,
                h.source_span,
                h.destination_line,
                h.destination_span
            ),
            (1, 3, 1, 3)
        );
        let kinds: Vec<LineKind> = h.segments.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [
                LineKind::Context,
                LineKind::Removed,
                LineKind::Added,
                LineKind::Context
            ]
        );
        // A removed line reading "-- two" and an added "++ two": content, not headers.
        assert_eq!(h.segments[1].lines[0].text, "-- two");
        assert_eq!(h.segments[2].lines[0].text, "++ two");
        assert_eq!(
            (
                h.segments[3].lines[0].source,
                h.segments[3].lines[0].destination
            ),
            (3, 3)
        );
        assert_eq!(
            (files[1].source.as_deref(), files[1].destination.as_deref()),
            (None, Some("new.txt"))
        );
        assert_eq!(files[1].hunks[0].segments[0].lines[0].destination, 1);
        assert!(files[2].binary && files[2].destination.is_none());
    }

    #[test]
    fn name_status() {
        assert_eq!(
            parse_name_status("M\0a.txt\0A\0dir/b.txt\0D\0c\0"),
            vec![
                (ChangeKind::Modify, "a.txt".into()),
                (ChangeKind::Add, "dir/b.txt".into()),
                (ChangeKind::Delete, "c".into())
            ]
        );
    }
}
