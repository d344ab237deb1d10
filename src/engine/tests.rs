//! Engine tests: bytes in, datagrams out, virtual time.

use super::*;
use crate::config::Config;

const SRC: &str = "203.0.113.7:40112";

fn engine_with(shards: u16, shard: u16, sets: &[&str]) -> (Engine, Instant) {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let cfg = Config::load(None, &["udp:127.0.0.1:5060".into()], &sets).unwrap();
    let now = Instant::now();
    let e = Engine::new(
        now,
        crate::registrar::UnixMillis(1_767_225_600_000),
        ShardId(shard),
        Arc::new(EngineConfig::from_config(&cfg)),
        Sharder::new(42, shards),
        Arc::new(SharedStats::default()),
    );
    (e, now)
}

fn engine() -> (Engine, Instant) {
    engine_with(1, 0, &[])
}

fn feed(e: &mut Engine, now: Instant, bytes: &[u8]) -> (Disposition, Vec<Transmit>) {
    let d = Datagram { local: ListenerId(0), src: SRC.parse().unwrap(), bytes };
    let disp = e.handle_datagram(now, d);
    let mut out = Vec::new();
    while let Some(t) = e.poll_transmit() {
        out.push(t);
    }
    (disp, out)
}

fn request(method: &str, ruri: &str, extra: &str) -> Vec<u8> {
    format!(
        "{method} {ruri} SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK77;rport\r\n\
Max-Forwards: 70\r\n\
From: <sip:alice@example.com>;tag=a1\r\n\
To: <{ruri}>\r\n\
Call-ID: call-1@192.168.1.10\r\n\
CSeq: 1 {method}\r\n\
{extra}Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

fn status(t: &Transmit) -> String {
    let s = String::from_utf8_lossy(&t.payload);
    s.lines().next().unwrap().to_string()
}

#[test]
fn options_to_myself_gets_keepalive_200_with_capabilities() {
    let (mut e, now) = engine();
    let (_, out) = feed(&mut e, now, &request("OPTIONS", "sip:127.0.0.1", ""));
    assert_eq!(out.len(), 1);
    let t = &out[0];
    assert_eq!(t.dst, SRC.parse().unwrap());
    assert_eq!(status(t), "SIP/2.0 200 Keepalive");
    let reply = Message::parse(&t.payload).unwrap();
    assert!(reply.header(HeaderName::Allow).is_some());
    assert!(reply.header(HeaderName::Accept).is_some());
    assert!(reply.header(HeaderName::Supported).is_some());
    let via = reply.via_top().unwrap();
    assert_eq!(via.received(), Some(&b"203.0.113.7"[..]));
    assert_eq!(via.rport(), Some(Some(&b"40112"[..])));
    assert!(reply.to().unwrap().tag().is_some());
}

#[test]
fn retransmission_gets_the_same_to_tag() {
    let (mut e, now) = engine();
    let req = request("OPTIONS", "sip:127.0.0.1", "");
    let (_, a) = feed(&mut e, now, &req);
    let (_, b) = feed(&mut e, now, &req);
    assert_eq!(a[0].payload, b[0].payload);
}

#[test]
fn stateless_routing_answers() {
    let (mut e, now) = engine();
    let cases = [
        // An unknown user's 404 comes from a transaction (no 100 for a MESSAGE).
        (request("MESSAGE", "sip:bob@127.0.0.1", ""), "SIP/2.0 404 Not Found"),
        (request("MESSAGE", "sip:127.0.0.1", ""), "SIP/2.0 484 Address Incomplete"),
        (request("INVITE", "sip:bob@example.org", ""), "SIP/2.0 403 Not relaying"),
        (request("CANCEL", "sip:bob@127.0.0.1", ""), "SIP/2.0 481 Call/Transaction Does Not Exist"),
        (request("INVITE", "sip:bob@127.0.0.1", "Max-Forwards: 0\r\n"), "SIP/2.0 400 Duplicate Max-Forwards header"),
        (request("OPTIONS", "mailto:bob@example.org", ""), "SIP/2.0 416 Unsupported URI Scheme"),
    ];
    for (req, want) in cases {
        let (_, out) = feed(&mut e, now, &req);
        assert_eq!(out.len(), 1, "{want}");
        assert_eq!(status(&out[0]), want);
    }
}

#[test]
fn max_forwards_zero() {
    let (mut e, now) = engine();
    let zero = |m: &str, u: &str| {
        let r = String::from_utf8(request(m, u, "")).unwrap();
        r.replace("Max-Forwards: 70", "Max-Forwards: 0").into_bytes()
    };
    let (_, out) = feed(&mut e, now, &zero("INVITE", "sip:bob@127.0.0.1"));
    assert_eq!(status(&out[0]), "SIP/2.0 483 Too Many Hops");
    let (_, out) = feed(&mut e, now, &zero("OPTIONS", "sip:127.0.0.1"));
    assert_eq!(status(&out[0]), "SIP/2.0 200 Keepalive");
}

#[test]
fn proxy_require_gets_420_with_unsupported() {
    let (mut e, now) = engine();
    let req = request("INVITE", "sip:bob@127.0.0.1", "Proxy-Require: foo, bar\r\nRequire: baz\r\n");
    let (_, out) = feed(&mut e, now, &req);
    assert_eq!(status(&out[0]), "SIP/2.0 420 Bad Extension");
    let reply = Message::parse(&out[0].payload).unwrap();
    assert_eq!(reply.header(HeaderName::Unsupported).unwrap().value, b"foo, bar");
}

#[test]
fn broken_requests_get_400_naming_the_problem() {
    let (mut e, now) = engine();
    let mut req = request("INVITE", "sip:bob@127.0.0.1", "");
    req.splice(6..7, *b"  ");
    let (_, out) = feed(&mut e, now, &req);
    assert_eq!(status(&out[0]), "SIP/2.0 400 Malformed Request-Line");
    let req = request("INVITE", "sip:bob@127.0.0.1", "CSeq: 2 INVITE\r\n");
    let (_, out) = feed(&mut e, now, &req);
    assert_eq!(status(&out[0]), "SIP/2.0 400 Duplicate CSeq header");
    let req = String::from_utf8(request("INVITE", "sip:bob@127.0.0.1", ""))
        .unwrap()
        .replace("SIP/2.0\r\nVia", "SIP/3.0\r\nVia");
    let (_, out) = feed(&mut e, now, req.as_bytes());
    assert_eq!(status(&out[0]), "SIP/2.0 505 Version Not Supported");
}

#[test]
fn silence_for_responses_acks_and_keepalives() {
    let (mut e, now) = engine();
    for bytes in [
        &b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n"[..],
        b"SIP/2.0 999999 Broken\r\n\r\n",
        b"\r\n\r\n",
        b"\0\0\0\0",
        &request("ACK", "sip:bob@127.0.0.1", ""),
        b"ACK sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\n",
    ] {
        let (_, out) = feed(&mut e, now, bytes);
        assert!(out.is_empty(), "{}", String::from_utf8_lossy(bytes));
    }
    assert_eq!(e.stats().keepalives, 2);
}

#[test]
fn oversized_datagram_is_refused() {
    let (mut e, now) = engine_with(1, 0, &["core.max_msg_size=600"]);
    let pad = format!("X-Pad: {}\r\n", "a".repeat(700));
    let (_, out) = feed(&mut e, now, &request("OPTIONS", "sip:127.0.0.1", &pad));
    assert_eq!(status(&out[0]), "SIP/2.0 513 Message Too Large");
    assert_eq!(e.stats().too_large, 1);
}

#[test]
fn hands_off_to_the_owner_and_owner_answers() {
    let req = request("OPTIONS", "sip:127.0.0.1", "");
    let owner = Sharder::new(42, 4).by_call_id(b"call-1@192.168.1.10");
    let other = ShardId((owner.0 + 1) % 4);
    let (mut e, now) = engine_with(4, other.0, &[]);
    let (disp, out) = feed(&mut e, now, &req);
    assert_eq!(disp, Disposition::HandOff(owner));
    assert!(out.is_empty());
    let (mut o, now) = engine_with(4, owner.0, &[]);
    o.handle_handoff(now, Datagram { local: ListenerId(0), src: SRC.parse().unwrap(), bytes: &req }, None);
    let t = o.poll_transmit().unwrap();
    assert_eq!(status(&t), "SIP/2.0 200 Keepalive");
    assert_eq!(t.dst, SRC.parse().unwrap());
}

#[test]
fn housekeeping_publishes_counters_on_virtual_time() {
    let (mut e, now) = engine();
    feed(&mut e, now, &request("OPTIONS", "sip:127.0.0.1", ""));
    assert_eq!(e.shared.snapshot().rcv_datagrams, 0);
    let due = e.poll_timeout().unwrap();
    assert!(due > now && due <= now + HOUSEKEEPING + TIMER_TICK);
    e.handle_timeout(now + HOUSEKEEPING + TIMER_TICK);
    assert_eq!(e.shared.snapshot().rcv_datagrams, 1);
    assert!(e.poll_timeout().unwrap() > now + HOUSEKEEPING);
}
