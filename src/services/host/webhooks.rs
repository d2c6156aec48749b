//! Repository and project webhooks: list, create, edit, enable, test, delete. Managing a
//! repository's hooks needs REPO_ADMIN, a project's PROJECT_ADMIN. The field rules are
//! `services/webhooks/manage.rs` (shared with nothing else); deliveries and statistics are
//! `webhook_deliveries.rs`.

use super::{projects, repositories, Host, HostError, HostResult, Missing, Principal};
use crate::domain::webhooks::check_event_keys;
use crate::domain::Action;
use crate::services::webhooks::manage::{FieldError, HookInput};
use crate::store::{Attempt, Delivery, Project, Repository, Webhook};

/// Which hooks: a project's (`slug` none) or a repository's, as the surface names them.
#[derive(Debug, Clone, Copy)]
pub struct ScopeRef<'a> {
    pub key: &'a str,
    pub slug: Option<&'a str>,
}

/// The project, or the repository, whose hooks an operation is about (administered by the
/// principal).
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

    /// Records something `who` did to a hook of this scope that changed nothing else (a test).
    pub async fn record(&self, host: &Host<'_>, who: &Principal<'_>, action: &str, details: &str) {
        host.audit(who, action, &self.audit_target(), details).await;
    }
}

/// Where a hook stands, as people are told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookStatus {
    Enabled,
    /// Its owner turned it off.
    Inactive,
    /// Junction holds deliveries back after failures in a row, until then.
    Paused {
        until: i64,
    },
    /// Junction stopped it; only an owner's "enable" starts it again.
    Disabled {
        at: i64,
        reason: String,
    },
}

impl HookStatus {
    pub fn of(h: &Webhook, now: i64) -> Self {
        match (h.disabled_at, h.paused_until) {
            (Some(at), _) => Self::Disabled {
                at,
                reason: h.disabled_reason.clone().unwrap_or_default(),
            },
            _ if !h.active => Self::Inactive,
            (None, Some(until)) if until > now => Self::Paused { until },
            _ => Self::Enabled,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Enabled => "enabled",
            Self::Inactive => "inactive",
            Self::Paused { .. } => "paused",
            Self::Disabled { .. } => "disabled",
        }
    }
}

/// A delivery with the body sent and every attempt.
pub struct DeliveryDetail {
    pub delivery: Delivery,
    pub body: String,
    pub attempts: Vec<Attempt>,
}

impl From<FieldError> for HostError {
    fn from(e: FieldError) -> Self {
        HostError::Invalid {
            field: e.field,
            message: e.message,
        }
    }
}

/// Loads the scope, if the principal administers it.
pub async fn scope(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: ScopeRef<'_>,
) -> HostResult<HookScope> {
    match at.slug {
        Some(slug) => {
            let repo = repositories::find(host, who, at.key, slug, Action::AdminRepo).await?;
            let project = host
                .store
                .find_project(at.key)
                .await?
                .ok_or_else(|| HostError::NotFound(Missing::Project(at.key.into())))?;
            Ok(HookScope {
                project,
                repo: Some(repo),
            })
        }
        None => Ok(HookScope {
            project: projects::find(host, who, at.key, Action::AdminProject).await?,
            repo: None,
        }),
    }
}

/// One hook of the scope (a hook of another scope is "not found").
pub async fn find(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: ScopeRef<'_>,
    id: i64,
) -> HostResult<(HookScope, Webhook)> {
    let scope = scope(host, who, at).await?;
    let hook = host
        .store
        .webhook(id)
        .await?
        .filter(|h| h.project_id == scope.project.id && h.repo_id == scope.repo_id())
        .ok_or(HostError::NotFound(Missing::Webhook(id)))?;
    Ok((scope, hook))
}

