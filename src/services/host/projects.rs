//! Projects: finding one the principal may act on, and creating one.

use super::{ConflictKind, Host, HostError, HostResult, Missing, Principal};
use crate::domain::names::{bounded_text, parse_optional};
use crate::domain::{Action, DisplayName, ProjectKey};
use crate::store::{Project, ProjectChanges, StoreError, Window};

pub const MAX_DESCRIPTION: usize = 10_000;

/// A project's or repository's new description, if one was given (at most `MAX_DESCRIPTION`).
pub fn new_description(given: Option<&str>) -> HostResult<Option<String>> {
    Ok(given
        .map(|d| bounded_text("description", d, MAX_DESCRIPTION))
        .transpose()?)
}

/// The project `key`, if the principal may do `action` on it (one it may not see is "not found").
pub async fn find(
    host: &Host<'_>,
    who: &Principal<'_>,
    key: &str,
    action: Action,
) -> HostResult<Project> {
    let project = host
        .store
        .find_project(key)
        .await?
        .ok_or_else(|| HostError::NotFound(Missing::Project(key.into())))?;
    who.check_project(&project, action)?;
    Ok(project)
}

/// The projects the principal may see whose name contains `name` (any case), by key, one
/// window of them; filtered and paged in the database.
pub async fn list(
    host: &Host<'_>,
    who: &Principal<'_>,
    name: Option<&str>,
    window: Window,
) -> HostResult<Vec<Project>> {
    let visible = who.project_visibility();
    Ok(host.store.visible_projects(&visible, name, window).await?)
}

#[derive(Debug, Clone, Default)]
pub struct NewProject {
    pub key: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub public: bool,
}

pub async fn create(host: &Host<'_>, who: &Principal<'_>, new: NewProject) -> HostResult<Project> {
    who.check(Action::CreateProject)?;
    let key = ProjectKey::parse(new.key.as_deref().unwrap_or(""))?;
    let name = DisplayName::parse("name", new.name.as_deref().unwrap_or(""))?;
    let description = bounded_text(
        "description",
        new.description.as_deref().unwrap_or(""),
        MAX_DESCRIPTION,
    )?;
    let target = format!("project:{}", key.as_str());
    let audit = who.audit("project.created", &target, "");
    let created = host
        .store
        .create_project(
            key.as_str(),
            name.as_str(),
            &description,
            new.public,
            Some(&audit),
        )
        .await;
    match created {
        Err(StoreError::Duplicate) => Err(taken(host, Some(key.as_str())).await),
        other => Ok(other?),
    }
}

/// Says which of key and name is taken; `new_key` is the key being set, if it is.
pub async fn taken(host: &Host<'_>, new_key: Option<&str>) -> HostError {
    let key_taken = match new_key {
        Some(k) => matches!(host.store.find_project(k).await, Ok(Some(_))),
        None => false,
    };
    let (field, message) = if key_taken {
        (
            "key",
            format!(
                "Project key {} is already taken.",
                new_key.unwrap_or_default()
            ),
        )
    } else {
        ("name", "Another project already has this name.".to_string())
    };
    HostError::Conflict {
        kind: ConflictKind::ProjectTaken { field },
        message,
    }
}

/// New values for a project; `None` keeps what is there.
#[derive(Debug, Clone, Default)]
pub struct ProjectChange {
    pub key: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub public: Option<bool>,
}

pub async fn update(
    host: &Host<'_>,
    who: &Principal<'_>,
    key: &str,
    change: ProjectChange,
) -> HostResult<Project> {
    let project = find(host, who, key, Action::AdminProject).await?;
    let changes = ProjectChanges {
        key: parse_optional(change.key.as_deref(), ProjectKey::parse)?,
        name: parse_optional(change.name.as_deref(), |n| DisplayName::parse("name", n))?,
        description: new_description(change.description.as_deref())?,
        public: change.public,
    };
    let new_key = changes.key.clone().filter(|k| *k != project.key);
    let target = format!("project:{}", new_key.as_deref().unwrap_or(&project.key));
    let audit = who.audit("project.updated", &target, "");
    match host
        .store
        .update_project(project.id, &changes, Some(&audit))
        .await
    {
        Err(StoreError::Duplicate) => Err(taken(host, new_key.as_deref()).await),
        other => Ok(other?),
    }
}

/// Deletes an empty project (one that still holds repositories is refused).
pub async fn delete(host: &Host<'_>, who: &Principal<'_>, key: &str) -> HostResult<()> {
    let project = find(host, who, key, Action::DeleteProject).await?;
    let target = format!("project:{}", project.key);
    let audit = who.audit("project.deleted", &target, "");
    if !host
        .store
        .delete_empty_project(project.id, Some(&audit))
        .await?
    {
        return Err(HostError::Conflict {
            kind: ConflictKind::ProjectNotEmpty,
            message: format!("Project {} cannot be deleted because it still has repositories; delete or move them first.", project.key),
        });
    }
    Ok(())
}
