//! JSON representations in Bitbucket Data Center's shape. One function per entity, so every
//! endpoint shows an entity the same way.

use crate::domain::pull_request::display_id;
use crate::store::{Account, Comment, Participant, Project, PullRequest, Repository};
use serde::Serialize;
use serde_json::{json, Value};

fn link(href: String) -> Value {
    json!([{ "href": href }])
}

pub fn user(
    base: &str,
    slug: &str,
    display_name: &str,
    email: Option<&str>,
    id: i64,
    active: bool,
) -> Value {
    json!({
        "name": slug,
        "emailAddress": email,
        "active": active,
        "displayName": display_name,
        "id": id,
        "slug": slug,
        "type": "NORMAL",
        "links": { "self": link(format!("{base}/users/{slug}")) },
    })
}

pub fn account(base: &str, a: &Account) -> Value {
    user(
        base,
        &a.slug,
        &a.display_name,
        a.email.as_deref(),
        a.id,
        a.active,
    )
}

/// A team, shown where Bitbucket shows a group.
pub fn team(a: &Account) -> Value {
    json!({ "name": a.slug, "displayName": a.display_name, "id": a.id, "active": a.active })
}

/// `{"href": ...}` inside a link list.
#[derive(Serialize)]
pub struct Href {
    href: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'static str>,
}

#[derive(Serialize)]
pub struct SelfLinks {
    #[serde(rename = "self")]
    self_: [Href; 1],
}

/// A project. Typed rather than `json!`, because repositories (the hottest read) embed it.
#[derive(Serialize)]
pub struct ProjectJson<'a> {
    key: &'a str,
    id: i64,
    name: &'a str,
    description: &'a str,
    public: bool,
    #[serde(rename = "type")]
    kind: &'static str,
    links: SelfLinks,
}

fn self_links(href: String) -> SelfLinks {
    SelfLinks {
        self_: [Href { href, name: None }],
    }
}

fn project_json<'a>(
    base: &str,
    key: &'a str,
    id: i64,
    name: &'a str,
    description: &'a str,
    public: bool,
) -> ProjectJson<'a> {
    ProjectJson {
        key,
        id,
        name,
        description,
        public,
        kind: "NORMAL",
        links: self_links(format!("{base}/projects/{key}")),
    }
}

pub fn project<'a>(base: &str, p: &'a Project) -> ProjectJson<'a> {
    project_json(base, &p.key, p.id, &p.name, &p.description, p.public)
}

#[derive(Serialize)]
pub struct RepoLinks {
    clone: [Href; 1],
    #[serde(rename = "self")]
    self_: [Href; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryJson<'a> {
    slug: &'a str,
    id: i64,
    name: &'a str,
    description: &'a str,
    hierarchy_id: String,
    scm_id: &'static str,
    state: &'static str,
    status_message: &'static str,
    forkable: bool,
    project: ProjectJson<'a>,
    public: bool,
    default_branch: &'a str,
    links: RepoLinks,
}

pub fn repository<'a>(base: &str, r: &'a Repository) -> RepositoryJson<'a> {
    let clone = format!("{base}/scm/{}/{}.git", r.project_key.to_lowercase(), r.slug);
    RepositoryJson {
        slug: &r.slug,
        id: r.id,
        name: &r.name,
        description: &r.description,
        hierarchy_id: format!("{:020}", r.id),
        scm_id: "git",
        state: "AVAILABLE",
        status_message: "Available",
        forkable: true,
        project: project_json(
            base,
            &r.project_key,
            r.project_id,
            &r.project_name,
            &r.project_description,
            r.project_public,
        ),
        public: r.public,
        default_branch: display_id(&r.default_branch),
        links: RepoLinks {
            clone: [Href {
                href: clone,
                name: Some("http"),
            }],
            self_: [Href {
                href: format!("{base}/projects/{}/repos/{}/browse", r.project_key, r.slug),
                name: None,
            }],
        },
    }
}

fn git_ref(base: &str, r: &Repository, id: &str) -> Value {
    json!({ "id": id, "displayId": display_id(id), "latestCommit": null, "type": "BRANCH", "repository": repository(base, r) })
}

pub fn participant(base: &str, p: &Participant) -> Value {
    json!({
        "user": user(base, &p.slug, &p.display_name, p.email.as_deref(), p.user_id, true),
        "role": p.role,
        "approved": p.status == "APPROVED",
        "status": p.status,
    })
}

