//! Scenario tests on virtual time: messages are built as bytes, parsed
//! with `Message::parse` and fed to one shard's table.

mod bye;
mod calls;
mod rpc;
mod timers;

use super::{DialogConfig, Dialogs, Event, Expired};
use crate::ids::ShardId;
use crate::proxy::myself::Myself;
use crate::registrar::UnixMillis;
use crate::sip::Message;
use std::time::{Duration, Instant};

/// Unix time at `t0`: 2026-01-01T00:00:00Z.
const WALL: UnixMillis = UnixMillis(1_767_225_600_000);
pub(super) const WALL_SECS: u64 = 1_767_225_600;
pub(super) const CALL: &str = "a84b4c76e66710@pc33.example.com";

/// The proxy is 192.0.2.1:5060; P1 is upstream (caller side), P3
/// downstream (callee side).
pub(super) fn config() -> DialogConfig {
    let mut myself = Myself::default();
    myself.add("192.0.2.1", Some(5060));
    DialogConfig { myself, ..DialogConfig::default() }
}

pub(super) struct Harness {
    pub t0: Instant,
    pub dlg: Dialogs,
}

impl Harness {
    pub fn new() -> Harness {
        Harness::with(config())
    }

    pub fn with(cfg: DialogConfig) -> Harness {
        let t0 = Instant::now();
        Harness { t0, dlg: Dialogs::new(cfg, t0, WALL, ShardId(0), 1) }
    }

    pub fn at(&self, secs: f64) -> Instant {
        self.t0 + Duration::from_secs_f64(secs)
    }

    pub fn req(&mut self, secs: f64, bytes: &str) -> Event {
        let now = self.at(secs);
        self.dlg.on_request(&Message::parse(bytes.as_bytes()).expect("fixture parses"), now).expect("tracked")
    }

    pub fn rep(&mut self, secs: f64, bytes: &str) -> Event {
        let now = self.at(secs);
        self.dlg.on_reply(&Message::parse(bytes.as_bytes()).expect("fixture parses"), now).expect("tracked")
    }

    pub fn tick(&mut self, secs: f64) -> Vec<Expired> {
        let now = self.at(secs);
        self.dlg.handle_timeout(now)
    }
}

/// The initial INVITE from Alice (tag `atag`), through P1.
pub(super) fn invite(call_id: &str, cseq: u32) -> String {
    format!(
        "INVITE sip:bob@192.0.2.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP p1.example.net;branch=z9hG4bKp1{cseq}\r\n\
Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKa{cseq}\r\n\
Max-Forwards: 69\r\n\
Record-Route: <sip:p1.example.net;lr>\r\n\
From: \"Alice\" <sip:alice@example.com>;tag=atag\r\n\
To: Bob <sip:bob@example.com>\r\n\
Call-ID: {call_id}\r\n\
CSeq: {cseq} INVITE\r\n\
Contact: <sip:alice@198.51.100.7:5060;ob>\r\n\
Content-Length: 0\r\n\r\n"
    )
}

/// A reply to a request Alice sent (From `atag`), from Bob's side: through
/// P3, this proxy (with `nat=yes`) and P1.
pub(super) fn reply(code: u16, call_id: &str, to_tag: Option<&str>, cseq: u32, method: &str) -> String {
    let to_tag = to_tag.map(|t| format!(";tag={t}")).unwrap_or_default();
    format!(
        "SIP/2.0 {code} Whatever\r\n\
Via: SIP/2.0/UDP p1.example.net;branch=z9hG4bKp1{cseq}\r\n\
Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKa{cseq}\r\n\
Record-Route: <sip:p3.example.net;lr>, <sip:192.0.2.1;lr;nat=yes>\r\n\
Record-Route: <sip:p1.example.net;lr>\r\n\
From: \"Alice\" <sip:alice@example.com>;tag=atag\r\n\
To: Bob <sip:bob@example.com>{to_tag}\r\n\
Call-ID: {call_id}\r\n\
CSeq: {cseq} {method}\r\n\
Contact: <sip:bob@203.0.113.9:5062>\r\n\
Content-Length: 0\r\n\r\n"
    )
}

/// An in-dialog request. `from_caller` picks the orientation of From/To
/// (RFC 3261 §12.2.1.1); `callee_tag` is Bob's tag.
pub(super) fn in_dialog(method: &str, from_caller: bool, callee_tag: &str, cseq: u32, contact: Option<&str>) -> String {
    let (from, to) = if from_caller {
        ("<sip:alice@example.com>;tag=atag".to_string(), format!("<sip:bob@example.com>;tag={callee_tag}"))
    } else {
        (format!("<sip:bob@example.com>;tag={callee_tag}"), "<sip:alice@example.com>;tag=atag".to_string())
    };
    let contact = contact.map(|c| format!("Contact: <{c}>\r\n")).unwrap_or_default();
    format!(
        "{method} sip:peer@192.0.2.50 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.50;branch=z9hG4bKx{cseq}{method}\r\n\
Max-Forwards: 70\r\n\
Route: <sip:192.0.2.1;lr;nat=yes>\r\n\
From: {from}\r\n\
To: {to}\r\n\
Call-ID: {CALL}\r\n\
CSeq: {cseq} {method}\r\n\
{contact}Content-Length: 0\r\n\r\n"
    )
}
