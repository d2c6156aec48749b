//! Git things in Data Center's REST shapes: commits, paths, branches and tags, diffs.

use crate::domain::diff::{FileDiff, Hunk, Segment};
use crate::domain::git::{short_name, Commit};
use serde_json::{json, Value};

fn person(name: &str, email: &str) -> Value {
    json!({ "name": name, "emailAddress": email })
}

pub fn commit(c: &Commit) -> Value {
    json!({
        "id": c.hash,
        "displayId": &c.hash[..c.hash.len().min(11)],
        "author": person(&c.author_name, &c.author_email),
        "authorTimestamp": c.author_at,
        "committer": person(&c.committer_name, &c.committer_email),
        "committerTimestamp": c.committer_at,
        "message": c.message,
        "parents": c.parents.iter().map(|p| json!({ "id": p, "displayId": &p[..p.len().min(11)] })).collect::<Vec<_>>(),
    })
}

/// A path as Data Center describes one: its components, parent, name and extension.
pub fn path(p: &str) -> Value {
    let components: Vec<&str> = p.split('/').filter(|c| !c.is_empty()).collect();
    let name = components.last().copied().unwrap_or("");
    let parent = components[..components.len().saturating_sub(1)].join("/");
    let mut v = json!({
        "components": components,
        "parent": parent,
        "name": name,
        "toString": components.join("/"),
    });
    if let Some((_, ext)) = name.rsplit_once('.').filter(|(stem, _)| !stem.is_empty()) {
        v["extension"] = json!(ext);
    }
    v
}

/// A branch or tag: `{id, displayId, type, latestCommit, isDefault}`.
pub fn git_ref(name: &str, target: &str, default: Option<&str>) -> Value {
    let kind = if name.starts_with("refs/tags/") {
        "TAG"
    } else {
        "BRANCH"
    };
    let mut v = json!({
        "id": name,
        "displayId": short_name(name),
        "type": kind,
        "latestCommit": target,
        "latestChangeset": target,
    });
    if kind == "BRANCH" {
        v["isDefault"] = json!(Some(name) == default);
    }
    v
}

pub fn diff(from_hash: &str, to_hash: &str, context: u32, files: &[FileDiff]) -> Value {
    json!({
        "fromHash": from_hash,
        "toHash": to_hash,
        "contextLines": context,
        "whitespace": "SHOW",
        "diffs": files.iter().map(file_diff).collect::<Vec<_>>(),
        "truncated": false,
    })
}

fn file_diff(f: &FileDiff) -> Value {
    let mut v = json!({
        "source": f.source.as_deref().map(path),
        "destination": f.destination.as_deref().map(path),
        "hunks": f.hunks.iter().map(hunk).collect::<Vec<_>>(),
        "truncated": false,
    });
    if f.binary {
        v["binary"] = json!(true);
    }
    v
}

fn hunk(h: &Hunk) -> Value {
    json!({
        "sourceLine": h.source_line,
        "sourceSpan": h.source_span,
        "destinationLine": h.destination_line,
        "destinationSpan": h.destination_span,
        "segments": h.segments.iter().map(segment).collect::<Vec<_>>(),
        "truncated": false,
    })
}

fn segment(s: &Segment) -> Value {
    json!({
        "type": s.kind.as_str(),
        "lines": s.lines.iter().map(|l| json!({ "source": l.source, "destination": l.destination, "line": l.text, "truncated": false })).collect::<Vec<_>>(),
        "truncated": false,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn paths_have_data_centers_parts() {
        assert_eq!(
            super::path("src/lib/main.rs"),
            json!({"components": ["src", "lib", "main.rs"], "parent": "src/lib", "name": "main.rs", "extension": "rs", "toString": "src/lib/main.rs"})
        );
        assert_eq!(super::path(".gitignore").get("extension"), None);
    }
}
