//! Reviewing a pull request over REST: approvals (`/approve`, `/participants/{user}`) and
//! comments. Parses, calls `services::host::pulls`, renders the Data Center shape.

use super::pulls::{at, PrPath};
use super::repr;
use crate::services::host::pulls::{self as host_pulls, ReviewStatus};
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

async fn set_status(
    state: &AppState,
    caller: &Caller,
    path: &PrPath,
    status: ReviewStatus,
) -> ApiResult<axum::Json<Value>> {
    let p =
        host_pulls::set_review_status(&state.host(), &caller.principal(), at(path), status).await?;
    Ok(axum::Json(repr::participant(&state.base_url, &p)))
}

/// Legacy `POST .../approve`.
pub async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<PrPath>,
) -> ApiResult<axum::Json<Value>> {
    set_status(&state, &caller, &path, ReviewStatus::Approved).await
}

/// Legacy `DELETE .../approve`.
pub async fn unapprove(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<PrPath>,
) -> ApiResult<axum::Json<Value>> {
    set_status(&state, &caller, &path, ReviewStatus::Unapproved).await
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
    let path = (key, slug, number);
    // Said before the body is judged.
    host_pulls::check_own_review(&caller.principal(), at(&path), &user_slug)?;
    let status = match (body.status.as_deref(), body.approved) {
        (Some("APPROVED"), _) | (None, Some(true)) => ReviewStatus::Approved,
        (Some("UNAPPROVED"), _) | (None, Some(false)) => ReviewStatus::Unapproved,
        (Some("NEEDS_WORK"), _) => ReviewStatus::NeedsWork,
        (Some(other), _) => {
            return Err(ApiError::bad_request(format!(
                "'{other}' is not a review status; use APPROVED, UNAPPROVED or NEEDS_WORK."
            ))
            .with_context("status"))
        }
        (None, None) => {
            return Err(ApiError::bad_request("status is required.").with_context("status"))
        }
    };
    set_status(&state, &caller, &path, status).await
}

pub async fn list_comments(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<PrPath>,
    Query(q): Query<PageParams>,
) -> ApiResult<axum::Json<Value>> {
    let req = q.request()?;
    let comments = host_pulls::comments(&state.host(), &caller.principal(), at(&path)).await?;
    let me = caller.user.as_ref().map(|u| u.id);
    let values: Vec<Value> = comments
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
    let comment = host_pulls::add_comment(
        &state.host(),
        &caller.principal(),
        at(&path),
        body.text.as_deref(),
    )
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
    let path = (key, slug, number);
    host_pulls::delete_comment(
        &state.host(),
        &caller.principal(),
        at(&path),
        comment_id,
        q.version,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
