//! Repositories: finding one the principal may act on.

use super::{Host, HostError, HostResult, Missing, Principal};
use crate::domain::Action;
use crate::store::Repository;

/// The repository `key`/`slug`, if the principal may do `action` on it. One it may not see is
/// `NotFound`-like (`Denied` with `NotVisible`), so its existence is not revealed.
pub async fn find(
    host: &Host<'_>,
    who: &Principal<'_>,
    key: &str,
    slug: &str,
    action: Action,
) -> HostResult<Repository> {
    let repo = host
        .store
        .find_repository(key, slug)
        .await?
        .ok_or_else(|| HostError::NotFound(Missing::Repository(key.into(), slug.into())))?;
    who.check_repo(&repo, action)?;
    Ok(repo)
}
