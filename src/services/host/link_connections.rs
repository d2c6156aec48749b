//! A person's own connections through outgoing application links: which links they may
//! connect, starting the authorization at the remote, and forgetting their tokens.

use super::{Host, HostError, HostResult, Missing, Principal};
use crate::domain::Action;
use crate::services::links::flow::PURPOSE_CONNECT;
use crate::store::AppLink;

/// One row of "Connected applications".
pub struct Connection {
    pub link: AppLink,
    /// `connected`, `revoked` (the remote refused the tokens) or `not_connected`.
    pub status: String,
    pub connected_at: Option<i64>,
    pub expires_at: Option<i64>,
}

/// A link people may connect to: it must have an outgoing side.
pub async fn outgoing_link(host: &Host<'_>, id: &str) -> HostResult<AppLink> {
    host.store
        .find_link_cached(id)
        .await?
        .filter(|l| l.outgoing().is_some())
        .ok_or_else(|| HostError::NotFound(Missing::Link(id.into())))
}

/// Every link with an outgoing side, and where `user_id` stands with it.
pub async fn connections_of(host: &Host<'_>, user_id: i64) -> HostResult<Vec<Connection>> {
    let tokens = host.store.user_link_tokens(user_id).await?;
    Ok(host
        .store
        .list_links()
        .await?
        .into_iter()
        .filter(|l| l.outgoing().is_some())
        .map(|link| {
            let t = tokens.iter().find(|t| t.link_id == link.id);
            Connection {
                status: t.map_or("not_connected".into(), |t| t.status.clone()),
                connected_at: t.map(|t| t.connected_at),
                expires_at: t.and_then(|t| t.expires_at),
                link,
            }
        })
        .collect())
}

/// Starts connecting the person's account: where their browser goes to authorize.
pub async fn connect(host: &Host<'_>, who: &Principal<'_>, id: &str) -> HostResult<String> {
    who.check(Action::ActThroughLink)?;
    let link = outgoing_link(host, id).await?;
    let me = who.user()?;
    Ok(host.links.start_flow(&link, me.id, PURPOSE_CONNECT).await?)
}

/// Forgets the person's tokens for the link.
pub async fn disconnect(host: &Host<'_>, who: &Principal<'_>, id: &str) -> HostResult<()> {
    let me = who.user()?;
    let link = outgoing_link(host, id).await?;
    let target = format!("applink:{}", link.link_id);
    let audit = who.audit("applinks.account_disconnected", &target, &link.name);
    if !host
        .store
        .delete_link_token(link.id, me.id, Some(&audit))
        .await?
    {
        return Err(HostError::NotFound(Missing::Connection(link.name)));
    }
    Ok(())
}
