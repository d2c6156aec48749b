//! Checking a username and password, with throttling of repeated failures. Used by the sign-in
//! form and by HTTP Basic authentication alike.

use super::{audit, passwords};
use crate::config::SecurityConfig;
use crate::store::{Account, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("Too many failed sign-in attempts for this account. Try again in a few minutes.")]
    Throttled,
    #[error("The username or password is incorrect.")]
    Invalid,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub async fn check_password(
    store: &Store,
    security: &SecurityConfig,
    username: &str,
    password: &str,
    ip: &str,
) -> Result<Account, SignInError> {
    let username = username.trim().to_ascii_lowercase();
    let window_ms = i64::from(security.sign_in_window_minutes) * 60_000;
    if store.sign_in_failures(&username, window_ms).await?
        >= i64::from(security.max_failed_sign_ins)
    {
        return Err(SignInError::Throttled);
    }
    let found = store.find_user_credentials(&username).await?;
    let (account, stored) = match found {
        Some((a, h)) if a.active => (Some(a), h),
        _ => (None, None),
    };
    let ok = passwords::verify(password.to_string(), stored).await;
    match account {
        Some(a) if ok => {
            store.clear_sign_in_failures(&username).await?;
            Ok(a)
        }
        _ => {
            store.record_sign_in_failure(&username, window_ms).await?;
            let actor = audit::Actor {
                id: None,
                name: &username,
                ip,
            };
            audit::record(
                store,
                &actor,
                "auth.sign_in_failed",
                &format!("user:{username}"),
                "",
            )
            .await;
            Err(SignInError::Invalid)
        }
    }
}
