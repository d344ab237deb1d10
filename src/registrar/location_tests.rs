//! LocationShard: ordering, expiry, removal, counters and the change log,
//! in virtual time.

use super::binding::{Aor, Binding, BindingFlags, UnixMillis};
use super::location::{Change, ContactOrder, Counters, LocationShard};
use crate::sip::transport::Transport;

pub(super) fn binding(contact: &str, q: Option<u16>, expires: u64, updated: u64) -> Binding {
    Binding {
        contact: contact.as_bytes().into(),
        received: None,
        source: "203.0.113.7:40112".parse().unwrap(),
        transport: Transport::Udp,
        local: "198.51.100.1:5060".parse().unwrap(),
        path: None,
        q,
        call_id: b"call-1".as_slice().into(),
        cseq: 1,
        user_agent: None,
        flags: BindingFlags::default(),
        expires: UnixMillis(expires),
        last_keepalive: UnixMillis(updated),
        updated: UnixMillis(updated),
        instance: None,
        reg_id: None,
    }
}

fn aor(s: &str) -> Aor {
    Aor(s.as_bytes().into())
}

fn contacts(loc: &LocationShard, a: &str, now: u64) -> Vec<String> {
    loc.lookup(a.as_bytes(), UnixMillis(now)).map(|b| String::from_utf8_lossy(&b.contact).into_owned()).collect()
}

#[test]
fn q_order_with_unspecified_last_and_ties_in_arrival_order() {
    let mut loc = LocationShard::new(ContactOrder::ByQ, false);
    let a = "alice@example.com";
    loc.insert_raw(aor(a), binding("sip:none@h", None, 10_000, 1));
    loc.insert_raw(aor(a), binding("sip:half1@h", Some(500), 10_000, 2));
    loc.insert_raw(aor(a), binding("sip:zero@h", Some(0), 10_000, 3));
    loc.insert_raw(aor(a), binding("sip:one@h", Some(1000), 10_000, 4));
    loc.insert_raw(aor(a), binding("sip:half2@h", Some(500), 10_000, 5));
    assert_eq!(contacts(&loc, a, 0), ["sip:one@h", "sip:half1@h", "sip:half2@h", "sip:zero@h", "sip:none@h"]);
    // A refresh with the same q keeps its place (usrloc update_contact_pos).
    loc.insert_raw(aor(a), binding("sip:half1@h", Some(500), 20_000, 6));
    assert_eq!(contacts(&loc, a, 0)[1], "sip:half1@h");
    // A new q moves it.
    loc.insert_raw(aor(a), binding("sip:none@h", Some(700), 20_000, 7));
    assert_eq!(contacts(&loc, a, 0), ["sip:one@h", "sip:none@h", "sip:half1@h", "sip:half2@h", "sip:zero@h"]);
    assert_eq!(loc.counters().contacts, 5);
}

#[test]
fn newest_first_order() {
    let mut loc = LocationShard::new(ContactOrder::NewestFirst, false);
    let a = "alice@example.com";
    loc.insert_raw(aor(a), binding("sip:1@h", Some(1000), 10_000, 1));
    loc.insert_raw(aor(a), binding("sip:2@h", Some(100), 10_000, 2));
    loc.insert_raw(aor(a), binding("sip:3@h", None, 10_000, 3));
    assert_eq!(contacts(&loc, a, 0), ["sip:3@h", "sip:2@h", "sip:1@h"]);
    loc.insert_raw(aor(a), binding("sip:1@h", Some(1000), 20_000, 4));
    assert_eq!(contacts(&loc, a, 0), ["sip:1@h", "sip:3@h", "sip:2@h"]);
}

