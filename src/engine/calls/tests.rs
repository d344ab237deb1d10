//! Calls through the engine on virtual time: a registered callee behind
//! NAT, a public caller, and every outcome RFC 3261 §16 gives a request.

use crate::config::Config;
use crate::engine::owner::Sharder;
use crate::engine::stats::SharedStats;
use crate::engine::{Datagram, Disposition, Engine, EngineConfig, Transmit};
use crate::ids::{ListenerId, ShardId};
use crate::registrar::UnixMillis;
use crate::sip::{HeaderName, Message};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bob's phone: private contact, public NAT address.
const BOB_NAT: &str = "198.51.100.2:40000";
/// Alice: a public phone.
const ALICE: &str = "203.0.113.7:5060";

struct Lab {
    e: Engine,
    now: Instant,
}

fn lab_with(shards: u16, shard: u16, sets: &[&str]) -> Lab {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let cfg = Config::load(None, &["udp:192.0.2.1:5060".into()], &sets).unwrap();
    let now = Instant::now();
    let e = Engine::new(
        now,
        UnixMillis(1_767_225_600_000),
        ShardId(shard),
        Arc::new(EngineConfig::from_config(&cfg)),
        Sharder::new(42, shards),
        Arc::new(SharedStats::default()),
    );
    Lab { e, now }
}

fn lab() -> Lab {
    let mut l = lab_with(1, 0, &[]);
    l.register_bob();
    l
}

impl Lab {
    fn feed(&mut self, from: &str, bytes: &[u8]) -> Vec<Transmit> {
        self.feed_on(ListenerId(0), from, bytes)
    }

    fn feed_on(&mut self, local: ListenerId, from: &str, bytes: &[u8]) -> Vec<Transmit> {
        let d = Datagram { local, src: from.parse().unwrap(), bytes };
        assert_eq!(self.e.handle_datagram(self.now, d), Disposition::Done);
        self.drain()
    }

    fn drain(&mut self) -> Vec<Transmit> {
        std::iter::from_fn(|| self.e.poll_transmit()).collect()
    }

    /// Advances virtual time to `at`, firing every timer on the way.
    fn advance(&mut self, by: Duration) -> Vec<Transmit> {
        let end = self.now + by;
        let mut out = Vec::new();
        while let Some(t) = self.e.poll_timeout().filter(|t| *t <= end) {
            self.now = self.now.max(t);
            self.e.handle_timeout(self.now);
            out.extend(self.drain());
        }
        self.now = end;
        out
    }

    fn register_bob(&mut self) {
        self.register_bob_cseq(1);
    }

    /// Bob's REGISTER with CSeq `cseq` (a higher one refreshes the binding).
    fn register_bob_cseq(&mut self, cseq: u32) {
        let reg = format!(
            "REGISTER sip:192.0.2.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKreg{cseq};rport\r\n\
Max-Forwards: 70\r\nFrom: <sip:bob@192.0.2.1>;tag=r1\r\nTo: <sip:bob@192.0.2.1>\r\n\
Call-ID: reg-bob\r\nCSeq: {cseq} REGISTER\r\nContact: <sip:bob@10.0.0.5:5060>\r\nExpires: 3600\r\n\
Content-Length: 0\r\n\r\n"
        );
        let out = self.feed(BOB_NAT, reg.as_bytes());
        assert_eq!(first_line(&out[0]), "SIP/2.0 200 OK");
    }
}

fn first_line(t: &Transmit) -> String {
    String::from_utf8_lossy(&t.payload).lines().next().unwrap_or_default().to_owned()
}