pub fn pull_request(
    base: &str,
    r: &Repository,
    pr: &PullRequest,
    participants: &[&Participant],
) -> Value {
    let author = json!({
        "user": user(base, &pr.author_slug, &pr.author_display_name, pr.author_email.as_deref(), pr.author_id, true),
        "role": "AUTHOR",
        "approved": false,
        "status": "UNAPPROVED",
    });
    let of_role = |role: &str| -> Vec<Value> {
        participants
            .iter()
            .filter(|p| p.role == role)
            .map(|p| participant(base, p))
            .collect()
    };
    let mut v = json!({
        "id": pr.number,
        "version": pr.version,
        "title": pr.title,
        "description": pr.description,
        "state": pr.state.as_str(),
        "open": pr.state == crate::domain::pull_request::PrState::Open,
        "closed": pr.state != crate::domain::pull_request::PrState::Open,
        "createdDate": pr.created_at,
        "updatedDate": pr.updated_at,
        "fromRef": git_ref(base, r, &pr.from_ref),
        "toRef": git_ref(base, r, &pr.to_ref),
        "locked": false,
        "author": author,
        "reviewers": of_role("REVIEWER"),
        "participants": of_role("PARTICIPANT"),
        "links": { "self": link(format!("{base}/projects/{}/repos/{}/pull-requests/{}", r.project_key, r.slug, pr.number)) },
    });
    if let Some(closed) = pr.closed_at {
        v["closedDate"] = json!(closed);
    }
    v
}

pub fn comment(base: &str, c: &Comment, editable: bool) -> Value {
    json!({
        "id": c.id,
        "version": c.version,
        "text": c.text,
        "author": user(base, &c.author_slug, &c.author_display_name, c.author_email.as_deref(), c.author_id, true),
        "createdDate": c.created_at,
        "updatedDate": c.updated_at,
        "comments": [],
        "tasks": [],
        "permittedOperations": { "editable": editable, "deletable": editable },
    })
}

/// A webhook in Bitbucket Data Center's shape, plus its health. The secret is never returned.
pub fn webhook(h: &crate::store::Webhook, now: i64) -> Value {
    let keys = h.event_keys();
    let status = if h.disabled_at.is_some() {
        "disabled"
    } else if !h.active {
        "inactive"
    } else if h.paused_until.is_some_and(|u| u > now) {
        "paused"
    } else {
        "enabled"
    };
    json!({
        "id": h.id,
        "uuid": h.uuid,
        "name": h.name,
        "url": h.url,
        "events": if keys.is_empty() { vec!["*".to_string()] } else { keys },
        "active": h.active,
        "ordered": h.ordered,
        "configuration": {},
        "hasSecret": h.secret_encrypted.is_some(),
        "scopeType": if h.repo_id.is_some() { "repository" } else { "project" },
        "createdDate": h.created_at,
        "updatedDate": h.updated_at,
        "status": status,
        "consecutiveFailures": h.consecutive_failures,
        "pausedUntil": h.paused_until.filter(|u| *u > now),
        "disabledDate": h.disabled_at,
        "disabledReason": h.disabled_reason,
    })
}

pub fn delivery(d: &crate::store::Delivery) -> Value {
    json!({
        "id": d.id,
        "eventKey": d.event_key,
        "webhookId": d.event_uuid,
        "eventDate": d.event_at,
        "state": d.state,
        "attempts": d.attempts,
        "createdDate": d.created_at,
        "nextAttemptDate": (d.state == crate::store::DeliveryState::Pending).then_some(d.next_attempt_at),
        "completedDate": d.completed_at,
        "lastStatus": d.last_status,
        "lastError": d.last_error,
        "test": d.event_key == crate::domain::webhooks::TEST_EVENT_KEY,
    })
}

/// A delivery with the body sent and every attempt (request headers, the receiver's answer).
pub fn delivery_detail(
    d: &crate::store::Delivery,
    body: &str,
    attempts: &[crate::store::Attempt],
) -> Value {
    let parse = |s: &Option<String>| {
        s.as_deref()
            .and_then(|t| serde_json::from_str::<Value>(t).ok())
            .unwrap_or(Value::Null)
    };
    let mut v = delivery(d);
    v["body"] = Value::from(body);
    v["attemptList"] = attempts
        .iter()
        .map(|a| {
            json!({
                "number": a.number,
                "requestUuid": a.request_uuid,
                "startedDate": a.started_at,
                "durationMs": a.duration_ms,
                "requestHeaders": serde_json::from_str::<Value>(&a.request_headers).unwrap_or(Value::Null),
                "responseStatus": a.response_status,
                "responseHeaders": parse(&a.response_headers),
                "responseBody": a.response_body,
                "error": a.error,
            })
        })
        .collect();
    v
}
