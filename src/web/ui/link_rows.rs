//! One application link as the list and edit pages show it: its application, direction, and
//! the last status in plain words with the facts behind it.

use crate::clock::display;
use crate::services::host::applinks as link_facts;
use crate::store::AppLink;

/// One link on the list page.
pub struct LinkRow {
    pub id: String,
    pub name: String,
    pub application: String,
    pub url: String,
    pub direction: &'static str,
    pub outgoing: bool,
    /// `ok`, `bad` or `unknown`.
    pub state: &'static str,
    pub summary: String,
    pub cause: String,
    pub fix: String,
    pub facts: Vec<(String, String)>,
    pub checked: String,
}

pub fn row(l: &AppLink) -> LinkRow {
    let status = link_facts::last_status(l);
    let mut facts = Vec::new();
    if let Some(s) = &status {
        let f = &s.facts;
        if let Some(k) = &s.kind {
            facts.push((
                "Type".into(),
                format!("{} / {k}", s.category.clone().unwrap_or_default()),
            ));
        }
        if let Some(v) = f.http_status {
            facts.push(("HTTP status".into(), v.to_string()));
        }
        if let Some(v) = f.clock_offset_seconds {
            facts.push(("Clock offset".into(), format!("{v:+} s")));
        }
        if let Some(v) = &f.remote_url {
            facts.push(("Remote reports its URL as".into(), v.clone()));
        }
        if let Some(v) = &f.checked_url {
            facts.push(("Checked".into(), v.clone()));
        }
    }
    LinkRow {
        id: l.link_id.clone(),
        name: l.name.clone(),
        application: link_facts::application_name(l),
        url: l.url.clone(),
        direction: link_facts::direction(l).label(),
        outgoing: l.outgoing().is_some(),
        state: match &status {
            Some(s) if s.working => "ok",
            Some(_) => "bad",
            None => "unknown",
        },
        summary: status
            .as_ref()
            .map_or("Not tested yet".into(), |s| s.summary.clone()),
        cause: status.as_ref().map(|s| s.cause.clone()).unwrap_or_default(),
        fix: status.as_ref().map(|s| s.fix.clone()).unwrap_or_default(),
        facts,
        checked: l.last_checked_at.map(display).unwrap_or_default(),
    }
}