fn text(t: &Transmit) -> String {
    String::from_utf8_lossy(&t.payload).into_owned()
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn invite(call_id: &str, branch: &str) -> Vec<u8> {
    format!(
        "INVITE sip:bob@192.0.2.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP 203.0.113.7:5060;branch={branch}\r\n\
Max-Forwards: 70\r\nFrom: <sip:alice@203.0.113.7>;tag=a1\r\nTo: <sip:bob@192.0.2.1>\r\n\
Call-ID: {call_id}\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@203.0.113.7:5060>\r\n\
Content-Type: application/sdp\r\nContent-Length: 4\r\n\r\nv=0\n"
    )
    .into_bytes()
}

/// Alice's CANCEL of the INVITE `invite(call_id, "z9hG4bKa1")` sent.
fn cancel(call_id: &str) -> Vec<u8> {
    format!(
        "CANCEL sip:bob@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 203.0.113.7:5060;branch=z9hG4bKa1\r\n\
Max-Forwards: 70\r\nFrom: <sip:alice@203.0.113.7>;tag=a1\r\nTo: <sip:bob@192.0.2.1>\r\n\
Call-ID: {call_id}\r\nCSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// A response of Bob's to the INVITE as the proxy forwarded it.
fn answer(fwd: &Transmit, code: &str, to_tag: &str, contact: bool) -> Vec<u8> {
    let msg = Message::parse(&fwd.payload).unwrap();
    let mut out = format!("SIP/2.0 {code}\r\n");
    for h in msg.headers() {
        if matches!(
            h.name,
            HeaderName::Via | HeaderName::From | HeaderName::CallId | HeaderName::CSeq | HeaderName::RecordRoute
        ) {
            out.push_str(&String::from_utf8_lossy(h.line));
        }
        if h.name == HeaderName::To {
            out.push_str(&format!("To: {};tag={to_tag}\r\n", String::from_utf8_lossy(h.value)));
        }
    }
    if contact {
        out.push_str("Contact: <sip:bob@10.0.0.5:5060>\r\n");
    }
    out.push_str("Content-Length: 0\r\n\r\n");
    out.into_bytes()
}

/// Starts a call and returns the INVITE as forwarded to Bob.
fn call(l: &mut Lab, call_id: &str) -> Transmit {
    let out = l.feed(ALICE, &invite(call_id, "z9hG4bKa1"));
    assert_eq!(out.len(), 2, "{out:?}");
    assert_eq!(first_line(&out[0]), "SIP/2.0 100 trying -- your call is important to us");
    assert_eq!(out[0].dst, addr(ALICE));
    out.into_iter().nth(1).unwrap()
}

#[test]
fn invite_reaches_the_natted_binding_with_record_route_and_via() {
    let mut l = lab();
    let fwd = call(&mut l, "c1");
    assert_eq!(fwd.dst, addr(BOB_NAT), "sent to the received address");
    let m = Message::parse(&fwd.payload).unwrap();
    assert_eq!(m.request_line().unwrap().uri, b"sip:bob@10.0.0.5:5060");
    let rr = m.header(HeaderName::RecordRoute).unwrap().value;
    assert_eq!(rr, b"<sip:192.0.2.1:5060;lr;nat=yes>", "callee NATed: nat=yes");
    let via = m.via_top().unwrap();
    assert_eq!(via.host_text, b"192.0.2.1");
    assert!(via.branch().unwrap().starts_with(b"z9hG4bK"));
    assert_eq!(m.values(HeaderName::Via).count(), 2);
    assert_eq!(m.max_forwards().unwrap(), Some(69));
    assert_eq!(m.body(), b"v=0\n");
    assert_eq!(l.e.dialogs().counters().processed_dialogs, 1);
}

#[test]
fn full_call_ringing_answer_ack_bye() {
    let mut l = lab();
    let fwd = call(&mut l, "c2");
    let out = l.feed(BOB_NAT, &answer(&fwd, "180 Ringing", "b1", true));
    assert_eq!(out.len(), 1);
    assert_eq!(first_line(&out[0]), "SIP/2.0 180 Ringing");
    assert_eq!(out[0].dst, addr(ALICE));
    let out = l.feed(BOB_NAT, &answer(&fwd, "200 OK", "b1", true));
    assert_eq!(first_line(&out[0]), "SIP/2.0 200 OK");
    let ok = Message::parse(&out[0].payload).unwrap();
    assert_eq!(ok.values(HeaderName::Via).count(), 1, "our Via removed");
    let contact = ok.header(HeaderName::Contact).unwrap().value;
    assert_eq!(contact, b"<sip:bob@10.0.0.5:5060;alias=198.51.100.2~40000~1>", "NATMANAGE aliased the reply");
    assert_eq!(l.e.dialogs().counters().active_dialogs, 1);
    // Alice's ACK follows the Record-Route and the alias.
    let ack = "ACK sip:bob@10.0.0.5:5060;alias=198.51.100.2~40000~1 SIP/2.0\r\n\
Via: SIP/2.0/UDP 203.0.113.7:5060;branch=z9hG4bKack\r\nRoute: <sip:192.0.2.1:5060;lr;nat=yes>\r\n\
Max-Forwards: 70\r\nFrom: <sip:alice@203.0.113.7>;tag=a1\r\nTo: <sip:bob@192.0.2.1>;tag=b1\r\n\
Call-ID: c2\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n";
    let out = l.feed(ALICE, ack.as_bytes());
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].dst, addr(BOB_NAT));
    let fwd_ack = Message::parse(&out[0].payload).unwrap();
    assert_eq!(fwd_ack.request_line().unwrap().uri, b"sip:bob@10.0.0.5:5060");
    assert!(fwd_ack.header(HeaderName::Route).is_none());
    // Bob hangs up: his BYE goes to Alice's Contact.
    let bye = "BYE sip:alice@203.0.113.7:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKbye\r\nRoute: <sip:192.0.2.1:5060;lr;nat=yes>\r\n\
Max-Forwards: 70\r\nFrom: <sip:bob@192.0.2.1>;tag=b1\r\nTo: <sip:alice@203.0.113.7>;tag=a1\r\n\
Call-ID: c2\r\nCSeq: 2 BYE\r\nContact: <sip:bob@10.0.0.5:5060>\r\nContent-Length: 0\r\n\r\n";
    let out = l.feed(BOB_NAT, bye.as_bytes());
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].dst, addr(ALICE));
    let ok = answer(&out[0], "200 OK", "a1", false);
    let out = l.feed(ALICE, &ok);
    assert_eq!(first_line(&out[0]), "SIP/2.0 200 OK");
    assert_eq!(out[0].dst, addr(BOB_NAT), "back to where the BYE came from");
    assert_eq!(l.e.dialogs().counters().active_dialogs, 0);
}

