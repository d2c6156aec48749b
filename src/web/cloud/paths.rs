//! The path parameters `/2.0` routes share: a repository (`{workspace}/{repo_slug}`) and a pull
//! request in it. Either segment may be a slug or a `{uuid}` (`names`).

use super::CloudResult;
use crate::services::host::pulls::PrRef;
use crate::web::auth::Caller;
use crate::web::state::AppState;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct RepoPath {
    pub workspace: String,
    pub repo_slug: String,
}

#[derive(Deserialize)]
pub struct PrPath {
    pub workspace: String,
    pub repo_slug: String,
    pub pull_request_id: i64,
}

/// The project key and repository slug a path names.
pub async fn names(
    state: &AppState,
    caller: &Caller,
    workspace: &str,
    slug: &str,
) -> CloudResult<(String, String)> {
    Ok(crate::services::host::workspaces::repository_names(
        &state.host(),
        &caller.principal(),
        workspace,
        slug,
    )
    .await?)
}

impl RepoPath {
    pub async fn names(&self, state: &AppState, caller: &Caller) -> CloudResult<(String, String)> {
        names(state, caller, &self.workspace, &self.repo_slug).await
    }
}

impl PrPath {
    pub async fn names(&self, state: &AppState, caller: &Caller) -> CloudResult<(String, String)> {
        names(state, caller, &self.workspace, &self.repo_slug).await
    }

    /// The pull request, in the repository `names` resolved.
    pub fn at<'a>(&self, key: &'a str, slug: &'a str) -> PrRef<'a> {
        PrRef {
            key,
            slug,
            number: self.pull_request_id,
        }
    }
}
