//! Pull requests on `/2.0`: list (by `state`, paged), get, create, approve / request changes
//! (and their `DELETE`), merge, decline, comments. Each calls one host operation.

use super::paths::{PrPath, RepoPath};
use super::{CloudPage, CloudResult, PageQuery};
use crate::domain::pull_request::{MergeStrategy, PrState};
use crate::services::host::pulls::{
    self as host_pulls, BranchInput, MergeRequest, NewPullRequestInput, PrRef, PullRequestView,
    ReviewStatus,
};
use crate::services::host::HostError;
use crate::web::auth::Caller;
use crate::web::error::ApiError;
use crate::web::extract::Query;
use crate::web::json::Json as JsonBody;
use crate::web::state::AppState;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
pub struct ActionPath {
    workspace: String,
    repo_slug: String,
    pull_request_id: i64,
    action: String,
}

fn render(state: &AppState, v: &PullRequestView) -> Value {
    let closed_by = (v.pr.state != PrState::Open).then_some(Value::Null);
    state
        .webhooks
        .payloads()
        .pull_request(&v.repo, &v.pr, &v.participants, closed_by)
}

/// `state` may repeat (`?state=OPEN&state=MERGED`); OPEN when absent, as on Cloud.
fn states(uri: &axum::http::Uri) -> Result<Vec<PrState>, ApiError> {
    let given: Vec<String> = url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .filter(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .collect();
    if given.is_empty() {
        return Ok(vec![PrState::Open]);
    }
    given
        .iter()
        .map(|s| {
            s.parse::<PrState>()
                .map_err(|m| ApiError::bad_request(m).with_context("state"))
        })
        .collect()
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<RepoPath>,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<PageQuery>,
) -> CloudResult<Json<Value>> {
    let page = CloudPage::parse(&q)?;
    let wanted = states(&uri)?;
    let (key, slug) = p.names(&state, &caller).await?;
    let one = (wanted.len() == 1).then(|| wanted[0]);
    let (repo, prs) =
        host_pulls::list(&state.host(), &caller.principal(), &key, &slug, one).await?;
    let payloads = state.webhooks.payloads();
    let values = prs
        .iter()
        .filter(|(pr, _)| wanted.contains(&pr.state))
        .map(|(pr, people)| payloads.pull_request(&repo, pr, people, None))
        .collect();
    Ok(Json(page.slice(&state.base_url, &uri, values)))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<PrPath>,
) -> CloudResult<Json<Value>> {
    let (key, slug) = p.names(&state, &caller).await?;
    let v = host_pulls::get(&state.host(), &caller.principal(), p.at(&key, &slug)).await?;
    Ok(Json(render(&state, &v)))
}

#[derive(Deserialize, Default)]
pub struct BranchRef {
    branch: Option<Named>,
}

#[derive(Deserialize, Default)]
pub struct Named {
    name: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct Reviewer {
    username: Option<String>,
    nickname: Option<String>,
}

#[derive(Deserialize)]
pub struct NewPullRequest {
    title: Option<String>,
    description: Option<String>,
    source: Option<BranchRef>,
    destination: Option<BranchRef>,
    #[serde(default)]
    reviewers: Vec<Reviewer>,
}

fn branch(b: Option<BranchRef>) -> Option<BranchInput> {
    b.and_then(|b| b.branch)
        .and_then(|n| n.name)
        .map(BranchInput::named)
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<RepoPath>,
    JsonBody(b): JsonBody<NewPullRequest>,
) -> CloudResult<Response> {
    let (key, slug) = p.names(&state, &caller).await?;
    let (host, who) = (state.host(), caller.principal());
    // Cloud's default destination: the repository's main branch.
    let to = match branch(b.destination) {
        Some(to) => Some(to),
        None => {
            let repo = crate::services::host::browse::readable(&host, &who, &key, &slug).await?;
            Some(BranchInput::named(repo.default_branch))
        }
    };
    let input = NewPullRequestInput {
        title: b.title,
        description: b.description,
        from: branch(b.source),
        to,
        reviewers: b
            .reviewers
            .into_iter()
            .filter_map(|r| r.username.or(r.nickname))
            .collect(),
    };
    let v = host_pulls::create(&host, &who, &key, &slug, input)
        .await
        .map_err(cloud_fields)?;
    Ok((StatusCode::CREATED, Json(render(&state, &v))).into_response())
}

/// A pull request's fields by Cloud's names in errors (the host names Data Center's).
pub fn cloud_fields(e: HostError) -> HostError {
    match e {
        HostError::Invalid { field, message } => HostError::Invalid {
            field: match field {
                "fromRef" | "fromRef.id" => "source.branch.name",
                "toRef" | "toRef.id" => "destination.branch.name",
                other => other,
            },
            message: message
                .replace("fromRef.id", "source.branch.name")
                .replace("toRef.id", "destination.branch.name")
                .replace("fromRef", "source.branch.name")
                .replace("toRef", "destination.branch.name"),
        },
        other => other,
    }
}

#[derive(Deserialize, Default)]
pub struct MergeBody {
    merge_strategy: Option<String>,
    message: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct CommentBody {
    content: Option<Content>,
}

#[derive(Deserialize, Default)]
pub struct Content {
    raw: Option<String>,
}

/// Cloud's merge strategies in Data Center's terms.
fn strategy(s: Option<&str>) -> Result<MergeStrategy, ApiError> {
    match s {
        None | Some("merge_commit") => Ok(MergeStrategy::MergeCommit),
        Some("squash") => Ok(MergeStrategy::Squash),
        Some("fast_forward") => Ok(MergeStrategy::FastForwardOnly),
        Some(other) => Err(ApiError::bad_request(format!(
            "'{other}' is not a merge strategy; use merge_commit, squash or fast_forward."
        ))
        .with_context("merge_strategy")),
    }
}

/// `POST`/`DELETE` `…/{approve|request-changes}`, `POST …/{merge|decline|comments}`.
pub async fn act(
    State(state): State<AppState>,
    caller: Caller,
    method: Method,
    Path(p): Path<ActionPath>,
    body: axum::body::Bytes,
) -> CloudResult<Response> {
    let host = state.host();
    let who = caller.principal();
    let (key, slug) = super::paths::names(&state, &caller, &p.workspace, &p.repo_slug).await?;
    let here = PrRef {
        key: &key,
        slug: &slug,
        number: p.pull_request_id,
    };
    let parse = |bytes: &[u8]| -> Result<Value, ApiError> {
        if bytes.is_empty() {
            return Ok(json!({}));
        }
        serde_json::from_slice(bytes)
            .map_err(|e| ApiError::bad_request(format!("The body is not valid JSON: {e}.")))
    };
    let payloads = state.webhooks.payloads();
    let review = |status| host_pulls::set_review_status(&host, &who, here, status);
    let out = match (p.action.as_str(), method == Method::DELETE) {
        ("approve", false) => participant(payloads, review(ReviewStatus::Approved).await?),
        ("request-changes", false) => participant(payloads, review(ReviewStatus::NeedsWork).await?),
        ("approve" | "request-changes", true) => {
            review(ReviewStatus::Unapproved).await?;
            return Ok(StatusCode::NO_CONTENT.into_response());
        }
        ("merge", false) => {
            let b: MergeBody = serde_json::from_value(parse(&body)?).unwrap_or_default();
            let how = MergeRequest {
                strategy: strategy(b.merge_strategy.as_deref())?,
                message: b.message,
            };
            render(
                &state,
                &host_pulls::merge(&host, &who, here, None, how).await?,
            )
        }
        ("decline", false) => render(&state, &host_pulls::decline(&host, &who, here, None).await?),
        ("comments", false) => {
            let b: CommentBody = serde_json::from_value(parse(&body)?).unwrap_or_default();
            let text = b.content.and_then(|c| c.raw);
            let c = host_pulls::add_comment(&host, &who, here, text.as_deref()).await?;
            let v = host_pulls::get(&host, &who, here).await?;
            let pr = render(&state, &v);
            let out = payloads.comment(&c, &pr, &v.repo, v.pr.number);
            return Ok((StatusCode::CREATED, Json(out)).into_response());
        }
        _ => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "NO_SUCH_ACTION",
                format!("Pull requests have no action '{}' for {method}.", p.action),
            )
            .into())
        }
    };
    Ok(Json(out).into_response())
}