#[test]
fn a_retransmitted_invite_gets_the_last_provisional() {
    let mut l = lab();
    let fwd = call(&mut l, "c3");
    l.feed(BOB_NAT, &answer(&fwd, "180 Ringing", "b1", true));
    let out = l.feed(ALICE, &invite("c3", "z9hG4bKa1"));
    assert_eq!(out.len(), 1);
    assert_eq!(first_line(&out[0]), "SIP/2.0 180 Ringing");
    assert_eq!(l.e.stats().tx_absorbed, 1);
}

#[test]
fn busy_is_acked_hop_by_hop_and_relayed() {
    let mut l = lab();
    let fwd = call(&mut l, "c4");
    let out = l.feed(BOB_NAT, &answer(&fwd, "486 Busy Here", "b1", false));
    assert_eq!(out.len(), 2, "{out:?}");
    let ack = out.iter().find(|t| first_line(t).starts_with("ACK ")).unwrap();
    assert!(first_line(ack).starts_with("ACK sip:bob@10.0.0.5:5060"), "{}", text(ack));
    assert_eq!(ack.dst, addr(BOB_NAT));
    let busy = out.iter().find(|t| t.dst == addr(ALICE)).unwrap();
    assert_eq!(first_line(busy), "SIP/2.0 486 Busy Here");
    // Alice's ACK ends the server transaction; nothing goes on.
    let ack = "ACK sip:bob@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 203.0.113.7:5060;branch=z9hG4bKa1\r\n\
Max-Forwards: 70\r\nFrom: <sip:alice@203.0.113.7>;tag=a1\r\nTo: <sip:bob@192.0.2.1>;tag=b1\r\n\
Call-ID: c4\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n";
    assert!(l.feed(ALICE, ack.as_bytes()).is_empty());
    assert_eq!(l.e.dialogs().counters().failed_dialogs, 1);
    // Timer I ends it; nothing is retransmitted meanwhile.
    assert!(l.advance(Duration::from_secs(40)).is_empty());
    assert_eq!(l.e.calls.len(), (0, 0));
}

#[test]
fn cancel_is_answered_sent_on_and_the_invite_ends_487() {
    let mut l = lab();
    let fwd = call(&mut l, "c5");
    l.feed(BOB_NAT, &answer(&fwd, "180 Ringing", "b1", true));
    let out = l.feed(ALICE, &cancel("c5"));
    assert_eq!(out.len(), 2, "{out:?}");
    assert_eq!(first_line(&out[0]), "SIP/2.0 200 canceling");
    assert_eq!(out[0].dst, addr(ALICE));
    assert!(first_line(&out[1]).starts_with("CANCEL sip:bob@10.0.0.5:5060"));
    assert_eq!(out[1].dst, addr(BOB_NAT));
    let fwd_cancel = out.into_iter().nth(1).unwrap();
    let out = l.feed(BOB_NAT, &answer(&fwd_cancel, "200 OK", "b1", false));
    assert!(out.is_empty(), "the CANCEL's 200 is hop by hop");
    let out = l.feed(BOB_NAT, &answer(&fwd, "487 Request Terminated", "b1", false));
    assert_eq!(out.len(), 2);
    assert!(out.iter().any(|t| first_line(t).starts_with("ACK ") && t.dst == addr(BOB_NAT)));
    let up = out.iter().find(|t| t.dst == addr(ALICE)).unwrap();
    assert_eq!(first_line(up), "SIP/2.0 487 Request Terminated");
}

#[test]
fn unknown_user_is_404_from_a_transaction() {
    let mut l = lab();
    let inv = String::from_utf8(invite("c6", "z9hG4bKx")).unwrap().replace("sip:bob@", "sip:carol@");
    let out = l.feed(ALICE, inv.as_bytes());
    assert_eq!(out.len(), 2);
    assert_eq!(first_line(&out[1]), "SIP/2.0 404 Not Found");
    // Retransmitted until the ACK (Timer G).
    let again = l.advance(Duration::from_millis(600));
    assert_eq!(again.len(), 1);
    assert_eq!(first_line(&again[0]), "SIP/2.0 404 Not Found");
}

#[test]
fn no_provisional_means_408_at_fr_timer() {
    let mut l = lab();
    call(&mut l, "c7");
    let out = l.advance(Duration::from_secs(31));
    let lines: Vec<String> = out.iter().map(first_line).collect();
    // Timer A retransmissions (capped at T2), then the local 408 upstream.
    assert!(lines.iter().filter(|s| s.starts_with("INVITE ")).count() >= 6, "{lines:?}");
    let last = out.iter().rev().find(|t| t.dst == addr(ALICE)).unwrap();
    assert_eq!(first_line(last), "SIP/2.0 408 Request Timeout");
}

