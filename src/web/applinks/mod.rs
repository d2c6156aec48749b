//! Application links over HTTP: the manifest, Atlassian's `/rest/applinks/3.0` shapes,
//! Junction's own link administration and connections under `/rest/junction/1.0/applinks`,
//! the request API, the OAuth 2.0 client callback and the pairing back channel.

pub mod admin;
pub mod connect;
pub mod create;
pub mod lookup;
pub mod manifest;
pub mod pairing;
pub mod repr;
pub mod status;

use super::state::AppState;
use axum::routing::{get, post};
use axum::Router;

/// The one script of the link pages (progressive: every form works without it).
async fn script() -> impl axum::response::IntoResponse {
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/javascript; charset=utf-8",
            ),
            (axum::http::header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../../static/applinks.js"),
    )
}

pub fn router() -> Router<AppState> {
    let own = "/rest/junction/1.0/applinks";
    Router::new()
        .route("/rest/applinks/1.0/manifest", get(manifest::manifest))
        .route("/rest/applinks/3.0/applinks", get(admin::list))
        .route("/rest/applinks/3.0/applinks/{id}", get(admin::get))
        .route("/rest/applinks/3.0/status/{id}", get(status::status))
        .route(
            "/rest/applinks/latest/links/{id}/request",
            post(connect::request),
        )
        .route(
            "/rest/applinks/latest/pairing/{id}",
            post(pairing::back_channel),
        )
        .route(own, get(admin::list).post(create::create))
        .route(&format!("{own}/discover"), get(create::discover))
        .route(
            &format!("{own}/redirect-uri"),
            get(create::redirect_uri_for),
        )
        .route("/static/applinks.js", get(script))
        .route(&format!("{own}/pair"), post(pairing::pair))
        .route(&format!("{own}/connections"), get(connect::connections))
        .route(
            &format!("{own}/{{id}}"),
            get(admin::get).put(admin::update).delete(admin::delete),
        )
        .route(&format!("{own}/{{id}}/relocate"), post(admin::relocate))
        .route(&format!("{own}/{{id}}/test"), post(status::test))
        .route(
            &format!("{own}/{{id}}/test/authorize"),
            post(connect::test_authorize),
        )
        .route(
            &format!("{own}/{{id}}/credentials"),
            get(admin::credentials),
        )
        .route(&format!("{own}/{{id}}/connect"), post(connect::connect))
        .route(
            &format!("{own}/{{id}}/connection"),
            axum::routing::delete(connect::disconnect),
        )
        .route(
            &format!("{}{{key}}", crate::domain::applinks::CALLBACK_PREFIX),
            get(connect::callback),
        )
}
