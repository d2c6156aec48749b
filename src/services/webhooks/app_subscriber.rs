//! Installed apps' `webhooks` modules as a kind of subscriber: Connect's delivery (the body
//! wrapped as `{"event", "data"}`, `Authorization: JWT` with `iss = aud = clientKey` and the
//! `qsh` of the request), with retries, history and health exactly as repository webhooks.
//!
//! Fan-out (`store/events.rs`) picks the candidates by the module's events and the account's
//! grants; here, at send time, the installation must still be enabled, its scopes must still
//! cover the event and `authorize()` must still let it read the repository by its grants — so
//! disabling, removing, narrowing or revoking takes effect on the very next attempt.

use super::subscriber::{
    record_health, AppTarget, BoxFuture, Endpoint, Health, Resolved, Signing, Subscriber,
};
use crate::crypto::MasterKey;
use crate::domain::authz::account_may_on_repo;
use crate::domain::connect_events::events_received;
use crate::domain::connect_scopes::ConnectScopes;
use crate::domain::webhooks::RetryPolicy;
use crate::domain::Action;
use crate::services::apps::lifecycle::host_token;
use crate::store::connect::InstallState;
use crate::store::{DueDelivery, Store, StoreResult, SubscriberKind};

pub struct AppSubscriber {
    pub store: Store,
    pub master_key: MasterKey,
    pub policy: RetryPolicy,
}

impl Subscriber for AppSubscriber {
    fn kind(&self) -> SubscriberKind {
        SubscriberKind::App
    }

    fn resolve(&self, id: i64) -> BoxFuture<'_, StoreResult<Resolved>> {
        Box::pin(async move {
            let Some(hook) = self.store.app_hook(id).await? else {
                return Ok(Resolved::GiveUp(
                    "The app no longer has this webhook module.".into(),
                ));
            };
            match hook.state {
                InstallState::Enabled => {}
                state => {
                    return Ok(Resolved::GiveUp(format!(
                        "The app installation is {}.",
                        state.as_str()
                    )))
                }
            }
            if !hook.account_active {
                return Ok(Resolved::GiveUp(
                    "The account the app is installed in is deactivated.".into(),
                ));
            }
            if let Some(reason) = &hook.disabled_reason {
                return Ok(Resolved::GiveUp(format!(
                    "The app's webhook is disabled: {reason}"
                )));
            }
            if let Some(until) = hook.paused_until.filter(|u| *u > self.store.now()) {
                return Ok(Resolved::Later(until));
            }
            let Ok(secret) = self.master_key.decrypt(&hook.shared_secret) else {
                return Ok(Resolved::GiveUp(
                    "The installation's shared secret cannot be decrypted with this server's master key; install the app again.".into(),
                ));
            };
            Ok(Resolved::Send(Endpoint {
                url: hook.url,
                healthy: hook.consecutive_failures == 0 && hook.paused_until.is_none(),
                hook_uuid: hook.uuid,
                secret: Some(secret),
                app: Some(AppTarget {
                    client_key: hook.client_key,
                    base_url: hook.base_url,
                    account_id: hook.account_id,
                    scopes: ConnectScopes::from_text(&hook.scopes),
                    event: hook.event,
                }),
            }))
        })
    }

    /// Judged with what `resolve` read moments ago (this batch's view of the installation) and
    /// the event's own repository and project: no query but the account's grants (cached).
    /// Reach is by grants, as fan-out's: public readability alone does not count.
    fn refuses<'a>(
        &'a self,
        endpoint: &'a Endpoint,
        due: &'a DueDelivery,
    ) -> BoxFuture<'a, StoreResult<Option<String>>> {
        Box::pin(async move {
            let Some(app) = &endpoint.app else {
                return Ok(None);
            };
            let key = due.delivery.event_key.as_str();
            if !events_received(&app.event, app.scopes).contains(&key) {
                return Ok(Some(format!("The app's scopes do not cover {key} events.")));
            }
            let (Some(repo_id), Some(project_id)) =
                (due.delivery.event_repo_id, due.delivery.event_project_id)
            else {
                return Ok(None);
            };
            let grants = self.store.grants_of_user(app.account_id).await?;
            let may = account_may_on_repo(
                app.account_id,
                &grants,
                app.scopes.ceiling(),
                Action::ViewRepo,
                (project_id, repo_id),
                false,
            );
            Ok((!may).then(|| "The app's account can no longer read this repository.".into()))
        })
    }

    /// Connect wraps the event: `{"event": key, "data": payload}`.
    fn body(&self, event_key: &str, payload: &str) -> Vec<u8> {
        let key = serde_json::Value::from(event_key);
        format!(r#"{{"event":{key},"data":{payload}}}"#).into_bytes()
    }

    fn sign(&self, s: &Signing<'_>) -> Vec<(&'static str, String)> {
        let (Some(app), Some(secret)) = (&s.endpoint.app, &s.endpoint.secret) else {
            return Vec::new();
        };
        let token = host_token(
            "POST",
            &s.endpoint.url,
            &app.base_url,
            &app.client_key,
            secret,
            s.timestamp,
        );
        vec![("authorization", format!("JWT {token}"))]
    }

    fn record_health(&self, id: i64, health: Health) -> BoxFuture<'_, StoreResult<()>> {
        record_health(&self.store, &self.policy, self.kind(), id, health)
    }
}