/// A call that rings past a 5 s fr_inv_timer: the forwarded INVITE and
/// what the proxy sent when the timer fired.
fn ring_out(call_id: &str) -> (Lab, Transmit, Vec<Transmit>) {
    let mut l = lab_with(1, 0, &["tm.fr_inv_timer=5000"]);
    l.register_bob();
    let fwd = call(&mut l, call_id);
    l.feed(BOB_NAT, &answer(&fwd, "180 Ringing", "b1", true));
    let out = l.advance(Duration::from_millis(5100));
    (l, fwd, out)
}

#[test]
fn ringing_forever_is_cancelled_at_fr_inv_timer() {
    let (_, _, out) = ring_out("c8");
    let lines: Vec<String> = out.iter().map(first_line).collect();
    assert!(lines.iter().any(|s| s.starts_with("CANCEL sip:bob@10.0.0.5")), "{lines:?}");
    assert!(lines.contains(&"SIP/2.0 408 Request Timeout".to_owned()), "{lines:?}");
}

#[test]
fn in_dialog_request_without_our_route_is_404_not_here() {
    let mut l = lab();
    let bye = "BYE sip:bob@10.0.0.5 SIP/2.0\r\nVia: SIP/2.0/UDP 203.0.113.7:5060;branch=z9hG4bKq\r\n\
Max-Forwards: 70\r\nFrom: <sip:alice@203.0.113.7>;tag=a1\r\nTo: <sip:bob@192.0.2.1>;tag=b1\r\n\
Call-ID: c9\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n";
    let out = l.feed(ALICE, bye.as_bytes());
    assert_eq!(first_line(&out[0]), "SIP/2.0 404 Not here");
}

#[test]
fn after_the_2xx_a_retransmitted_invite_is_absorbed_until_wt_timer() {
    let mut l = lab();
    let fwd = call(&mut l, "c30");
    assert_eq!(l.feed(BOB_NAT, &answer(&fwd, "200 OK", "b1", true)).len(), 1);
    // RFC 6026 §7.1: not a new request to fork again, and no 2xx of ours.
    assert!(l.feed(ALICE, &invite("c30", "z9hG4bKa1")).is_empty());
    assert_eq!(l.e.stats().tx_absorbed, 1);
    assert_eq!(l.e.calls.len(), (1, 0));
    assert!(l.advance(Duration::from_secs(5)).is_empty());
    assert_eq!(l.e.calls.len(), (0, 0), "Timer L (wt_timer) ended it");
}

#[test]
fn an_rfc2543_ack_matching_the_accepted_invite_is_routed() {
    let mut l = lab();
    let old = String::from_utf8(invite("c31", "z9hG4bKa1")).unwrap().replace(";branch=z9hG4bKa1", "");
    let out = l.feed(ALICE, old.as_bytes());
    assert_eq!(out.len(), 2, "{out:?}");
    let fwd = out.into_iter().nth(1).unwrap();
    l.feed(BOB_NAT, &answer(&fwd, "200 OK", "b1", true));
    // The same Via as the INVITE: it matches the INVITE's transaction.
    let ack = "ACK sip:bob@10.0.0.5:5060;alias=198.51.100.2~40000~1 SIP/2.0\r\n\
Via: SIP/2.0/UDP 203.0.113.7:5060\r\nRoute: <sip:192.0.2.1:5060;lr;nat=yes>\r\n\
Max-Forwards: 70\r\nFrom: <sip:alice@203.0.113.7>;tag=a1\r\nTo: <sip:bob@192.0.2.1>;tag=b1\r\n\
Call-ID: c31\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n";
    let out = l.feed(ALICE, ack.as_bytes());
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].dst, addr(BOB_NAT));
    assert!(first_line(&out[0]).starts_with("ACK sip:bob@10.0.0.5:5060 "));
}

#[test]
fn a_cancel_after_the_2xx_gets_its_200_and_changes_nothing() {
    let mut l = lab();
    let fwd = call(&mut l, "c32");
    l.feed(BOB_NAT, &answer(&fwd, "200 OK", "b1", true));
    let out = l.feed(ALICE, &cancel("c32"));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(first_line(&out[0]), "SIP/2.0 200 ok -- no more pending branches");
    assert_eq!(out[0].dst, addr(ALICE));
    assert_eq!(l.e.dialogs().counters().active_dialogs, 1, "the call stands");
}

#[test]
fn a_retransmitted_2xx_is_relayed_without_its_transaction() {
    let mut l = lab();
    let fwd = call(&mut l, "c10");
    let ok = answer(&fwd, "200 OK", "b1", true);
    assert_eq!(l.feed(BOB_NAT, &ok).len(), 1);
    let again = l.feed(BOB_NAT, &ok);
    assert_eq!(again.len(), 1);
    assert_eq!(first_line(&again[0]), "SIP/2.0 200 OK");
    assert_eq!(again[0].dst, addr(ALICE));
}

