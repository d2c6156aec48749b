//! What a URL is: its applinks manifest and its OAuth 2.0 metadata, fetched SSRF-safely.

use super::Links;
use crate::domain::applinks::Manifest;
use crate::services::outbound::{Fetched, OutboundError};
use serde::{Deserialize, Serialize};

/// RFC 8414 / OpenID discovery fields Junction uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct AsMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Discovery {
    pub url: String,
    /// `junction`, `atlassian` (a Data Center product), `oauth2` (an OAuth 2.0 server) or
    /// `generic` (answers, but says nothing about itself).
    pub kind: &'static str,
    pub manifest: Option<Manifest>,
    pub oauth: Option<AsMetadata>,
    /// Remote clock minus ours, from its `Date` header.
    pub clock_offset_seconds: Option<i64>,
    /// Where the remote redirected the manifest request (never followed).
    pub redirected_to: Option<String>,
    /// Why what answered at the manifest path is not a manifest, when something did.
    pub manifest_note: Option<String>,
}

impl Discovery {
    /// Which link fits, in words for the admin.
    pub fn advice(&self) -> &'static str {
        match self.kind {
            "junction" => "Another Junction server: link both ways in one step (pair); each side gets an incoming and an outgoing link.",
            "atlassian" => "An Atlassian Data Center product: create an incoming link here, an incoming link there, and enter each side's credentials as the other's outgoing link.",
            "oauth2" => "An OAuth 2.0 authorization server: create an outgoing link so people can connect their accounts; its endpoints are filled in from its metadata.",
            _ => "A generic application: create an incoming link if it should act in Junction for people (it gets a client ID and secret), an outgoing link if Junction should call it.",
        }
    }

    /// The link types that fit, best first.
    pub fn link_types(&self) -> &'static [&'static str] {
        match self.kind {
            "junction" => &["pair", "incoming", "outgoing"],
            "oauth2" => &["outgoing", "incoming"],
            _ => &["incoming", "outgoing"],
        }
    }

    pub fn application(&self) -> String {
        let m = self.manifest.as_ref();
        crate::domain::applinks::application_label(
            m.map(|m| m.name.as_str()),
            m.map(|m| m.version.as_str()),
        )
    }
}

impl Links {
    /// The remote's manifest, if it publishes one. Network failures are errors; a page that is
    /// not a manifest is `None`.
    pub async fn fetch_manifest(
        &self,
        base: &str,
    ) -> Result<(Option<Manifest>, Fetched), OutboundError> {
        let r = self
            .outbound
            .get(
                &format!("{base}/rest/applinks/1.0/manifest"),
                "application/json",
            )
            .await?;
        let manifest = r
            .is_success()
            .then(|| serde_json::from_slice::<Manifest>(&r.body).ok())
            .flatten()
            .filter(|m| !m.type_id.is_empty());
        Ok((manifest, r))
    }

    /// RFC 8414 metadata at the root, then OpenID discovery.
    pub async fn fetch_metadata(&self, base: &str) -> Result<Option<AsMetadata>, OutboundError> {
        for path in [
            "/.well-known/oauth-authorization-server",
            "/.well-known/openid-configuration",
        ] {
            let r = self
                .outbound
                .get(&format!("{base}{path}"), "application/json")
                .await?;
            if r.is_success() {
                if let Ok(m) = serde_json::from_slice::<AsMetadata>(&r.body) {
                    return Ok(Some(m));
                }
            }
        }
        Ok(None)
    }

    pub fn clock_offset(&self, r: &Fetched) -> Option<i64> {
        r.date_ms().map(|d| (d - self.now()) / 1000)
    }

    pub async fn discover(&self, base: &str) -> Result<Discovery, OutboundError> {
        let (manifest, first) = self.fetch_manifest(base).await?;
        let oauth = self.fetch_metadata(base).await?;
        let redirected_to = (300..400).contains(&first.status).then(|| {
            first
                .header("location")
                .unwrap_or("(no Location header)")
                .to_string()
        });
        let manifest_note = match (&manifest, first.status) {
            (None, 200..=299) => Some(format!(
                "{base}/rest/applinks/1.0/manifest answered HTTP {}, but not with a manifest ({}).",
                first.status,
                first.header("content-type").unwrap_or("no content type")
            )),
            (None, s) if !(300..400).contains(&s) => {
                Some(format!("{base} publishes no applinks manifest (HTTP {s})."))
            }
            _ => None,
        };
        let kind = match (&manifest, &oauth) {
            (Some(m), _) if m.type_id == "junction" => "junction",
            (Some(m), _) if m.type_id != "generic" => "atlassian",
            (_, Some(_)) => "oauth2",
            _ => "generic",
        };
        Ok(Discovery {
            url: base.to_string(),
            kind,
            clock_offset_seconds: self.clock_offset(&first),
            redirected_to,
            manifest_note,
            manifest,
            oauth,
        })
    }
}