fn participant(
    payloads: &crate::services::webhooks::payload::CloudPayloads,
    p: crate::store::Participant,
) -> Value {
    let mut v = payloads.participant(&p, None);
    v["type"] = json!("participant");
    v
}

/// `GET …/comments`, paged.
pub async fn comments(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<PrPath>,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<PageQuery>,
) -> CloudResult<Json<Value>> {
    let page = CloudPage::parse(&q)?;
    let (key, slug) = p.names(&state, &caller).await?;
    let here = p.at(&key, &slug);
    let (v, comments) =
        host_pulls::get_with_comments(&state.host(), &caller.principal(), here).await?;
    let pr = render(&state, &v);
    let payloads = state.webhooks.payloads();
    let values = comments
        .iter()
        .map(|c| payloads.comment(c, &pr, &v.repo, v.pr.number))
        .collect();
    Ok(Json(page.slice(&state.base_url, &uri, values)))
}

/// `POST …/comments` (its own route, next to `GET`).
pub async fn act_comments(
    state: State<AppState>,
    caller: Caller,
    method: Method,
    Path(p): Path<PrPath>,
    body: axum::body::Bytes,
) -> CloudResult<Response> {
    let path = ActionPath {
        workspace: p.workspace,
        repo_slug: p.repo_slug,
        pull_request_id: p.pull_request_id,
        action: "comments".into(),
    };
    act(state, caller, method, Path(path), body).await
}
