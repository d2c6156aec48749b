//! Pull requests: `/rest/api/1.0/projects/{key}/repos/{slug}/pull-requests[...]`.

use super::repos;
use super::repr;
use crate::domain::names::bounded_text;
use crate::domain::pull_request::{branch_ref, check_change, valid_ref, PrRuleError, PrState};
use crate::domain::{self, authorize, Action, Ceiling, Subject};
use crate::store::{NewPullRequest, PullRequest, Repository, StoreError};
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

const MAX_TITLE: usize = 255;
pub(super) const MAX_TEXT: usize = 32_768;

type RepoPath = (String, String);
pub(super) type PrPath = (String, String, i64);

fn no_such_pr(number: i64) -> ApiError {
    ApiError::not_found(
        "com.atlassian.bitbucket.pull.NoSuchPullRequestException",
        format!("Pull request {number} does not exist in this repository."),
    )
}

pub(super) async fn load(
    state: &AppState,
    caller: &Caller,
    (key, slug, number): &PrPath,
    action: Action,
) -> ApiResult<(Repository, PullRequest)> {
    let repo = repos::load(state, caller, key, slug, Action::ViewRepo).await?;
    let pr = state
        .store
        .find_pull_request(repo.id, *number)
        .await?
        .ok_or_else(|| no_such_pr(*number))?;
    caller.check_repo(&repo, action)?;
    Ok((repo, pr))
}

async fn render(state: &AppState, repo: &Repository, pr: &PullRequest) -> ApiResult<Value> {
    let participants = state.store.participants(pr.id).await?;
    Ok(repr::pull_request(
        &state.base_url,
        repo,
        pr,
        &participants.iter().collect::<Vec<_>>(),
    ))
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
    let repo = repos::load(&state, &caller, &key, &slug, Action::ViewRepo).await?;
    let prs = state
        .store
        .list_pull_requests(repo.id, wanted.map(PrState::as_str))
        .await?;
    let participants = state.store.participants_of_repo(repo.id).await?;
    let values: Vec<Value> = prs
        .iter()
        .map(|pr| {
            let mine: Vec<_> = participants.iter().filter(|p| p.pr_id == pr.id).collect();
            repr::pull_request(&state.base_url, &repo, pr, &mine)
        })
        .collect();
    Ok(axum::Json(page(req, values)))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<PrPath>,
) -> ApiResult<axum::Json<Value>> {
    let (repo, pr) = load(&state, &caller, &path, Action::ViewRepo).await?;
    Ok(axum::Json(render(&state, &repo, &pr).await?))
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

/// A ref of this repository. Pull requests between repositories come with forks.
fn parse_ref(field: &'static str, r: Option<&RefBody>, repo: &Repository) -> ApiResult<String> {
    let r = r.ok_or_else(|| {
        ApiError::bad_request(format!("{field} is required.")).with_context(field)
    })?;
    if let Some(other) = &r.repository {
        let same_slug = other
            .slug
            .as_deref()
            .is_none_or(|s| s.eq_ignore_ascii_case(&repo.slug));
        let same_project = other
            .project
            .as_ref()
            .and_then(|p| p.key.as_deref())
            .is_none_or(|k| k.eq_ignore_ascii_case(&repo.project_key));
        if !(same_slug && same_project) {
            return Err(ApiError::bad_request(format!(
                "{field} must be a branch of {}/{}: pull requests between repositories are not supported yet.",
                repo.project_key, repo.slug
            ))
            .with_context(field));
        }
    }
    let id = branch_ref(r.id.as_deref().unwrap_or(""));
    if !valid_ref(&id) {
        return Err(ApiError::bad_request(format!(
            "{field}.id must name a branch, like refs/heads/main."
        ))
        .with_context(field));
    }
    Ok(id)
}

/// Resolves reviewers: each must be an active user who can read the repository, and not the author.
async fn resolve_reviewers(
    state: &AppState,
    repo: &Repository,
    author: i64,
    reviewers: &[ReviewerBody],
) -> ApiResult<Vec<i64>> {
    let mut ids = Vec::new();
    for r in reviewers {
        let bad = |why: &str| {
            ApiError::bad_request(format!("{} cannot be a reviewer: {why}", r.user.name))
                .with_context("reviewers")
        };
        let user = state
            .store
            .find_account(&r.user.name.to_ascii_lowercase())
            .await?;
        let user = user
            .filter(|u| u.kind == "user" && u.active)
            .ok_or_else(|| bad("there is no active user by that name."))?;
        if user.id == author {
            return Err(PrRuleError::AuthorIsReviewer.into());
        }
        let grants = state.store.grants_of_user(user.id).await?;
        let subject = Subject {
            user_id: Some(user.id),
            global: domain::global_of(&grants),
            ceiling: Ceiling::Full,
        };
        let facts = domain::facts_for(
            &grants,
            None,
            repo.project_id,
            Some(repo.id),
            repo.readable_by_anyone(),
            false,
        );
        if authorize(&subject, Action::ParticipateInRepo, Some(&facts)).is_err() {
            return Err(bad("they cannot read this repository."));
        }
        if !ids.contains(&user.id) {
            ids.push(user.id);
        }
    }
    Ok(ids)
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, slug)): Path<RepoPath>,
    Json(body): Json<PrBody>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let repo = repos::load(&state, &caller, &key, &slug, Action::ParticipateInRepo).await?;
    let author = caller.user()?.id;
    let title = body.title.as_deref().map(str::trim).unwrap_or("");
    if title.is_empty() {
        return Err(ApiError::bad_request("A pull request needs a title.").with_context("title"));
    }
    let title = bounded_text("title", title, MAX_TITLE)?;
    let description = bounded_text(
        "description",
        body.description.as_deref().unwrap_or(""),
        MAX_TEXT,
    )?;
    let from = parse_ref("fromRef", body.from_ref.as_ref(), &repo)?;
    let to = parse_ref("toRef", body.to_ref.as_ref(), &repo)?;
    if from == to {
        return Err(PrRuleError::SameBranch.into());
    }
    let reviewers = resolve_reviewers(
        &state,
        &repo,
        author,
        body.reviewers.as_deref().unwrap_or(&[]),
    )
    .await?;
    let new = NewPullRequest {
        repo_id: repo.id,
        title: &title,
        description: &description,
        from_ref: &from,
        to_ref: &to,
        author_id: author,
        reviewer_ids: &reviewers,
    };
    let pr = match state
        .store
        .create_pull_request(&new, &state.emit(caller.user()?))
        .await
    {
        Err(StoreError::Duplicate) => {
            return Err(ApiError::conflict(
                "com.atlassian.bitbucket.pull.DuplicatePullRequestException",
                "Only one pull request may be open for a given source and target branch.",
            ))
        }
        other => other?,
    };
    Ok((
        StatusCode::CREATED,
        axum::Json(render(&state, &repo, &pr).await?),
    ))
}