/// An event key given as a filter, checked as webhook events are (`*` or nothing: any event).
pub fn event_filter(value: Option<&str>) -> HostResult<Option<String>> {
    let Some(key) = value.filter(|k| !k.is_empty()) else {
        return Ok(None);
    };
    let keys = check_event_keys(&[key.to_string()]).map_err(|m| HostError::invalid("event", m))?;
    Ok(keys.into_iter().next())
}

/// The scope's hooks, by id; with `event` (checked as `event_filter` does), only those that
/// receive it.
pub async fn list(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: ScopeRef<'_>,
    event: Option<&str>,
) -> HostResult<Vec<Webhook>> {
    let scope = scope(host, who, at).await?;
    let event = event_filter(event)?;
    let mut hooks = host
        .store
        .webhooks_of(scope.project.id, scope.repo_id())
        .await?;
    if let Some(e) = event {
        hooks.retain(|h| {
            let keys = h.event_keys();
            keys.is_empty() || keys.contains(&e)
        });
    }
    Ok(hooks)
}

pub async fn create(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: ScopeRef<'_>,
    input: &HookInput,
) -> HostResult<Webhook> {
    let scope = scope(host, who, at).await?;
    let me = who.user()?;
    let fields = host.webhooks.fields(input, None)?;
    let (target, details) = (
        scope.audit_target(),
        format!("{} → {}", fields.name, fields.url),
    );
    let audit = who.audit("webhook.created", &target, &details);
    Ok(host
        .store
        .create_webhook(
            scope.project.id,
            scope.repo_id(),
            &fields,
            me.id,
            Some(&audit),
        )
        .await?)
}

/// Changes the given fields; saving clears a pause or disablement (the owner has acted).
pub async fn update(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: ScopeRef<'_>,
    id: i64,
    input: &HookInput,
) -> HostResult<Webhook> {
    let (scope, hook) = find(host, who, at, id).await?;
    let fields = host.webhooks.fields(input, Some(&hook))?;
    let (target, details) = (
        scope.audit_target(),
        format!("{} → {}", fields.name, fields.url),
    );
    let audit = who.audit("webhook.updated", &target, &details);
    Ok(host
        .store
        .update_webhook(hook.id, &fields, Some(&audit))
        .await?)
}

/// Deletes a hook and its delivery history; returns the hook as it was.
pub async fn delete(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: ScopeRef<'_>,
    id: i64,
) -> HostResult<Webhook> {
    let (scope, hook) = find(host, who, at, id).await?;
    let target = scope.audit_target();
    let audit = who.audit("webhook.deleted", &target, &hook.name);
    host.store.delete_webhook(hook.id, Some(&audit)).await?;
    Ok(hook)
}

/// Active again after Junction paused or disabled it (or its owner deactivated it).
pub async fn enable(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: ScopeRef<'_>,
    id: i64,
) -> HostResult<Webhook> {
    let (scope, hook) = find(host, who, at, id).await?;
    let target = scope.audit_target();
    let audit = who.audit("webhook.enabled", &target, &hook.name);
    let hook = host.store.enable_webhook(hook.id, Some(&audit)).await?;
    host.webhooks.wake();
    Ok(hook)
}

/// Sends a test event now: one real attempt; answers with the delivery and its attempt.
pub async fn test(
    host: &Host<'_>,
    who: &Principal<'_>,
    at: ScopeRef<'_>,
    id: i64,
) -> HostResult<DeliveryDetail> {
    let (scope, hook) = find(host, who, at, id).await?;
    let delivery = host.webhooks.send_test(&hook, who.user()?).await?;
    scope.record(host, who, "webhook.tested", &hook.name).await;
    super::webhook_deliveries::detail_of(host, &hook, delivery)
        .await?
        .ok_or_else(|| HostError::Internal("the test delivery vanished".into()))
}

/// Hooks Junction paused or disabled that a repository's page warns about: the repository's
/// own and its project's.
pub async fn troubled(host: &Host<'_>, repo: &Repository) -> HostResult<Vec<Webhook>> {
    Ok(host
        .store
        .troubled_webhooks(repo.project_id, Some(repo.id))
        .await?)
}
