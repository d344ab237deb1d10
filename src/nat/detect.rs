//! Is the sender behind NAT? nathelper `nat_uac_test(flags)` (nathelper.c
//! :1743, bits :97-106) and nat_traversal `client_nat_test(type)`
//! (nat_traversal.c:1524), reference §1.1 and §2.

use super::contact::{SIP_PORT, first_contact, host_ip};
use super::private::is_private;
use super::received::canonical;
use super::sdp_scan;
use crate::sip::transport::Transport;
use crate::sip::{Host, Message, Via};
use std::net::{IpAddr, SocketAddr};
use std::ops::BitOr;

/// The `nat_uac_test` flag bits; any hit makes the test true.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct NatTest(pub u32);

impl NatTest {
    /// 1 NAT_UAC_TEST_C_1918: the first Contact host is a private IPv4.
    pub const CONTACT_PRIVATE: NatTest = NatTest(1);
    /// 2 NAT_UAC_TEST_RCVD: the top Via host is not the source IP (IP only,
    /// the port is not compared; a hostname never equals).
    pub const VIA_RECEIVED: NatTest = NatTest(2);
    /// 4 NAT_UAC_TEST_V_1918: the top Via host is a private IPv4.
    pub const VIA_PRIVATE: NatTest = NatTest(4);
    /// 8 NAT_UAC_TEST_S_1918: an SDP stream's `c=` is a private IPv4.
    pub const SDP_PRIVATE: NatTest = NatTest(8);
    /// 16 NAT_UAC_TEST_RPORT: the source port is not the top Via port
    /// (5060 when absent).
    pub const VIA_RPORT: NatTest = NatTest(16);
    /// 32 NAT_UAC_TEST_O_1918: the source IP itself is a private IPv4.
    pub const SOURCE_PRIVATE: NatTest = NatTest(32);
    /// 64 NAT_UAC_TEST_WS: received over WS or WSS.
    pub const WEBSOCKET: NatTest = NatTest(64);
    /// 128 NAT_UAC_TEST_C_PORT: the source port is not the first Contact
    /// port (5060 when absent).
    pub const CONTACT_PORT: NatTest = NatTest(128);
    /// 256 NAT_UAC_TEST_SDP_CLINE: the SDP session-level `c=` is not the
    /// source IP.
    pub const SDP_CLINE: NatTest = NatTest(256);
    /// 512 NAT_UAC_TEST_DEST is NOT implemented: it compares the request's
    /// `$du` (or a reply's second Via) with the Request-URI, which is
    /// routing state, not message content. [`nat_uac_test`] ignores the bit;
    /// the proxy evaluates it where `$du` is known.
    pub const DEST: NatTest = NatTest(512);
    /// `nat_uac_test("19")` = 1|2|16, what the default kamailio.cfg uses to
    /// detect NAT in signalling.
    pub const DEFAULT_SIGNALLING: NatTest = NatTest(19);

    /// Whether every bit of `other` is set.
    pub fn contains(self, other: NatTest) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for NatTest {
    type Output = NatTest;
    fn bitor(self, rhs: NatTest) -> NatTest {
        NatTest(self.0 | rhs.0)
    }
}

/// nathelper `nat_uac_test(tests)`: true when ANY enabled test hits
/// (reference §1.1), evaluated in Kamailio's order 16, 2, 1, 8, 4, 32, 64,
/// 128, 256. `nat_addr_mode` is nathelper's parameter (default 1 ⇒ `true`),
/// see [`super::is_private_v4`]. Bit 512 is ignored ([`NatTest::DEST`]).
///
/// A test whose header is absent or malformed does not hit: no Contact (or
/// `*`), a Contact that does not parse, a top Via that does not parse, a
/// body that is not `application/sdp`.
pub fn nat_uac_test(
    msg: &Message<'_>,
    src: SocketAddr,
    transport: Transport,
    tests: NatTest,
    nat_addr_mode: bool,
) -> bool {
    let src = canonical(src);
    let on = |bit| tests.contains(bit);
    let via = || msg.via_top().ok();
    let contact_uri = || first_contact(msg).ok().flatten().map(|c| c.uri);
    (on(NatTest::VIA_RPORT) && via().is_some_and(|v| port_differs(&v, src)))
        || (on(NatTest::VIA_RECEIVED) && via().is_some_and(|v| ip_differs(&v, src)))
        || (on(NatTest::CONTACT_PRIVATE) && contact_uri().is_some_and(|u| host_private(u.host, nat_addr_mode)))
        || (on(NatTest::SDP_PRIVATE)
            && sdp_scan::sdp_body(msg).is_some_and(|b| sdp_scan::has_private_media(b, nat_addr_mode)))
        || (on(NatTest::VIA_PRIVATE) && via().is_some_and(|v| host_private(Some(v.host), nat_addr_mode)))
        || (on(NatTest::SOURCE_PRIVATE) && is_private(src.ip(), nat_addr_mode))
        || (on(NatTest::WEBSOCKET) && matches!(transport, Transport::Ws | Transport::Wss))
        || (on(NatTest::CONTACT_PORT) && contact_uri().is_some_and(|u| u.port.unwrap_or(SIP_PORT) != src.port()))
        || (on(NatTest::SDP_CLINE) && sdp_scan::sdp_body(msg).is_some_and(|b| sdp_scan::session_differs(b, src.ip())))
}

/// nat_traversal `client_nat_test` types; any hit makes the test true.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ClientNatTest(pub u32);

impl ClientNatTest {
    /// 1: the first Contact host is a private IPv4.
    pub const PRIVATE_CONTACT: ClientNatTest = ClientNatTest(1);
    /// 2: the source IP is not the top Via IP, or the source port is not
    /// the top Via port (5060 when absent): nathelper 2|16 together.
    pub const SOURCE_ADDRESS: ClientNatTest = ClientNatTest(2);
    /// 4: the top Via host is a private IPv4.
    pub const PRIVATE_VIA: ClientNatTest = ClientNatTest(4);