#[test]
fn the_aor_owner_looks_up_and_the_call_id_owner_relays() {
    let sharder = Sharder::new(42, 2);
    let aor = crate::registrar::Aor(b"bob@192.0.2.1".to_vec().into_boxed_slice());
    let aor_owner = sharder.by_aor(&aor);
    // A Call-ID owned by the other shard.
    let call_id = (0..100).map(|i| format!("x{i}")).find(|c| sharder.by_call_id(c.as_bytes()) != aor_owner).unwrap();
    let mut a = lab_with(2, aor_owner.0, &[]);
    a.register_bob();
    let d = Datagram { local: ListenerId(0), src: addr(ALICE), bytes: &invite(&call_id, "z9hG4bKz") };
    let Disposition::HandOffLocated(owner, located) = a.e.handle_datagram(a.now, d) else {
        panic!("expected a located hand-off")
    };
    assert_ne!(owner, aor_owner);
    assert_eq!(located.targets.len(), 1);
    let mut b = lab_with(2, owner.0, &[]);
    let inv = invite(&call_id, "z9hG4bKz");
    let d = Datagram { local: ListenerId(0), src: addr(ALICE), bytes: &inv };
    assert_eq!(b.e.handle_handoff(b.now, d, Some(located)), Disposition::Done);
    let out = b.drain();
    assert_eq!(out.len(), 2);
    assert_eq!(out[1].dst, addr(BOB_NAT));
}

/// With the shards' versions shared, the Call-ID owner keeps the AOR
/// owner's answer: the next call to the same user crosses no shard, until
/// the user registers again or a binding expires.
#[test]
fn the_call_id_owner_reuses_a_lookup_until_the_aor_changes_or_expires() {
    let sharder = Sharder::new(42, 2);
    let aor = crate::registrar::Aor(b"bob@192.0.2.1".to_vec().into_boxed_slice());
    let aor_owner = sharder.by_aor(&aor);
    let other = ShardId(1 - aor_owner.0);
    let mut ids = (0..1000).map(|i| format!("y{i}")).filter(|c| sharder.by_call_id(c.as_bytes()) == other);
    let versions = crate::registrar::Versions::new(2);
    let mut a = lab_with(2, aor_owner.0, &[]);
    let mut b = lab_with(2, other.0, &[]);
    a.e.share_versions(versions.clone());
    b.e.share_versions(versions.clone());
    a.register_bob();
    // Through the AOR's owner, once: b hands off, a looks up, b relays.
    let first = ids.next().unwrap();
    let inv = invite(&first, "z9hG4bKc");
    let d = Datagram { local: ListenerId(0), src: addr(ALICE), bytes: &inv };
    assert_eq!(b.e.handle_datagram(b.now, d), Disposition::HandOff(aor_owner));
    let d = Datagram { local: ListenerId(0), src: addr(ALICE), bytes: &inv };
    let Disposition::HandOffLocated(to, located) = a.e.handle_handoff(a.now, d, None) else { panic!("located") };
    assert_eq!(to, other);
    let d = Datagram { local: ListenerId(0), src: addr(ALICE), bytes: &inv };
    assert_eq!(b.e.handle_handoff(b.now, d, Some(located)), Disposition::Done);
    assert!(b.drain().iter().any(|t| t.dst == addr(BOB_NAT)));
    // The next call to Bob: relayed from b's own copy of the answer.
    let second = invite(&ids.next().unwrap(), "z9hG4bKd");
    let out = b.feed(ALICE, &second);
    assert!(out.iter().any(|t| t.dst == addr(BOB_NAT)), "{out:?}");
    // Bob refreshes his registration: b's copy is stale, the owner is asked.
    a.register_bob_cseq(2);
    let third = invite(&ids.next().unwrap(), "z9hG4bKe");
    let d = Datagram { local: ListenerId(0), src: addr(ALICE), bytes: &third };
    assert_eq!(b.e.handle_datagram(b.now, d), Disposition::HandOff(aor_owner));
    let d = Datagram { local: ListenerId(0), src: addr(ALICE), bytes: &third };
    let Disposition::HandOffLocated(_, located) = a.e.handle_handoff(a.now, d, None) else { panic!("located") };
    let d = Datagram { local: ListenerId(0), src: addr(ALICE), bytes: &third };
    assert_eq!(b.e.handle_handoff(b.now, d, Some(located)), Disposition::Done);
    b.drain();
    // An hour later Bob's binding has expired: the copy is not used.
    b.now += Duration::from_secs(3_601);
    let fourth = invite(&ids.next().unwrap(), "z9hG4bKf");
    let d = Datagram { local: ListenerId(0), src: addr(ALICE), bytes: &fourth };
    assert_eq!(b.e.handle_datagram(b.now, d), Disposition::HandOff(aor_owner));
}

