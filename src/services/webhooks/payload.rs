//! Event payloads in the Bitbucket Cloud shape (`actor`, `repository`, `pullrequest`,
//! `approval`, `comment`, `changes`), rendered inside the transaction of the change.
//!
//! Bitbucket Cloud identifies everything by `{uuid}`; Junction's rows have integer ids, so each
//! entity's uuid is derived from this server's id, the entity kind and its id: stable, distinct
//! across servers, and the same in every payload and on every retry.

use crate::clock::iso8601;
use crate::store::{Account, Comment, EventFacts, Participant, RenderEvent, Repository};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

pub struct CloudPayloads {
    base_url: String,
    server_id: String,
}

impl CloudPayloads {
    pub fn new(base_url: String, server_id: String) -> Self {
        Self {
            base_url,
            server_id,
        }
    }

    /// `{xxxxxxxx-xxxx-5xxx-yxxx-xxxxxxxxxxxx}`, derived (name-based, version 5 layout).
    pub fn uuid(&self, kind: &str, id: i64) -> String {
        let h = Sha256::digest(format!("{}:{kind}:{id}", self.server_id));
        let mut b = [0u8; 16];
        b.copy_from_slice(&h[..16]);
        b[6] = (b[6] & 0x0f) | 0x50;
        b[8] = (b[8] & 0x3f) | 0x80;
        let x = hex::encode(b);
        format!(
            "{{{}-{}-{}-{}-{}}}",
            &x[0..8],
            &x[8..12],
            &x[12..16],
            &x[16..20],
            &x[20..32]
        )
    }

    pub(super) fn href_of(&self, path: &str) -> Value {
        json!({ "href": format!("{}{path}", self.base_url) })
    }

    fn href(&self, path: String) -> Value {
        json!({ "href": format!("{}{path}", self.base_url) })
    }

    pub fn user(&self, a: &Account) -> Value {
        self.person(a.id, &a.slug, &a.display_name)
    }

    fn person(&self, id: i64, slug: &str, display_name: &str) -> Value {
        let uuid = self.uuid("account", id);
        json!({
            "type": "user",
            "uuid": uuid,
            "account_id": uuid,
            "nickname": slug,
            "display_name": display_name,
            "links": {
                "self": self.href(format!("/rest/api/1.0/users/{slug}")),
                "html": self.href(format!("/users/{slug}")),
            },
        })
    }

    pub fn repository(&self, r: &Repository) -> Value {
        let project_uuid = self.uuid("project", r.project_id);
        json!({
            "type": "repository",
            "uuid": self.uuid("repository", r.id),
            "name": r.name,
            "full_name": format!("{}/{}", r.project_key, r.slug),
            "slug": r.slug,
            "description": r.description,
            "is_private": !r.readable_by_anyone(),
            "scm": "git",
            "mainbranch": { "type": "branch", "name": r.default_branch },
            "created_on": iso8601(r.created_at),
            "project": {
                "type": "project",
                "uuid": project_uuid,
                "key": r.project_key,
                "name": r.project_name,
                "links": { "html": self.href(format!("/projects/{}", r.project_key)) },
            },
            "workspace": {
                "type": "workspace",
                "uuid": project_uuid,
                "slug": r.project_key.to_ascii_lowercase(),
                "name": r.project_name,
            },
            "links": {
                "self": self.href(format!("/rest/api/1.0/projects/{}/repos/{}", r.project_key, r.slug)),
                "html": self.href(format!("/projects/{}/repos/{}", r.project_key, r.slug)),
            },
        })
    }

    /// A pull request in Bitbucket Cloud's shape (events and the `/2.0` API alike).
    pub fn pull_request(
        &self,
        r: &Repository,
        pr: &crate::store::PullRequest,
        participants: &[Participant],
        closed_by: Option<Value>,
    ) -> Value {
        let branch = |name: &str| {
            json!({
                "branch": { "name": name.trim_start_matches("refs/heads/") },
                "commit": Value::Null,
                "repository": { "type": "repository", "full_name": format!("{}/{}", r.project_key, r.slug),
                                "name": r.name, "uuid": self.uuid("repository", r.id) },
            })
        };
        let state = match pr.state.as_str() {
            "MERGED" => "MERGED",
            "DECLINED" => "DECLINED",
            _ => "OPEN",
        };
        let reviewers: Vec<Value> = participants
            .iter()
            .filter(|p| p.role == "REVIEWER")
            .map(|p| self.person(p.user_id, &p.slug, &p.display_name))
            .collect();
        let participants: Vec<Value> = participants
            .iter()
            .map(|p| self.participant(p, None))
            .collect();
        json!({
            "type": "pullrequest",
            "id": pr.number,
            "title": pr.title,
            "description": pr.description,
            "state": state,
            "author": self.person(pr.author_id, &pr.author_slug, &pr.author_display_name),
            "source": branch(&pr.from_ref),
            "destination": branch(&pr.to_ref),
            "merge_commit": Value::Null,
            "close_source_branch": false,
            "closed_by": closed_by.unwrap_or(Value::Null),
            "reason": "",
            "reviewers": reviewers,
            "participants": participants,
            "created_on": iso8601(pr.created_at),
            "updated_on": iso8601(pr.updated_at),
            "links": {
                "self": self.href(format!("/2.0/repositories/{}/{}/pullrequests/{}", r.project_key.to_ascii_lowercase(), r.slug, pr.number)),
                "html": self.href(format!("/projects/{}/repos/{}/pull-requests/{}", r.project_key, r.slug, pr.number)),
            },
        })
    }

