//! The `;alias=<ip>~<port>~<proto>` URI parameter (core src/core/dset.c
//! uri_add_rcv_alias / uri_restore_rcv_alias; nathelper.c
//! handle_ruri_alias :1169): the NATed source a Contact was received from,
//! carried through the dialog's remote target so that in-dialog requests
//! can be sent back to it. Adding it to a Contact is in `contact_alias`.

use super::AliasError;
use super::received::{canonical, push_host, received_uri};
use crate::sip::fmt::push_u32;
use crate::sip::message::parse_decimal;
use crate::sip::transport::Transport;
use crate::sip::{Editor, Message, Uri, params};
use memchr::memchr;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// Kamailio's default parameter name (core `_ksr_contact_alias`,
/// dset.c:85; changed with nathelper's `alias_name`).
pub const DEFAULT_ALIAS_NAME: &[u8] = b"alias";

/// What [`handle_ruri_alias`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuriAlias {
    /// Kamailio return 1: the alias was removed from the Request-URI (edit
    /// queued) and the request must go to `dst` over `transport`: the
    /// `$du` of [`format_du`].
    Done { dst: SocketAddr, transport: Transport },
    /// Kamailio return 2: no URI parameters, or none named alias.
    NoAlias,
}

/// Appends the alias value `ip~port~digit` (reference §1.6): IPv6 as
/// `[addr]`, the digit from [`Transport::proto_digit`]. Always bracketed,
/// never doubled (Kamailio's `[[v6]]` regression, kamailio#3968).
pub fn encode_alias(src: SocketAddr, transport: Transport, out: &mut Vec<u8>) {
    let src = canonical(src);
    push_host(out, src.ip());
    out.push(b'~');
    push_u32(out, u32::from(src.port()));
    out.push(b'~');
    out.push(b'0' + transport.proto_digit());
}

/// Parses an alias value `ip~port~digit` as handle_ruri_alias does: two
/// `~` separators, exactly one protocol digit 1..=6 and nothing after it.
/// Unlike Kamailio, which pastes the text into `$du` unchecked, the address
/// must be an IP (IPv6 with or without brackets) and the port 1..=65535.
pub fn decode_alias(value: &[u8]) -> Result<(SocketAddr, Transport), AliasError> {
    let first = memchr(b'~', value).ok_or(AliasError::MissingSeparator)?;
    let (ip_text, rest) = (&value[..first], &value[first + 1..]);
    let second = memchr(b'~', rest).ok_or(AliasError::MissingSeparator)?;
    let (port_text, proto) = (&rest[..second], &rest[second + 1..]);
    let transport = match proto {
        [] => return Err(AliasError::MissingProto),
        [d, ..] => d.checked_sub(b'0').and_then(Transport::from_proto_digit).ok_or(AliasError::UnknownProto)?,
    };
    if proto.len() > 1 {
        return Err(AliasError::TrailingJunk);
    }
    let ip = parse_ip(ip_text).ok_or(AliasError::BadAddress)?;
    let port = parse_decimal(port_text, 65535).filter(|&p| p != 0).ok_or(AliasError::BadPort)?;
    Ok((SocketAddr::new(ip, port as u16), transport))
}

/// Appends `sip:ip:port[;transport=x]`, the `$du` handle_ruri_alias sets:
/// no transport for UDP, `ws` for WS and WSS (core parse_uri.c:1524
/// proto_type_to_str). The same text as `received_uri`.
pub fn format_du(dst: SocketAddr, transport: Transport, out: &mut Vec<u8>) {
    received_uri(dst, transport, out);
}

/// nathelper `handle_ruri_alias([mode])`: finds the Request-URI parameter
/// `name` (first occurrence, or the last when `last`), queues its removal
/// and returns where the request must go (reference §1.6, Appendix A.5).
///
/// The name matches byte for byte, as Kamailio's `strncmp("alias=")`;
/// a flag parameter without `=` is not an alias. A malformed value is an
/// error and queues nothing.
pub fn handle_ruri_alias(
    msg: &Message<'_>,
    editor: &mut Editor,
    name: &[u8],
    last: bool,
) -> Result<RuriAlias, AliasError> {
    let line = msg.request_line().ok_or(AliasError::NotARequest)?;
    let uri = Uri::parse(line.uri).map_err(|_| AliasError::BadRequestUri)?;
    if !uri.is_sip() {
        return Ok(RuriAlias::NoAlias);
    }
    let mut found = params::iter(uri.params).filter(|p| p.name == name && p.value.is_some());
    let param = if last { found.last() } else { found.next() };
    let Some(param) = param else {
        return Ok(RuriAlias::NoAlias);
    };
    let (dst, transport) = decode_alias(param.value.unwrap_or_default())?;
    editor.remove_param(msg, &param);
    Ok(RuriAlias::Done { dst, transport })
}

