//! Pull request pages: creating one, the review page, and its actions (approve, merge, decline,
//! comment). Each parses its form, calls `services::host::pulls`, renders from typed values.

use super::app_frames::{render_with, AppUi};
use super::{require_user, see_other, CsrfForm, Nav, OrPage, UiError, UiResult};
use crate::clock::display;
use crate::domain::connect_ui::Location;
use crate::domain::pull_request::display_id;
use crate::domain::pull_request::MergeStrategy;
use crate::domain::Action;
use crate::services::host::app_modules::Place;
use crate::services::host::pulls::{self as host_pulls, PrRef, ReviewStatus};
use crate::services::host::HostError;
use crate::store::{Participant, PullRequest, Repository};
use crate::web::auth::Caller;
use crate::web::confirm::{ask_first, confirmed, Ask};
use crate::web::extract::Path;
use crate::web::flash::see_other_saying;
use crate::web::page::{form_again, FormError};
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

/// The new pull request form (also what the repository page shows again with a mistake).
#[derive(Deserialize, Default, Clone)]
pub struct PrForm {
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub reviewers: String,
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
    /// The comment as typed when it came back with `error`.
    comment: String,
    error: Option<FormError>,
    code: super::pull_code_view::PrCode,
    strategies: &'static [(&'static str, &'static str)],
    /// What installed apps add: summary links and overview panels.
    apps: super::app_frames::AppUi,
    /// The build statuses of the source commit, newest first.
    builds: Vec<BuildView>,
    /// Its Code Insights reports, newest first.
    reports: Vec<ReportView>,
}

/// A Code Insights report as the pull request page shows it.
pub struct ReportView {
    pub title: String,
    /// `PASSED`, `FAILED`, `PENDING` or empty.
    pub result: String,
    pub reporter: String,
    pub link: Option<String>,
    pub annotations: i64,
}

/// A build status as the pull request page shows it.
pub struct BuildView {
    /// `SUCCESSFUL`, `FAILED`, `INPROGRESS` or `STOPPED` (the badge's class).
    pub state: &'static str,
    pub label: &'static str,
    pub name: String,
    pub url: String,
    pub description: String,
    pub when: String,
}

impl BuildView {
    fn of(s: &crate::store::commit_statuses::CommitStatus) -> Self {
        use crate::domain::build_status::BuildState::*;
        let state = s.state.0.cloud();
        Self {
            state,
            label: match s.state.0 {
                Successful => "Passed",
                Failed => "Failed",
                InProgress => "In progress",
                Stopped | Unknown => "Stopped",
            },
            name: s.name.clone().unwrap_or_else(|| s.status_key.clone()),
            url: s.url.clone(),
            description: s.description.clone().unwrap_or_default(),
            when: display(s.updated_at),
        }
    }
}

/// The merge strategies the page offers, by Data Center's ids, the default first.
const STRATEGIES: &[(&str, &str)] = &[
    ("no-ff", "Merge commit"),
    ("ff", "Fast-forward if possible"),
    ("ff-only", "Fast-forward only"),
    ("squash", "Squash"),
    ("squash-ff-only", "Squash, fast-forward only"),
];

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
    pull_request_page(&state, &caller, at, String::new(), None).await
}

