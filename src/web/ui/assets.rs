//! The few static files every page uses: the side menu's "you are here" script and the icon.

use axum::http::header;
use axum::response::{IntoResponse, Response};

fn file(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

pub async fn nav_script() -> Response {
    file(
        "text/javascript; charset=utf-8",
        include_str!("../../../static/nav.js"),
    )
}

pub async fn favicon() -> Response {
    file("image/svg+xml", include_str!("../../../static/favicon.svg"))
}
