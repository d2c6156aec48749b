//! The REST surfaces. Handlers are thin: parse, load, authorize through `Caller`, call the store
//! or a service, render with `repr`.

pub mod apps;
pub mod audit;
pub mod browse;
pub mod builds;
pub mod git_repr;
pub mod insights;
pub mod me;
pub mod permissions;
pub mod projects;
pub mod pull_code;
pub mod pull_reviews;
pub mod pulls;
pub mod repos;
pub mod repr;
pub mod teams;
pub mod tokens;
pub mod users;
pub mod webhook_deliveries;
pub mod webhook_stats;
pub mod webhooks;

use super::state::AppState;
use axum::routing::{get, post, put};
use axum::Router;

/// Host REST in the Bitbucket Data Center 1.0 shape, plus access tokens and Junction's own.
pub fn router() -> Router<AppState> {
    let repo = "/rest/api/1.0/projects/{key}/repos/{slug}";
    let pr = "/rest/api/1.0/projects/{key}/repos/{slug}/pull-requests/{id}";
    let insights = "/rest/insights/1.0/projects/{key}/repos/{slug}/commits/{commit}";
    Router::new()
        .route(
            "/rest/apps/latest/descriptor/validate",
            post(apps::validate),
        )
        .route(
            "/rest/api/1.0/projects",
            get(projects::list).post(projects::create),
        )
        .route(
            "/rest/api/1.0/projects/{key}",
            get(projects::get)
                .put(projects::update)
                .delete(projects::delete),
        )
        .route(
            "/rest/api/1.0/projects/{key}/repos",
            get(repos::list_in_project).post(repos::create),
        )
        .route(
            "/rest/api/1.0/projects/{key}/repos/{slug}",
            get(repos::get).put(repos::update).delete(repos::delete),
        )
        .route("/rest/api/1.0/repos", get(repos::search))
        .route(&format!("{repo}/branches"), get(browse::branches))
        .route(
            &format!("{repo}/branches/default"),
            get(browse::default_branch),
        )
        .route(
            &format!("{repo}/default-branch"),
            get(browse::default_branch),
        )
        .route(&format!("{repo}/tags"), get(browse::tags))
        .route(&format!("{repo}/commits"), get(browse::commits))
        .route(&format!("{repo}/commits/{{commit}}"), get(browse::commit))
        .route(
            &format!("{repo}/commits/{{commit}}/builds"),
            get(builds::get).post(builds::post),
        )
        .route(&format!("{insights}/reports"), get(insights::list))
        .route(
            &format!("{insights}/reports/{{report}}"),
            get(insights::get)
                .put(insights::put)
                .delete(insights::delete),
        )
        .route(
            &format!("{insights}/reports/{{report}}/annotations"),
            get(insights::annotations).post(insights::annotate),
        )
        .route(
            "/rest/build-status/1.0/commits/{commit}",
            get(builds::get_legacy).post(builds::post_legacy),
        )
        .route(&format!("{repo}/browse"), get(browse::browse_root))
        .route(
            &format!("{repo}/browse/{{*path}}"),
            get(browse::browse_path),
        )
        .route(&format!("{repo}/raw/{{*path}}"), get(browse::raw))
        .route(
            "/rest/api/1.0/projects/{key}/repos/{slug}/pull-requests",
            get(pulls::list).post(pulls::create),
        )
        .route(pr, get(pulls::get).put(pulls::update))
        .route(&format!("{pr}/merge"), post(pulls::merge))
        .route(&format!("{pr}/commits"), get(pull_code::commits))
        .route(&format!("{pr}/changes"), get(pull_code::changes))
        .route(&format!("{pr}/diff"), get(pull_code::diff))
        .route(&format!("{pr}/decline"), post(pulls::decline))
        .route(
            &format!("{pr}/approve"),
            post(pull_reviews::approve).delete(pull_reviews::unapprove),
        )
        .route(
            &format!("{pr}/participants/{{user}}"),
            put(pull_reviews::set_participant_status),
        )
        .route(
            &format!("{pr}/comments"),
            get(pull_reviews::list_comments).post(pull_reviews::add_comment),
        )
        .route(
            &format!("{pr}/comments/{{comment}}"),
            axum::routing::delete(pull_reviews::delete_comment),
        )
        .route("/rest/api/1.0/users", get(users::list).put(me::update_me))
        .route("/rest/api/1.0/users/credentials", put(me::change_password))
        .route("/rest/api/1.0/users/{slug}", get(users::get))
        .route(
            "/rest/api/1.0/admin/users",
            get(users::admin_list)
                .post(users::admin_create)
                .put(users::admin_update),
        )
        .route(
            "/rest/api/1.0/admin/groups",
            get(teams::admin_list_teams).post(teams::admin_create_team),
        )
        .route(
            "/rest/api/1.0/admin/permissions/{kind}",
            get(permissions::global_list)
                .put(permissions::global_set)
                .delete(permissions::global_revoke),
        )
        .route(
            "/rest/api/1.0/projects/{key}/permissions/{kind}",
            get(permissions::project_list)
                .put(permissions::project_set)
                .delete(permissions::project_revoke),
        )
        .route(
            "/rest/api/1.0/projects/{key}/repos/{slug}/permissions/{kind}",
            get(permissions::repo_list)
                .put(permissions::repo_set)
                .delete(permissions::repo_revoke),
        )
        .route(
            "/rest/access-tokens/1.0/users/{slug}",
            get(tokens::list).put(tokens::create),
        )
        .route(
            "/rest/access-tokens/1.0/users/{slug}/{id}",
            get(tokens::get).delete(tokens::delete),
        )
        .route(
            "/rest/junction/1.0/admin/users/{slug}/deactivate",
            post(users::admin_deactivate),
        )
        .route(
            "/rest/junction/1.0/admin/users/{slug}/activate",
            post(users::admin_activate),
        )
        .route("/rest/junction/1.0/teams/{team}", put(teams::update_team))
        .route(
            "/rest/junction/1.0/admin/teams/{slug}/deactivate",
            post(teams::admin_deactivate_team),
        )
        .route(
            "/rest/junction/1.0/admin/teams/{slug}/activate",
            post(teams::admin_activate_team),
        )
        .route(
            "/rest/junction/1.0/teams/{team}/members",
            get(teams::list_team_members).put(teams::set_team_member),
        )
        .route(
            "/rest/junction/1.0/teams/{team}/members/{user}",
            axum::routing::delete(teams::remove_team_member),
        )
        .route("/rest/junction/1.0/audit", get(audit::list))
        .merge(webhook_routes(
            "/rest/api/1.0/projects/{key}/repos/{slug}/webhooks",
        ))
        .merge(webhook_routes("/rest/api/1.0/projects/{key}/webhooks"))
}

/// The same webhook routes for a repository's hooks and a project's.
fn webhook_routes(base: &str) -> Router<AppState> {
    let hook = format!("{base}/{{webhookId}}");
    let delivery = format!("{hook}/deliveries/{{deliveryId}}");
    Router::new()
        .route(base, get(webhooks::list).post(webhooks::create))
        .route(
            &hook,
            get(webhooks::get)
                .put(webhooks::update)
                .delete(webhooks::delete),
        )
        .route(&format!("{hook}/test"), post(webhooks::test))
        .route(
            &format!("{hook}/statistics"),
            get(webhook_stats::statistics),
        )
        .route(
            &format!("{hook}/statistics/summary"),
            get(webhook_stats::summary),
        )
        .route(&format!("{hook}/latest"), get(webhook_stats::latest))
        .route(&format!("{hook}/enable"), post(webhooks::enable))
        .route(&format!("{hook}/deliveries"), get(webhook_deliveries::list))
        .route(
            &format!("{hook}/redeliver"),
            post(webhook_deliveries::redeliver_failed),
        )
        .route(&delivery, get(webhook_deliveries::get))
        .route(
            &format!("{delivery}/redeliver"),
            post(webhook_deliveries::redeliver),
        )
}
