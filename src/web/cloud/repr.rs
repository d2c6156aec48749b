//! JSON shapes of the `/2.0` surface (Bitbucket Cloud's: `type` fields, `{uuid}`s in braces,
//! `links`). Users, repositories and pull requests come from the same `CloudPayloads` the event
//! payloads use, so an app sees one shape in webhooks and REST; links point at `/2.0`.

use crate::services::host::workspaces::Workspace;
use crate::services::webhooks::payload::CloudPayloads;
use crate::store::{Account, AccountKind, Repository};
use serde_json::{json, Value};

fn href(base: &str, path: &str) -> Value {
    json!({ "href": format!("{base}{path}") })
}

/// A user or team account.
pub fn account(p: &CloudPayloads, base: &str, a: &Account) -> Value {
    let uuid = p.uuid("account", a.id);
    let kind = match a.kind {
        AccountKind::User => "user",
        AccountKind::Team => "team",
    };
    json!({
        "type": kind,
        "uuid": uuid,
        "account_id": uuid,
        "username": a.slug,
        "nickname": a.slug,
        "display_name": a.display_name,
        "created_on": crate::clock::iso8601(a.created_at),
        "links": {
            "self": href(base, &format!("/2.0/users/{}", a.slug)),
            "html": href(base, &format!("/users/{}", a.slug)),
            "avatar": href(base, &format!("/users/{}/avatar.png", a.slug)),
        },
    })
}

pub fn workspace(p: &CloudPayloads, base: &str, w: &Workspace) -> Value {
    let (uuid, name, private) = match w {
        Workspace::Project(pr) => (p.uuid("project", pr.id), pr.name.clone(), !pr.public),
        Workspace::Personal(a) => (p.uuid("account", a.id), a.display_name.clone(), true),
    };
    let slug = w.slug();
    json!({
        "type": "workspace",
        "uuid": uuid,
        "slug": slug,
        "name": name,
        "is_private": private,
        "links": {
            "self": href(base, &format!("/2.0/workspaces/{slug}")),
            "repositories": href(base, &format!("/2.0/repositories/{slug}")),
            "html": href(base, &match w {
                Workspace::Project(pr) => format!("/projects/{}", pr.key),
                Workspace::Personal(a) => format!("/users/{}", a.slug),
            }),
        },
    })
}

pub fn repository(p: &CloudPayloads, base: &str, r: &Repository) -> Value {
    let mut v = p.repository(r);
    let ws = r.project_key.to_ascii_lowercase();
    v["full_name"] = json!(format!("{ws}/{}", r.slug));
    v["links"] = json!({
        "self": href(base, &format!("/2.0/repositories/{ws}/{}", r.slug)),
        "html": href(base, &format!("/projects/{}/repos/{}", r.project_key, r.slug)),
        "pullrequests": href(base, &format!("/2.0/repositories/{ws}/{}/pullrequests", r.slug)),
        "clone": [{ "name": "https", "href": format!("{base}/scm/{}/{}.git", r.project_key.to_ascii_lowercase(), r.slug) }],
    });
    v
}