#[test]
fn natted_caller_gets_contact_alias_and_nat_record_route() {
    let mut l = lab();
    let inv = String::from_utf8(invite("c11", "z9hG4bKn"))
        .unwrap()
        .replace("Via: SIP/2.0/UDP 203.0.113.7:5060", "Via: SIP/2.0/UDP 10.1.1.1:5060")
        .replace("Contact: <sip:alice@203.0.113.7:5060>", "Contact: <sip:alice@10.1.1.1:5060>");
    let out = l.feed("198.51.100.9:30000", inv.as_bytes());
    let m = Message::parse(&out[1].payload).unwrap();
    assert_eq!(m.header(HeaderName::Contact).unwrap().value, b"<sip:alice@10.1.1.1:5060;alias=198.51.100.9~30000~1>");
    assert!(m.header(HeaderName::RecordRoute).unwrap().value.ends_with(b";nat=yes>"));
}

#[test]
fn a_natted_callees_reply_through_another_proxy_keeps_its_contact() {
    let mut l = lab();
    let fwd = call(&mut l, "c33");
    // A proxy between us and Bob record-routed after us: its entry is on top.
    let ok = String::from_utf8(answer(&fwd, "200 OK", "b1", true)).unwrap().replacen(
        "\r\n",
        "\r\nRecord-Route: <sip:198.51.100.9;lr>\r\n",
        1,
    );
    let out = l.feed(BOB_NAT, ok.as_bytes());
    let m = Message::parse(&out[0].payload).unwrap();
    assert_eq!(m.header(HeaderName::Contact).unwrap().value, b"<sip:bob@10.0.0.5:5060>", "not the first hop");
}

/// Answers the call `c` and ACKs it; returns nothing left to send.
fn answered(l: &mut Lab, c: &str) {
    let fwd = call(l, c);
    l.feed(BOB_NAT, &answer(&fwd, "200 OK", "b1", true));
    let ack = format!(
        "ACK sip:bob@10.0.0.5:5060;alias=198.51.100.2~40000~1 SIP/2.0\r\n\
Via: SIP/2.0/UDP 203.0.113.7:5060;branch=z9hG4bKack\r\nRoute: <sip:192.0.2.1:5060;lr;nat=yes>\r\n\
Max-Forwards: 70\r\nFrom: <sip:alice@203.0.113.7>;tag=a1\r\nTo: <sip:bob@192.0.2.1>;tag=b1\r\n\
Call-ID: {c}\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"
    );
    l.feed(ALICE, ack.as_bytes());
}

/// The handle of a dialog as `dlg.list` shows it.
fn handle_of(entry: &serde_json::Value) -> crate::dialog::DialogHandle {
    crate::dialog::DialogHandle {
        h_entry: entry["h_entry"].as_u64().unwrap() as u32,
        h_id: entry["h_id"].as_u64().unwrap() as u32,
    }
}

#[test]
fn dlg_rpc_lists_counts_and_ends_a_call_with_two_byes() {
    use crate::control::dlg::{DlgOp, DlgReply};
    let mut l = lab();
    answered(&mut l, "c12");
    let DlgReply::Stats(s) = l.e.dialog_rpc(DlgOp::StatsActive, l.now) else { panic!() };
    assert_eq!(s.ongoing, 1);
    let DlgReply::List(list) = l.e.dialog_rpc(DlgOp::List, l.now) else { panic!() };
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["state"], 4);
    assert_eq!(list[0]["call-id"], "c12");
    // dlg.dlg_list: the same dialog by Call-ID (and the caller's tag).
    let by_call = |l: &mut Lab, call_id: &str, tag: Option<&str>| {
        let op = DlgOp::ListCall { call_id: call_id.into(), from_tag: tag.map(Into::into) };
        let DlgReply::List(found) = l.e.dialog_rpc(op, l.now) else { panic!() };
        found
    };
    assert_eq!(by_call(&mut l, "c12", None), list);
    assert_eq!(by_call(&mut l, "c12", Some("a1")), list);
    assert!(by_call(&mut l, "c12", Some("zz")).is_empty());
    assert!(by_call(&mut l, "c13", None).is_empty());
    let handle = handle_of(&list[0]);
    let end = DlgOp::End { handle, extra: "X-Reason: admin\r\n".into() };
    assert!(matches!(l.e.dialog_rpc(end, l.now), DlgReply::Ended));
    let byes = l.drain();
    assert_eq!(byes.len(), 2, "{byes:?}");
    let to_alice = byes.iter().find(|t| t.dst == addr(ALICE)).expect("a BYE to the caller");
    let to_bob = byes.iter().find(|t| t.dst == addr(BOB_NAT)).expect("a BYE to the callee, through its alias");
    assert!(first_line(to_alice).starts_with("BYE sip:alice@203.0.113.7:5060"));
    assert_eq!(first_line(to_bob), "BYE sip:bob@10.0.0.5:5060 SIP/2.0", "alias removed from the R-URI");
    assert!(text(to_bob).contains("X-Reason: admin\r\n"));
    assert_eq!(l.e.dialogs().counters().active_dialogs, 0);
    // The BYEs are retransmitted until answered.
    let again = l.advance(Duration::from_millis(600));
    assert_eq!(again.iter().filter(|t| first_line(t).starts_with("BYE ")).count(), 2);
    let unknown = crate::dialog::DialogHandle { h_entry: 1, h_id: 999 };
    let end = DlgOp::End { handle: unknown, extra: String::new() };
    assert!(matches!(l.e.dialog_rpc(end, l.now), DlgReply::Failed(_)));
}

