//! Where a message goes next, for the destinations that need no DNS: a URI
//! whose host is an IP literal (RFC 3263 §4.2: an IP address is used as
//! is, port 5060 when absent), and the address a response goes back to
//! (RFC 3261 §18.2.2, RFC 3581 §4: `received` and `rport` of the Via).
//! Hostnames wait for the DNS subsystem; until then the caller answers
//! them as unresolvable.

use crate::config::DEFAULT_SIP_PORT;
use crate::sip::uri::Host;
use crate::sip::{Message, Uri, Via};
use std::net::{IpAddr, SocketAddr};

/// The reason phrase Kamailio's tm gives a branch it could not resolve.
pub const UNRESOLVABLE: (u16, &str) = (478, "Unresolvable destination");

/// The address of a `sip:` URI with an IP-literal host (its `maddr`, when
/// set, takes the host's place, RFC 3261 §19.1.1). `None` for a hostname,
/// another scheme or an unparsable URI.
pub fn uri_destination(uri: &[u8]) -> Option<SocketAddr> {
    let uri = Uri::parse(uri).ok()?;
    if !uri.is_sip() {
        return None;
    }
    let ip = match uri.maddr() {
        Some(m) => parse_ip(m)?,
        None => host_ip(uri.host?)?,
    };
    unicast(SocketAddr::new(ip, uri.port.unwrap_or(DEFAULT_SIP_PORT)))
}

/// Where a response to the request that carried `via` is sent, as a UDP
/// server does it (RFC 3261 §18.2.2 with RFC 3581 §4): the `received`
/// address if present, else the sent-by host; the `rport` value if
/// present, else the sent-by port, else 5060.
pub fn via_destination(via: &Via<'_>) -> Option<SocketAddr> {
    let ip = match via.received() {
        Some(r) => parse_ip(r)?,
        None => host_ip(via.host)?,
    };
    let rport = via.rport().flatten().and_then(|p| std::str::from_utf8(p).ok()?.parse::<u16>().ok());
    let port = rport.or(via.port).unwrap_or(DEFAULT_SIP_PORT);
    unicast(SocketAddr::new(ip, port))
}

/// Only a unicast address with a port is a destination: a message never
/// goes to a broadcast, multicast or unspecified address (RFC 4475 §3.3.10:
/// a proxy must not relay a response to a broadcast Via).
fn unicast(addr: SocketAddr) -> Option<SocketAddr> {
    let ok = addr.port() != 0
        && match addr.ip() {
            IpAddr::V4(v4) => !(v4.is_broadcast() || v4.is_multicast() || v4.is_unspecified()),
            IpAddr::V6(v6) => !(v6.is_multicast() || v6.is_unspecified()),
        };
    ok.then_some(addr)
}

/// A response relayed without a transaction (a retransmitted 2xx, RFC
/// 3261 §16.7 and §17.1.1.2: the INVITE client transaction ended with the
/// first 2xx): it goes to the second Via, the top one being ours.
pub fn response_destination(msg: &Message<'_>) -> Option<SocketAddr> {
    let via = msg.vias().nth(1)?.ok()?;
    via_destination(&via)
}

fn host_ip(host: Host<'_>) -> Option<IpAddr> {
    match host {
        Host::V4(ip) => Some(IpAddr::V4(ip)),
        Host::V6(ip) => Some(IpAddr::V6(ip)),
        Host::Domain(_) => None,
    }
}

fn parse_ip(text: &[u8]) -> Option<IpAddr> {
    let text = std::str::from_utf8(text).ok()?;
    let text = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')).unwrap_or(text);
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_literals_resolve_and_names_wait_for_dns() {
        let a = |s: &str| uri_destination(s.as_bytes());
        assert_eq!(a("sip:bob@192.0.2.1"), Some("192.0.2.1:5060".parse().unwrap()));
        assert_eq!(a("sip:bob@192.0.2.1:5070;transport=udp"), Some("192.0.2.1:5070".parse().unwrap()));
        assert_eq!(a("sip:[2001:db8::1]:5080"), Some("[2001:db8::1]:5080".parse().unwrap()));
        assert_eq!(a("sip:bob@example.com;maddr=192.0.2.9"), Some("192.0.2.9:5060".parse().unwrap()));
        assert_eq!(a("sip:bob@example.com"), None);
        assert_eq!(a("tel:+123"), None);
        assert_eq!(a("garbage"), None);
    }

    #[test]
    fn responses_follow_received_and_rport() {
        let v = |s: &'static str| via_destination(&Via::parse(s.as_bytes()).unwrap());
        assert_eq!(v("SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bKa"), Some("10.0.0.5:5062".parse().unwrap()));
        assert_eq!(
            v("SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bKa;received=198.51.100.2;rport=40000"),
            Some("198.51.100.2:40000".parse().unwrap())
        );
        assert_eq!(v("SIP/2.0/UDP 10.0.0.5;received=198.51.100.2"), Some("198.51.100.2:5060".parse().unwrap()));
        assert_eq!(v("SIP/2.0/UDP ua.example.com;branch=z9hG4bKa"), None);
        assert_eq!(v("SIP/2.0/UDP 255.255.255.255;branch=z9hG4bKa"), None, "RFC 4475 §3.3.10");
        assert_eq!(v("SIP/2.0/UDP 224.0.1.75;branch=z9hG4bKa"), None);
        assert_eq!(v("SIP/2.0/UDP 10.0.0.5;received=0.0.0.0"), None);
    }

    #[test]
    fn a_relayed_response_goes_to_the_second_via() {
        let msg = Message::parse(
            b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKp\r\n\
Via: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bKa;rport=4000;received=198.51.100.2\r\n\
From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
        )
        .unwrap();
        assert_eq!(response_destination(&msg), Some("198.51.100.2:4000".parse().unwrap()));
    }
}
