//! The SSRF guard's rule: which addresses a URL typed by a person may reach. Private, loopback,
//! link-local, multicast and other special-purpose addresses are refused unless an admin listed a
//! block in `outbound.allow_private`.

use crate::net::canonical;
pub use crate::net::Cidr;
use std::net::IpAddr;

/// Addresses that are not on the public internet. An IPv6 address that carries an IPv4 one
/// (IPv4-compatible `::a.b.c.d`, 6to4 `2002::/16`, Teredo `2001::/32`) is judged by the IPv4
/// address it leads to; NAT64 prefixes are refused outright (the translator sits inside one's own
/// network and reaches whatever IPv4 address follows).
pub fn is_special(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(a) => is_special_v4(a),
        IpAddr::V6(a) => is_special_v6(a),
    }
}

fn is_special_v4(a: std::net::Ipv4Addr) -> bool {
    let o = a.octets();
    a.is_private()
        || a.is_loopback()
        || a.is_link_local()
        || a.is_unspecified()
        || a.is_broadcast()
        || a.is_multicast()
        || a.is_documentation()
        || o[0] == 0
        || (o[0] == 100 && (64..128).contains(&o[1])) // carrier-grade NAT
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments
        || (o[0] == 198 && (18..20).contains(&o[1])) // benchmarking
        || o[0] >= 240
}

fn is_special_v6(a: std::net::Ipv6Addr) -> bool {
    use std::net::Ipv4Addr;
    let s = a.segments();
    let low32 = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if a.is_loopback() || a.is_unspecified() {
        return true;
    }
    // ::/96 (IPv4-compatible, deprecated): the IPv4 address in the low 32 bits.
    if s[..6].iter().all(|x| *x == 0) {
        return is_special_v4(low32);
    }
    // 6to4 2002:AABB:CCDD::/48 carries AA.BB.CC.DD.
    if s[0] == 0x2002 {
        let v4 = Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8);
        return is_special_v4(v4);
    }
    // Teredo 2001:0::/32: the server's IPv4 in bits 32-63, the client's (inverted) in the last 32.
    if s[0] == 0x2001 && s[1] == 0 {
        let server = Ipv4Addr::new((s[2] >> 8) as u8, s[2] as u8, (s[3] >> 8) as u8, s[3] as u8);
        let client = Ipv4Addr::from(!u32::from(low32));
        return is_special_v4(server) || is_special_v4(client);
    }
    a.is_multicast() // ff00::/8
        || (s[0] == 0x64 && s[1] == 0xff9b) // NAT64 64:ff9b::/96 and local-use 64:ff9b:1::/48
        || (s[0] == 0x100 && s[1..4] == [0, 0, 0]) // discard-only 100::/64
        || (s[0] == 0x2001 && s[1] < 0x200) // IETF protocol assignments 2001::/23
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] & 0xfff0) == 0x3ff0 // documentation 3fff::/20
        || s[0] == 0x5f00 // SRv6 SIDs 5f00::/16
        || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (s[0] & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated, still routed inside)
        || (s[0] & 0xe000) != 0x2000 // outside 2000::/3, nothing is globally routed
}

/// The admin's allow-list applied to the rule above.
#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    allowed: Vec<Cidr>,
}

impl AddressPolicy {
    pub fn new(allow_private: &[Cidr]) -> Self {
        Self {
            allowed: allow_private.to_vec(),
        }
    }

    pub fn permits(&self, ip: IpAddr) -> bool {
        !is_special(ip) || self.allowed.iter().any(|c| c.contains(ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn refuses_special_addresses_by_default() {
        let p = AddressPolicy::default();
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "224.0.0.1",
        ] {
            assert!(!p.permits(ip(bad)), "{bad} must be refused");
        }
        for good in ["93.184.216.34", "8.8.8.8", "2606:4700::1111"] {
            assert!(p.permits(ip(good)), "{good} must be allowed");
        }
    }

    #[test]
    fn ipv6_forms_of_internal_addresses_are_refused() {
        let p = AddressPolicy::default();
        for bad in [
            "::127.0.0.1",                          // IPv4-compatible loopback
            "::10.0.0.1",                           // IPv4-compatible private
            "::169.254.169.254",                    // IPv4-compatible metadata service
            "2002:7f00:1::",                        // 6to4 of 127.0.0.1
            "2002:a9fe:a9fe::1",                    // 6to4 of 169.254.169.254
            "2002:c0a8:101::1",                     // 6to4 of 192.168.1.1
            "fec0::1",                              // site-local
            "2001:0:4136:e378:8000:63bf:80ff:fffe", // Teredo, client 127.0.0.1
            "2001:0:a00:1:8000:63bf:3fff:fdd2",     // Teredo, server 10.0.0.1
            "64:ff9b::7f00:1",                      // NAT64 of 127.0.0.1
            "64:ff9b::808:808",                     // NAT64, even of a public address
            "64:ff9b:1::1",                         // local-use NAT64
            "fc00::1",
            "fdff:ffff::1", // unique local
            "100::1",       // discard-only
            "2001:2::1",    // benchmarking (IETF protocol assignments)
            "2001:db8::1",
            "3fff::1", // documentation
            "ff02::1",
            "::",
            "::1",
            "4000::1", // not in 2000::/3
        ] {
            assert!(!p.permits(ip(bad)), "{bad} must be refused");
        }
        for good in [
            "2002:808:808::1",                      // 6to4 of 8.8.8.8
            "2001:0:4136:e378:8000:63bf:f7f7:f7f7", // Teredo, both public
            "2a00:1450:4001:80b::200e",
            "::8.8.8.8", // IPv4-compatible public
        ] {
            assert!(p.permits(ip(good)), "{good} must be allowed");
        }
    }

    #[test]
    fn allow_list_opens_exactly_its_blocks() {
        let p = AddressPolicy::new(&[
            Cidr::parse("127.0.0.0/8").unwrap(),
            Cidr::parse("::1").unwrap(),
        ]);
        assert!(p.permits(ip("127.0.0.1")));
        assert!(p.permits(ip("127.255.0.9")));
        assert!(p.permits(ip("::1")));
        assert!(p.permits(ip("::ffff:127.0.0.1")));
        assert!(!p.permits(ip("10.0.0.1")));
        assert!(!p.permits(ip("169.254.169.254")));
    }

    #[test]
    fn cidr_parsing() {
        assert!(Cidr::parse("10.0.0.0/8").is_ok());
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("10.0.0.1")));
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("example.com").is_err());
        assert!(!Cidr::parse("10.0.0.0/8").unwrap().contains(ip("::1")));
    }
}
