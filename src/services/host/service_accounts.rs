//! Service accounts: password-less accounts for automation, each with its own permissions
//! (granted like anyone's, by its name), a confidential OAuth client for the
//! `client_credentials` grant, and optionally the projects and repositories it is confined to.

use super::{Host, HostError, HostResult, Missing, Principal};
use crate::domain::oauth2::ScopeSet;
use crate::domain::{Action, DisplayName, Restriction, Slug};
use crate::secret::{new_token, token_hash, TokenKind};
use crate::store::{Account, AccountKind, NewServiceAccount, OAuthClient, StoreError};

/// What creating a service account asks for; `None` takes the default.
#[derive(Debug, Clone, Default)]
pub struct NewService {
    pub name: Option<String>,
    pub display_name: Option<String>,
    /// Default `REPO_READ`.
    pub scope: Option<String>,
    /// Project keys it is confined to.
    pub projects: Vec<String>,
    /// `KEY/slug` of repositories it is confined to.
    pub repositories: Vec<String>,
}

/// A new service account with its client's secret, shown this once.
pub struct Created {
    pub slug: String,
    pub display_name: String,
    pub client: OAuthClient,
    pub secret: String,
    pub restricted: bool,
}

/// Creates the account, its client and its confinement in one transaction, audited with it.
/// Its client secret is a credential: only a person who administers credentials makes one.
pub async fn create(host: &Host<'_>, who: &Principal<'_>, new: &NewService) -> HostResult<Created> {
    who.check(Action::AdminCredentials)?;
    let slug = Slug::parse("name", new.name.as_deref().unwrap_or(""))?;
    let display = DisplayName::parse(
        "displayName",
        new.display_name.as_deref().unwrap_or(slug.as_str()),
    )?;
    let scope = ScopeSet::parse(new.scope.as_deref().unwrap_or("REPO_READ"))
        .map_err(|m| HostError::invalid("scope", m))?;
    let restriction = restriction(host, new).await?;
    let client_id = crate::secret::new_client_id();
    let secret = new_token(TokenKind::ClientSecret);
    let target = format!("user:{slug}");
    let audit = who.audit("service_account.created", &target, scope.as_str());
    let stored = NewServiceAccount {
        slug: slug.as_str(),
        display_name: display.as_str(),
        client_id: &client_id,
        secret_hash: &token_hash(&secret),
        secret_encrypted: &host.master_key.encrypt(&secret),
        scope: scope.as_str(),
        restriction: restriction.as_ref(),
    };
    match host
        .store
        .create_service_account(&stored, Some(&audit))
        .await
    {
        Err(StoreError::Duplicate) => {
            return Err(HostError::Conflict {
                kind: super::ConflictKind::AccountNameTaken(AccountKind::User),
                message: format!(
                    "The name {slug} is already taken by a user, team or application link."
                ),
            })
        }
        other => other?,
    }
    let client = host
        .store
        .find_oauth_client(&client_id)
        .await?
        .ok_or_else(|| HostError::Internal("the new service client vanished".into()))?;
    Ok(Created {
        slug: slug.to_string(),
        display_name: display.to_string(),
        client,
        secret,
        restricted: restriction.is_some(),
    })
}

/// The projects and repositories named, as ids; `None` when none are named.
async fn restriction(host: &Host<'_>, new: &NewService) -> HostResult<Option<Restriction>> {
    let mut r = Restriction::default();
    for key in &new.projects {
        let p = host
            .store
            .find_project(key)
            .await?
            .ok_or_else(|| HostError::Unknown {
                field: "projects",
                missing: Missing::Project(key.clone()),
            })?;
        r.projects.push(p.id);
    }
    for path in &new.repositories {
        let (key, slug) = path.split_once('/').ok_or_else(|| {
            HostError::invalid("repositories", format!("'{path}' is not KEY/slug."))
        })?;
        let repo = host
            .store
            .find_repository(key, slug)
            .await?
            .ok_or_else(|| HostError::Unknown {
                field: "repositories",
                missing: Missing::Repository(key.into(), slug.into()),
            })?;
        r.repos.push((repo.project_id, repo.id));
    }
    Ok((r != Restriction::default()).then_some(r))
}

pub async fn list(host: &Host<'_>, who: &Principal<'_>) -> HostResult<Vec<(Account, OAuthClient)>> {
    who.check(Action::AdminSystem)?;
    Ok(host.store.list_service_accounts().await?)
}

/// Deletes the client (every token ends) and deactivates the account, keeping its history.
pub async fn delete(host: &Host<'_>, who: &Principal<'_>, name: &str) -> HostResult<()> {
    let (account, client) = list(host, who)
        .await?
        .into_iter()
        .find(|(a, _)| a.slug.eq_ignore_ascii_case(name))
        .ok_or_else(|| HostError::NotFound(Missing::ServiceAccount(name.into())))?;
    let target = format!("user:{}", account.slug);
    let audit = who.audit("service_account.deleted", &target, "");
    host.store
        .delete_service_account(account.id, client.id, Some(&audit))
        .await?;
    Ok(())
}