    /// Whether every bit of `other` is set.
    pub fn contains(self, other: ClientNatTest) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for ClientNatTest {
    type Output = ClientNatTest;
    fn bitor(self, rhs: ClientNatTest) -> ClientNatTest {
        ClientNatTest(self.0 | rhs.0)
    }
}

/// nat_traversal `client_nat_test(type)` (reference §2). Its private list
/// has no `nat_addr_mode` extra: 192.0.0.0/24 beyond /29 is public here.
/// Absent or malformed headers do not hit, as in [`nat_uac_test`].
pub fn client_nat_test(msg: &Message<'_>, src: SocketAddr, tests: ClientNatTest) -> bool {
    let src = canonical(src);
    let on = |bit| tests.contains(bit);
    let via = || msg.via_top().ok();
    (on(ClientNatTest::PRIVATE_CONTACT)
        && first_contact(msg).ok().flatten().is_some_and(|c| host_private(c.uri.host, false)))
        || (on(ClientNatTest::SOURCE_ADDRESS) && via().is_some_and(|v| ip_differs(&v, src) || port_differs(&v, src)))
        || (on(ClientNatTest::PRIVATE_VIA) && via().is_some_and(|v| host_private(Some(v.host), false)))
}

/// Core `received_via_test` without DNS (`check_via_address` with
/// `received_dns` off): the Via host is not the source IP.
fn ip_differs(via: &Via<'_>, src: SocketAddr) -> bool {
    host_ip(Some(via.host)) != Some(src.ip())
}

/// `src_port != (via1->port ? via1->port : SIP_PORT)`.
fn port_differs(via: &Via<'_>, src: SocketAddr) -> bool {
    via.port.unwrap_or(SIP_PORT) != src.port()
}

/// Kamailio `is1918addr(host)`: only an IPv4 literal can be private.
fn host_private(host: Option<Host<'_>>, nat_addr_mode: bool) -> bool {
    matches!(host_ip(host), Some(ip @ IpAddr::V4(_)) if is_private(ip, nat_addr_mode))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(via: &str, contact: &str, body: &str) -> Vec<u8> {
        let ct = if body.is_empty() { "" } else { "Content-Type: application/sdp\r\n" };
        format!(
            "INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP {via};branch=z9hG4bK1\r\n\
{contact}{ct}Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }

    fn hits(m: &[u8], src: &str, t: Transport, bits: u32) -> bool {
        let m = Message::parse(m).unwrap();
        nat_uac_test(&m, src.parse().unwrap(), t, NatTest(bits), true)
    }

    const PUB: &str = "203.0.113.7:40112";
    const U: Transport = Transport::Udp;

    #[test]
    fn via_port_defaults_to_5060_and_ip_only_for_bit_2() {
        let m = msg("203.0.113.7", "", "");
        assert!(hits(&m, PUB, U, 16));
        assert!(!hits(&m, "203.0.113.7:5060", U, 16));
        assert!(!hits(&m, PUB, U, 2));
        assert!(hits(&m, "203.0.113.8:5060", U, 2));
        let m = msg("proxy.example.com:40112", "", "");
        assert!(hits(&m, PUB, U, 2));
        assert!(!hits(&m, PUB, U, 16));
        let m = msg("[2001:DB8::1]:5062", "", "");
        assert!(!hits(&m, "[2001:db8::1]:5062", U, 2 | 16));
        assert!(!hits(&m, "[2001:db8::1]:5062", U, 4));
        // A mapped IPv4 source is the IPv4 address.
        assert!(!hits(&msg("203.0.113.7:40112", "", ""), "[::ffff:203.0.113.7]:40112", U, 2 | 16));
    }

    #[test]
    fn via_and_source_private() {
        assert!(hits(&msg("192.168.1.10", "", ""), PUB, U, 4));
        assert!(!hits(&msg("203.0.113.9", "", ""), PUB, U, 4));
        assert!(hits(&msg("203.0.113.9", "", ""), "10.1.2.3:5060", U, 32));
        assert!(!hits(&msg("203.0.113.9", "", ""), PUB, U, 32));
        assert!(!hits(&msg("203.0.113.9", "", ""), "[fd00::1]:5060", U, 32));
    }

    #[test]
    fn websocket_and_contact_port() {
        let m = msg("203.0.113.7:40112", "Contact: <sip:a@203.0.113.7>\r\n", "");
        assert!(hits(&m, PUB, Transport::Ws, 64));
        assert!(hits(&m, PUB, Transport::Wss, 64));
        assert!(!hits(&m, PUB, Transport::Tls, 64));
        assert!(hits(&m, PUB, U, 128));
        assert!(!hits(&m, "203.0.113.7:5060", U, 128));
        let m = msg("h", "Contact: \"x\" <sip:a@h:40112;transport=tls>, <sip:b@h>\r\n", "");
        assert!(!hits(&m, PUB, Transport::Tls, 128));
        // No Contact, `*`, or a broken one: the contact bits never hit.
        for c in ["", "Contact: *\r\n", "Contact: <sip:a@\r\n", "Contact: <tel:+1>\r\n"] {
            assert!(!hits(&msg("h", c, ""), PUB, U, 1 | 128), "{c}");
        }
    }

    #[test]
    fn sdp_bits_need_an_sdp_body() {
        let sdp =
            "v=0\r\no=- 1 1 IN IP4 192.168.1.10\r\ns=-\r\nc=IN IP4 192.168.1.10\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
        let m = msg("h", "", sdp);
        assert!(hits(&m, PUB, U, 8));
        assert!(hits(&m, PUB, U, 256));
        assert!(!hits(&m, "192.168.1.10:5060", U, 256));
        let text = String::from_utf8(m).unwrap().replace("application/sdp", "text/plain");
        assert!(!hits(text.as_bytes(), PUB, U, 8 | 256));
        let no_ct = String::from_utf8(msg("h", "", sdp)).unwrap().replace("Content-Type: application/sdp\r\n", "");
        assert!(!hits(no_ct.as_bytes(), PUB, U, 8 | 256));
        let ct_params =
            String::from_utf8(msg("h", "", sdp)).unwrap().replace("application/sdp", "Application/SDP ; charset=utf-8");
        assert!(hits(ct_params.as_bytes(), PUB, U, 8));
    }

    #[test]
    fn bit_512_and_unknown_bits_are_ignored() {
        let m = msg("192.168.1.10", "Contact: <sip:a@192.168.1.10>\r\n", "");
        assert!(!hits(&m, "192.168.1.10:5060", U, 512 | 1024 | (1 << 31)));
        assert!(!hits(&m, "192.168.1.10:5060", U, 0));
        assert!(NatTest::DEFAULT_SIGNALLING.contains(NatTest::VIA_RPORT | NatTest::CONTACT_PRIVATE));
        assert!(!NatTest::DEFAULT_SIGNALLING.contains(NatTest::SDP_PRIVATE));
    }

    #[test]
    fn client_nat_test_types() {
        let t = |m: &[u8], src: &str, bits| {
            client_nat_test(&Message::parse(m).unwrap(), src.parse().unwrap(), ClientNatTest(bits))
        };
        let m = msg("203.0.113.7:40112", "Contact: <sip:a@192.0.0.200>\r\n", "");
        // 192.0.0.200 is private only with nathelper's nat_addr_mode.
        assert!(!t(&m, PUB, 1));
        assert!(hits(&m, PUB, U, 1));
        let m = msg("203.0.113.7:40112", "Contact: <sip:a@100.64.1.1>\r\n", "");
        assert!(t(&m, PUB, 1));
        assert!(!t(&m, PUB, 2));
        assert!(t(&m, "203.0.113.7:40113", 2));
        assert!(t(&m, "203.0.113.8:40112", 2));
        assert!(!t(&m, PUB, 4));
        assert!(t(&msg("172.16.0.1", "", ""), PUB, 4));
        assert!(t(&msg("172.16.0.1", "", ""), PUB, 1 | 4));
        assert!(!t(&msg("172.16.0.1", "", ""), PUB, 0));
    }
}
