//! OAuth 2.0 clients (the incoming side of application links): created, changed, deleted and
//! their secrets shown or reset by system administrators; creating one, showing or resetting its
//! secret, or widening its scope needs the person (`AdminCredentials`).

use super::{ConflictKind, Host, HostError, HostResult, Missing, Principal};
use crate::domain::oauth2::{check_redirect_uri, ScopeSet};
use crate::domain::{Action, DisplayName};
use crate::store::{ClientGrant, OAuthClient, StoreError};

/// What a person sent; `None` keeps the current value on edit.
#[derive(Debug, Clone, Default)]
pub struct ClientInput {
    pub name: Option<String>,
    pub redirects: Option<Vec<String>>,
    /// Space-separated scopes (the highest counts).
    pub scope: Option<String>,
    /// Public clients (no secret) must use PKCE. Default: confidential.
    pub confidential: Option<bool>,
}

struct Checked {
    name: DisplayName,
    redirects: Vec<String>,
    scope: ScopeSet,
}

fn check(b: &ClientInput, current: Option<&OAuthClient>) -> HostResult<Checked> {
    let name = match (b.name.as_deref(), current) {
        (Some(n), _) => DisplayName::parse("name", n)?,
        (None, Some(c)) => DisplayName::parse("name", &c.name)?,
        (None, None) => return Err(HostError::invalid("name", "name is required.")),
    };
    let redirects = match (&b.redirects, current) {
        (Some(r), _) => r
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        (None, Some(c)) => c.redirect_list(),
        (None, None) => Vec::new(),
    };
    if redirects.is_empty() {
        return Err(HostError::invalid(
            "redirects",
            "At least one redirect URL is required.",
        ));
    }
    for r in &redirects {
        check_redirect_uri(r).map_err(|m| HostError::invalid("redirects", m))?;
    }
    let raw = match (&b.scope, current) {
        (Some(s), _) => s.clone(),
        (None, Some(c)) => c.scope.clone(),
        (None, None) => String::new(),
    };
    let scope = ScopeSet::parse(&raw).map_err(|m| HostError::invalid("scope", m))?;
    Ok(Checked {
        name,
        redirects,
        scope,
    })
}

fn name_taken() -> HostError {
    HostError::Conflict {
        kind: ConflictKind::ClientNameTaken,
        message: "Another application link already has this name.".into(),
    }
}

/// What the audit log names a client by.
fn audit_target(client_id: &str) -> String {
    format!("client:{client_id}")
}

/// The client `client_id`, for a system administrator.
pub async fn find(
    host: &Host<'_>,
    who: &Principal<'_>,
    client_id: &str,
) -> HostResult<OAuthClient> {
    who.check(Action::AdminSystem)?;
    host.store
        .find_oauth_client(client_id)
        .await?
        .ok_or_else(|| HostError::NotFound(Missing::OAuthClient(client_id.into())))
}

pub async fn list(host: &Host<'_>, who: &Principal<'_>) -> HostResult<Vec<OAuthClient>> {
    who.check(Action::AdminSystem)?;
    Ok(host.store.list_oauth_clients().await?)
}

/// Creates a client; returns it with its secret (confidential clients), shown this once.
pub async fn create(
    host: &Host<'_>,
    who: &Principal<'_>,
    input: &ClientInput,
) -> HostResult<(OAuthClient, Option<String>)> {
    who.check(Action::AdminCredentials)?;
    let c = check(input, None)?;
    let confidential = input.confidential.unwrap_or(true);
    let client_id = crate::secret::new_client_id();
    let (secret, hash, encrypted) = if confidential {
        let (s, h, e) = crate::crypto::new_client_secret(host.master_key);
        (Some(s), Some(h), Some(e))
    } else {
        (None, None, None)
    };
    let target = audit_target(&client_id);
    let audit = who.audit("oauth2.client_created", &target, c.name.as_str());
    let created = host
        .store
        .create_oauth_client(
            &client_id,
            c.name.as_str(),
            confidential,
            hash.as_deref(),
            encrypted.as_deref(),
            &c.redirects,
            c.scope.as_str(),
            Some(&audit),
        )
        .await;
    match created {
        Err(StoreError::Duplicate) => Err(name_taken()),
        other => Ok((other?, secret)),
    }
}

