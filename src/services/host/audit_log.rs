//! The security audit log, for administrators: newest first, narrowed by action (or its
//! family), who acted and a time window. Both the REST resource and the page read it here.

use super::{Host, HostResult, Principal};
use crate::domain::Action;
use crate::store::{AuditEntry, AuditFilter, PageRequest};

/// What the log is narrowed by, as typed (times as `parse_time` reads them).
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub action: Option<String>,
    pub actor: Option<String>,
    pub from: Option<String>,
    pub until: Option<String>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// One page (`req`), with one more row than asked when more follow.
pub async fn search(
    host: &Host<'_>,
    who: &Principal<'_>,
    q: &AuditQuery,
    req: PageRequest,
) -> HostResult<Vec<AuditEntry>> {
    who.check(Action::AdminSystem)?;
    let time = |field, v: &Option<String>| {
        given(v)
            .map(|t| super::webhook_deliveries::parse_time(field, t))
            .transpose()
    };
    let filter = AuditFilter {
        action: given(&q.action),
        actor: given(&q.actor),
        from: time("from", &q.from)?,
        until: time("until", &q.until)?,
    };
    Ok(host
        .store
        .audit_search(&filter, req.start, req.limit)
        .await?)
}
