//! The `push` object of a `repo:push` event in Bitbucket Cloud's shape: one change per moved
//! branch or tag, each with `old` and `new` (null when created or deleted), `created`,
//! `closed`, `forced`, its newest commits (at most five) and `truncated`.

use super::payload::CloudPayloads;
use crate::clock::iso8601;
use crate::domain::git::{short_name, Commit, PushedRef, RefKind};
use crate::store::Repository;
use serde_json::{json, Value};

impl CloudPayloads {
    pub fn push(&self, repo: &Repository, pushed: &[PushedRef]) -> Value {
        let changes: Vec<Value> = pushed.iter().map(|p| self.change(repo, p)).collect();
        json!({ "changes": changes })
    }

    fn change(&self, repo: &Repository, p: &PushedRef) -> Value {
        let c = &p.change;
        let kind = c.kind().unwrap_or(RefKind::Branch);
        let side = |target: &Option<String>, full: Option<&Commit>| {
            target.as_ref().map(|hash| {
                json!({
                    "type": kind.as_str(),
                    "name": short_name(&c.name),
                    "target": full.filter(|f| &f.hash == hash)
                        .map_or_else(|| json!({ "type": "commit", "hash": hash }), |f| self.commit(repo, f)),
                    "links": { "html": self.href_of(&self.browse(repo, short_name(&c.name))) },
                })
            })
        };
        json!({
            "old": side(&c.old, None),
            "new": side(&c.new, p.commits.first()),
            "created": c.old.is_none(),
            "closed": c.new.is_none(),
            "forced": p.forced,
            "truncated": p.truncated,
            "commits": p.commits.iter().map(|f| self.commit(repo, f)).collect::<Vec<_>>(),
        })
    }

    fn browse(&self, repo: &Repository, at: &str) -> String {
        format!(
            "/projects/{}/repos/{}/browse?at={}",
            repo.project_key,
            repo.slug,
            url::form_urlencoded::byte_serialize(at.as_bytes()).collect::<String>()
        )
    }

    /// A commit as Bitbucket Cloud's payloads show it.
    pub fn commit(&self, repo: &Repository, c: &Commit) -> Value {
        json!({
            "type": "commit",
            "hash": c.hash,
            "date": iso8601(c.author_at),
            "message": c.message,
            "author": { "type": "author", "raw": format!("{} <{}>", c.author_name, c.author_email) },
            "parents": c.parents.iter().map(|h| json!({ "type": "commit", "hash": h })).collect::<Vec<_>>(),
            "links": {
                "self": self.href_of(&format!("/rest/api/1.0/projects/{}/repos/{}/commits/{}", repo.project_key, repo.slug, c.hash)),
                "html": self.href_of(&format!("/projects/{}/repos/{}/commits/{}", repo.project_key, repo.slug, c.hash)),
            },
        })
    }
}
