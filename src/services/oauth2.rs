//! Junction as OAuth 2.0 provider: the policies that need the store. The store reports what it
//! found; what a replay costs is decided here, once.

use crate::store::{Redeemed, Rotated, Store, StoreResult};

/// Spends an authorization code. A code used twice means it leaked: the grant and every token
/// issued from it are revoked (RFC 6749 §4.1.2).
pub async fn redeem_code(store: &Store, code_hash: &str) -> StoreResult<Redeemed> {
    let found = store.redeem_code(code_hash).await?;
    if let Redeemed::Replayed { grant_id } = found {
        store.revoke_oauth_grant(grant_id).await?;
    }
    Ok(found)
}

/// Exchanges a refresh token. One presented again after it was exchanged means it leaked (or
/// the client lost a response): the whole grant is revoked (RFC 9700 §4.14).
pub async fn rotate_refresh_token(store: &Store, token_hash: &str) -> StoreResult<Rotated> {
    let found = store.rotate_refresh_token(token_hash).await?;
    if let Rotated::Reused { grant_id } = found {
        store.revoke_oauth_grant(grant_id).await?;
    }
    Ok(found)
}
