//! The few SDP facts `nat_uac_test` bits 8 and 256 need: the `c=`
//! addresses of a session and of each media stream (RFC 4566 §5.7), read
//! the way Kamailio's parse_sdp_session splits a body
//! (src/core/parser/sdp/parse_sdp.c). The full SDP view and
//! rewrite live in `sdp/`; this scanner only reads, never allocates.
//!
//! As in Kamailio, a body is SDP when Content-Type is `application/sdp`
//! and the body starts with `v=`; one body is one session. Multipart
//! bodies (Kamailio parses each `application/sdp` part as a session) are
//! not looked into.

use crate::sip::Message;
use crate::sip::header::HeaderName;
use crate::sip::list::trim_lws;
use memchr::memchr;
use std::net::{IpAddr, Ipv4Addr};

/// The connection address of one `c=` line: `c=IN IP4 192.0.2.1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Conn<'a> {
    /// `IP4` and the address text (which may carry a `/ttl`).
    V4(&'a [u8]),
    /// `IP6` and the address text.
    V6(&'a [u8]),
    /// No `IP4`/`IP6` token followed by an address.
    Other,
}

impl Conn<'_> {
    /// The address, when the text is one of the family it claims.
    pub(crate) fn ip(self) -> Option<IpAddr> {
        let text = match self {
            Conn::V4(t) | Conn::V6(t) => std::str::from_utf8(t).ok()?,
            Conn::Other => return None,
        };
        let ip: IpAddr = text.parse().ok()?;
        match (self, ip) {
            (Conn::V4(_), IpAddr::V4(_)) | (Conn::V6(_), IpAddr::V6(_)) => Some(ip),
            _ => None,
        }
    }
}

/// The SDP body of `msg`, if it has one (see the module docs).
pub(crate) fn sdp_body<'a>(msg: &Message<'a>) -> Option<&'a [u8]> {
    let ct = msg.header(HeaderName::ContentType)?.value;
    let mime = trim_lws(&ct[..memchr(b';', ct).unwrap_or(ct.len())]);
    let body = msg.body();
    (mime.eq_ignore_ascii_case(b"application/sdp") && body.starts_with(b"v=")).then_some(body)
}

/// Session-level `c=`: the first one before the first `m=` line.
pub(crate) fn session_conn(body: &[u8]) -> Option<Conn<'_>> {
    lines(body).take_while(|l| !l.starts_with(b"m=")).find_map(|l| l.strip_prefix(b"c=").map(parse_conn))
}

/// For each media stream (`m=` section) in order, its own first `c=`,
/// falling back to the session-level one (RFC 4566 §5.7); `None` for a
/// stream with neither.
pub(crate) fn stream_conns(body: &[u8]) -> impl Iterator<Item = Option<Conn<'_>>> + '_ {
    let session = session_conn(body);
    let mut rest = lines(body).skip_while(|l| !l.starts_with(b"m=")).peekable();
    std::iter::from_fn(move || {
        rest.next()?; // the m= line
        let mut own = None;
        while let Some(l) = rest.next_if(|l| !l.starts_with(b"m=")) {
            if own.is_none() {
                own = l.strip_prefix(b"c=").map(parse_conn);
            }
        }
        Some(own.or(session))
    })
}

/// nathelper sdp_1918 (bit 8): per stream, the stream's or else the
/// session's `c=`; the scan stops at the first stream whose address is not
/// IPv4 or is the null address 0.0.0.0 (held), and hits on a private one.
/// An address text that is no dotted quad (`/ttl`) is not private.
pub(crate) fn has_private_media(body: &[u8], nat_addr_mode: bool) -> bool {
    for conn in stream_conns(body) {
        let Some(Conn::V4(text)) = conn else {
            return false;
        };
        if text == b"0.0.0.0" {
            return false;
        }
        let v4 = std::str::from_utf8(text).ok().and_then(|t| t.parse::<Ipv4Addr>().ok());
        if v4.is_some_and(|ip| super::is_private_v4(ip, nat_addr_mode)) {
            return true;
        }
    }
    false
}

/// nathelper test_sdp_cline (bit 256): whether the session-level `c=`
/// address differs from the source address (IPv4 or IPv6; compared as
/// addresses, not as Kamailio's text prefix). No session-level `c=`
/// counts as no difference.
pub(crate) fn session_differs(body: &[u8], src: IpAddr) -> bool {
    session_conn(body).is_some_and(|c| c.ip() != Some(src))
}

