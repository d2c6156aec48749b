//! Recording security events. A failure to write the audit log is logged loudly but does not undo
//! the change it describes (which has already committed).

use crate::store::{NewAudit, Store};

pub struct Actor<'a> {
    pub id: Option<i64>,
    pub name: &'a str,
    pub ip: &'a str,
}

pub async fn record(store: &Store, actor: &Actor<'_>, action: &str, target: &str, details: &str) {
    let entry = NewAudit {
        actor_id: actor.id,
        actor_name: actor.name,
        action,
        target,
        details,
        source_ip: actor.ip,
    };
    if let Err(e) = store.record_audit(&entry).await {
        tracing::error!(error = %e, action, "could not write the audit log");
    }
}
