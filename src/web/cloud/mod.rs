//! The Bitbucket Cloud 2.0 REST subset Connect apps (and scripts written for Cloud) call, on the
//! host service layer like every surface: `/2.0/user`, `/2.0/users/{user}`, `/2.0/workspaces`,
//! `/2.0/repositories/{workspace}[/{slug}]`, pull requests, and `/2.0/addon` for the calling
//! app. Cloud's shapes (`repr.rs`), paging (`pagelen`, `page`, `size`, `next`) and errors
//! (`error.rs`). Workspaces map onto projects and personal spaces (`services/host/workspaces.rs`).

mod accounts;
mod addon;
mod code;
pub mod error;
mod hooks;
mod jwt_grant;
pub mod paths;
mod pull_updates;
mod pullrequests;
mod reports;
mod repositories;
pub mod repr;
mod statuses;

pub use error::{is_cloud_path, CloudError, CloudResult};

use super::error::ApiError;
use super::state::AppState;
use crate::store::Window;
use axum::http::Uri;
use axum::routing::{get, put};
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    let repo = "/2.0/repositories/{workspace}/{repo_slug}";
    Router::new()
        .route("/2.0/user", get(accounts::me))
        .route("/2.0/users/{selected_user}", get(accounts::user))
        .route("/2.0/workspaces", get(accounts::workspaces))
        .route("/2.0/workspaces/{workspace}", get(accounts::workspace))
        .route("/2.0/repositories/{workspace}", get(repositories::list))
        .route(repo, get(repositories::get))
        .route(
            &format!("{repo}/pullrequests"),
            get(pullrequests::list).post(pullrequests::create),
        )
        .route(
            &format!("{repo}/pullrequests/{{pull_request_id}}"),
            get(pullrequests::get).put(pull_updates::update),
        )
        .route(
            &format!("{repo}/pullrequests/{{pull_request_id}}/activity"),
            get(pull_updates::activity),
        )
        .route(
            &format!("{repo}/pullrequests/{{pull_request_id}}/comments"),
            get(pullrequests::comments).post(pullrequests::act_comments),
        )
        .route(
            &format!("{repo}/pullrequests/{{pull_request_id}}/{{action}}"),
            axum::routing::post(pullrequests::act).delete(pullrequests::act),
        )
        .route(&format!("{repo}/refs/branches"), get(code::branches))
        .route(&format!("{repo}/commits"), get(code::commits))
        .route(
            &format!("{repo}/commits/{{revision}}"),
            get(code::commits_of),
        )
        .route(
            &format!("{repo}/commit/{{revision}}"),
            get(code::one_commit),
        )
        .route(
            &format!("{repo}/commit/{{node}}/statuses"),
            get(statuses::list),
        )
        .route(
            &format!("{repo}/commit/{{node}}/statuses/build"),
            axum::routing::post(statuses::create),
        )
        .route(
            &format!("{repo}/commit/{{node}}/statuses/build/{{key}}"),
            get(statuses::get).put(statuses::update),
        )
        .route(
            &format!("{repo}/commit/{{node}}/reports"),
            get(reports::list),
        )
        .route(
            &format!("{repo}/commit/{{node}}/reports/{{report}}"),
            get(reports::get).put(reports::put).delete(reports::delete),
        )
        .route(
            &format!("{repo}/commit/{{node}}/reports/{{report}}/annotations"),
            get(reports::annotations).post(reports::annotate),
        )
        .route(&format!("{repo}/src/{{commit}}/"), get(code::src))
        .route(&format!("{repo}/src/{{commit}}/{{*path}}"), get(code::src))
        .route(
            &format!("{repo}/pullrequests/{{pull_request_id}}/commits"),
            get(code::pr_commits),
        )
        .route(
            &format!("{repo}/pullrequests/{{pull_request_id}}/diff"),
            get(code::pr_diff),
        )
        .route(
            &format!("{repo}/pullrequests/{{pull_request_id}}/diffstat"),
            get(code::pr_diffstat),
        )
        .route(
            &format!("{repo}/hooks"),
            get(hooks::list).post(hooks::create),
        )
        .route(
            &format!("{repo}/hooks/{{uid}}"),
            get(hooks::get).put(hooks::update).delete(hooks::delete),
        )
        .route("/2.0/addon", put(addon::update).delete(addon::uninstall))
        .route(
            "/site/oauth2/access_token",
            axum::routing::post(jwt_grant::exchange),
        )
        .route_layer(axum::middleware::from_fn(error::cloud_errors))
}

