//! BYE generation from stored state, parsed back with `Message::parse`.

use super::*;
use crate::dialog::{Dialog, DialogError, EndCause, Side, State, build_bye, build_byes};
use crate::sip::{HeaderName, Method};

const VIA_CALLER: &[u8] = b"SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKdlgbye1";
const VIA_CALLEE: &[u8] = b"SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKdlgbye2";

/// A confirmed call where the caller sent CSeq 2 and the callee CSeq 7001.
fn confirmed_call(h: &mut Harness, invite_bytes: &str) -> crate::dialog::DialogHandle {
    let handle = h.req(0.0, invite_bytes).handle().unwrap();
    h.rep(1.0, &reply(200, CALL, Some("btag"), 1, "INVITE"));
    h.req(1.1, &in_dialog("ACK", true, "btag", 1, None));
    h.req(5.0, &in_dialog("INFO", true, "btag", 2, None));
    h.req(6.0, &in_dialog("INFO", false, "btag", 7001, None));
    handle
}

fn uri_tag(m: &Message<'_>, name: HeaderName) -> (String, String) {
    let n = if name == HeaderName::From { m.from().unwrap() } else { m.to().unwrap() };
    (String::from_utf8_lossy(n.uri.raw).into(), String::from_utf8_lossy(n.tag().unwrap_or_default()).into())
}

fn routes(m: &Message<'_>) -> Vec<String> {
    m.route_set(HeaderName::Route).map(|r| String::from_utf8_lossy(r.unwrap().raw).into_owned()).collect()
}

#[test]
fn byes_to_both_sides_parse_back() {
    let mut h = Harness::new();
    let handle = confirmed_call(&mut h, &invite(CALL, 1));
    let [to_caller, to_callee] = build_byes(h.dlg.get(handle).unwrap(), VIA_CALLER, VIA_CALLEE, b"").unwrap();

    assert_eq!(to_callee.to, Side::Callee);
    assert_eq!(&*to_callee.destination, b"sip:p3.example.net;lr");
    let m = Message::parse(&to_callee.bytes).unwrap();
    assert_eq!(m.method(), Some(Method::Bye));
    assert_eq!(m.request_line().unwrap().uri, b"sip:bob@203.0.113.9:5062");
    assert_eq!(m.header(HeaderName::Via).unwrap().value, VIA_CALLEE);
    assert_eq!(routes(&m), ["<sip:p3.example.net;lr>"]);
    assert_eq!(m.max_forwards().unwrap(), Some(70));
    assert_eq!(uri_tag(&m, HeaderName::From), ("sip:alice@example.com".into(), "atag".into()));
    assert_eq!(uri_tag(&m, HeaderName::To), ("sip:bob@example.com".into(), "btag".into()));
    assert_eq!(m.call_id(), Some(CALL.as_bytes()));
    let cseq = m.cseq().unwrap();
    assert_eq!((cseq.seq, cseq.method), (3, Method::Bye));
    assert_eq!(m.content_length_value().unwrap(), Some(0));
    assert!(m.body().is_empty());

    assert_eq!(to_caller.to, Side::Caller);
    assert_eq!(&*to_caller.destination, b"sip:p1.example.net;lr");
    let m = Message::parse(&to_caller.bytes).unwrap();
    assert_eq!(m.request_line().unwrap().uri, b"sip:alice@198.51.100.7:5060;ob");
    assert_eq!(m.header(HeaderName::Via).unwrap().value, VIA_CALLER);
    assert_eq!(routes(&m), ["<sip:p1.example.net;lr>"]);
    assert_eq!(uri_tag(&m, HeaderName::From), ("sip:bob@example.com".into(), "btag".into()));
    assert_eq!(uri_tag(&m, HeaderName::To), ("sip:alice@example.com".into(), "atag".into()));
    assert_eq!(m.cseq().unwrap().seq, 7002);
}

