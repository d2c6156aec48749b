//! The repository page: its pull requests by state, and the form that creates one (which comes
//! back here, with its mistake, when the host refuses it).

use super::app_frames::{render_with, AppUi};
use super::pulls::{PrForm, PrView};
use super::{see_other, CsrfForm, Nav, OrPage, UiResult};
use crate::domain::connect_ui::Location;
use crate::domain::pull_request::display_id;
use crate::domain::Action;
use crate::services::host::app_modules::Place;
use crate::services::host::pulls::{self as host_pulls, BranchInput, NewPullRequestInput};
use crate::store::Repository;
use crate::web::auth::Caller;
use crate::web::extract::{Path, Query};
use crate::web::page::{form_again, FormError};
use crate::web::state::AppState;
use askama::Template;
use axum::extract::State;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "repository.html")]
struct RepositoryPage {
    nav: Nav,
    repo: Repository,
    default_branch: String,
    prs: Vec<PrView>,
    tabs: Vec<(&'static str, &'static str, bool)>,
    can_participate: bool,
    can_admin: bool,
    /// (link, notice) for webhooks Junction paused or disabled.
    hook_troubles: Vec<(String, String)>,
    /// The new pull request form as typed and its mistake, if any.
    pr_form: PrForm,
    error: Option<FormError>,
    code: super::code::RepoCode,
    /// What installed apps add: navigation and action links, settings pages, panels.
    apps: super::app_frames::AppUi,
}

#[derive(Deserialize)]
pub struct StateParam {
    state: Option<String>,
}

pub async fn repository(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, slug)): Path<(String, String)>,
    Query(q): Query<StateParam>,
) -> UiResult {
    let wanted = q
        .state
        .unwrap_or_else(|| "OPEN".into())
        .to_ascii_uppercase();
    repository_page(&state, &caller, (&key, &slug), &wanted, None, None).await
}

/// The repository page listing pull requests in state `wanted`; `pr_form` is the new pull
/// request form as typed when it comes back with `error`.
pub(super) async fn repository_page(
    state: &AppState,
    caller: &Caller,
    (key, slug): (&str, &str),
    wanted: &str,
    pr_form: Option<PrForm>,
    error: Option<FormError>,
) -> UiResult {
    let filter = match wanted {
        "ALL" => None,
        s => Some(
            s.parse::<crate::domain::pull_request::PrState>()
                .map_err(|m| crate::web::error::ApiError::bad_request(m).with_context("state"))
                .or_page(caller)?,
        ),
    };
    let (repo, listed) =
        crate::services::host::pulls::list(&state.host(), &caller.principal(), key, slug, filter)
            .await
            .or_page(caller)?;
    let prs = listed
        .iter()
        .map(|(pr, people)| PrView::of(pr, people))
        .collect();
    let can_participate = caller.can_repo(&repo, Action::ParticipateInRepo);
    let can_admin = caller.can_repo(&repo, Action::AdminRepo);
    let hook_troubles = if can_admin {
        super::webhooks::troubles(state, &repo)
            .await
            .map_err(crate::web::error::ApiError::from)
            .or_page(caller)?
    } else {
        Vec::new()
    };
    let default_branch = display_id(&repo.default_branch).to_string();
    let pr_form = pr_form.unwrap_or_else(|| PrForm {
        to: default_branch.clone(),
        ..Default::default()
    });
    let tabs = [
        ("OPEN", "Open"),
        ("MERGED", "Merged"),
        ("DECLINED", "Declined"),
        ("ALL", "All"),
    ]
    .into_iter()
    .map(|(s, label)| (s, label, s == wanted))
    .collect();
    let code = super::code::RepoCode::read(&state.host(), &state.base_url, &repo).await;
    let apps = AppUi::on(
        state,
        caller,
        Place::Repository(&repo),
        &[Location::RepoNavigation, Location::RepoActions],
        &[Location::RepoOverviewPanel],
    )
    .await;
    let page = RepositoryPage {
        apps,
        code,
        nav: Nav::of(caller),
        repo,
        default_branch,
        prs,
        tabs,
        can_participate,
        can_admin,
        hook_troubles,
        pr_form,
        error,
    };
    Ok(render_with(&page, &page.apps))
}

pub async fn create_pull_request(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, slug)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<PrForm>,
) -> UiResult {
    let input = NewPullRequestInput {
        title: Some(f.title.clone()),
        description: Some(f.description.clone()),
        from: Some(BranchInput::named(f.from.clone())),
        to: Some(BranchInput::named(f.to.clone())),
        reviewers: f
            .reviewers
            .split([',', ' '])
            .filter(|r| !r.is_empty())
            .map(str::to_string)
            .collect(),
    };
    match host_pulls::create(&state.host(), &caller.principal(), &key, &slug, input).await {
        Ok(v) => Ok(see_other(&format!(
            "/projects/{key}/repos/{slug}/pull-requests/{}",
            v.pr.number
        ))),
        Err(e) => {
            let again = |error| {
                repository_page(&state, &caller, (&key, &slug), "OPEN", Some(f), Some(error))
            };
            form_again(e, &caller, again).await
        }
    }
}