/// `1.2.3.4`, `[2001:db8::1]` or a bare `2001:db8::1`.
fn parse_ip(text: &[u8]) -> Option<IpAddr> {
    if let [b'[', inner @ .., b']'] = text {
        let v6: Ipv6Addr = std::str::from_utf8(inner).ok()?.parse().ok()?;
        return Some(IpAddr::V6(v6).to_canonical());
    }
    let ip: IpAddr = std::str::from_utf8(text).ok()?.parse().ok()?;
    Some(ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(src: &str, t: Transport) -> String {
        let mut out = Vec::new();
        encode_alias(src.parse().unwrap(), t, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn encodes_every_proto_digit() {
        let cases = [
            (Transport::Udp, "1"),
            (Transport::Tcp, "2"),
            (Transport::Tls, "3"),
            (Transport::Sctp, "4"),
            (Transport::Ws, "5"),
            (Transport::Wss, "6"),
        ];
        for (t, d) in cases {
            assert_eq!(enc("203.0.113.7:40112", t), format!("203.0.113.7~40112~{d}"));
        }
        assert_eq!(enc("[2001:db8::1]:5060", Transport::Tcp), "[2001:db8::1]~5060~2");
        assert_eq!(enc("[::ffff:192.0.2.1]:5060", Transport::Udp), "192.0.2.1~5060~1");
    }

    #[test]
    fn decode_round_trips() {
        for (src, t) in [
            ("203.0.113.7:40112", Transport::Udp),
            ("[2001:db8::1]:5060", Transport::Wss),
            ("1.2.3.4:65535", Transport::Sctp),
        ] {
            let src: SocketAddr = src.parse().unwrap();
            let mut v = Vec::new();
            encode_alias(src, t, &mut v);
            assert_eq!(decode_alias(&v), Ok((src, t)));
        }
        // A bare IPv6 (as Kamailio's add_contact_alias(ip, port, proto) may
        // write it) is accepted too.
        assert_eq!(decode_alias(b"2001:db8::1~5060~2"), Ok(("[2001:db8::1]:5060".parse().unwrap(), Transport::Tcp)));
    }

    #[test]
    fn decode_errors() {
        use AliasError::*;
        let cases: &[(&[u8], AliasError)] = &[
            (b"1.2.3.4", MissingSeparator),
            (b"", MissingSeparator),
            (b"1.2.3.4~5060", MissingSeparator),
            (b"1.2.3.4~5060~", MissingProto),
            (b"1.2.3.4~5060~0", UnknownProto),
            (b"1.2.3.4~5060~7", UnknownProto),
            (b"1.2.3.4~5060~x", UnknownProto),
            (b"1.2.3.4~5060~10", TrailingJunk),
            (b"1.2.3.4~5060~1~", TrailingJunk),
            (b"host.example~5060~1", BadAddress),
            (b"[1.2.3.4]~5060~1", BadAddress),
            (b"[2001:db8::1~5060~1", BadAddress),
            (b"~5060~1", BadAddress),
            (b"1.2.3.4~0~1", BadPort),
            (b"1.2.3.4~65536~1", BadPort),
            (b"1.2.3.4~~1", BadPort),
            (b"1.2.3.4~+1~1", BadPort),
        ];
        for (v, e) in cases {
            assert_eq!(decode_alias(v), Err(*e), "{}", String::from_utf8_lossy(v));
        }
    }

    #[test]
    fn du_forms() {
        let du = |s: &str, t| {
            let mut out = Vec::new();
            format_du(s.parse().unwrap(), t, &mut out);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(du("203.0.113.7:40112", Transport::Udp), "sip:203.0.113.7:40112");
        assert_eq!(du("203.0.113.7:40112", Transport::Tcp), "sip:203.0.113.7:40112;transport=tcp");
        assert_eq!(du("[2001:db8::1]:5061", Transport::Tls), "sip:[2001:db8::1]:5061;transport=tls");
        assert_eq!(du("1.2.3.4:5060", Transport::Sctp), "sip:1.2.3.4:5060;transport=sctp");
        assert_eq!(du("1.2.3.4:80", Transport::Ws), "sip:1.2.3.4:80;transport=ws");
        assert_eq!(du("1.2.3.4:443", Transport::Wss), "sip:1.2.3.4:443;transport=ws");
    }
}
