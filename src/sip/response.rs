//! Locally generated responses (RFC 3261 §8.2.6, §16.7 step 10, §18.2.1,
//! RFC 3581). The proxy answers statelessly with these, so a retransmitted
//! request gets a byte-identical answer (same To tag).

use super::fmt::{push_ip, push_u32};
use super::header::HeaderName;
use super::message::Message;
use super::params;
use super::via::Via;
use std::fmt::Display;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};

/// What the builder needs besides the request.
pub struct ResponseSpec<'r> {
    pub code: u16,
    pub reason: &'r dyn Display,
    /// Where the request came from: fills `received` and `rport`.
    pub source: SocketAddr,
    /// To tag to add: the caller passes one when the request's To has no
    /// tag and the response is not a 100 (RFC 3261 §8.2.6.2).
    pub to_tag: Option<&'r [u8]>,
    /// Complete extra header lines without CRLF, e.g. `Allow: INVITE, ACK`.
    pub extra: &'r [&'r [u8]],
    /// Further header lines already terminated by CRLF (e.g. the
    /// registrar's Contact list), copied as they are.
    pub raw_headers: &'r [u8],
    /// The configured `Server:` line, if any.
    pub server: Option<&'r [u8]>,
}

/// Writes the response to `req` into `out` (appending). Vias are copied in
/// order with `received`/`rport` set on the top one; From, Call-ID and CSeq
/// are copied; To is copied with a tag added when absent.
pub fn build_response(req: &Message<'_>, spec: &ResponseSpec<'_>, out: &mut Vec<u8>) {
    out.extend_from_slice(b"SIP/2.0 ");
    push_u32(out, u32::from(spec.code));
    out.push(b' ');
    write_reason(spec.reason, out);
    out.extend_from_slice(b"\r\n");
    let mut top_done = false;
    for h in req.headers() {
        match h.name {
            HeaderName::Via if !top_done => {
                top_done = true;
                out.extend_from_slice(b"Via: ");
                write_via_with_source(h.value, req.via_top().ok().as_ref(), spec.source, out);
                out.extend_from_slice(b"\r\n");
            }
            HeaderName::Via | HeaderName::From | HeaderName::CallId | HeaderName::CSeq => {
                copy_header(h.name, h.value, out);
            }
            HeaderName::To => {
                copy_header(h.name, h.value, out);
                if let Some(tag) = spec.to_tag {
                    out.truncate(out.len() - 2);
                    out.extend_from_slice(b";tag=");
                    out.extend_from_slice(tag);
                    out.extend_from_slice(b"\r\n");
                }
            }
            // RFC 3261 §8.2.6.1: a 100 copies Timestamp.
            HeaderName::Timestamp if spec.code == 100 => copy_header(h.name, h.value, out),
            _ => {}
        }
    }
    for line in spec.extra {
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(spec.raw_headers);
    if let Some(server) = spec.server {
        out.extend_from_slice(server);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"Content-Length: 0\r\n\r\n");
}

fn copy_header(name: HeaderName, value: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(name.as_str().as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// A reason phrase never carries a line break, whatever the error text.
fn write_reason(reason: &dyn Display, out: &mut Vec<u8>) {
    let start = out.len();
    let _ = write!(out, "{reason}");
    for b in &mut out[start..] {
        if *b == b'\r' || *b == b'\n' {
            *b = b' ';
        }
    }
}

/// Writes a Via header value whose top via-parm carries
/// `received=<src ip>;rport=<src port>` (RFC 3261 §18.2.1, RFC 3581 §4:
/// with force_rport both are always set). `top` is the message's top
/// via-parm, parsed (`Message::via_top`); when it is missing or lies in a
/// later Via header (this one is empty) the value is copied unchanged,
/// never half-formed. Existing `received`/`rport` params are overwritten
/// in place; the rest of the value is unchanged.
pub fn write_via_with_source(value: &[u8], top: Option<&Via<'_>>, source: SocketAddr, out: &mut Vec<u8>) {
    let Some(via) = top.filter(|v| super::contains(value, v.params)) else {
        out.extend_from_slice(value);
        return;
    };
    let params_at = super::offset_in(value, via.params);
    out.extend_from_slice(&value[..params_at]);
    let (mut rcvd, mut rport) = (false, false);
    for p in params::iter(via.params) {
        if p.name.eq_ignore_ascii_case(b"received") {
            write_received(source.ip(), out);
            rcvd = true;
        } else if p.name.eq_ignore_ascii_case(b"rport") {
            write_rport(source.port(), out);
            rport = true;
        } else {
            out.extend_from_slice(p.raw);
        }
    }
    if !rcvd {
        write_received(source.ip(), out);
    }
    if !rport {
        write_rport(source.port(), out);
    }
    out.extend_from_slice(&value[params_at + via.params.len()..]);
}

fn write_received(ip: IpAddr, out: &mut Vec<u8>) {
    out.extend_from_slice(b";received=");
    push_ip(out, ip);
}

fn write_rport(port: u16, out: &mut Vec<u8>) {
    out.extend_from_slice(b";rport=");
    push_u32(out, u32::from(port));
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQ: &[u8] = b"OPTIONS sip:127.0.0.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.168.1.10:5060;rport;branch=z9hG4bKx, SIP/2.0/UDP 10.0.0.1\r\n\
Via: SIP/2.0/UDP 10.0.0.2;received=1.1.1.1\r\n\
From: <sip:a@example.com>;tag=f1\r\n\
To: <sip:127.0.0.1>\r\n\
Call-ID: c@h\r\n\
CSeq: 5 OPTIONS\r\n\
Timestamp: 54\r\n\
X-Other: dropped\r\n\
Content-Length: 0\r\n\r\n";

    fn build(code: u16, tag: Option<&[u8]>) -> String {
        build_for(REQ, code, tag)
    }

    fn build_for(req: &[u8], code: u16, tag: Option<&[u8]>) -> String {
        let m = Message::parse(req).unwrap();
        let src: SocketAddr = "203.0.113.7:40112".parse().unwrap();
        let spec = ResponseSpec {
            code,
            reason: &"Keepalive",
            source: src,
            to_tag: tag,
            extra: &[b"Allow: INVITE, ACK"],
            raw_headers: b"",
            server: Some(b"Server: sipedge"),
        };
        let mut out = Vec::new();
        build_response(&m, &spec, &mut out);
        String::from_utf8(out).unwrap()
    }

    /// Found by fuzzing: the top via-parm is in the second Via header
    /// when the first is empty; the empty one is copied as it is.
    #[test]
    fn an_empty_first_via_header_is_copied_unchanged() {
        let req = b"OPTIONS sip:h SIP/2.0\r\nVia:\r\nVia: SIP/2.0/UDP 10.0.0.1\r\nFrom: <sip:a@h>;tag=1\r\n\
To: <sip:h>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n";
        let s = build_for(req, 200, None);
        assert!(s.contains("Via: \r\nVia: SIP/2.0/UDP 10.0.0.1\r\n"), "{s}");
    }

    #[test]
    fn copies_headers_and_marks_source() {
        let s = build(200, Some(b"t1"));
        assert_eq!(
            s,
            "SIP/2.0 200 Keepalive\r\n\
Via: SIP/2.0/UDP 192.168.1.10:5060;rport=40112;branch=z9hG4bKx;received=203.0.113.7, SIP/2.0/UDP 10.0.0.1\r\n\
Via: SIP/2.0/UDP 10.0.0.2;received=1.1.1.1\r\n\
From: <sip:a@example.com>;tag=f1\r\n\
To: <sip:127.0.0.1>;tag=t1\r\n\
Call-ID: c@h\r\n\
CSeq: 5 OPTIONS\r\n\
Allow: INVITE, ACK\r\n\
Server: sipedge\r\n\
Content-Length: 0\r\n\r\n"
        );
        let parsed = Message::parse(s.as_bytes()).unwrap();
        assert_eq!(parsed.via_top().unwrap().received(), Some(&b"203.0.113.7"[..]));
    }

    #[test]
    fn trying_has_no_tag_but_timestamp() {
        let s = build(100, None);
        assert!(s.contains("To: <sip:127.0.0.1>\r\n"));
        assert!(s.contains("Timestamp: 54\r\n"));
    }

    #[test]
    fn reason_never_breaks_lines() {
        let m = Message::parse(REQ).unwrap();
        let spec = ResponseSpec {
            code: 400,
            reason: &"a\r\nb",
            source: "127.0.0.1:1".parse().unwrap(),
            to_tag: None,
            extra: &[],
            raw_headers: b"",
            server: None,
        };
        let mut out = Vec::new();
        build_response(&m, &spec, &mut out);
        assert!(out.starts_with(b"SIP/2.0 400 a  b\r\n"));
    }
}
