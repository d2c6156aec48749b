//! What an app's developer sees of its webhooks: each `webhooks` module with the events it
//! receives and its health, and the latest deliveries to it, with why any failed. Seen by
//! whoever manages the installation (`app_installations::managed`).

use super::app_installations::managed;
use super::{Host, HostResult, Principal};
use crate::store::connect::Installation;
use crate::store::{AppHookTarget, Delivery, SubscriberKind};

/// The newest deliveries shown, across the app's modules.
pub const SHOWN: i64 = 50;

pub struct AppWebhooks {
    pub installation: Installation,
    pub modules: Vec<AppHookTarget>,
    /// Newest first, each with the module key it went to.
    pub deliveries: Vec<(String, Delivery)>,
}

pub async fn history(host: &Host<'_>, who: &Principal<'_>, id: i64) -> HostResult<AppWebhooks> {
    let (installation, _) = managed(host, who, id).await?;
    let modules = host.store.app_hooks_of(installation.id).await?;
    let mut deliveries = Vec::new();
    for m in &modules {
        let of_module = host
            .store
            .deliveries_of(SubscriberKind::App, m.id, None, None, 0, SHOWN)
            .await?;
        deliveries.extend(of_module.into_iter().map(|d| (m.module_key.clone(), d)));
    }
    deliveries.sort_by_key(|(_, d)| std::cmp::Reverse(d.id));
    deliveries.truncate(SHOWN as usize);
    Ok(AppWebhooks {
        installation,
        modules,
        deliveries,
    })
}
