//! The path parameters of every webhook route, REST and pages, repository or project:
//! `{key}`, `{slug}` (repository hooks only), `{webhookId}`, `{deliveryId}`.

use crate::services::host::webhooks::ScopeRef;
use crate::web::error::{ApiError, ApiResult};
use std::collections::HashMap;

pub type HookPath = HashMap<String, String>;

/// The project or repository the path names.
pub fn scope_ref(path: &HookPath) -> ScopeRef<'_> {
    ScopeRef {
        key: path.get("key").map(String::as_str).unwrap_or_default(),
        slug: path.get("slug").map(String::as_str),
    }
}

/// A numeric parameter (`webhookId`, `deliveryId`), or a 400 naming it.
pub fn param_id(path: &HookPath, name: &str) -> ApiResult<i64> {
    let raw = path.get(name).map(String::as_str).unwrap_or_default();
    raw.parse().map_err(|_| {
        ApiError::bad_request(format!("'{raw}' is not a {name}: it must be a number."))
            .with_context(name.to_string())
    })
}