#[test]
fn a_confirmed_dialog_times_out_with_byes_when_send_bye_is_on() {
    let mut l = lab_with(1, 0, &["dialog.default_timeout=10", "dialog.send_bye=true"]);
    l.register_bob();
    answered(&mut l, "c13");
    assert_eq!(l.e.dialogs().counters().active_dialogs, 1);
    // Before T1 passes again: each BYE once, not yet retransmitted.
    let out = l.advance(Duration::from_millis(10_300));
    let byes: Vec<String> = out.iter().map(first_line).filter(|s| s.starts_with("BYE ")).collect();
    assert_eq!(byes.len(), 2, "{byes:?}");
    assert_eq!(l.e.dialogs().counters().expired_dialogs, 1);
}

const BOB2: &str = "198.51.100.3:41000";

impl Lab {
    /// A second phone of Bob's, public, registered from BOB2.
    fn register_bob_desk(&mut self) {
        let reg = "REGISTER sip:192.0.2.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP 198.51.100.3:41000;branch=z9hG4bKreg2;rport\r\n\
Max-Forwards: 70\r\nFrom: <sip:bob@192.0.2.1>;tag=r2\r\nTo: <sip:bob@192.0.2.1>\r\n\
Call-ID: reg-bob-desk\r\nCSeq: 1 REGISTER\r\nContact: <sip:bob@198.51.100.3:41000>\r\nExpires: 3600\r\n\
Content-Length: 0\r\n\r\n";
        let out = self.feed(BOB2, reg.as_bytes());
        assert_eq!(first_line(&out[0]), "SIP/2.0 200 OK");
    }
}

/// An INVITE forked to both of Bob's phones: (to the NATed one, to the desk one).
fn forked_call(l: &mut Lab, call_id: &str) -> (Transmit, Transmit) {
    let out = l.feed(ALICE, &invite(call_id, "z9hG4bKf1"));
    assert_eq!(out.len(), 3, "100 and two branches: {out:?}");
    let mut out = out;
    let mut take = |a: &str| {
        let i = out.iter().position(|t| t.dst == addr(a)).unwrap();
        out.swap_remove(i)
    };
    let nat = take(BOB_NAT);
    (nat, take(BOB2))
}

#[test]
fn the_callers_via_carries_received_and_rport() {
    let mut l = lab();
    let fwd = call(&mut l, "c14");
    let m = Message::parse(&fwd.payload).unwrap();
    let vias: Vec<_> = m.vias().map(|v| v.unwrap()).collect();
    assert_eq!(vias[1].received(), Some(&b"203.0.113.7"[..]));
    assert_eq!(vias[1].rport(), Some(Some(&b"5060"[..])));
}

#[test]
fn a_6xx_cancels_the_other_branches_and_wins() {
    let mut l = lab();
    l.register_bob_desk();
    let (nat, desk) = forked_call(&mut l, "c15");
    l.feed(BOB_NAT, &answer(&nat, "180 Ringing", "b1", true));
    l.feed(BOB2, &answer(&desk, "180 Ringing", "b2", true));
    let out = l.feed(BOB_NAT, &answer(&nat, "603 Decline", "b1", false));
    let cancel = out.iter().find(|t| first_line(t).starts_with("CANCEL ")).expect("the desk phone is cancelled");
    assert_eq!(cancel.dst, addr(BOB2));
    assert!(out.iter().all(|t| t.dst != addr(ALICE)), "the 603 waits for the other branch");
    let out = l.feed(BOB2, &answer(&desk, "487 Request Terminated", "b2", false));
    let up = out.iter().find(|t| t.dst == addr(ALICE)).unwrap();
    assert_eq!(first_line(up), "SIP/2.0 603 Decline");
}

#[test]
fn a_2xx_after_the_final_still_goes_upstream() {
    let (mut l, fwd, out) = ring_out("c16");
    assert!(out.iter().any(|t| first_line(t) == "SIP/2.0 408 Request Timeout"));
    // Bob picked up as the CANCEL was on its way.
    let out = l.feed(BOB_NAT, &answer(&fwd, "200 OK", "b1", true));
    let up = out.iter().find(|t| t.dst == addr(ALICE)).expect("the 200 is relayed");
    assert_eq!(first_line(up), "SIP/2.0 200 OK");
}

#[test]
fn a_503_goes_upstream_as_500() {
    let mut l = lab();
    let fwd = call(&mut l, "c17");
    let out = l.feed(BOB_NAT, &answer(&fwd, "503 Service Unavailable", "b1", false));
    let up = out.iter().find(|t| t.dst == addr(ALICE)).unwrap();
    assert_eq!(first_line(up), "SIP/2.0 500 Service Unavailable");
}

