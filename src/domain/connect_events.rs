//! Which events an app's `webhooks` module receives: its `event` (a key or `*`), narrowed to
//! what the installation's scopes cover. Bitbucket's rule, `*` included: an event needs the
//! scope of its kind (`pullrequest:updated` needs `pullrequest`), and implied scopes count
//! (`pullrequest` implies `repository`).

use super::connect_descriptor::{resolve, Descriptor};
use super::connect_scopes::{ConnectScope, ConnectScopes};
use super::webhooks::CLOUD_EVENT_KEYS;

/// One `webhooks` module of a valid descriptor, with what it receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookModule {
    /// Its `key`, or `event url` when it has none: stable while the module is unchanged.
    pub key: String,
    pub event: String,
    /// Absolute.
    pub url: String,
    /// The keys its scopes let it receive (`events_received`).
    pub receives: Vec<&'static str>,
}

/// The descriptor's `webhooks` modules (already validated: each has `event` and `url`).
pub fn webhook_modules(d: &Descriptor) -> Vec<WebhookModule> {
    let Some(list) = d
        .raw
        .pointer("/modules/webhooks")
        .and_then(|w| w.as_array())
    else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|m| {
            let event = m.get("event")?.as_str()?;
            let given = m.get("url")?.as_str()?;
            let key = m
                .get("key")
                .and_then(|k| k.as_str())
                .map_or_else(|| format!("{event} {given}"), str::to_string);
            Some(WebhookModule {
                key,
                event: event.to_string(),
                url: resolve(&d.base_url, given)?,
                receives: events_received(event, d.scopes),
            })
        })
        .collect()
}

/// The scope an app needs to receive events of this key.
pub fn scope_for_event(key: &str) -> Option<ConnectScope> {
    let kind = key.split_once(':').map_or(key, |(kind, _)| kind);
    match kind {
        "repo" => Some(ConnectScope::Repository),
        "pullrequest" => Some(ConnectScope::PullRequest),
        "issue" => Some(ConnectScope::Issue),
        "project" => Some(ConnectScope::Project),
        "user" => Some(ConnectScope::Account),
        _ => None,
    }
}

/// The event keys a module subscribed to `event` receives with `scopes`, in the catalogue's
/// order; empty when its scopes cover none of them.
pub fn events_received(event: &str, scopes: ConnectScopes) -> Vec<&'static str> {
    let scopes = scopes.expanded();
    CLOUD_EVENT_KEYS
        .iter()
        .copied()
        .filter(|k| event == "*" || *k == event)
        .filter(|k| scope_for_event(k).is_some_and(|s| scopes.contains(s)))
        .collect()
}

/// How a subscriber's keys are stored, so one `LIKE '%,key,%'` matches: `,k1,k2,`.
pub fn stored_event_list(keys: &[&str]) -> String {
    if keys.is_empty() {
        return String::new();
    }
    format!(",{},", keys.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConnectScope::*;

    fn scopes(list: &[ConnectScope]) -> ConnectScopes {
        list.iter().copied().collect()
    }

    #[test]
    fn a_pull_request_event_needs_the_pullrequest_scope() {
        assert!(events_received("pullrequest:updated", scopes(&[Repository])).is_empty());
        assert_eq!(
            events_received("pullrequest:updated", scopes(&[PullRequest])),
            ["pullrequest:updated"]
        );
    }

    #[test]
    fn the_wildcard_is_narrowed_the_same_way() {
        let got = events_received("*", scopes(&[Repository]));
        assert!(got.contains(&"repo:push"));
        assert!(got.iter().all(|k| k.starts_with("repo:")), "{got:?}");
        // `pullrequest` implies `repository`: both kinds.
        let got = events_received("*", scopes(&[PullRequest]));
        assert!(got.contains(&"repo:push") && got.contains(&"pullrequest:created"));
        assert!(!got.contains(&"issue:created"));
    }

    #[test]
    fn the_stored_list_matches_with_one_like() {
        assert_eq!(
            stored_event_list(&["repo:push", "pullrequest:created"]),
            ",repo:push,pullrequest:created,"
        );
        assert_eq!(stored_event_list(&[]), "");
    }
}
