//! JSON representations in Bitbucket Data Center's shape. One function per entity, so every
//! endpoint shows an entity the same way.

use crate::domain::pull_request::display_id;
use crate::store::{Account, Comment, Participant, Project, PullRequest, Repository};
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

pub fn project(base: &str, p: &Project) -> Value {
    json!({
        "key": p.key,
        "id": p.id,
        "name": p.name,
        "description": p.description,
        "public": p.public,
        "type": "NORMAL",
        "links": { "self": link(format!("{base}/projects/{}", p.key)) },
    })
}

pub fn repository(base: &str, r: &Repository) -> Value {
    let project = json!({
        "key": r.project_key,
        "id": r.project_id,
        "name": r.project_name,
        "description": r.project_description,
        "public": r.project_public,
        "type": "NORMAL",
        "links": { "self": link(format!("{base}/projects/{}", r.project_key)) },
    });
    json!({
        "slug": r.slug,
        "id": r.id,
        "name": r.name,
        "description": r.description,
        "hierarchyId": format!("{:020}", r.id),
        "scmId": "git",
        "state": "AVAILABLE",
        "statusMessage": "Available",
        "forkable": true,
        "project": project,
        "public": r.public,
        "defaultBranch": display_id(&r.default_branch),
        "links": {
            "clone": [{ "href": format!("{base}/scm/{}/{}.git", r.project_key.to_lowercase(), r.slug), "name": "http" }],
            "self": link(format!("{base}/projects/{}/repos/{}/browse", r.project_key, r.slug)),
        },
    })
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
        "state": pr.state,
        "open": pr.state == "OPEN",
        "closed": pr.state != "OPEN",
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
