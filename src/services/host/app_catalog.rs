//! The administrator's app catalog: descriptor URLs people may install from without
//! development mode. Listing one fetches and validates its descriptor first, so the catalog
//! never offers an app that cannot be installed as it stands.

use super::{Host, HostError, HostResult, Missing, Principal};
use crate::domain::Action;
use crate::services::apps;
use crate::store::connect_catalog::CatalogApp;

pub async fn list(host: &Host<'_>, who: &Principal<'_>) -> HostResult<Vec<CatalogApp>> {
    who.user()?;
    Ok(host.store.catalog_apps().await?)
}

/// Lists the app at `url` (or points its key at this URL); returns its key and name.
pub async fn add(host: &Host<'_>, who: &Principal<'_>, url: &str) -> HostResult<(String, String)> {
    who.check(Action::AdminSystem)?;
    let me = who.user()?;
    let (d, _) = apps::fetch_descriptor(&host.links.outbound, url.trim())
        .await
        .map_err(HostError::App)?;
    let target = format!("app:{}", d.key);
    let audit = who.audit("app.catalog_added", &target, url.trim());
    host.store
        .put_catalog_app(&d.key, &d.name, url.trim(), me.id, Some(&audit))
        .await?;
    Ok((d.key, d.name))
}

pub async fn remove(host: &Host<'_>, who: &Principal<'_>, id: i64) -> HostResult<()> {
    who.check(Action::AdminSystem)?;
    let target = format!("catalog:{id}");
    let audit = who.audit("app.catalog_removed", &target, "");
    if !host.store.remove_catalog_app(id, Some(&audit)).await? {
        return Err(HostError::NotFound(Missing::App(id.to_string())));
    }
    Ok(())
}