/// `nettype SP addrtype SP address` after `c=`: the token after `IP4` or
/// `IP6` (Kamailio extract_mediaip).
fn parse_conn(value: &[u8]) -> Conn<'_> {
    let mut tokens = value.split(|&b| b == b' ' || b == b'\t').filter(|t| !t.is_empty());
    while let Some(t) = tokens.next() {
        let v6 = match t {
            b"IP4" => false,
            b"IP6" => true,
            _ => continue,
        };
        return match tokens.next() {
            Some(addr) if v6 => Conn::V6(addr),
            Some(addr) => Conn::V4(addr),
            None => Conn::Other,
        };
    }
    Conn::Other
}

/// The body's lines without their CR LF (or bare LF).
fn lines(body: &[u8]) -> impl Iterator<Item = &[u8]> {
    body.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDP: &[u8] = b"v=0\r\no=- 1 1 IN IP4 192.168.1.10\r\ns=-\r\nc=IN IP4 203.0.113.7\r\nt=0 0\r\n\
m=audio 4000 RTP/AVP 0\r\nc=IN IP4 192.168.1.10\r\nc=IN IP4 198.51.100.1\r\n\
m=video 4002 RTP/AVP 96\r\nm=text 0 RTP/AVP 98\r\nc=IN IP6 2001:db8::1\r\n";

    #[test]
    fn session_and_stream_conns() {
        assert_eq!(session_conn(SDP), Some(Conn::V4(b"203.0.113.7")));
        let streams: Vec<_> = stream_conns(SDP).collect();
        assert_eq!(
            streams,
            vec![Some(Conn::V4(b"192.168.1.10")), Some(Conn::V4(b"203.0.113.7")), Some(Conn::V6(b"2001:db8::1")),]
        );
        assert_eq!(session_conn(b"v=0\nm=audio 1 RTP/AVP 0\nc=IN IP4 1.2.3.4\n"), None);
        assert_eq!(stream_conns(b"v=0\nc=IN IP4 1.2.3.4\n").count(), 0);
    }

    #[test]
    fn conn_lines() {
        assert_eq!(parse_conn(b"IN IP4 224.2.1.1/127"), Conn::V4(b"224.2.1.1/127"));
        assert_eq!(parse_conn(b"IN  IP6 ::1"), Conn::V6(b"::1"));
        assert_eq!(parse_conn(b"IN IP4"), Conn::Other);
        assert_eq!(parse_conn(b"IN X25 1"), Conn::Other);
        assert_eq!(Conn::V4(b"::1").ip(), None);
        assert_eq!(Conn::V6(b"::1").ip(), Some("::1".parse().unwrap()));
    }

    #[test]
    fn private_media_scan_stops_at_non_ipv4_or_null() {
        assert!(has_private_media(SDP, true));
        let held = b"v=0\r\nc=IN IP4 0.0.0.0\r\nm=audio 1 RTP/AVP 0\r\nm=audio 2 RTP/AVP 0\r\nc=IN IP4 10.0.0.1\r\n";
        assert!(!has_private_media(held, true));
        let v6_first =
            b"v=0\r\nm=audio 1 RTP/AVP 0\r\nc=IN IP6 fd00::1\r\nm=audio 2 RTP/AVP 0\r\nc=IN IP4 10.0.0.1\r\n";
        assert!(!has_private_media(v6_first, true));
        let public =
            b"v=0\r\nc=IN IP4 203.0.113.7\r\nm=audio 1 RTP/AVP 0\r\nm=audio 2 RTP/AVP 0\r\nc=IN IP4 192.0.0.9\r\n";
        assert!(has_private_media(public, true));
        assert!(!has_private_media(public, false));
        assert!(!has_private_media(b"v=0\r\nc=IN IP4 10.0.0.1\r\n", true));
        assert!(!has_private_media(b"v=0\r\nm=audio 1 RTP/AVP 0\r\n", true));
    }

    #[test]
    fn session_cline_against_source() {
        let src: IpAddr = "203.0.113.7".parse().unwrap();
        assert!(!session_differs(SDP, src));
        assert!(session_differs(SDP, "203.0.113.70".parse().unwrap()));
        assert!(session_differs(b"v=0\nc=IN IP6 2001:db8::7\n", src));
        assert!(!session_differs(b"v=0\nc=IN IP6 2001:DB8::7\n", "2001:db8::7".parse().unwrap()));
        assert!(!session_differs(b"v=0\nm=audio 1 RTP/AVP 0\nc=IN IP4 10.0.0.1\n", src));
    }
}
