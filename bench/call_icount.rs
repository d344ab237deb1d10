//! Instruction-count bench for whole calls through the stateful path, the
//! flow of loadtest/compare-calls.sh: a registered callee, a caller, and
//! per call INVITE / 100 / 180 / 200 / ACK / BYE / 200 with the ACK and BYE
//! following the Record-Route, on virtual time advancing 2 ms a call
//! (500 calls/s). Timers due within the run fire as under that load (a
//! BYE's Timer K after 5 s); bench/icount.sh's runs of 1,000 and 3,000
//! calls span 2 and 6 s, so 32 s timers (Timer J) never fire in either.
//!
//! The UAs' messages are built in the loop, so bench/icount.sh counts only
//! the engine's entry points (callgrind `--toggle-collect`), and takes the
//! difference of two runs to remove one-time costs.
//! Usage: call_icount CALLS  (no argument: one call, as a smoke test)

use sipedge::config::Config;
use sipedge::engine::{Datagram, Engine, Transmit};
use sipedge::ids::ListenerId;
use sipedge::sip::{HeaderName, Message};
use std::hint::black_box;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const PROXY: &str = "127.0.0.1:5070";
const CALLER: &str = "127.0.0.1:5071";
const CALLEE: &str = "127.0.0.1:5072";
const SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

fn main() {
    let calls: u64 = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .map_or(1, |s| s.parse().expect("usage: call_icount CALLS"));
    let mut b = Bench::new();
    b.register();
    for i in 0..calls {
        b.call(i);
    }
}

struct Bench {
    e: Engine,
    now: Instant,
    caller: SocketAddr,
    callee: SocketAddr,
}

impl Bench {
    fn new() -> Bench {
        let cfg = Config::load(None, &[format!("udp:{PROXY}")], &["usrloc.db_mode=0".into()]).expect("config");
        let now = Instant::now();
        let e = Engine::standalone(now, &cfg);
        Bench { e, now, caller: addr(CALLER), callee: addr(CALLEE) }
    }

    fn register(&mut self) {
        let reg = format!(
            "REGISTER sip:{PROXY} SIP/2.0\r\nVia: SIP/2.0/UDP {CALLEE};branch=z9hG4bKreg;rport\r\n\
Max-Forwards: 70\r\nFrom: <sip:callee1@{PROXY}>;tag=r1\r\nTo: <sip:callee1@{PROXY}>\r\n\
Call-ID: reg-callee1\r\nCSeq: 1 REGISTER\r\nContact: <sip:callee1@{CALLEE}>\r\nExpires: 3600\r\n\
Content-Length: 0\r\n\r\n"
        );
        let out = self.feed(self.callee, reg.as_bytes());
        assert!(out[0].payload.starts_with(b"SIP/2.0 200"), "callee registered");
    }

    fn call(&mut self, i: u64) {
        self.now += Duration::from_millis(2);
        self.timers();
        let tag = format!("{i}SIPpTag00{i}");
        let from = format!("From: <sip:caller{i}@{CALLER}>;tag={tag}\r\n");
        let invite = format!(
            "INVITE sip:callee1@{PROXY} SIP/2.0\r\nVia: SIP/2.0/UDP {CALLER};branch=z9hG4bK-{i}-1;rport\r\n\
Max-Forwards: 70\r\n{from}To: <sip:callee1@{PROXY}>\r\nCall-ID: {i}-call@127.0.0.1\r\nCSeq: 1 INVITE\r\n\
Contact: <sip:caller{i}@{CALLER}>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{SDP}",
            SDP.len()
        );
        let out = self.feed(self.caller, invite.as_bytes());
        let fwd = out.iter().find(|t| t.dst == self.callee).expect("INVITE forwarded");
        let ringing = answer(&fwd.payload, "180 Ringing", "");
        let ok = answer(&fwd.payload, "200 OK", SDP);
        self.feed(self.callee, &ringing);
        let out = self.feed(self.callee, &ok);
        let ok = out.iter().find(|t| t.dst == self.caller).expect("200 relayed");
        let (routes, to) = route_set(&ok.payload);
        let in_dialog = |method: &str, cseq: u32, branch: u32| {
            format!(
                "{method} sip:{CALLEE} SIP/2.0\r\nVia: SIP/2.0/UDP {CALLER};branch=z9hG4bK-{i}-{branch};rport\r\n\
Max-Forwards: 70\r\n{from}{routes}{to}Call-ID: {i}-call@127.0.0.1\r\nCSeq: {cseq} {method}\r\n\
Contact: <sip:caller{i}@{CALLER}>\r\nContent-Length: 0\r\n\r\n"
            )
        };
        let out = self.feed(self.caller, in_dialog("ACK", 1, 2).as_bytes());
        assert!(out.iter().any(|t| t.dst == self.callee), "ACK relayed");
        let out = self.feed(self.caller, in_dialog("BYE", 2, 3).as_bytes());
        let bye = out.iter().find(|t| t.dst == self.callee).expect("BYE relayed");
        let bye_ok = answer(&bye.payload, "200 OK", "");
        let out = self.feed(self.callee, &bye_ok);
        assert!(out.iter().any(|t| t.dst == self.caller), "200 for BYE relayed");
    }