/// Cloud paging parameters: `page` from 1, `pagelen` 1–100 (10 if not given).
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub page: Option<String>,
    pub pagelen: Option<String>,
}

#[derive(Debug, Clone, Copy)]
pub struct CloudPage {
    pub page: i64,
    pub pagelen: i64,
}

pub const MAX_PAGELEN: i64 = 100;

impl CloudPage {
    pub fn parse(q: &PageQuery) -> Result<Self, ApiError> {
        let number = |v: &Option<String>, name: &str, default: i64| -> Result<i64, ApiError> {
            match v.as_deref().map(str::trim) {
                None | Some("") => Ok(default),
                Some(s) => s.parse().map_err(|_| {
                    ApiError::bad_request(format!("{name} must be a whole number, not '{s}'."))
                        .with_context(name)
                }),
            }
        };
        let page = number(&q.page, "page", 1)?;
        let pagelen = number(&q.pagelen, "pagelen", 10)?;
        if page < 1 {
            return Err(ApiError::bad_request("page starts at 1.").with_context("page"));
        }
        if !(1..=MAX_PAGELEN).contains(&pagelen) {
            return Err(ApiError::bad_request(format!(
                "pagelen must be between 1 and {MAX_PAGELEN}."
            ))
            .with_context("pagelen"));
        }
        Ok(Self { page, pagelen })
    }

    pub fn start(&self) -> i64 {
        (self.page - 1) * self.pagelen
    }

    /// The rows to ask for: this page and one more, to learn whether a next page exists.
    pub fn window(&self) -> Window {
        Window {
            start: self.start(),
            limit: self.pagelen + 1,
        }
    }

    /// A page of `values` (at most one more than `pagelen`), with `next`/`previous` built from
    /// the request's own URL; `size` when the total is known.
    pub fn render(
        &self,
        base: &str,
        uri: &Uri,
        mut values: Vec<Value>,
        size: Option<usize>,
    ) -> Value {
        let more = values.len() as i64 > self.pagelen;
        values.truncate(self.pagelen as usize);
        let mut out = json!({ "pagelen": self.pagelen, "page": self.page, "values": values });
        if let Some(n) = size {
            out["size"] = json!(n);
        }
        if more {
            out["next"] = json!(self.link(base, uri, self.page + 1));
        }
        if self.page > 1 {
            out["previous"] = json!(self.link(base, uri, self.page - 1));
        }
        out
    }

    /// A page whose rows were read with a limit, `more` saying whether others follow.
    pub fn known(&self, base: &str, uri: &Uri, values: Vec<Value>, more: bool) -> Value {
        let mut out = self.render(base, uri, values, None);
        if more {
            out["next"] = json!(self.link(base, uri, self.page + 1));
        }
        out
    }

    /// A page of an in-memory list.
    pub fn slice(&self, base: &str, uri: &Uri, all: Vec<Value>) -> Value {
        let total = all.len();
        let values = all
            .into_iter()
            .skip(self.start() as usize)
            .take(self.pagelen as usize + 1)
            .collect();
        self.render(base, uri, values, Some(total))
    }

    fn link(&self, base: &str, uri: &Uri, page: i64) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
            if k != "page" && k != "jwt" {
                q.append_pair(&k, &v);
            }
        }
        q.append_pair("page", &page.to_string());
        format!("{base}{}?{}", uri.path(), q.finish())
    }
}
