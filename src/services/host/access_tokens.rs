//! Personal access tokens: created by their owner only (never through a token), shown once,
//! stored as a hash; listed and revoked by their owner or a system administrator.

use super::{ConflictKind, Host, HostError, HostResult, Missing, Principal};
use crate::domain::access_tokens::TokenPermissions;
use crate::domain::{Action, DisplayName};
use crate::secret::{new_token, token_hash, TokenKind};
use crate::store::{AccessToken, Account, StoreError};

pub const MAX_EXPIRY_DAYS: i64 = 3650;

/// What the principal means to do with someone's tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// Create one: the owner only, and only as a person (`CreateOwnCredential`).
    Create,
    /// See or revoke them: the owner, or a system administrator.
    Manage,
}

/// The account `slug` whose tokens are addressed, if the principal may `purpose` them.
pub async fn owner(
    host: &Host<'_>,
    who: &Principal<'_>,
    slug: &str,
    purpose: Use,
) -> HostResult<Account> {
    let me = who.user()?;
    if me.slug.eq_ignore_ascii_case(slug) {
        who.check(match purpose {
            Use::Create => Action::CreateOwnCredential,
            Use::Manage => Action::EditOwnAccount,
        })?;
        return Ok(me.clone());
    }
    if purpose == Use::Create {
        return Err(HostError::Forbidden(
            "Access tokens can only be created by their owner.".into(),
        ));
    }
    who.check(Action::AdminSystem)?;
    super::users::find(host, slug).await
}

/// `owner`'s tokens (the principal got `owner` from `owner()`).
pub async fn list(host: &Host<'_>, owner: &Account) -> HostResult<Vec<AccessToken>> {
    Ok(host.store.list_access_tokens(owner.id).await?)
}

/// `owner`'s token `id`.
pub async fn get(host: &Host<'_>, owner: &Account, id: i64) -> HostResult<AccessToken> {
    host.store
        .find_access_token(owner.id, id)
        .await?
        .ok_or(HostError::NotFound(Missing::AccessToken))
}

#[derive(Debug, Clone)]
pub struct NewAccessToken {
    pub name: String,
    pub permissions: TokenPermissions,
    pub expiry_days: Option<i64>,
}

/// Creates a token for `owner` and returns it with the secret, which is never shown again.
pub async fn create(
    host: &Host<'_>,
    who: &Principal<'_>,
    owner: &Account,
    new: NewAccessToken,
) -> HostResult<(AccessToken, String)> {
    who.check(Action::CreateOwnCredential)?;
    let name = DisplayName::parse("name", &new.name)?;
    if let Some(d) = new.expiry_days {
        if !(1..=MAX_EXPIRY_DAYS).contains(&d) {
            return Err(HostError::invalid(
                "expiryDays",
                format!("expiryDays must be between 1 and {MAX_EXPIRY_DAYS}."),
            ));
        }
    }
    let expires_at = new.expiry_days.map(|d| host.store.now() + d * 86_400_000);
    let secret = new_token(TokenKind::Personal);
    let (word, pair) = new.permissions.to_stored();
    let details = format!("{} ({})", name.as_str(), new.permissions.names().join(", "));
    let target = format!("user:{}", owner.slug);
    let audit = who.audit("token.created", &target, &details);
    let created = host
        .store
        .create_access_token(
            owner.id,
            name.as_str(),
            &token_hash(&secret),
            (word, pair.as_deref()),
            expires_at,
            Some(&audit),
        )
        .await;
    let token = match created {
        Err(StoreError::Duplicate) => {
            return Err(HostError::Conflict {
                kind: ConflictKind::TokenNameTaken,
                message: "You already have a token with this name.".into(),
            })
        }
        other => other?,
    };
    Ok((token, secret))
}

/// Revokes `owner`'s token `id` (the principal got `owner` from `owner()`).
pub async fn revoke(
    host: &Host<'_>,
    who: &Principal<'_>,
    owner: &Account,
    id: i64,
) -> HostResult<()> {
    let token = get(host, owner, id).await?;
    let target = format!("user:{}", owner.slug);
    let audit = who.audit("token.revoked", &target, &token.name);
    host.store
        .delete_access_token(owner.id, id, Some(&audit))
        .await?;
    Ok(())
}