/// Applies a conditional change; if it lost a race, re-reads to report why.
async fn conflict_after_race(state: &AppState, pr: &PullRequest, given: i64) -> ApiError {
    match state.store.pull_request_by_id(pr.id).await {
        Ok(now) => match check_change(
            now.state.parse().unwrap_or(PrState::Open),
            now.version,
            Some(given),
        ) {
            Err(e) => e.into(),
            Ok(()) => PrRuleError::OutOfDate {
                current: now.version,
                given,
            }
            .into(),
        },
        Err(e) => e.into(),
    }
}

pub(super) fn pr_state(pr: &PullRequest) -> PrState {
    pr.state.parse().unwrap_or(PrState::Open)
}

/// The author may edit and decline their own pull request; others need write permission.
fn check_author_or_writer(caller: &Caller, repo: &Repository, pr: &PullRequest) -> ApiResult<()> {
    if caller.user.as_ref().is_some_and(|u| u.id == pr.author_id) {
        return Ok(());
    }
    caller.check_repo(repo, Action::WriteRepo)
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<PrPath>,
    Json(body): Json<PrBody>,
) -> ApiResult<axum::Json<Value>> {
    let (repo, pr) = load(&state, &caller, &path, Action::ParticipateInRepo).await?;
    check_author_or_writer(&caller, &repo, &pr)?;
    let version = body.version.ok_or_else(|| {
        ApiError::bad_request("version is required to update a pull request.")
            .with_context("version")
    })?;
    check_change(pr_state(&pr), pr.version, Some(version))?;
    let title = match body.title.as_deref().map(str::trim) {
        Some("") => {
            return Err(ApiError::bad_request("A pull request needs a title.").with_context("title"))
        }
        Some(t) => bounded_text("title", t, MAX_TITLE)?,
        None => pr.title.clone(),
    };
    let description = match body.description.as_deref() {
        Some(d) => bounded_text("description", d, MAX_TEXT)?,
        None => pr.description.clone(),
    };
    let to = match body.to_ref.as_ref() {
        Some(r) => parse_ref("toRef", Some(r), &repo)?,
        None => pr.to_ref.clone(),
    };
    if to == pr.from_ref {
        return Err(PrRuleError::SameBranch.into());
    }
    let reviewers = match body.reviewers.as_deref() {
        Some(r) => Some(resolve_reviewers(&state, &repo, pr.author_id, r).await?),
        None => None,
    };
    if !state
        .store
        .update_pull_request(
            pr.id,
            version,
            &crate::store::PullRequestEdit {
                title: &title,
                description: &description,
                to_ref: &to,
                reviewers: reviewers.as_deref(),
            },
            &state.emit(caller.user()?),
        )
        .await?
    {
        return Err(conflict_after_race(&state, &pr, version).await);
    }
    let pr = state.store.pull_request_by_id(pr.id).await?;
    Ok(axum::Json(render(&state, &repo, &pr).await?))
}

#[derive(Deserialize)]
pub struct VersionParam {
    pub version: Option<i64>,
}

async fn close(
    state: &AppState,
    caller: &Caller,
    path: &PrPath,
    version: Option<i64>,
    target: PrState,
) -> ApiResult<Value> {
    let (repo, pr) = load(state, caller, path, Action::ParticipateInRepo).await?;
    match target {
        PrState::Merged => caller.check_repo(&repo, Action::WriteRepo)?,
        _ => check_author_or_writer(caller, &repo, &pr)?,
    }
    check_change(pr_state(&pr), pr.version, version)?;
    // Without `version` the change applies to the state just read, still atomically.
    let expected = version.unwrap_or(pr.version);
    if !state
        .store
        .close_pull_request(
            pr.id,
            expected,
            target.as_str(),
            &state.emit(caller.user()?),
        )
        .await?
    {
        return Err(conflict_after_race(state, &pr, expected).await);
    }
    let pr = state.store.pull_request_by_id(pr.id).await?;
    render(state, &repo, &pr).await
}

pub async fn merge(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<PrPath>,
    Query(q): Query<VersionParam>,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(
        close(&state, &caller, &path, q.version, PrState::Merged).await?,
    ))
}

pub async fn decline(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<PrPath>,
    Query(q): Query<VersionParam>,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(
        close(&state, &caller, &path, q.version, PrState::Declined).await?,
    ))
}