    /// A build status in Cloud's shape (events and `/2.0` alike).
    pub fn commit_status(
        &self,
        r: &Repository,
        s: &crate::store::commit_statuses::CommitStatus,
    ) -> Value {
        let commit = format!(
            "/2.0/repositories/{}/{}/commit/{}",
            r.project_key.to_ascii_lowercase(),
            r.slug,
            s.commit_id
        );
        let key: String = url::form_urlencoded::byte_serialize(s.status_key.as_bytes()).collect();
        json!({
            "type": "build",
            "uuid": self.uuid("commit_status", s.id),
            "key": s.status_key,
            "state": s.state.0.cloud(),
            "name": s.name.as_deref().unwrap_or(&s.status_key),
            "url": s.url,
            "description": s.description.as_deref().unwrap_or(""),
            "refname": s.refname,
            "created_on": iso8601(s.created_at),
            "updated_on": iso8601(s.updated_at),
            "commit": { "type": "commit", "hash": s.commit_id, "links": { "self": self.href(commit.clone()) } },
            "links": {
                "self": self.href(format!("{commit}/statuses/build/{key}")),
                "commit": self.href(commit),
            },
        })
    }

    pub fn participant(&self, p: &Participant, at: Option<i64>) -> Value {
        json!({
            "type": "participant",
            "user": self.person(p.user_id, &p.slug, &p.display_name),
            "role": p.role,
            "approved": p.status == "APPROVED",
            "state": match p.status.as_str() {
                "APPROVED" => Value::from("approved"),
                "NEEDS_WORK" => Value::from("changes_requested"),
                _ => Value::Null,
            },
            "participated_on": at.map(iso8601),
        })
    }

    pub fn comment(&self, c: &Comment, pr: &Value, repo: &Repository, number: i64) -> Value {
        json!({
            "type": "pullrequest_comment",
            "id": c.id,
            "content": { "type": "rendered", "raw": c.text, "markup": "markdown", "html": "" },
            "user": self.person(c.author_id, &c.author_slug, &c.author_display_name),
            "created_on": iso8601(c.created_at),
            "updated_on": iso8601(c.updated_at),
            "deleted": false,
            "pullrequest": { "type": "pullrequest", "id": number, "title": pr["title"], "links": pr["links"] },
            "links": {
                "self": self.href(format!(
                    "/rest/api/1.0/projects/{}/repos/{}/pull-requests/{number}/comments/{}",
                    repo.project_key, repo.slug, c.id)),
            },
        })
    }

    fn changes(before: &Repository, after: &Repository) -> Value {
        let mut m = Map::new();
        let mut diff = |field: &str, old: Value, new: Value| {
            if old != new {
                m.insert(field.into(), json!({ "old": old, "new": new }));
            }
        };
        diff("name", json!(before.name), json!(after.name));
        diff("slug", json!(before.slug), json!(after.slug));
        diff(
            "description",
            json!(before.description),
            json!(after.description),
        );
        diff(
            "is_private",
            json!(!before.readable_by_anyone()),
            json!(!after.readable_by_anyone()),
        );
        diff(
            "mainbranch",
            json!(before.default_branch),
            json!(after.default_branch),
        );
        Value::Object(m)
    }
}

impl RenderEvent for CloudPayloads {
    fn render(&self, f: &EventFacts<'_>) -> String {
        let mut body = Map::new();
        body.insert("actor".into(), self.user(f.actor));
        body.insert("repository".into(), self.repository(f.repo));
        if let Some(before) = f.previous_repo {
            body.insert("changes".into(), Self::changes(before, f.repo));
        }
        if let Some(status) = f.commit_status {
            body.insert("commit_status".into(), self.commit_status(f.repo, status));
        }
        if let Some(pushed) = f.push {
            body.insert("push".into(), self.push(f.repo, pushed));
        }
        if let Some(facts) = f.pull_request {
            let pr = &facts.pr;
            let r = f.repo;
            let closed_by = (pr.state.as_str() != "OPEN").then(|| self.user(f.actor));
            let pr_json = self.pull_request(r, pr, &facts.participants, closed_by);
            if let Some(p) = f.participant {
                let key = if f.key.starts_with("pullrequest:changes_request") {
                    "changes_request"
                } else {
                    "approval"
                };
                body.insert(
                    key.into(),
                    json!({ "date": iso8601(f.at), "user": self.person(p.user_id, &p.slug, &p.display_name),
                            "pullrequest": { "type": "pullrequest", "id": pr.number, "title": pr.title } }),
                );
            }
            if let Some(c) = f.comment {
                body.insert("comment".into(), self.comment(c, &pr_json, r, pr.number));
            }
            body.insert("pullrequest".into(), pr_json);
        }
        Value::Object(body).to_string()
    }
}
