//! Pull request pages: creating one, the review page, and its actions (approve, merge, decline,
//! comment). Each parses its form, calls `services::host::pulls`, renders from typed values.

use super::{render, require_user, see_other, CsrfForm, Nav, OrPage, UiError, UiResult};
use crate::clock::display;
use crate::domain::pull_request::display_id;
use crate::domain::Action;
use crate::services::host::pulls::{
    self as host_pulls, BranchInput, NewPullRequestInput, PrRef, ReviewStatus,
};
use crate::store::{Participant, PullRequest, Repository};
use crate::web::auth::Caller;
use crate::web::extract::Path;
use crate::web::state::AppState;
use askama::Template;
use axum::extract::State;
use serde::Deserialize;

/// A pull request as the list and detail pages show it.
pub struct PrView {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub state: String,
    pub version: i64,
    pub from: String,
    pub to: String,
    pub author: String,
    pub created: String,
    pub reviewers: Vec<(String, String)>,
    pub participants: Vec<(String, String)>,
}

impl PrView {
    pub(super) fn of(pr: &PullRequest, people: &[Participant]) -> Self {
        let with_role = |role: &str| {
            people
                .iter()
                .filter(|p| p.role == role)
                .map(|p| (p.display_name.clone(), p.status.clone()))
                .collect()
        };
        Self {
            id: pr.number,
            title: pr.title.clone(),
            description: pr.description.clone(),
            state: pr.state.as_str().to_string(),
            version: pr.version,
            from: display_id(&pr.from_ref).to_string(),
            to: display_id(&pr.to_ref).to_string(),
            author: pr.author_display_name.clone(),
            created: display(pr.created_at),
            reviewers: with_role("REVIEWER"),
            participants: with_role("PARTICIPANT"),
        }
    }
}

#[derive(Deserialize)]
pub struct PrForm {
    title: String,
    #[serde(default)]
    description: String,
    from: String,
    to: String,
    #[serde(default)]
    reviewers: String,
}

pub async fn create_pull_request(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, slug)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<PrForm>,
) -> UiResult {
    let input = NewPullRequestInput {
        title: Some(f.title),
        description: Some(f.description),
        from: Some(BranchInput::named(f.from)),
        to: Some(BranchInput::named(f.to)),
        reviewers: f
            .reviewers
            .split([',', ' '])
            .filter(|r| !r.is_empty())
            .map(str::to_string)
            .collect(),
    };
    let v = host_pulls::create(&state.host(), &caller.principal(), &key, &slug, input)
        .await
        .or_page(&caller)?;
    Ok(see_other(&format!(
        "/projects/{key}/repos/{slug}/pull-requests/{}",
        v.pr.number
    )))
}

#[derive(Template)]
#[template(path = "pull_request.html")]
struct PullRequestPage {
    nav: Nav,
    repo: Repository,
    pr: PrView,
    comments: Vec<(String, String, String)>,
    can_participate: bool,
    can_merge: bool,
    is_author: bool,
    my_status: String,
}

pub async fn pull_request(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, slug, number)): Path<(String, String, i64)>,
) -> UiResult {
    let at = PrRef {
        key: &key,
        slug: &slug,
        number,
    };
    let (host, who) = (state.host(), caller.principal());
    let (v, comments) = host_pulls::get_with_comments(&host, &who, at)
        .await
        .or_page(&caller)?;
    let comments = comments
        .into_iter()
        .map(|c| (c.author_display_name, display(c.created_at), c.text))
        .collect();
    let me = caller.user.as_ref().map(|u| u.id);
    let is_author = me == Some(v.pr.author_id);
    let my_status = v
        .participants
        .iter()
        .find(|p| Some(p.user_id) == me)
        .map_or("UNAPPROVED", |p| p.status.as_str())
        .to_string();
    Ok(render(&PullRequestPage {
        nav: Nav::of(&caller),
        can_participate: who.can_repo(&v.repo, Action::ParticipateInRepo),
        can_merge: who.can_repo(&v.repo, Action::MergePullRequest),
        pr: PrView::of(&v.pr, &v.participants),
        repo: v.repo,
        comments,
        is_author,
        my_status,
    }))
}

#[derive(Deserialize)]
pub struct PrActionForm {
    version: Option<i64>,
    text: Option<String>,
}

pub async fn pull_request_action(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, slug, number, action)): Path<(String, String, i64, String)>,
    CsrfForm(f): CsrfForm<PrActionForm>,
) -> UiResult {
    require_user(&caller, "/")?;
    let at = PrRef {
        key: &key,
        slug: &slug,
        number,
    };
    let (host, who) = (state.host(), caller.principal());
    let review = |status| host_pulls::set_review_status(&host, &who, at, status);
    let result = match action.as_str() {
        "approve" => review(ReviewStatus::Approved).await.map(|_| ()),
        "unapprove" => review(ReviewStatus::Unapproved).await.map(|_| ()),
        "merge" => host_pulls::merge(&host, &who, at, f.version)
            .await
            .map(|_| ()),
        "decline" => host_pulls::decline(&host, &who, at, f.version)
            .await
            .map(|_| ()),
        "comment" => host_pulls::add_comment(&host, &who, at, f.text.as_deref())
            .await
            .map(|_| ()),
        _ => return Err(UiError::no_such_action(&caller)),
    };
    result.or_page(&caller)?;
    Ok(see_other(&format!(
        "/projects/{key}/repos/{slug}/pull-requests/{number}"
    )))
}
