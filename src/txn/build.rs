//! Messages a transaction writes itself: the ACK to a negative final
//! (RFC 3261 §17.1.1.3), the CANCEL of a branch (§9.1) and Kamailio's
//! automatic 100 to an INVITE (§17.2.1, tm auto_inv_100).

use super::action::Packet;
use crate::sip::fmt::push_u32;
use crate::sip::response::{ResponseSpec, build_response};
use crate::sip::{HeaderName, Message};
use std::net::SocketAddr;

/// Kamailio tm's auto_inv_100_reason.
pub const AUTO_INV_100_REASON: &str = "trying -- your call is important to us";

/// RFC 3261 §16.6 step 3 default, for a request that carried none.
const DEFAULT_MAX_FORWARDS: &[u8] = b"70";

/// The hop-by-hop ACK to a 300-699 answer to `invite` (RFC 3261 §17.1.1.3):
/// the INVITE's Request-URI, Call-ID, From, CSeq number, top Via only and
/// Route set, with the To of the response (it carries the tag).
pub fn ack_for(invite: &Message<'_>, response: &Message<'_>) -> Vec<u8> {
    let to = response.header(HeaderName::To).or_else(|| invite.header(HeaderName::To));
    local_request(invite, b"ACK", to.map(|h| h.value))
}

/// The CANCEL of `invite` (RFC 3261 §9.1): Request-URI, Call-ID, To, From
/// and CSeq number as in the INVITE, its top Via only and its Route set.
pub fn cancel_for(invite: &Message<'_>) -> Vec<u8> {
    local_request(invite, b"CANCEL", invite.header(HeaderName::To).map(|h| h.value))
}

/// The automatic `100` to an INVITE received from `source` (Kamailio
/// auto_inv_100); it carries no To tag (RFC 3261 §8.2.6.2).
pub fn trying_for(invite: &Message<'_>, source: SocketAddr, server: Option<&[u8]>) -> Packet {
    let spec = ResponseSpec {
        code: 100,
        reason: &AUTO_INV_100_REASON,
        source,
        to_tag: None,
        extra: &[],
        raw_headers: b"",
        server,
    };
    let mut out = Vec::with_capacity(invite.as_bytes().len().min(1024));
    build_response(invite, &spec, &mut out);
    out.into()
}

/// A request that belongs to `invite`'s transaction, with only the headers
/// RFC 3261 lists. Missing headers are left out rather than invented: the
/// INVITE is our own forwarded copy and was checked when it was received.
fn local_request(invite: &Message<'_>, method: &[u8], to: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    let uri = invite.request_line().map(|r| r.uri).unwrap_or_default();
    line(&mut out, &[method, b" ", uri, b" SIP/2.0"]);
    if let Some(via) = invite.values(HeaderName::Via).next() {
        line(&mut out, &[b"Via: ", via]);
    }
    // RFC 3261 §17.1.1.3, §9.1: the Route header fields of the INVITE.
    for route in invite.headers_named(HeaderName::Route) {
        out.extend_from_slice(route.line);
    }
    let max_forwards = invite.header(HeaderName::MaxForwards).map_or(DEFAULT_MAX_FORWARDS, |h| h.value);
    line(&mut out, &[b"Max-Forwards: ", max_forwards]);
    if let Some(from) = invite.header(HeaderName::From) {
        line(&mut out, &[b"From: ", from.value]);
    }
    if let Some(to) = to {
        line(&mut out, &[b"To: ", to]);
    }
    if let Some(call_id) = invite.call_id() {
        line(&mut out, &[b"Call-ID: ", call_id]);
    }
    if let Ok(cseq) = invite.cseq() {
        out.extend_from_slice(b"CSeq: ");
        push_u32(&mut out, cseq.seq);
        line(&mut out, &[b" ", method]);
    }
    out.extend_from_slice(b"Content-Length: 0\r\n\r\n");
    out
}

fn line(out: &mut Vec<u8>, parts: &[&[u8]]) {
    for part in parts {
        out.extend_from_slice(part);
    }
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &[u8] = b"INVITE sip:bob@192.0.2.20:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 203.0.113.1;branch=z9hG4bKpx1, SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKua\r\n\
Route: <sip:p2.example.com;lr>\r\n\
Max-Forwards: 69\r\n\
From: Alice <sip:alice@example.com>;tag=a1\r\n\
To: Bob <sip:bob@example.com>\r\n\
Call-ID: c1@ua\r\n\
CSeq: 314 INVITE\r\n\
Contact: <sip:alice@10.0.0.5>\r\n\
Content-Length: 0\r\n\r\n";

    const BUSY: &[u8] = b"SIP/2.0 486 Busy Here\r\n\
Via: SIP/2.0/UDP 203.0.113.1;branch=z9hG4bKpx1, SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKua\r\n\
From: Alice <sip:alice@example.com>;tag=a1\r\n\
To: Bob <sip:bob@example.com>;tag=b9\r\n\
Call-ID: c1@ua\r\nCSeq: 314 INVITE\r\nContent-Length: 0\r\n\r\n";

    #[test]
    fn ack_copies_the_invite_and_takes_to_from_the_response() {
        let invite = Message::parse(INVITE).unwrap();
        let ack = ack_for(&invite, &Message::parse(BUSY).unwrap());
        let expected = "ACK sip:bob@192.0.2.20:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 203.0.113.1;branch=z9hG4bKpx1\r\n\
Route: <sip:p2.example.com;lr>\r\n\
Max-Forwards: 69\r\n\
From: Alice <sip:alice@example.com>;tag=a1\r\n\
To: Bob <sip:bob@example.com>;tag=b9\r\n\
Call-ID: c1@ua\r\nCSeq: 314 ACK\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(String::from_utf8_lossy(&ack), expected);
        assert!(Message::parse(&ack).is_ok());
    }

    #[test]
    fn cancel_keeps_the_invite_to_and_its_branch() {
        let invite = Message::parse(INVITE).unwrap();
        let bytes = cancel_for(&invite);
        let cancel = Message::parse(&bytes).unwrap();
        assert_eq!(cancel.request_line().unwrap().uri, b"sip:bob@192.0.2.20:5060");
        assert_eq!(cancel.to().unwrap().tag(), None);
        assert_eq!(cancel.cseq().unwrap().seq, 314);
        assert_eq!(cancel.values(HeaderName::Via).count(), 1);
        assert_eq!(cancel.via_top().unwrap().branch(), Some(&b"z9hG4bKpx1"[..]));
    }

    #[test]
    fn trying_has_kamailio_reason_and_no_to_tag() {
        let invite = Message::parse(INVITE).unwrap();
        let source: SocketAddr = "198.51.100.7:40000".parse().unwrap();
        let trying = trying_for(&invite, source, None);
        let msg = Message::parse(&trying).unwrap();
        let status = msg.status_line().unwrap();
        assert_eq!((status.code, status.reason), (100, AUTO_INV_100_REASON.as_bytes()));
        assert_eq!(msg.to().unwrap().tag(), None);
        assert_eq!(msg.via_top().unwrap().received(), Some(&b"198.51.100.7"[..]));
        assert_eq!(msg.values(HeaderName::Via).count(), 2);
    }
}
