//! Reading what a dialog keeps out of a message: tags, the remote target,
//! route sets and the NAT mark. Owned copies are made only here, once per
//! dialog-forming message.

use super::error::MessageError;
use super::id::{DialogKey, Tag};
use super::state::Leg;
use crate::proxy::myself::Myself;
use crate::sip::{HeaderName, Message, NameAddr, ParseError};

impl<'a> DialogKey<'a> {
    /// The identity a request or reply presents. A missing To tag is
    /// allowed (initial requests); a missing From tag is not.
    pub fn of(msg: &Message<'a>) -> Result<DialogKey<'a>, MessageError> {
        let call_id = msg.call_id().ok_or(ParseError::MissingHeader(HeaderName::CallId))?;
        let from_tag = msg.from()?.tag().filter(|t| !t.is_empty()).ok_or(MessageError::MissingFromTag)?;
        let to_tag = msg.to()?.tag().filter(|t| !t.is_empty());
        Ok(DialogKey { call_id, from_tag, to_tag })
    }
}

/// The single Contact URI, `None` when there is none. More than one is
/// malformed for a dialog-forming message (RFC 3261 §12.1.1, §12.1.2).
pub(super) fn contact(msg: &Message<'_>) -> Result<Option<Box<[u8]>>, MessageError> {
    let mut contacts = msg.contacts();
    let Some(first) = contacts.next() else {
        return Ok(None);
    };
    let first = first?;
    if contacts.next().is_some() {
        return Err(MessageError::BadContact);
    }
    Ok(Some(first.uri.raw.into()))
}

/// Record-Route entries in message order.
pub(super) fn record_routes<'a>(msg: &Message<'a>) -> Result<Vec<NameAddr<'a>>, MessageError> {
    msg.route_set(HeaderName::RecordRoute).map(|r| r.map_err(MessageError::from)).collect()
}

/// Whether any entry carries the `nat=yes` URI parameter the default
/// script's NATMANAGE adds with `add_rr_param(";nat=yes")`, and that
/// `check_route_param("nat=yes")` looks for.
pub(super) fn nat_marked(entries: &[NameAddr<'_>]) -> bool {
    entries.iter().any(|e| e.uri.param(b"nat") == Some(Some(&b"yes"[..])))
}

/// Whether the Route set of an in-dialog request, without its first
/// `popped` entries, carries `nat=yes`.
pub(super) fn route_nat_marked(msg: &Message<'_>, popped: usize) -> bool {
    msg.route_set(HeaderName::Route).skip(popped).flatten().any(|e| e.uri.param(b"nat") == Some(Some(&b"yes"[..])))
}

/// Route set for requests to the caller: the INVITE's Record-Route in
/// order (RFC 3261 §12.1.1, the UAS rule), minus this proxy's own entries,
/// which lead the list when the INVITE is fed after `record_route()`.
pub(super) fn caller_route_set(entries: &[NameAddr<'_>], myself: &Myself) -> Vec<Box<[u8]>> {
    let own = entries.iter().take_while(|e| myself.is_myself(&e.uri)).count();
    entries[own..].iter().map(|e| e.raw.into()).collect()
}

/// Route set for requests to the callee, from the 2xx's Record-Route
/// (RFC 3261 §12.1.2, the UAC rule, reversed): the entries the INVITE
/// already carried lead back to the caller and are dropped (Kamailio
/// `from_rr_nb`), then this proxy's own entries, then the rest is reversed.
pub(super) fn callee_route_set(entries: &[NameAddr<'_>], invite_rr: usize, myself: &Myself) -> Vec<Box<[u8]>> {
    let downstream = &entries[..entries.len().saturating_sub(invite_rr)];
    let own = downstream.iter().rev().take_while(|e| myself.is_myself(&e.uri)).count();
    downstream[..downstream.len() - own].iter().rev().map(|e| e.raw.into()).collect()
}

/// The leg a reply describes: the answering side's tag, Contact and route
/// set. Its CSeq is 0: the callee has not sent a request yet (Kamailio
/// `populate_leg_info` for the callee leg).
pub(super) fn reply_leg(
    msg: &Message<'_>,
    tag: &[u8],
    invite_rr: usize,
    myself: &Myself,
) -> Result<(Leg, bool), MessageError> {
    let rr = record_routes(msg)?;
    let contact = contact(msg)?.unwrap_or_default();
    let leg = Leg { tag: Tag::new(tag), contact, cseq: 0, route_set: callee_route_set(&rr, invite_rr, myself) };
    Ok((leg, nat_marked(&rr)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(list: &[&'static str]) -> Vec<NameAddr<'static>> {
        list.iter().map(|s| NameAddr::parse(s.as_bytes()).unwrap()).collect()
    }

    fn me() -> Myself {
        let mut m = Myself::default();
        m.add("192.0.2.1", Some(5060));
        m
    }

    fn raw(v: &[Box<[u8]>]) -> Vec<String> {
        v.iter().map(|b| String::from_utf8_lossy(b).into_owned()).collect()
    }

    #[test]
    fn route_sets_skip_own_entries_and_orient() {
        // INVITE fed as received: only upstream P1.
        let invite = entries(&["<sip:p1.example.net;lr>"]);
        assert_eq!(raw(&caller_route_set(&invite, &me())), ["<sip:p1.example.net;lr>"]);
        // 2xx: P4, P3 downstream, us, P1 upstream.
        let reply = entries(&[
            "<sip:p4.example.net;lr>",
            "<sip:p3.example.net;lr>",
            "<sip:192.0.2.1;lr;nat=yes>",
            "<sip:p1.example.net;lr>",
        ]);
        assert_eq!(raw(&callee_route_set(&reply, 1, &me())), ["<sip:p3.example.net;lr>", "<sip:p4.example.net;lr>"]);
        // INVITE fed after record_route(): our entry leads and counts.
        let forwarded = entries(&["<sip:192.0.2.1;lr;nat=yes>", "<sip:p1.example.net;lr>"]);
        assert_eq!(raw(&caller_route_set(&forwarded, &me())), ["<sip:p1.example.net;lr>"]);
        assert_eq!(raw(&callee_route_set(&reply, 2, &me())), ["<sip:p3.example.net;lr>", "<sip:p4.example.net;lr>"]);
        assert!(nat_marked(&reply));
        assert!(!nat_marked(&invite));
        assert!(callee_route_set(&reply, 9, &me()).is_empty());
    }
}
