//! The packet's source as a SIP URI: nathelper `fix_nated_register` (the
//! `received_avp` value the registrar stores) and `add_rcv_param`, both
//! built on core `get_src_uri` (src/core/parser/msg_parser.c:1186).

use super::NatError;
use super::contact::contact_elements;
use crate::sip::fmt::{push_ip, push_u32};
use crate::sip::transport::Transport;
use crate::sip::{Editor, Message};
use std::net::{IpAddr, SocketAddr};

/// `sip:<ip>:<port>[;transport=<t>]` for a packet from `src` over
/// `transport`: the value `fix_nated_register` stores and the registrar
/// puts in `;received="…"` (reference §1.4, Appendix A.2). IPv6 is
/// bracketed; UDP gets no transport parameter; WS and WSS both get
/// `;transport=ws`, because get_src_uri asks get_valid_proto_string for
/// the URI form, which is "ws-only in SIP URI" (RFC 7118 §5.2 defines no
/// `wss` transport parameter).
pub fn received_uri(src: SocketAddr, transport: Transport, out: &mut Vec<u8>) {
    out.extend_from_slice(b"sip:");
    push_hostport(out, src);
    if let Some(t) = uri_transport(transport) {
        out.extend_from_slice(b";transport=");
        out.extend_from_slice(t);
    }
}

/// nathelper `add_rcv_param([flag])`: marks EVERY Contact with the source
/// address, for a REGISTER forwarded to another registrar (reference §1.5).
///
/// * `uri_param == false`: the header parameter
///   `;received="sip:ip:port[;transport=x]"` after each contact, any
///   transport.
/// * `uri_param == true`: the URI parameter `;received=sip:ip:port` at the
///   end of each URI's parameters, inside `<>` (added when missing: an
///   unbracketed contact's own `;params` are header parameters,
///   RFC 3261 §20.10). UDP only, [`NatError::NotUdp`] otherwise.
///
/// `Contact: *` or no Contact queues nothing. Every contact is checked
/// before anything is queued, so a bad one leaves the editor untouched.
pub fn add_rcv_param(
    msg: &Message<'_>,
    editor: &mut Editor,
    src: SocketAddr,
    transport: Transport,
    uri_param: bool,
) -> Result<(), NatError> {
    if uri_param && transport != Transport::Udp {
        return Err(NatError::NotUdp(transport));
    }
    let src = canonical(src);
    for c in contact_elements(msg) {
        c?;
    }
    for c in contact_elements(msg) {
        let c = c?;
        if !uri_param {
            let at = msg.offset_of(c.raw) + c.raw.len();
            editor.replace_with(at..at, |a| {
                a.extend_from_slice(b";received=\"");
                received_uri(src, transport, a);
                a.push(b'"');
            });
            continue;
        }
        let uri_at = msg.offset_of(c.uri.raw);
        if !c.bracketed {
            editor.insert(uri_at, b"<");
        }
        let at = uri_at + c.uri.params_end();
        editor.replace_with(at..at, |a| {
            a.extend_from_slice(b";received=");
            received_uri(src, transport, a);
            if !c.bracketed {
                a.push(b'>');
            }
        });
    }
    Ok(())
}

/// The source address as Kamailio sees it: an IPv4-mapped IPv6 address
/// from a dual-stack socket is the IPv4 address.
pub(crate) fn canonical(src: SocketAddr) -> SocketAddr {
    SocketAddr::new(src.ip().to_canonical(), src.port())
}

/// Appends `ip:port`, IPv6 in brackets (RFC 3261 §25.1 IPv6reference).
pub(crate) fn push_hostport(out: &mut Vec<u8>, addr: SocketAddr) {
    push_host(out, addr.ip());
    out.push(b':');
    push_u32(out, u32::from(addr.port()));
}

/// Appends an address as a URI host: IPv6 in brackets.
pub(crate) fn push_host(out: &mut Vec<u8>, ip: IpAddr) {
    if ip.is_ipv6() {
        out.push(b'[');
        push_ip(out, ip);
        out.push(b']');
    } else {
        push_ip(out, ip);
    }
}

/// The `;transport=` value Kamailio writes into a URI for a transport
/// (get_valid_proto_string with utype=1; parse_uri.c proto_type_to_str):
/// none for UDP, the default, and `ws` for both WS and WSS.
pub(crate) fn uri_transport(t: Transport) -> Option<&'static [u8]> {
    match t {
        Transport::Udp => None,
        Transport::Tcp => Some(b"tcp"),
        Transport::Tls => Some(b"tls"),
        Transport::Sctp => Some(b"sctp"),
        Transport::Ws | Transport::Wss => Some(b"ws"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(src: &str, t: Transport) -> String {
        let mut out = b"keep".to_vec();
        received_uri(src.parse().unwrap(), t, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn received_uri_forms() {
        // Appendix A.2; `out` is appended to, not cleared.
        assert_eq!(uri("203.0.113.7:40112", Transport::Udp), "keepsip:203.0.113.7:40112");
        assert_eq!(uri("203.0.113.7:40112", Transport::Tcp), "keepsip:203.0.113.7:40112;transport=tcp");
        assert_eq!(uri("[2001:db8::1]:5060", Transport::Udp), "keepsip:[2001:db8::1]:5060");
        assert_eq!(uri("[2001:db8::1]:5061", Transport::Tls), "keepsip:[2001:db8::1]:5061;transport=tls");
        assert_eq!(uri("198.51.100.1:1", Transport::Sctp), "keepsip:198.51.100.1:1;transport=sctp");
        assert_eq!(uri("1.2.3.4:80", Transport::Ws), "keepsip:1.2.3.4:80;transport=ws");
        assert_eq!(uri("1.2.3.4:443", Transport::Wss), "keepsip:1.2.3.4:443;transport=ws");
    }

    #[test]
    fn mapped_v4_is_canonical() {
        let src: SocketAddr = "[::ffff:203.0.113.7]:40112".parse().unwrap();
        assert_eq!(canonical(src), "203.0.113.7:40112".parse().unwrap());
        let v6: SocketAddr = "[2001:db8::1]:5060".parse().unwrap();
        assert_eq!(canonical(v6), v6);
    }
}
