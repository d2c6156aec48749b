//! Pull requests over REST: `/rest/api/1.0/projects/{key}/repos/{slug}/pull-requests[...]`.
//! Parses, calls `services::host::pulls`, renders the Data Center shape.

use super::repr;
use crate::domain::pull_request::{MergeStrategy, PrState};
use crate::services::host::pulls::{
    self as host_pulls, BranchInput, MergeRequest, NewPullRequestInput, PrRef, PullRequestChange,
    PullRequestView,
};
use crate::web::auth::Caller;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::Path;
use crate::web::extract::Query;
use crate::web::json::Json;
use crate::web::paging::{page, PageParams};
use crate::web::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;

type RepoPath = (String, String);
pub(super) type PrPath = (String, String, i64);

pub(super) fn at(path: &PrPath) -> PrRef<'_> {
    PrRef {
        key: &path.0,
        slug: &path.1,
        number: path.2,
    }
}

pub(super) fn render(state: &AppState, v: &PullRequestView) -> Value {
    repr::pull_request(
        &state.base_url,
        &v.repo,
        &v.pr,
        &v.participants.iter().collect::<Vec<_>>(),
    )
}

#[derive(Deserialize)]
pub struct ListParams {
    #[serde(flatten)]
    pub page: PageParams,
    pub state: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, slug)): Path<RepoPath>,
    Query(q): Query<ListParams>,
) -> ApiResult<axum::Json<Value>> {
    let req = q.page.request()?;
    let wanted = match q.state.as_deref().map(str::to_ascii_uppercase).as_deref() {
        None => Some(PrState::Open),
        Some("ALL") => None,
        Some(s) => Some(
            s.parse::<PrState>()
                .map_err(|m| ApiError::bad_request(m).with_context("state"))?,
        ),
    };
    let (repo, prs) =
        host_pulls::list(&state.host(), &caller.principal(), &key, &slug, wanted).await?;
    let values: Vec<Value> = prs
        .iter()
        .map(|(pr, people)| {
            let people: Vec<_> = people.iter().collect();
            repr::pull_request(&state.base_url, &repo, pr, &people)
        })
        .collect();
    Ok(axum::Json(page(req, values)))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<PrPath>,
) -> ApiResult<axum::Json<Value>> {
    let v = host_pulls::get(&state.host(), &caller.principal(), at(&path)).await?;
    Ok(axum::Json(render(&state, &v)))
}

#[derive(Deserialize)]
pub struct RefBody {
    pub id: Option<String>,
    pub repository: Option<RefRepository>,
}

#[derive(Deserialize)]
pub struct RefRepository {
    pub slug: Option<String>,
    pub project: Option<RefProject>,
}

#[derive(Deserialize)]
pub struct RefProject {
    pub key: Option<String>,
}

impl From<RefBody> for BranchInput {
    fn from(r: RefBody) -> Self {
        let (repository_slug, project_key) = match r.repository {
            Some(repo) => (repo.slug, repo.project.and_then(|p| p.key)),
            None => (None, None),
        };
        BranchInput {
            id: r.id,
            repository_slug,
            project_key,
        }
    }
}

#[derive(Deserialize)]
pub struct ReviewerBody {
    pub user: ReviewerUser,
}

#[derive(Deserialize)]
pub struct ReviewerUser {
    pub name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrBody {
    pub version: Option<i64>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub from_ref: Option<RefBody>,
    pub to_ref: Option<RefBody>,
    pub reviewers: Option<Vec<ReviewerBody>>,
}

fn names(reviewers: Vec<ReviewerBody>) -> Vec<String> {
    reviewers.into_iter().map(|r| r.user.name).collect()
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, slug)): Path<RepoPath>,
    Json(body): Json<PrBody>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let input = NewPullRequestInput {
        title: body.title,
        description: body.description,
        from: body.from_ref.map(Into::into),
        to: body.to_ref.map(Into::into),
        reviewers: names(body.reviewers.unwrap_or_default()),
    };
    let v = host_pulls::create(&state.host(), &caller.principal(), &key, &slug, input).await?;
    Ok((StatusCode::CREATED, axum::Json(render(&state, &v))))
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<PrPath>,
    Json(body): Json<PrBody>,
) -> ApiResult<axum::Json<Value>> {
    let change = PullRequestChange {
        version: body.version,
        title: body.title,
        description: body.description,
        to: body.to_ref.map(Into::into),
        reviewers: body.reviewers.map(names),
    };
    let v = host_pulls::update(&state.host(), &caller.principal(), at(&path), change).await?;
    Ok(axum::Json(render(&state, &v)))
}

#[derive(Deserialize)]
pub struct VersionParam {
    pub version: Option<i64>,
}

/// Data Center's merge body; all optional, and `version` may come in the query instead.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct MergeBody {
    version: Option<i64>,
    strategy_id: Option<String>,
    message: Option<String>,
}

pub async fn merge(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<PrPath>,
    Query(q): Query<VersionParam>,
    body: axum::body::Bytes,
) -> ApiResult<axum::Json<Value>> {
    // Clients send no body, an empty one, or Data Center's JSON.
    let body: MergeBody = if body.iter().all(u8::is_ascii_whitespace) {
        MergeBody::default()
    } else {
        crate::web::json::parse(&body)?
    };
    let strategy = match body.strategy_id.as_deref() {
        Some(id) => MergeStrategy::parse(id)
            .map_err(|m| ApiError::bad_request(m).with_context("strategyId"))?,
        None => MergeStrategy::default(),
    };
    let how = MergeRequest {
        strategy,
        message: body.message.filter(|m| !m.trim().is_empty()),
    };
    let version = q.version.or(body.version);
    let v = host_pulls::merge(&state.host(), &caller.principal(), at(&path), version, how).await?;
    Ok(axum::Json(render(&state, &v)))
}

pub async fn decline(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<PrPath>,
    Query(q): Query<VersionParam>,
) -> ApiResult<axum::Json<Value>> {
    let v = host_pulls::decline(&state.host(), &caller.principal(), at(&path), q.version).await?;
    Ok(axum::Json(render(&state, &v)))
}
