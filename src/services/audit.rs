//! Recording security events. A change's record is written in the change's own transaction
//! (`Actor::entry` handed to the store write); `record` is for events that change nothing else
//! (a sign-in, credentials viewed), whose failure is logged loudly.

use crate::store::{NewAudit, Store};

pub struct Actor<'a> {
    pub id: Option<i64>,
    pub name: &'a str,
    pub ip: &'a str,
}

impl<'a> Actor<'a> {
    /// The audit row of what this actor did.
    pub fn entry<'b>(&self, action: &'b str, target: &'b str, details: &'b str) -> NewAudit<'b>
    where
        'a: 'b,
    {
        NewAudit {
            actor_id: self.id,
            actor_name: self.name,
            action,
            target,
            details,
            source_ip: self.ip,
        }
    }
}

pub async fn record(store: &Store, actor: &Actor<'_>, action: &str, target: &str, details: &str) {
    let entry = actor.entry(action, target, details);
    if let Err(e) = store.record_audit(&entry).await {
        tracing::error!(error = %e, action, "could not write the audit log");
    }
}