#[test]
fn exact_bytes_without_route_set() {
    let mut h = Harness::new();
    let direct = invite(CALL, 1).replace("Record-Route: <sip:p1.example.net;lr>\r\n", "");
    let handle = h.req(0.0, &direct).handle().unwrap();
    h.rep(1.0, &reply(200, CALL, Some("btag"), 1, "INVITE"));
    let bye = build_bye(
        h.dlg.get(handle).unwrap(),
        Side::Caller,
        b"SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1",
        b"Reason: Q.850;cause=16",
    )
    .unwrap();
    let expected = format!(
        "BYE sip:alice@198.51.100.7:5060;ob SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n\
Max-Forwards: 70\r\n\
From: <sip:bob@example.com>;tag=btag\r\n\
To: <sip:alice@example.com>;tag=atag\r\n\
Call-ID: {CALL}\r\n\
CSeq: 1 BYE\r\n\
Reason: Q.850;cause=16\r\n\
Content-Length: 0\r\n\r\n"
    );
    assert_eq!(String::from_utf8(bye.bytes.clone()).unwrap(), expected);
    assert_eq!(&*bye.destination, b"sip:alice@198.51.100.7:5060;ob");
    assert!(Message::parse(&bye.bytes).is_ok());
}

#[test]
fn strict_router_goes_in_the_request_uri() {
    let mut h = Harness::new();
    let strict = invite(CALL, 1).replace(
        "Record-Route: <sip:p1.example.net;lr>",
        "Record-Route: <sip:strict.example.net>, <sip:p0.example.net;lr>",
    );
    let handle = h.req(0.0, &strict).handle().unwrap();
    h.rep(1.0, &reply(200, CALL, Some("btag"), 1, "INVITE"));
    let bye = build_bye(h.dlg.get(handle).unwrap(), Side::Caller, VIA_CALLER, b"").unwrap();
    let m = Message::parse(&bye.bytes).unwrap();
    // RFC 3261 §12.2.1.1: the strict router is the Request-URI, the remote
    // target the last Route.
    assert_eq!(m.request_line().unwrap().uri, b"sip:strict.example.net");
    assert_eq!(routes(&m), ["<sip:p0.example.net;lr>", "<sip:alice@198.51.100.7:5060;ob>"]);
    assert_eq!(&*bye.destination, b"sip:strict.example.net");
}

#[test]
fn terminate_for_end_dlg() {
    let mut h = Harness::new();
    let unknown = crate::dialog::DialogHandle { h_entry: 1, h_id: 999 };
    assert_eq!(h.dlg.terminate(unknown, h.at(0.0)).err(), Some(DialogError::NotFound));
    let early = h.req(0.0, &invite("early-call", 1)).handle().unwrap();
    h.rep(0.5, &reply(180, "early-call", Some("e"), 1, "INVITE"));
    assert_eq!(h.dlg.terminate(early, h.at(1.0)).err(), Some(DialogError::NotConfirmed(State::Early)));
    assert_eq!(
        build_bye(h.dlg.get(early).unwrap(), Side::Callee, VIA_CALLEE, b"").err(),
        Some(DialogError::NotConfirmed(State::Early))
    );

    let handle = confirmed_call(&mut h, &invite(CALL, 1));
    assert_eq!(h.dlg.counters().active_dialogs, 1);
    let now = h.at(100.0);
    let d = h.dlg.terminate(handle, now).unwrap();
    let Dialog::Terminated(t) = d else { panic!() };
    assert_eq!(t.cause, EndCause::Local);
    let byes = build_byes(d, VIA_CALLER, VIA_CALLEE, b"").unwrap();
    assert_eq!(Message::parse(&byes[1].bytes).unwrap().cseq().unwrap().seq, 3);
    let c = h.dlg.counters();
    assert_eq!((c.active_dialogs, c.expired_dialogs), (0, 0));
    assert_eq!(
        h.dlg.terminate(handle, now).err(),
        Some(DialogError::NotConfirmed(State::Terminated)),
        "ended only once"
    );
}

#[test]
fn answer_without_contact_has_no_target() {
    let mut h = Harness::new();
    let handle = h.req(0.0, &invite(CALL, 1)).handle().unwrap();
    let ok = reply(200, CALL, Some("btag"), 1, "INVITE").replace("Contact: <sip:bob@203.0.113.9:5062>\r\n", "");
    h.rep(1.0, &ok);
    let d = h.dlg.get(handle).unwrap();
    assert_eq!(d.state(), State::ConfirmedNoAck);
    assert_eq!(build_bye(d, Side::Callee, VIA_CALLEE, b"").err(), Some(DialogError::NoTarget(Side::Callee)));
    assert!(build_bye(d, Side::Caller, VIA_CALLER, b"").is_ok());
}
