//! "Private" addresses as nathelper and nat_traversal define them
//! (nathelper.c nets_1918 / nets_extra, nat_traversal.c rfc1918nets).

use std::net::{IpAddr, Ipv4Addr};

/// (network, prefix length) pairs that are always private: RFC 1918,
/// RFC 6598 CGNAT and the RFC 7335 IPv4 service continuity prefix
/// (nathelper.c nets_1918, nat_traversal.c:264).
const ALWAYS: [(u32, u32); 5] = [
    (0x0a00_0000, 8),  // 10.0.0.0/8
    (0xac10_0000, 12), // 172.16.0.0/12
    (0xc0a8_0000, 16), // 192.168.0.0/16
    (0x6440_0000, 10), // 100.64.0.0/10 (RFC 6598)
    (0xc000_0000, 29), // 192.0.0.0/29 (RFC 7335)
];

/// Added by nathelper's `nat_addr_mode=1` (the default): the whole
/// 192.0.0.0/24 IETF protocol assignments block (RFC 6890).
const NAT_ADDR_MODE: (u32, u32) = (0xc000_0000, 24);

/// Whether `ip` is "private" for nathelper's `is_rfc1918` and the
/// `nat_uac_test` bits 1, 4, 8 and 32. `nat_addr_mode` is nathelper's
/// module parameter (Kamailio default 1 ⇒ `true`); nat_traversal's list
/// is the one with `nat_addr_mode = false`.
pub fn is_private_v4(ip: Ipv4Addr, nat_addr_mode: bool) -> bool {
    let a = u32::from(ip);
    let hit = |(net, bits): (u32, u32)| a & (u32::MAX << (32 - bits)) == net;
    ALWAYS.into_iter().any(hit) || (nat_addr_mode && hit(NAT_ADDR_MODE))
}

/// [`is_private_v4`] for any address. IPv6 is never private, not even
/// fc00::/7: Kamailio parses with `inet_aton` (reference §1.2).
pub fn is_private(ip: IpAddr, nat_addr_mode: bool) -> bool {
    match ip {
        IpAddr::V4(v4) => is_private_v4(v4, nat_addr_mode),
        IpAddr::V6(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str, mode: bool) -> bool {
        is_private(s.parse().unwrap(), mode)
    }

    #[test]
    fn always_private_edges() {
        for ip in [
            "10.0.0.0",
            "10.255.255.255",
            "172.16.0.0",
            "172.31.255.255",
            "192.168.0.1",
            "192.168.255.255",
            "100.64.0.0",
            "100.127.255.255",
            "192.0.0.0",
            "192.0.0.7",
        ] {
            assert!(p(ip, false), "{ip}");
            assert!(p(ip, true), "{ip}");
        }
        for ip in [
            "9.255.255.255",
            "11.0.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.167.255.255",
            "192.169.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "203.0.113.7",
            "127.0.0.1",
            "0.0.0.0",
        ] {
            assert!(!p(ip, true), "{ip}");
        }
    }

    #[test]
    fn nat_addr_mode_adds_192_0_0_0_24() {
        assert!(!p("192.0.0.8", false));
        assert!(p("192.0.0.8", true));
        assert!(!p("192.0.0.200", false));
        assert!(p("192.0.0.200", true));
        assert!(p("192.0.0.255", true));
        assert!(!p("192.0.1.0", true));
    }

    #[test]
    fn ipv6_never_private() {
        for ip in ["fd00::1", "fe80::1", "::ffff:10.0.0.1", "2001:db8::1"] {
            assert!(!p(ip, true), "{ip}");
        }
    }
}