#[test]
fn expiry_removes_due_bindings_and_counts_them() {
    let mut loc = LocationShard::new(ContactOrder::ByQ, true);
    loc.insert_raw(aor("a@x"), binding("sip:a1@h", None, 5_000, 0));
    loc.insert_raw(aor("a@x"), binding("sip:a2@h", None, 9_000, 0));
    loc.insert_raw(aor("b@x"), binding("sip:b1@h", None, 5_000, 0));
    loc.drain_changes(&mut Vec::new());
    assert_eq!(loc.next_expiry(), Some(UnixMillis(5_000)));
    assert!(loc.expire(UnixMillis(4_999)).is_empty());
    // Valid means expires > now: at exactly 5 000 ms both are gone.
    assert_eq!(contacts(&loc, "a@x", 4_999).len(), 2);
    assert_eq!(contacts(&loc, "a@x", 5_000), ["sip:a2@h"]);
    let mut gone = loc.expire(UnixMillis(5_000));
    gone.sort_by(|x, y| x.0.cmp(&y.0));
    let gone: Vec<(&[u8], &[u8])> = gone.iter().map(|(a, b)| (a.as_bytes(), &*b.contact)).collect();
    assert_eq!(gone, [(&b"a@x"[..], &b"sip:a1@h"[..]), (b"b@x", b"sip:b1@h")]);
    assert_eq!(loc.counters(), Counters { users: 1, contacts: 1, expired: 2 });
    assert!(loc.record(b"b@x").is_none(), "empty record removed");
    let mut log = Vec::new();
    loc.drain_changes(&mut log);
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|c| matches!(c, Change::Remove { .. })));
    assert_eq!(loc.next_expiry(), Some(UnixMillis(9_000)));
    let mut out = Vec::new();
    assert_eq!(loc.expire_into(UnixMillis(60_000), &mut out), 1);
    assert_eq!(loc.counters(), Counters { users: 0, contacts: 0, expired: 3 });
    assert_eq!(loc.next_expiry(), None);
}

#[test]
fn refresh_moves_the_expiry_entry() {
    let mut loc = LocationShard::new(ContactOrder::ByQ, false);
    loc.insert_raw(aor("a@x"), binding("sip:a@h", None, 5_000, 0));
    loc.insert_raw(aor("a@x"), binding("sip:a@h", None, 8_000, 1));
    assert_eq!(loc.next_expiry(), Some(UnixMillis(8_000)));
    assert!(loc.expire(UnixMillis(6_000)).is_empty());
    assert_eq!(loc.expire(UnixMillis(8_000)).len(), 1);
    // Two bindings of one AOR due the same millisecond.
    loc.insert_raw(aor("a@x"), binding("sip:1@h", None, 9_000, 0));
    loc.insert_raw(aor("a@x"), binding("sip:2@h", None, 9_000, 0));
    assert_eq!(loc.expire(UnixMillis(9_000)).len(), 2);
    assert_eq!(loc.counters().contacts, 0);
}

#[test]
fn removal_and_change_log() {
    let mut loc = LocationShard::new(ContactOrder::ByQ, true);
    let a = aor("a@x");
    loc.insert_raw(a.clone(), binding("sip:1@h", None, 9_000, 0));
    loc.insert_raw(a.clone(), binding("sip:2@h", None, 9_000, 0));
    loc.insert_raw(aor("b@x"), binding("sip:3@h", None, 9_000, 0));
    assert_eq!(loc.counters(), Counters { users: 2, contacts: 3, expired: 0 });
    assert_eq!(loc.bindings().count(), 3);
    let removed = loc.remove_contact(b"a@x", b"sip:1@h").unwrap();
    assert_eq!(&*removed.contact, b"sip:1@h");
    assert!(loc.remove_contact(b"a@x", b"sip:1@h").is_none());
    assert_eq!(loc.remove_aor(b"a@x"), 1);
    assert_eq!(loc.remove_aor(b"a@x"), 0);
    assert_eq!(loc.counters(), Counters { users: 1, contacts: 1, expired: 0 });
    let mut log = Vec::new();
    loc.drain_changes(&mut log);
    let expected = vec![
        Change::Upsert { aor: a.clone(), binding: binding("sip:1@h", None, 9_000, 0) },
        Change::Upsert { aor: a.clone(), binding: binding("sip:2@h", None, 9_000, 0) },
        Change::Upsert { aor: aor("b@x"), binding: binding("sip:3@h", None, 9_000, 0) },
        Change::Remove { aor: a.clone(), contact: b"sip:1@h".as_slice().into() },
        Change::RemoveAor { aor: a },
    ];
    assert_eq!(log, expected);
    loc.drain_changes(&mut log);
    assert_eq!(log.len(), 5, "drained once");
    // Only the b@x entry is left in the index.
    assert_eq!(loc.expire(UnixMillis(9_000)).len(), 1);
}

#[test]
fn restore_is_not_logged_and_memory_mode_logs_nothing() {
    let mut loc = LocationShard::new(ContactOrder::ByQ, true);
    loc.restore(aor("a@x"), binding("sip:1@h", None, 9_000, 0));
    let mut log = Vec::new();
    loc.drain_changes(&mut log);
    assert!(log.is_empty());
    assert_eq!(contacts(&loc, "a@x", 0), ["sip:1@h"]);
    let mut mem = LocationShard::from_config(&crate::config::UsrlocConfig { db_mode: 0, ..Default::default() });
    mem.insert_raw(aor("a@x"), binding("sip:1@h", None, 9_000, 0));
    mem.drain_changes(&mut log);
    assert!(log.is_empty());
}
