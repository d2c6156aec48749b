//! The web UI's routes: server-rendered pages (askama, escaping by default), working without
//! JavaScript. Every page calls the host service layer (`services::host`) and renders typed
//! values. Every form carries the session's CSRF token, checked by `CsrfForm`; the page kit is
//! `web/page.rs`; what a page did is said on the next one (`web/flash.rs`).

mod account;
mod admin;
mod app_access;
mod app_frames;
mod app_install;
mod app_request;
mod app_webhooks;
mod applinks;
mod apps;
mod assets;
mod code;
mod connections;
mod host;
mod link_rows;
mod links;
mod pairing;
mod people;
mod pull_code_view;
mod pulls;
mod repository;
mod session;
mod webhooks;

pub use super::page::{
    message_page, next_target, render, require_user, see_other, CsrfForm, Nav, OrPage, UiError,
    UiResult,
};
use super::state::AppState;
use axum::routing::{get, post};
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(host::dashboard))
        .merge(webhook_pages("/projects/{key}/repos/{slug}/settings/hooks"))
        .merge(webhook_pages("/projects/{key}/settings/hooks"))
        .route("/login", get(session::form).post(session::sign_in))
        .route("/logout", post(session::sign_out))
        .route("/projects", post(host::create_project))
        .route("/projects/{key}", get(host::project))
        .route("/projects/{key}/repos", post(host::create_repo))
        .route("/projects/{key}/repos/{slug}", get(repository::repository))
        .route(
            "/projects/{key}/repos/{slug}/browse",
            get(repository::repository),
        )
        .route(
            "/projects/{key}/repos/{slug}/browse/{*path}",
            get(code::browse_page),
        )
        .route(
            "/projects/{key}/repos/{slug}/pull-requests",
            post(repository::create_pull_request),
        )
        .route(
            "/projects/{key}/repos/{slug}/pull-requests/{id}",
            get(pulls::pull_request),
        )
        .route(
            "/projects/{key}/repos/{slug}/pull-requests/{id}/{action}",
            post(pulls::pull_request_action),
        )
        .route("/admin/users", get(admin::users).post(admin::create_user))
        .route("/admin/users/{slug}/{action}", post(admin::user_action))
        .route("/admin/teams", get(admin::teams).post(admin::create_team))
        .route(
            "/admin/teams/{team}",
            get(admin::team).post(admin::team_member),
        )
        .route(
            "/admin/permissions",
            get(admin::permissions).post(admin::set_permission),
        )
        .route("/admin/audit", get(admin::audit))
        .route(
            "/admin/application-links",
            get(links::list).post(links::create),
        )
        .route(
            "/admin/application-links/{id}/{action}",
            post(links::action),
        )
        .route(
            "/admin/application-links/discover",
            post(applinks::discover),
        )
        .route("/admin/application-links/new", post(applinks::create))
        .route(
            "/admin/application-links/pair",
            get(pairing::approve_form).post(pairing::approve),
        )
        .route("/admin/application-links/pair-with", post(pairing::pair))
        .route(
            "/admin/links/{id}",
            get(applinks::show).post(applinks::edit),
        )
        .route("/admin/links/{id}/{action}", post(applinks::action))
        .route("/admin/application-links/{id}/paired", get(pairing::paired))
        .route("/account/connected-applications", get(connections::page))
        .route(
            "/account/connected-applications/{id}/{action}",
            post(connections::action),
        )
        .route("/admin/apps", get(admin::apps).post(admin::add_app))
        .route("/admin/apps/{id}/{action}", post(admin::remove_app))
        .route(
            "/site/addons/authorize",
            get(app_install::authorize).post(app_install::decide),
        )
        .route("/account/apps", get(apps::page))
        .route(
            "/account/apps/development-mode",
            post(apps::development_mode),
        )
        .route(
            "/account/apps/validate",
            get(apps::validate_page).post(apps::validate_form),
        )
        .route("/account/apps/{id}/{action}", post(apps::action))
        .route("/account/apps/{id}/webhooks", get(app_webhooks::page))
        .route("/apps/{id}/pages/{module}", get(app_frames::account_page))
        .route("/users/{slug}", get(people::profile))
        .route(
            "/users/{slug}/apps/{id}/{module}",
            get(app_frames::profile_tab),
        )
        .route("/apps/{id}/context-token", post(app_frames::context_token))
        .route("/apps/{id}/request", post(app_request::request))
        .route(
            "/apps/{id}/grant",
            get(app_access::page).post(app_access::decide),
        )
        .route("/account/app-authorizations", get(app_access::list))
        .route(
            "/account/app-authorizations/{id}/revoke",
            post(app_access::revoke),
        )
        .route("/atlassian-connect/all.js", get(app_frames::iframe_script))
        .route(
            "/atlassian-connect/all-debug.js",
            get(app_frames::iframe_script),
        )
        .route("/atlassian-connect/all.css", get(app_frames::style_kit))
        .route("/static/ap-host.js", get(app_frames::host_script))
        .route("/static/nav.js", get(assets::nav_script))
        .route("/static/favicon.svg", get(assets::favicon))
        .route("/favicon.ico", get(assets::favicon))
        .route(
            "/projects/{key}/repos/{slug}/apps/{id}/{module}",
            get(app_frames::repository_page),
        )
        .route(
            "/projects/{key}/repos/{slug}/pull-requests/{number}/apps/{id}/{module}",
            get(app_frames::pull_request_page),
        )
        .route(
            "/account",
            get(account::profile).post(account::update_profile),
        )
        .route(
            "/account/password",
            get(account::password).post(account::change_password),
        )
        .route(
            "/account/tokens",
            get(account::tokens).post(account::create_token),
        )
        .route("/account/tokens/{id}/revoke", post(account::revoke_token))
        .route(
            "/account/authorized-applications",
            get(account::authorized_applications),
        )
        .route(
            "/account/authorized-applications/{client}/revoke",
            post(account::revoke_application),
        )
        .layer(axum::middleware::from_fn(crate::web::flash::spend))
}

/// The same webhook pages for a repository's hooks and a project's.
fn webhook_pages(base: &str) -> Router<AppState> {
    let hook = format!("{base}/{{webhookId}}");
    let delivery = format!("{hook}/deliveries/{{deliveryId}}");
    Router::new()
        .route(base, get(webhooks::list).post(webhooks::create))
        .route(&hook, get(webhooks::hook))
        .route(&format!("{hook}/{{action}}"), post(webhooks::action))
        .route(&delivery, get(webhooks::delivery))
        .route(&format!("{delivery}/redeliver"), post(webhooks::redeliver))
}
