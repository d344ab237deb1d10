//! Entry points for the cargo-fuzz targets in `fuzz/`: each parses
//! arbitrary bytes and touches every typed view, so any panic or
//! out-of-bounds read in the parsers shows up as a crash.

use crate::engine::owner::Sharder;
use crate::proxy::myself::Myself;
use crate::proxy::stateless;
use crate::sip::framing::frame;
use crate::sip::response::{ResponseSpec, build_response};
use crate::sip::{HeaderName, Message, Uri, params};

pub fn exercise_message(data: &[u8]) {
    let _ = frame(data, 65536);
    if let Some(m) = Message::parse_lenient(data) {
        touch(&m);
    }
    let Ok(m) = Message::parse(data) else {
        return;
    };
    touch(&m);
    let mut me = Myself::default();
    me.add("127.0.0.1", Some(5060));
    let _ = stateless::decide(&m, &me);
    let _ = Sharder::new(1, 4).owner(&m);
    // The whole engine step, registrar and stateful proxy included: with a
    // registered user and a call to it in progress, the input arrives
    // once from a stranger and once from the callee, then every timer runs.
    let cfg = crate::config::Config::default();
    let now = std::time::Instant::now();
    let mut e = crate::engine::Engine::standalone(now, &cfg);
    let callee = ([192, 0, 2, 9], 5060).into();
    feed(&mut e, now, ([203, 0, 113, 7], 40112).into(), SEED_REGISTER);
    feed(&mut e, now, ([203, 0, 113, 8], 5060).into(), SEED_INVITE);
    feed(&mut e, now, ([203, 0, 113, 7], 40112).into(), data);
    feed(&mut e, now, callee, data);
    let later = now + std::time::Duration::from_secs(200);
    e.handle_timeout(later);
    while e.poll_transmit().is_some() {}
}

const SEED_REGISTER: &[u8] = b"REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKr\r\n\
From: <sip:bob@127.0.0.1>;tag=1\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: r\r\nCSeq: 1 REGISTER\r\n\
Contact: <sip:bob@192.0.2.9>\r\nContent-Length: 0\r\n\r\n";

const SEED_INVITE: &[u8] = b"INVITE sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 203.0.113.8;branch=z9hG4bKi\r\n\
From: <sip:alice@203.0.113.8>;tag=a\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: fuzz-call\r\nCSeq: 1 INVITE\r\n\
Contact: <sip:alice@203.0.113.8>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";

fn feed(e: &mut crate::engine::Engine, now: std::time::Instant, src: std::net::SocketAddr, bytes: &[u8]) {
    let d = crate::engine::Datagram { local: crate::ids::ListenerId(0), src, bytes };
    e.handle_datagram(now, d);
    while e.poll_transmit().is_some() {}
}

fn touch(m: &Message<'_>) {
    let _ = (m.cseq(), m.max_forwards(), m.expires(), m.contact_set(), m.call_id());
    let _ = (m.from().map(|f| f.tag()), m.to().map(|t| t.tag()));
    for v in m.vias().flatten() {
        let _ = (v.branch(), v.rport(), v.received(), v.maddr());
    }
    for c in m.contacts().flatten() {
        let _ = (c.param(b"expires"), c.uri.param(b"transport"));
    }
    for name in [HeaderName::Route, HeaderName::RecordRoute, HeaderName::Path] {
        m.route_set(name).for_each(drop);
    }
    m.option_tags(HeaderName::ProxyRequire).for_each(drop);
    if let Some(rl) = m.request_line() {
        exercise_uri(rl.uri);
    }
    let spec = ResponseSpec {
        code: 400,
        reason: &"x",
        source: ([127, 0, 0, 1], 5060).into(),
        to_tag: Some(b"t"),
        extra: &[],
        raw_headers: b"",
        server: None,
    };
    build_response(m, &spec, &mut Vec::new());
}

pub fn exercise_uri(data: &[u8]) {
    if let Ok(u) = Uri::parse(data) {
        let _ = (u.transport(), u.has_lr(), u.maddr(), u.hostport_end(), u.params_end());
        params::iter(u.params).for_each(drop);
    }
    params::iter(data).for_each(drop);
    let _ = params::validate(data);
}