    /// What the engine sent in answer to `bytes`; the buffers go back to
    /// the engine, as the runtime gives them back once sent.
    fn feed(&mut self, src: SocketAddr, bytes: &[u8]) -> Vec<Transmit> {
        let out = handle(&mut self.e, self.now, src, bytes);
        let copies = out.iter().map(|t| Transmit { local: t.local, dst: t.dst, payload: t.payload.clone() }).collect();
        recycle(&mut self.e, out);
        copies
    }

    fn timers(&mut self) {
        if self.e.poll_timeout().is_some_and(|t| t <= self.now) {
            timeout(&mut self.e, self.now);
        }
    }
}

/// The engine's entry points, kept out of line so callgrind can count
/// them alone.
#[inline(never)]
fn handle(e: &mut Engine, now: Instant, src: SocketAddr, bytes: &[u8]) -> Vec<Transmit> {
    e.handle_datagram(now, Datagram { local: ListenerId(0), src, bytes: black_box(bytes) });
    std::iter::from_fn(|| e.poll_transmit()).collect()
}

#[inline(never)]
fn recycle(e: &mut Engine, out: Vec<Transmit>) {
    out.into_iter().for_each(|t| e.recycle(t.payload));
}

#[inline(never)]
fn timeout(e: &mut Engine, now: Instant) {
    e.handle_timeout(now);
    while let Some(t) = e.poll_transmit() {
        e.recycle(t.payload);
    }
}

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("address")
}

/// The callee's response to `request`, as uas-answer.xml builds it.
fn answer(request: &[u8], status: &str, body: &str) -> Vec<u8> {
    let m = Message::parse(request).expect("forwarded request parses");
    let mut out = format!("SIP/2.0 {status}\r\n").into_bytes();
    for h in m.headers() {
        match h.name {
            HeaderName::Via | HeaderName::RecordRoute | HeaderName::From | HeaderName::CallId | HeaderName::CSeq => {
                out.extend_from_slice(h.line);
            }
            HeaderName::To if m.to().is_ok_and(|t| t.tag().is_none()) => {
                out.extend_from_slice(b"To: ");
                out.extend_from_slice(h.value);
                out.extend_from_slice(b";tag=callee-tag\r\n");
            }
            HeaderName::To => out.extend_from_slice(h.line),
            _ => {}
        }
    }
    if !body.is_empty() {
        out.extend_from_slice(format!("Contact: <sip:{CALLEE}>\r\nContent-Type: application/sdp\r\n").as_bytes());
    } else if status.starts_with("180") {
        out.extend_from_slice(format!("Contact: <sip:{CALLEE}>\r\n").as_bytes());
    }
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes());
    out
}

/// The caller's Route lines (the 200's Record-Route, in order, RFC 3261
/// §12.1.2) and its To line with the callee's tag.
fn route_set(ok: &[u8]) -> (String, String) {
    let m = Message::parse(ok).expect("relayed 200 parses");
    let mut routes = String::new();
    let mut to = String::new();
    for h in m.headers() {
        match h.name {
            HeaderName::RecordRoute => {
                routes.push_str("Route: ");
                routes.push_str(&String::from_utf8_lossy(h.value));
                routes.push_str("\r\n");
            }
            HeaderName::To => to = String::from_utf8_lossy(h.line).into_owned(),
            _ => {}
        }
    }
    (routes, to)
}