/// Changes a client; a wider scope widens every credential of the client (its secret, a
/// service account's), so it needs the person.
pub async fn update(
    host: &Host<'_>,
    who: &Principal<'_>,
    client_id: &str,
    input: &ClientInput,
) -> HostResult<OAuthClient> {
    let client = find(host, who, client_id).await?;
    if input.confidential.is_some_and(|c| c != client.confidential) {
        return Err(HostError::invalid(
            "confidential",
            "A client cannot change between confidential and public; create a new one.",
        ));
    }
    let c = check(input, Some(&client))?;
    let was = ScopeSet::parse(&client.scope).map_err(HostError::Internal)?;
    if !was.implies(c.scope) {
        who.check(Action::AdminCredentials)?;
    }
    let target = audit_target(&client.client_id);
    let audit = who.audit("oauth2.client_updated", &target, c.name.as_str());
    let changed = host
        .store
        .update_oauth_client(
            client.id,
            c.name.as_str(),
            &c.redirects,
            c.scope.as_str(),
            Some(&audit),
        )
        .await;
    match changed {
        Err(StoreError::Duplicate) => Err(name_taken()),
        other => Ok(other?),
    }
}

/// Deleting a client revokes every grant and token it holds.
pub async fn delete(host: &Host<'_>, who: &Principal<'_>, client_id: &str) -> HostResult<()> {
    let client = find(host, who, client_id).await?;
    let target = audit_target(&client.client_id);
    let audit = who.audit("oauth2.client_deleted", &target, &client.name);
    host.store
        .delete_oauth_client(client.id, Some(&audit))
        .await?;
    Ok(())
}

/// A new secret (the old one stops working); returns it, shown this once.
pub async fn reset_secret(
    host: &Host<'_>,
    who: &Principal<'_>,
    client_id: &str,
) -> HostResult<(OAuthClient, String)> {
    who.check(Action::AdminCredentials)?;
    let client = find(host, who, client_id).await?;
    if !client.confidential {
        return Err(HostError::invalid(
            "clientSecret",
            "Public clients have no secret.",
        ));
    }
    let (secret, hash, encrypted) = crate::crypto::new_client_secret(host.master_key);
    let target = audit_target(&client.client_id);
    let audit = who.audit("oauth2.client_secret_reset", &target, &client.name);
    let updated = host
        .store
        .reset_oauth_client_secret(client.id, &hash, &encrypted, Some(&audit))
        .await?;
    Ok((updated, secret))
}

/// The client and its secret, decrypted with the master key. Every view is audited.
pub async fn credentials(
    host: &Host<'_>,
    who: &Principal<'_>,
    client_id: &str,
) -> HostResult<(OAuthClient, Option<String>)> {
    who.check(Action::AdminCredentials)?;
    let client = find(host, who, client_id).await?;
    let secret = secret_of(host, &client)?;
    let target = audit_target(&client.client_id);
    host.audit(
        who,
        "oauth2.client_credentials_viewed",
        &target,
        &client.name,
    )
    .await;
    Ok((client, secret))
}

/// The client's secret, decrypted with the master key (public clients have none). The caller
/// has decided the person may see it and audits the view.
pub(super) fn secret_of(host: &Host<'_>, c: &OAuthClient) -> HostResult<Option<String>> {
    c.secret_encrypted
        .as_deref()
        .map(|enc| host.master_key.decrypt(enc))
        .transpose()
        .map_err(|e| HostError::Internal(e.to_string()))
}

/// Who has authorized the client and still holds live tokens.
pub async fn grants(
    host: &Host<'_>,
    who: &Principal<'_>,
    client_id: &str,
) -> HostResult<Vec<ClientGrant>> {
    let client = find(host, who, client_id).await?;
    grants_of(host, who, &client).await
}

/// `grants` of a client already found (a list of clients asks for each one's).
pub async fn grants_of(
    host: &Host<'_>,
    who: &Principal<'_>,
    client: &OAuthClient,
) -> HostResult<Vec<ClientGrant>> {
    who.check(Action::AdminSystem)?;
    Ok(host.store.client_grants(client.id).await?)
}

/// Revokes every person's authorization of the client.
pub async fn revoke_grants(
    host: &Host<'_>,
    who: &Principal<'_>,
    client_id: &str,
) -> HostResult<()> {
    let client = find(host, who, client_id).await?;
    let target = audit_target(&client.client_id);
    let audit = who.audit("oauth2.client_grants_revoked", &target, &client.name);
    host.store
        .revoke_client_grants(client.id, Some(&audit))
        .await?;
    Ok(())
}