/// Two listen addresses: Bob registers on the second, Alice calls on the
/// first, Bob answers. The lab, and what answering sent (the 200 to Alice).
fn two_listener_call(call_id: &str, bob_tag: &str) -> (Lab, Vec<Transmit>) {
    let sets = ["core.listen=[\"udp:192.0.2.1:5060\", \"udp:198.51.100.1:5060\"]"];
    let mut l = lab_with(1, 0, &sets);
    let reg = "REGISTER sip:198.51.100.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKreg2;rport\r\n\
Max-Forwards: 70\r\nFrom: <sip:bob@192.0.2.1>;tag=r1\r\nTo: <sip:bob@192.0.2.1>\r\n\
Call-ID: reg-bob2\r\nCSeq: 1 REGISTER\r\nContact: <sip:bob@10.0.0.5:5060>\r\nExpires: 3600\r\n\
Content-Length: 0\r\n\r\n";
    let out = l.feed_on(ListenerId(1), BOB_NAT, reg.as_bytes());
    assert_eq!(first_line(&out[0]), "SIP/2.0 200 OK");
    let out = l.feed(ALICE, &invite(call_id, "z9hG4bKa2"));
    let fwd = out.into_iter().find(|t| t.dst == addr(BOB_NAT)).expect("the INVITE to Bob");
    assert_eq!(fwd.local, ListenerId(1), "towards Bob from his socket");
    let out = l.feed_on(ListenerId(1), BOB_NAT, &answer(&fwd, "200 OK", bob_tag, true));
    (l, out)
}

/// Kamailio keeps a `bind_addr` per leg: with two listen addresses, the
/// BYEs of `dlg.end_dlg` leave from the socket each side is reached from,
/// with that socket's address in their Via.
#[test]
fn each_bye_leaves_from_its_sides_socket() {
    use crate::control::dlg::{DlgOp, DlgReply};
    let (mut l, _) = two_listener_call("c2l", "b2");
    let DlgReply::List(list) = l.e.dialog_rpc(DlgOp::List, l.now) else { panic!() };
    // dlg.list names them as Kamailio's caller/callee `socket`.
    assert_eq!(list[0]["caller"]["socket"], "udp:192.0.2.1:5060");
    assert_eq!(list[0]["callee"]["socket"], "udp:198.51.100.1:5060");
    let handle = handle_of(&list[0]);
    let end = DlgOp::End { handle, extra: String::new() };
    assert!(matches!(l.e.dialog_rpc(end, l.now), DlgReply::Ended));
    let byes = l.drain();
    let to_alice = byes.iter().find(|t| t.dst == addr(ALICE)).expect("a BYE to the caller");
    let to_bob = byes.iter().find(|t| t.dst == addr(BOB_NAT)).expect("a BYE to the callee");
    assert_eq!((to_alice.local, to_bob.local), (ListenerId(0), ListenerId(1)));
    assert!(text(to_alice).contains("Via: SIP/2.0/UDP 192.0.2.1:5060;"), "{}", text(to_alice));
    assert!(text(to_bob).contains("Via: SIP/2.0/UDP 198.51.100.1:5060;"), "{}", text(to_bob));
}

/// Double Record-Route (two listeners): an in-dialog request leaves from
/// the listener its second Route of ours names, with that address in its
/// Via, not from the one it arrived on.
#[test]
fn with_double_record_route_in_dialog_requests_cross_to_the_other_listener() {
    let (mut l, out) = two_listener_call("c2r", "b3");
    let ok = Message::parse(&out[0].payload).unwrap();
    let rr: Vec<String> = ok.values(HeaderName::RecordRoute).map(|v| String::from_utf8_lossy(v).into_owned()).collect();
    assert_eq!(rr.len(), 2, "double Record-Route: {rr:?}");
    // Alice's route set is the Record-Route reversed (RFC 3261 §12.1.2).
    let target = String::from_utf8_lossy(ok.first_contact().unwrap().0).trim_matches(['<', '>']).to_owned();
    let bye = format!(
        "BYE {target} SIP/2.0\r\nVia: SIP/2.0/UDP 203.0.113.7:5060;branch=z9hG4bKbye3\r\n\
Route: {}\r\nRoute: {}\r\nMax-Forwards: 70\r\nFrom: <sip:alice@203.0.113.7>;tag=a1\r\n\
To: <sip:bob@192.0.2.1>;tag=b3\r\nCall-ID: c2r\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n",
        rr[1], rr[0]
    );
    let out = l.feed(ALICE, bye.as_bytes());
    let to_bob = out.iter().find(|t| t.dst == addr(BOB_NAT)).expect("the BYE to Bob");
    assert_eq!(to_bob.local, ListenerId(1), "out through Bob's side");
    assert!(text(to_bob).contains("Via: SIP/2.0/UDP 198.51.100.1:5060;"), "{}", text(to_bob));
    assert!(!text(to_bob).contains("Route:"), "both of our Routes removed: {}", text(to_bob));
}
