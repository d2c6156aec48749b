//! Which webhooks a request is about: its project or repository (which the caller must
//! administer) and, for one hook, which of that scope's hooks. Shared by the webhook, delivery
//! and statistics routes.

use crate::domain::Action;
use crate::store::{Project, Repository, Webhook};
use crate::web::auth::Caller;
use crate::web::error::{ApiError, ApiResult};
use crate::web::state::AppState;
use std::collections::HashMap;

/// The project, or the repository, whose hooks a request is about.
pub struct HookScope {
    pub project: Project,
    pub repo: Option<Repository>,
}

impl HookScope {
    pub fn audit_target(&self) -> String {
        match &self.repo {
            Some(r) => format!("repo:{}/{}", r.project_key, r.slug),
            None => format!("project:{}", self.project.key),
        }
    }
    pub fn repo_id(&self) -> Option<i64> {
        self.repo.as_ref().map(|r| r.id)
    }
}

/// Path parameters of every webhook route, repository or project.
pub type HookPath = HashMap<String, String>;

pub fn param_id(path: &HookPath, name: &str) -> ApiResult<i64> {
    let raw = path.get(name).map(String::as_str).unwrap_or_default();
    raw.parse().map_err(|_| {
        ApiError::bad_request(format!("'{raw}' is not a {name}: it must be a number."))
            .with_context(name.to_string())
    })
}

/// Loads the scope and checks the caller administers it.
pub async fn load_scope(
    state: &AppState,
    caller: &Caller,
    path: &HookPath,
) -> ApiResult<HookScope> {
    let key = path.get("key").map(String::as_str).unwrap_or_default();
    match path.get("slug") {
        Some(slug) => {
            let repo = super::repos::load(state, caller, key, slug, Action::AdminRepo).await?;
            let project = state
                .store
                .find_project(key)
                .await?
                .ok_or_else(|| crate::web::error::no_such_project(key))?;
            Ok(HookScope {
                project,
                repo: Some(repo),
            })
        }
        None => Ok(HookScope {
            project: super::projects::load(state, caller, key, Action::AdminProject).await?,
            repo: None,
        }),
    }
}

/// Loads one hook of the scope (a hook of another scope is "not found").
pub async fn load_hook(
    state: &AppState,
    caller: &Caller,
    path: &HookPath,
) -> ApiResult<(HookScope, Webhook)> {
    let scope = load_scope(state, caller, path).await?;
    let id = param_id(path, "webhookId")?;
    let hook = state
        .store
        .webhook(id)
        .await?
        .filter(|h| h.project_id == scope.project.id && h.repo_id == scope.repo_id())
        .ok_or_else(|| no_such_hook(id))?;
    Ok((scope, hook))
}

pub fn no_such_hook(id: i64) -> ApiError {
    ApiError::not_found(
        "com.atlassian.bitbucket.webhook.NoSuchWebhookException",
        format!("Webhook {id} does not exist here."),
    )
}