async fn pull_request_page(
    state: &AppState,
    caller: &Caller,
    at: PrRef<'_>,
    comment: String,
    error: Option<FormError>,
) -> UiResult {
    let (host, who) = (state.host(), caller.principal());
    let (v, comments) = host_pulls::get_with_comments(&host, &who, at)
        .await
        .or_page(caller)?;
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
    let code = super::pull_code_view::PrCode::read(&host, &who, at).await;
    let apps = AppUi::on(
        state,
        caller,
        Place::PullRequest(&v),
        &[Location::PrSummaryActions, Location::PrSummaryInfo],
        &[Location::PrOverviewPanel],
    )
    .await;
    let builds = crate::services::host::commit_statuses::of_pull_request(&host, &v)
        .await
        .or_page(caller)?
        .iter()
        .map(BuildView::of)
        .collect();
    let reports = crate::services::host::code_insights::of_pull_request(&host, &v)
        .await
        .or_page(caller)?
        .into_iter()
        .map(|(r, annotations)| ReportView {
            title: r.title,
            result: r.result.unwrap_or_default(),
            reporter: r.reporter.unwrap_or_default(),
            link: r.link,
            annotations,
        })
        .collect();
    let page = PullRequestPage {
        reports,
        builds,
        apps,
        code,
        strategies: STRATEGIES,
        nav: Nav::of(caller),
        can_participate: who.can_repo(&v.repo, Action::ParticipateInRepo),
        can_merge: who.can_repo(&v.repo, Action::MergePullRequest),
        pr: PrView::of(&v.pr, &v.participants),
        repo: v.repo,
        comments,
        is_author,
        my_status,
        comment,
        error,
    };
    Ok(render_with(&page, &page.apps))
}

/// One field of a posted form.
fn field<'f>(fields: &'f [(String, String)], name: &str) -> Option<&'f str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

pub async fn pull_request_action(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, slug, number, action)): Path<(String, String, i64, String)>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> UiResult {
    require_user(&caller, "/")?;
    let page = format!("/projects/{key}/repos/{slug}/pull-requests/{number}");
    let at = PrRef {
        key: &key,
        slug: &slug,
        number,
    };
    let version = field(&fields, "version")
        .map(|v| {
            v.parse::<i64>()
                .map_err(|_| HostError::invalid("version", "version must be a whole number."))
        })
        .transpose();
    let (host, who) = (state.host(), caller.principal());
    let review = |status| host_pulls::set_review_status(&host, &who, at, status);
    let said = match action.as_str() {
        "approve" => review(ReviewStatus::Approved)
            .await
            .map(|_| "You approved this pull request."),
        "unapprove" => review(ReviewStatus::Unapproved)
            .await
            .map(|_| "Your approval was removed."),
        "merge" => {
            let strategy = field(&fields, "strategyId")
                .map(MergeStrategy::parse)
                .transpose()
                .map_err(|m| HostError::invalid("strategyId", m))
                .or_page(&caller)?
                .unwrap_or_default();
            let how = host_pulls::MergeRequest {
                strategy,
                message: None,
            };
            match host_pulls::merge(&host, &who, at, version.or_page(&caller)?, how).await {
                Ok(_) => Ok("Merged."),
                // A conflict or a refused fast-forward is said on the pull request's page.
                Err(e) => {
                    let again =
                        |error| pull_request_page(&state, &caller, at, String::new(), Some(error));
                    return form_again(e, &caller, again).await;
                }
            }
        }
        "decline" if !confirmed(&fields) => {
            let ask = Ask {
                question: format!("Decline pull request #{number}?"),
                consequence:
                    "It is closed without being merged; its reviewers and webhooks are told.",
                button: "Decline",
                action: &format!("{page}/decline"),
                back: &page,
            };
            return Ok(ask_first(&caller, &ask, &fields));
        }
        "decline" => host_pulls::decline(&host, &who, at, version.or_page(&caller)?)
            .await
            .map(|_| "Declined: the pull request is closed without being merged."),
        "comment" => {
            let text = field(&fields, "text").unwrap_or_default().to_string();
            match host_pulls::add_comment(&host, &who, at, Some(&text)).await {
                Ok(_) => return Ok(see_other(&page)),
                Err(e) => {
                    let again = |error| pull_request_page(&state, &caller, at, text, Some(error));
                    return form_again(e, &caller, again).await;
                }
            }
        }
        _ => return Err(UiError::no_such_action(&caller)),
    }
    .or_page(&caller)?;
    Ok(see_other_saying(&page, said))
}
