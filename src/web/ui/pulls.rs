//! Pull request pages: creating one, the review page, and its actions (approve, merge, decline, comment).

use super::{render, require_user, see_other, CsrfForm, Nav, OrPage, UiError, UiResult};
use crate::clock::display;
use crate::domain::pull_request::display_id;
use crate::domain::Action;
use crate::store::Repository;
use crate::web::auth::Caller;
use crate::web::extract::{Path, Query};
use crate::web::json::Json;
use crate::web::rest::{pull_reviews, pulls, repos};
use crate::web::state::AppState;
use askama::Template;
use axum::extract::State;
use serde::Deserialize;
use serde_json::Value;

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
    pub(super) fn from_json(v: &Value) -> Self {
        let s = |v: &Value| v.as_str().unwrap_or("").to_string();
        let people = |list: &Value| {
            list.as_array()
                .map(|a| {
                    a.iter()
                        .map(|p| (s(&p["user"]["displayName"]), s(&p["status"])))
                        .collect()
                })
                .unwrap_or_default()
        };
        Self {
            id: v["id"].as_i64().unwrap_or(0),
            title: s(&v["title"]),
            description: s(&v["description"]),
            state: s(&v["state"]),
            version: v["version"].as_i64().unwrap_or(0),
            from: display_id(v["fromRef"]["id"].as_str().unwrap_or("")).to_string(),
            to: display_id(v["toRef"]["id"].as_str().unwrap_or("")).to_string(),
            author: s(&v["author"]["user"]["displayName"]),
            created: display(v["createdDate"].as_i64().unwrap_or(0)),
            reviewers: people(&v["reviewers"]),
            participants: people(&v["participants"]),
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
    let branch = |id: String| pulls::RefBody {
        id: Some(id),
        repository: None,
    };
    let reviewers = f
        .reviewers
        .split([',', ' '])
        .filter(|r| !r.is_empty())
        .map(|r| pulls::ReviewerBody {
            user: pulls::ReviewerUser {
                name: r.to_string(),
            },
        })
        .collect();
    let body = pulls::PrBody {
        version: None,
        title: Some(f.title),
        description: Some(f.description),
        from_ref: Some(branch(f.from)),
        to_ref: Some(branch(f.to)),
        reviewers: Some(reviewers),
    };
    let (_, axum::Json(pr)) = pulls::create(
        State(state),
        caller.clone(),
        Path((key.clone(), slug.clone())),
        Json(body),
    )
    .await
    .or_page(&caller)?;
    Ok(see_other(&format!(
        "/projects/{key}/repos/{slug}/pull-requests/{}",
        pr["id"]
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
    Path(path): Path<(String, String, i64)>,
) -> UiResult {
    let (key, slug, _) = path.clone();
    let repo = repos::load(&state, &caller, &key, &slug, Action::ViewRepo)
        .await
        .or_page(&caller)?;
    let axum::Json(v) = pulls::get(State(state.clone()), caller.clone(), Path(path.clone()))
        .await
        .or_page(&caller)?;
    let page = crate::web::paging::PageParams {
        start: Some(0),
        limit: Some(1000),
    };
    let axum::Json(c) =
        pull_reviews::list_comments(State(state), caller.clone(), Path(path), Query(page))
            .await
            .or_page(&caller)?;
    let comments = c["values"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| {
                    let author = c["author"]["displayName"]
                        .as_str()
                        .unwrap_or("")
                        .to_string();
                    (
                        author,
                        display(c["createdDate"].as_i64().unwrap_or(0)),
                        c["text"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let me = caller.user.as_ref().map(|u| u.slug.as_str()).unwrap_or("");
    let is_author = v["author"]["user"]["name"] == me;
    let my_status = v["reviewers"]
        .as_array()
        .into_iter()
        .chain(v["participants"].as_array())
        .flatten()
        .find(|p| p["user"]["name"] == me)
        .and_then(|p| p["status"].as_str())
        .unwrap_or("UNAPPROVED")
        .to_string();
    let pr = PrView::from_json(&v);
    Ok(render(&PullRequestPage {
        nav: Nav::of(&caller),
        can_participate: caller.can_repo(&repo, Action::ParticipateInRepo),
        can_merge: caller.can_repo(&repo, Action::WriteRepo),
        repo,
        pr,
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
    Path((key, slug, id, action)): Path<(String, String, i64, String)>,
    CsrfForm(f): CsrfForm<PrActionForm>,
) -> UiResult {
    require_user(&caller, "/")?;
    let path = (key.clone(), slug.clone(), id);
    let s = State(state);
    let c = caller.clone();
    let result = match action.as_str() {
        "approve" => pull_reviews::approve(s, c, Path(path)).await.map(|_| ()),
        "unapprove" => pull_reviews::unapprove(s, c, Path(path)).await.map(|_| ()),
        "merge" => pulls::merge(
            s,
            c,
            Path(path),
            Query(pulls::VersionParam { version: f.version }),
        )
        .await
        .map(|_| ()),
        "decline" => pulls::decline(
            s,
            c,
            Path(path),
            Query(pulls::VersionParam { version: f.version }),
        )
        .await
        .map(|_| ()),
        "comment" => pull_reviews::add_comment(
            s,
            c,
            Path(path),
            Json(pull_reviews::CommentBody { text: f.text }),
        )
        .await
        .map(|_| ()),
        _ => return Err(UiError::no_such_action(&caller)),
    };
    result.or_page(&caller)?;
    Ok(see_other(&format!(
        "/projects/{key}/repos/{slug}/pull-requests/{id}"
    )))
}
