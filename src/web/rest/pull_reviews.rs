//! Reviewing a pull request: approvals (`/approve`, `/participants/{user}`) and comments.

use super::repr;
use crate::domain::names::bounded_text;
use crate::domain::pull_request::{check_change, PrRuleError};
use crate::domain::Action;
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

use super::pulls::{load, pr_state, PrPath, MAX_TEXT};

async fn set_status(
    state: &AppState,
    caller: &Caller,
    path: &PrPath,
    status: &str,
) -> ApiResult<Value> {
    let (_, pr) = load(state, caller, path, Action::ParticipateInRepo).await?;
    let me = caller.user()?;
    if me.id == pr.author_id {
        return Err(PrRuleError::AuthorIsReviewer.into());
    }
    check_change(pr_state(&pr), pr.version, None)?;
    let participant = state
        .store
        .set_review_status(pr.id, me.id, status, &state.emit(me))
        .await?;
    Ok(repr::participant(&state.base_url, &participant))
}

/// Legacy `POST .../approve`.
pub async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<PrPath>,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(
        set_status(&state, &caller, &path, "APPROVED").await?,
    ))
}

/// Legacy `DELETE .../approve`.
pub async fn unapprove(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<PrPath>,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(
        set_status(&state, &caller, &path, "UNAPPROVED").await?,
    ))
}

#[derive(Deserialize)]
pub struct StatusBody {
    pub status: Option<String>,
    pub approved: Option<bool>,
}

/// `PUT .../participants/{userSlug}`: the caller sets their own review status.
pub async fn set_participant_status(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, slug, number, user_slug)): Path<(String, String, i64, String)>,
    Json(body): Json<StatusBody>,
) -> ApiResult<axum::Json<Value>> {
    let me = caller.user()?;
    if !me.slug.eq_ignore_ascii_case(&user_slug) {
        return Err(ApiError::forbidden(
            "You can only change your own review status.",
        ));
    }
    let status = match (body.status.as_deref(), body.approved) {
        (Some(s @ ("APPROVED" | "UNAPPROVED" | "NEEDS_WORK")), _) => s,
        (Some(other), _) => {
            return Err(ApiError::bad_request(format!(
                "'{other}' is not a review status; use APPROVED, UNAPPROVED or NEEDS_WORK."
            ))
            .with_context("status"))
        }
        (None, Some(true)) => "APPROVED",
        (None, Some(false)) => "UNAPPROVED",
        (None, None) => {
            return Err(ApiError::bad_request("status is required.").with_context("status"))
        }
    };
    Ok(axum::Json(
        set_status(&state, &caller, &(key, slug, number), status).await?,
    ))
}

pub async fn list_comments(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<PrPath>,
    Query(q): Query<PageParams>,
) -> ApiResult<axum::Json<Value>> {
    let req = q.request()?;
    let (_, pr) = load(&state, &caller, &path, Action::ViewRepo).await?;
    let me = caller.user.as_ref().map(|u| u.id);
    let values: Vec<Value> = state
        .store
        .comments(pr.id)
        .await?
        .iter()
        .map(|c| repr::comment(&state.base_url, c, Some(c.author_id) == me))
        .collect();
    Ok(axum::Json(page(req, values)))
}

#[derive(Deserialize)]
pub struct CommentBody {
    pub text: Option<String>,
}

pub async fn add_comment(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<PrPath>,
    Json(body): Json<CommentBody>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let (_, pr) = load(&state, &caller, &path, Action::ParticipateInRepo).await?;
    let text = body.text.as_deref().map(str::trim).unwrap_or("");
    if text.is_empty() {
        return Err(ApiError::bad_request("A comment needs text.").with_context("text"));
    }
    let text = bounded_text("text", text, MAX_TEXT)?;
    let comment = state
        .store
        .add_comment(pr.id, caller.user()?.id, &text, &state.emit(caller.user()?))
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(repr::comment(&state.base_url, &comment, true)),
    ))
}

#[derive(Deserialize)]
pub struct CommentVersion {
    pub version: Option<i64>,
}

/// `DELETE .../comments/{commentId}?version=N`: by its author or a repository administrator.
pub async fn delete_comment(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, slug, number, comment_id)): Path<(String, String, i64, i64)>,
    Query(q): Query<CommentVersion>,
) -> ApiResult<StatusCode> {
    let (repo, pr) = load(
        &state,
        &caller,
        &(key, slug, number),
        Action::ParticipateInRepo,
    )
    .await?;
    let version = q.version.ok_or_else(|| {
        ApiError::bad_request("version is required: the version of the comment you saw.")
            .with_context("version")
    })?;
    let comment = state
        .store
        .comment(pr.id, comment_id)
        .await?
        .ok_or_else(|| no_such_comment(comment_id))?;
    let me = caller.user()?;
    if comment.author_id != me.id && !caller.can_repo(&repo, Action::AdminRepo) {
        return Err(ApiError::forbidden(
            "Only the comment's author or a repository administrator can delete it.",
        ));
    }
    match state
        .store
        .delete_comment(pr.id, comment_id, version, &state.emit(me))
        .await
    {
        Ok(true) => Ok(StatusCode::NO_CONTENT),
        Ok(false) => Err(ApiError::conflict(
            "com.atlassian.bitbucket.comment.CommentOutOfDateException",
            format!(
                "You are attempting to modify a comment based on out-of-date information: the current version is {}, you supplied {version}.",
                comment.version
            ),
        )),
        Err(crate::store::StoreError::NotFound) => Err(no_such_comment(comment_id)),
        Err(e) => Err(e.into()),
    }
}

fn no_such_comment(id: i64) -> ApiError {
    ApiError::not_found(
        "com.atlassian.bitbucket.comment.NoSuchCommentException",
        format!("Comment {id} does not exist on this pull request."),
    )
}
