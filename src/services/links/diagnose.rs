//! Test connection: measures what is wrong with a link and names it (network, TLS, status,
//! clock skew, URL mismatch, credentials), with the numbers.

use super::remote_oauth::RemoteOAuthError;
use super::Links;
use crate::domain::applinks::{
    normalize_base_url, redirect_uri, Facts, LinkStatus, MAX_CLOCK_SKEW_SECONDS,
};
use crate::services::outbound::OutboundError;
use crate::store::AppLink;

/// A network failure as a status: cause in plain words and the fix.
pub fn network_status(url: &str, e: &OutboundError) -> LinkStatus {
    let fix = match e {
        OutboundError::AddressNotAllowed { .. } => "If the remote really is on your own network, add its address block to outbound.allow_private.",
        OutboundError::UnknownHost(_) => "Check the host name in the link's URL, or this server's DNS settings.",
        OutboundError::ConnectionRefused(_) => "Check that the remote application is running and the URL's port is right; a firewall may also refuse.",
        OutboundError::Tls { .. } => "Give the remote a certificate for its host name, signed by an authority this server trusts, and check the link's URL uses https only where the remote speaks TLS.",
        OutboundError::Timeout(..) => "Check that the remote is up and reachable from this server (proxies, firewalls).",
        OutboundError::TooLarge(..) => "The address may point at something other than the application; check the URL.",
        OutboundError::InvalidUrl(_) => "Correct the link's URL.",
        OutboundError::Other(..) => "Check the remote's logs and the network between the servers.",
    };
    let summary = match e {
        OutboundError::AddressNotAllowed { .. } => "Address not allowed",
        OutboundError::UnknownHost(_) => "Unknown host",
        OutboundError::ConnectionRefused(_) => "Connection refused",
        OutboundError::Tls { .. } => "TLS handshake failed",
        OutboundError::Timeout(..) => "Connection timed out",
        OutboundError::TooLarge(..) => "Response too large",
        OutboundError::InvalidUrl(_) => "Invalid URL",
        OutboundError::Other(..) => "Unexpected response",
    };
    let category = match e {
        OutboundError::AddressNotAllowed { .. } | OutboundError::InvalidUrl(_) => "CONFIG_ERROR",
        _ => "NETWORK_ERROR",
    };
    LinkStatus::failed(
        category,
        e.kind(),
        summary,
        e.to_string(),
        fix,
        Facts {
            checked_url: Some(url.to_string()),
            ..Default::default()
        },
    )
}

fn same_url(a: &str, b: &str) -> bool {
    match (normalize_base_url(a), normalize_base_url(b)) {
        (Ok(a), Ok(b)) => a.eq_ignore_ascii_case(&b),
        _ => false,
    }
}

impl Links {
    /// Runs every check that needs no user: reachability, clock, identity, then the outgoing
    /// side's client credentials at the token endpoint.
    pub async fn test_connection(&self, link: &AppLink) -> LinkStatus {
        let manifest_url = format!("{}/rest/applinks/1.0/manifest", link.url);
        let (manifest, first) = match self.fetch_manifest(&link.url).await {
            Ok(v) => v,
            Err(e) => return network_status(&manifest_url, &e),
        };
        let mut facts = Facts {
            http_status: Some(first.status),
            clock_offset_seconds: self.clock_offset(&first),
            ..Default::default()
        };
        if let Some(offset) = facts.clock_offset_seconds {
            if offset.abs() > MAX_CLOCK_SKEW_SECONDS {
                return LinkStatus::clock_skew(offset, facts);
            }
        }
        // Who the remote says it is.
        let reported = match &manifest {
            Some(m) => {
                facts.remote_application = Some(format!("{} {}", m.name, m.version));
                Some(m.url.clone())
            }
            None => match self.fetch_metadata(&link.url).await {
                Ok(m) => m.map(|m| m.issuer),
                Err(e) => return network_status(&link.url, &e),
            },
        };
        if let Some(theirs) = reported.filter(|u| !u.is_empty()) {
            facts.remote_url = Some(theirs.clone());
            if !same_url(&theirs, &link.url) {
                return LinkStatus::url_mismatch(&link.url, &theirs, facts);
            }
        } else {
            // Says nothing about itself: at least it must answer at its URL.
            match self.outbound.get(&link.url, "*/*").await {
                Ok(r) if r.status < 500 => facts.http_status = Some(r.status),
                Ok(r) => return LinkStatus::unexpected_status(&link.url, r.status, facts),
                Err(e) => return network_status(&link.url, &e),
            }
        }
        if let Some(out) = link.outgoing() {
            let redirect = redirect_uri(&self.base_url, &out.authorize_url);
            if let Err(e) = self.probe_credentials(&out, &redirect).await {
                return match &e {
                    RemoteOAuthError::Refused { status, .. } if e.is_bad_client() => {
                        LinkStatus::credentials_rejected(*status, facts)
                    }
                    RemoteOAuthError::Refused { status, .. } => {
                        LinkStatus::unexpected_status(&out.token_url, *status, facts)
                    }
                    RemoteOAuthError::Network(n) => network_status(&out.token_url, n),
                    RemoteOAuthError::Invalid(m) => LinkStatus::failed(
                        "CONFIG_ERROR",
                        "OAUTH_PROBLEM",
                        "OAuth problem",
                        m.clone(),
                        "Re-enter the link's client secret.",
                        facts,
                    ),
                };
            }
        }
        let what = if link.outgoing().is_some() {
            "Working: the remote answers, its clock and URL agree, and it accepts this link's client credentials."
        } else {
            "Reachable: the remote answers and its clock and URL agree. Incoming-only links are used by the remote; see its users under the link."
        };
        LinkStatus::working(what, facts)
    }
}
