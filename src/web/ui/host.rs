//! Pages for the host: dashboard, project, repository, pull request, and their forms.

use super::{render, see_other, CsrfForm, Nav, OrPage, UiResult};
use crate::domain::Action;
use crate::services::host::repositories::Needed;
use crate::services::host::{projects as host_projects, repositories as host_repos};
use crate::store::{PageRequest, Project, RepoFilter, Repository};
use crate::web::auth::Caller;
use crate::web::extract::{Path, Query};
use crate::web::page::{form_again, FormError};
use crate::web::paging::{paged, window, Paged};
use crate::web::state::AppState;
use askama::Template;
use axum::extract::State;
use serde::Deserialize;

/// Rows per list on the pages.
const PAGE_ROWS: i64 = 50;

/// Links to the previous and next rows of a list on a page (`?{param}=start`).
#[derive(Clone, Copy)]
pub struct Pager {
    pub param: &'static str,
    pub prev: Option<i64>,
    pub next: Option<i64>,
}

/// The rows a list on a page asks for: `PAGE_ROWS` from `start`.
fn page_request(start: Option<i64>) -> PageRequest {
    PageRequest {
        start: start.unwrap_or(0).max(0),
        limit: PAGE_ROWS,
    }
}

fn pager<T>(page: &Paged<T>, param: &'static str) -> Pager {
    Pager {
        param,
        prev: page.prev_start(),
        next: page.next_start(),
    }
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    nav: Nav,
    /// General pages of the apps the person is shown.
    app_pages: Vec<super::app_frames::AppLink>,
    projects: Vec<Project>,
    projects_pager: Pager,
    repos: Vec<Repository>,
    repos_pager: Pager,
    can_create: bool,
    /// The project form as typed (empty at first) and its mistake, if any.
    form: ProjectForm,
    error: Option<FormError>,
}

#[derive(Deserialize, Default)]
pub struct DashboardQuery {
    projects: Option<i64>,
    repos: Option<i64>,
}

pub async fn dashboard(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<DashboardQuery>,
) -> UiResult {
    dashboard_page(&state, &caller, q, ProjectForm::default(), None).await
}

async fn dashboard_page(
    state: &AppState,
    caller: &Caller,
    q: DashboardQuery,
    form: ProjectForm,
    error: Option<FormError>,
) -> UiResult {
    let (host, who) = (state.host(), caller.principal());
    let (pr, rr) = (page_request(q.projects), page_request(q.repos));
    let projects = host_projects::list(&host, &who, None, window(pr))
        .await
        .or_page(caller)?;
    let projects = paged(pr, projects);
    let all = RepoFilter::default();
    let repos = host_repos::list(&host, &who, Needed::Read, &all, window(rr))
        .await
        .or_page(caller)?;
    let repos = paged(rr, repos);
    let can_create = caller.check(Action::CreateProject).is_ok();
    let general = [crate::domain::connect_ui::ModuleType::GeneralPage];
    let app_pages = super::app_frames::AppUi::account_links(state, caller, &general).await;
    Ok(render(&Dashboard {
        app_pages,
        nav: Nav::of(caller),
        projects_pager: pager(&projects, "projects"),
        projects: projects.rows,
        repos_pager: pager(&repos, "repos"),
        repos: repos.rows,
        can_create,
        form,
        error,
    }))
}

#[derive(Deserialize, Default)]
pub struct ProjectForm {
    key: String,
    name: String,
    #[serde(default)]
    description: String,
    public: Option<String>,
}

pub async fn create_project(
    State(state): State<AppState>,
    caller: Caller,
    CsrfForm(f): CsrfForm<ProjectForm>,
) -> UiResult {
    let new = host_projects::NewProject {
        key: Some(f.key.clone()),
        name: Some(f.name.clone()),
        description: Some(f.description.clone()),
        public: f.public.is_some(),
    };
    match host_projects::create(&state.host(), &caller.principal(), new).await {
        Ok(p) => Ok(see_other(&format!("/projects/{}", p.key))),
        Err(e) => {
            let q = DashboardQuery::default();
            let again = |error| dashboard_page(&state, &caller, q, f, Some(error));
            form_again(e, &caller, again).await
        }
    }
}

#[derive(Template)]
#[template(path = "project.html")]
struct ProjectPage {
    nav: Nav,
    project: Project,
    repos: Vec<Repository>,
    repos_pager: Pager,
    can_admin: bool,
    /// The repository form as typed (empty at first) and its mistake, if any.
    form: RepoForm,
    error: Option<FormError>,
}

#[derive(Deserialize, Default)]
pub struct ProjectQuery {
    repos: Option<i64>,
}

pub async fn project(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Query(q): Query<ProjectQuery>,
) -> UiResult {
    project_page(&state, &caller, &key, q, RepoForm::default(), None).await
}

async fn project_page(
    state: &AppState,
    caller: &Caller,
    key: &str,
    q: ProjectQuery,
    form: RepoForm,
    error: Option<FormError>,
) -> UiResult {
    let project = host_projects::find(&state.host(), &caller.principal(), key, Action::ViewProject)
        .await
        .or_page(caller)?;
    let filter = RepoFilter {
        project_id: Some(project.id),
        ..RepoFilter::default()
    };
    let rr = page_request(q.repos);
    let repos = host_repos::list(
        &state.host(),
        &caller.principal(),
        Needed::Read,
        &filter,
        window(rr),
    )
    .await
    .or_page(caller)?;
    let repos = paged(rr, repos);
    let can_admin = caller.can_project(&project, Action::AdminProject);
    Ok(render(&ProjectPage {
        nav: Nav::of(caller),
        project,
        repos_pager: pager(&repos, "repos"),
        repos: repos.rows,
        can_admin,
        form,
        error,
    }))
}

#[derive(Deserialize, Default)]
pub struct RepoForm {
    name: String,
    #[serde(default)]
    description: String,
    public: Option<String>,
}

pub async fn create_repo(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    CsrfForm(f): CsrfForm<RepoForm>,
) -> UiResult {
    let new = host_repos::NewRepository {
        name: Some(f.name.clone()),
        description: Some(f.description.clone()),
        public: f.public.is_some(),
        ..Default::default()
    };
    match host_repos::create(&state.host(), &caller.principal(), &key, new).await {
        Ok(r) => Ok(see_other(&format!(
            "/projects/{}/repos/{}",
            r.project_key, r.slug
        ))),
        Err(e) => {
            let q = ProjectQuery::default();
            let again = |error| project_page(&state, &caller, &key, q, f, Some(error));
            form_again(e, &caller, again).await
        }
    }
}
