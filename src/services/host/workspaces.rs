//! Bitbucket Cloud's workspaces on Junction's host. Cloud has workspace → project → repository;
//! Junction has project → repository and personal accounts. So a workspace is either a Junction
//! project (its slug is the project key in lower case, as event payloads already say, and its
//! one Cloud project is that same project) or a person's personal space (its slug is the
//! username; Junction keeps no repositories there). Slugs resolve in any letter case, so
//! `full_name` values (`KEY/slug`) from payloads work in `/2.0` URLs.

use super::{projects, Host, HostError, HostResult, Missing, Principal};
use crate::domain::Action;
use crate::store::{Account, AccountKind, Project, Window};

#[derive(Debug, Clone)]
pub enum Workspace {
    Project(Project),
    Personal(Account),
}

/// The workspace `slug`, if the principal may see it (one it may not see is "not found").
pub async fn find(host: &Host<'_>, who: &Principal<'_>, slug: &str) -> HostResult<Workspace> {
    if is_uuid(slug) {
        let payloads = host.webhooks.payloads();
        if let Some(me) = who
            .user
            .filter(|u| payloads.uuid("account", u.id).eq_ignore_ascii_case(slug))
        {
            return Ok(Workspace::Personal(me.clone()));
        }
        return Ok(Workspace::Project(project_by_uuid(host, who, slug).await?));
    }
    let key = slug.to_ascii_uppercase();
    match projects::find(host, who, &key, Action::ViewProject).await {
        Ok(p) => return Ok(Workspace::Project(p)),
        Err(HostError::NotFound(_)) => {}
        Err(HostError::Denied { .. }) => {
            return Err(HostError::NotFound(Missing::Project(slug.to_string())))
        }
        Err(e) => return Err(e),
    }
    let account = host
        .store
        .find_account(&slug.to_ascii_lowercase())
        .await?
        .filter(|a| a.active)
        .ok_or_else(|| HostError::NotFound(Missing::Project(slug.to_string())))?;
    let own = who.user.is_some_and(|u| u.id == account.id);
    if !own {
        who.check(Action::ViewUsers)
            .map_err(|_| HostError::NotFound(Missing::Project(slug.to_string())))?;
    }
    Ok(Workspace::Personal(account))
}

/// The workspaces the principal may see: its own personal space first (a team's, for an app
/// installed in a team), then the projects it may see, one window of them.
pub async fn list(
    host: &Host<'_>,
    who: &Principal<'_>,
    window: Window,
) -> HostResult<Vec<Workspace>> {
    // The personal space is row 0; projects follow from row 1.
    let mut out = Vec::new();
    let projects_window = match who.user {
        Some(me) if window.start == 0 => {
            out.push(Workspace::Personal(me.clone()));
            Window {
                start: 0,
                limit: window.limit - 1,
            }
        }
        Some(_) => Window {
            start: window.start - 1,
            limit: window.limit,
        },
        None => window,
    };
    let projects = projects::list(host, who, None, projects_window).await?;
    out.extend(projects.into_iter().map(Workspace::Project));
    Ok(out)
}

impl Workspace {
    pub fn slug(&self) -> String {
        match self {
            Workspace::Project(p) => p.key.to_ascii_lowercase(),
            Workspace::Personal(a) => a.slug.clone(),
        }
    }

    pub fn is_team(&self) -> bool {
        matches!(self, Workspace::Personal(a) if a.kind == AccountKind::Team)
    }
}

/// Whether a path segment is a Cloud `{uuid}` rather than a slug.
pub fn is_uuid(segment: &str) -> bool {
    segment.len() == 38 && segment.starts_with('{') && segment.ends_with('}')
}

/// A workspace and repository as apps may name them — by slug, or by the `{uuid}`s payloads
/// carry — as the project key and repository slug the host knows. A `{uuid}` is found among what
/// the principal may see (Junction's uuids are derived, so this looks, never guesses).
pub async fn repository_names(
    host: &Host<'_>,
    who: &Principal<'_>,
    workspace: &str,
    slug: &str,
) -> HostResult<(String, String)> {
    if !is_uuid(workspace) && !is_uuid(slug) {
        return Ok((workspace.to_ascii_uppercase(), slug.to_string()));
    }
    let payloads = host.webhooks.payloads();
    let all = Window {
        start: 0,
        limit: 10_000,
    };
    let project = if is_uuid(workspace) {
        project_by_uuid(host, who, workspace).await?
    } else {
        projects::find(
            host,
            who,
            &workspace.to_ascii_uppercase(),
            Action::ViewProject,
        )
        .await?
    };
    if !is_uuid(slug) {
        return Ok((project.key, slug.to_string()));
    }
    let filter = crate::store::RepoFilter {
        project_id: Some(project.id),
        ..Default::default()
    };
    let repo =
        super::repositories::list(host, who, super::repositories::Needed::Read, &filter, all)
            .await?
            .into_iter()
            .find(|r| payloads.uuid("repository", r.id).eq_ignore_ascii_case(slug))
            .ok_or_else(|| {
                HostError::NotFound(Missing::Repository(project.key.clone(), slug.into()))
            })?;
    Ok((project.key, repo.slug))
}

/// The project whose derived `{uuid}` this is, among those the principal may see.
async fn project_by_uuid(host: &Host<'_>, who: &Principal<'_>, uuid: &str) -> HostResult<Project> {
    let payloads = host.webhooks.payloads();
    let all = Window {
        start: 0,
        limit: 10_000,
    };
    projects::list(host, who, None, all)
        .await?
        .into_iter()
        .find(|p| payloads.uuid("project", p.id).eq_ignore_ascii_case(uuid))
        .ok_or_else(|| HostError::NotFound(Missing::Project(uuid.to_string())))
}
