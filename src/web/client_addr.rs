//! The client's address, for sign-in throttling and the audit log. Directly connected clients
//! are who the socket says. Behind a reverse proxy listed in `security.trusted_proxies`, the
//! client is the right-most `X-Forwarded-For` entry that is not itself a trusted proxy: entries
//! to its left were written by the client and prove nothing. With no trusted proxies (the
//! default) the header is ignored, since anyone can send it.

use crate::net::Cidr;
use axum::http::HeaderMap;
use std::net::{IpAddr, SocketAddr};

#[derive(Debug, Clone, Default)]
pub struct ClientAddress {
    trusted: Vec<Cidr>,
}

impl ClientAddress {
    pub fn new(trusted_proxies: &[Cidr]) -> Self {
        Self {
            trusted: trusted_proxies.to_vec(),
        }
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|c| c.contains(ip))
    }

    pub fn of(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> String {
        let Some(mut client) = peer else {
            return String::new();
        };
        if !self.is_trusted(client) {
            return client.to_string();
        }
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        for hop in hops.iter().rev() {
            let Some(ip) = parse_hop(hop) else {
                break; // a garbled entry: the last proxy's view is all that can be trusted
            };
            client = ip;
            if !self.is_trusted(ip) {
                break;
            }
        }
        client.to_string()
    }
}

fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[allow(clippy::unnecessary_wraps)] // `of` takes what a socket may or may not have
    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let c = ClientAddress::default();
        assert_eq!(
            c.of(ip("127.0.0.1"), &headers(&["203.0.113.9"])),
            "127.0.0.1"
        );
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client() {
        let blocks = ["127.0.0.1/32", "10.0.0.0/8"].map(|b| Cidr::parse(b).unwrap());
        let c = ClientAddress::new(&blocks);
        let h = headers(&["198.51.100.1, 203.0.113.9", "10.1.1.1"]);
        assert_eq!(
            c.of(ip("127.0.0.1"), &h),
            "203.0.113.9",
            "the forged left entry is ignored"
        );
        assert_eq!(
            c.of(ip("192.0.2.5"), &h),
            "192.0.2.5",
            "an untrusted peer is the client"
        );
        assert_eq!(c.of(ip("127.0.0.1"), &headers(&[])), "127.0.0.1");
        assert_eq!(
            c.of(ip("127.0.0.1"), &headers(&["10.2.2.2"])),
            "10.2.2.2",
            "all trusted: the left-most"
        );
        assert_eq!(c.of(ip("127.0.0.1"), &headers(&["garbage"])), "127.0.0.1");
        assert_eq!(
            c.of(ip("127.0.0.1"), &headers(&["[2001:db8::1]:443"])),
            "2001:db8::1"
        );
    }
}
