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
    // The whole engine step, registrar included.
    let cfg = crate::config::Config::default();
    let mut e = crate::engine::Engine::standalone(std::time::Instant::now(), &cfg);
    let src = ([203, 0, 113, 7], 40112).into();
    e.handle_datagram(
        std::time::Instant::now(),
        crate::engine::Datagram { local: crate::ids::ListenerId(0), src, bytes: data },
    );
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
