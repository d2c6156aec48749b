//! `PUT …/pullrequests/{id}` (title, description, destination, reviewers) and
//! `GET …/pullrequests/{id}/activity`. Cloud has no versions: an update applies to the pull
//! request as it stands (last write wins, as on Cloud), through the same host operation.

use super::paths::PrPath;
use super::{CloudPage, CloudResult, PageQuery};
use crate::clock::iso8601;
use crate::services::host::pulls::{self as host_pulls, BranchInput, PullRequestChange};
use crate::web::auth::Caller;
use crate::web::extract::Query;
use crate::web::json::Json as JsonBody;
use crate::web::state::AppState;
use axum::extract::{OriginalUri, Path, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize, Default)]
pub struct Change {
    title: Option<String>,
    description: Option<String>,
    destination: Option<Destination>,
    reviewers: Option<Vec<Reviewer>>,
}

#[derive(Deserialize, Default)]
pub struct Destination {
    branch: Option<Branch>,
}

#[derive(Deserialize, Default)]
pub struct Branch {
    name: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct Reviewer {
    username: Option<String>,
    nickname: Option<String>,
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<PrPath>,
    JsonBody(b): JsonBody<Change>,
) -> CloudResult<Json<Value>> {
    let (host, who) = (state.host(), caller.principal());
    let (key, slug) = p.names(&state, &caller).await?;
    let at = p.at(&key, &slug);
    let now = host_pulls::get(&host, &who, at).await?;
    let change = PullRequestChange {
        version: Some(now.pr.version),
        title: b.title,
        description: b.description,
        to: b
            .destination
            .and_then(|d| d.branch)
            .and_then(|b| b.name)
            .map(BranchInput::named),
        reviewers: b.reviewers.map(|list| {
            list.into_iter()
                .filter_map(|r| r.username.or(r.nickname))
                .collect()
        }),
    };
    let v = host_pulls::update(&host, &who, at, change)
        .await
        .map_err(super::pullrequests::cloud_fields)?;
    let closed_by = None;
    Ok(Json(state.webhooks.payloads().pull_request(
        &v.repo,
        &v.pr,
        &v.participants,
        closed_by,
    )))
}

/// What happened on the pull request, newest first: its comments, approvals and its opening.
pub async fn activity(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<PrPath>,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<PageQuery>,
) -> CloudResult<Json<Value>> {
    let page = CloudPage::parse(&q)?;
    let (key, slug) = p.names(&state, &caller).await?;
    let at = p.at(&key, &slug);
    let (v, comments) =
        host_pulls::get_with_comments(&state.host(), &caller.principal(), at).await?;
    let payloads = state.webhooks.payloads();
    let pr = payloads.pull_request(&v.repo, &v.pr, &v.participants, None);
    let summary = json!({ "type": "pullrequest", "id": v.pr.number, "title": v.pr.title, "links": pr["links"] });
    let mut dated: Vec<(i64, Value)> = Vec::new();
    for c in &comments {
        let comment = payloads.comment(c, &pr, &v.repo, v.pr.number);
        dated.push((
            c.created_at,
            json!({ "comment": comment, "pull_request": summary }),
        ));
    }
    for person in v.participants.iter().filter(|x| x.status == "APPROVED") {
        let approval = json!({ "date": iso8601(v.pr.updated_at), "user": payloads.participant(person, None)["user"], "pullrequest": summary });
        dated.push((
            v.pr.updated_at,
            json!({ "approval": approval, "pull_request": summary }),
        ));
    }
    let opened = json!({
        "state": "OPEN", "title": v.pr.title, "description": v.pr.description,
        "author": pr["author"], "date": iso8601(v.pr.created_at),
        "source": pr["source"], "destination": pr["destination"],
    });
    dated.push((
        v.pr.created_at,
        json!({ "update": opened, "pull_request": summary }),
    ));
    dated.sort_by_key(|d| std::cmp::Reverse(d.0));
    let values = dated.into_iter().map(|(_, v)| v).collect();
    Ok(Json(page.slice(&state.base_url, &uri, values)))
}
