//! Calls through the states, matching, forking and the counters.

use super::*;
use crate::dialog::{Change, Counters, Dialog, DialogHandle, DialogKey, Direction, EndCause, MessageError, State};

fn matched(change: Option<(State, State)>, dir: Direction, e: Event) {
    match e {
        Event::Matched { direction, change: c, .. } => {
            assert_eq!(direction, dir);
            assert_eq!(c, change.map(|(from, to)| Change { from, to }));
        }
        other => panic!("expected a match, got {other:?}"),
    }
}

fn state(h: &Harness, e: Event) -> State {
    h.dlg.get(e.handle().expect("a dialog")).expect("stored").state()
}

#[test]
fn full_call_through_every_state() {
    let mut h = Harness::new();
    let created = h.req(0.0, &invite(CALL, 1));
    let Event::Created(handle) = created else { panic!("{created:?}") };
    assert_eq!(state(&h, created), State::Unconfirmed);
    assert_eq!(h.dlg.counters(), Counters { processed_dialogs: 1, ..Counters::default() });

    matched(None, Direction::Downstream, h.rep(0.1, &reply(100, CALL, None, 1, "INVITE")));
    let ringing = h.rep(0.5, &reply(180, CALL, Some("btag"), 1, "INVITE"));
    matched(Some((State::Unconfirmed, State::Early)), Direction::Downstream, ringing);
    assert_eq!(h.dlg.counters().early_dialogs, 1);

    let ok = h.rep(3.0, &reply(200, CALL, Some("btag"), 1, "INVITE"));
    matched(Some((State::Early, State::ConfirmedNoAck)), Direction::Downstream, ok);
    let c = h.dlg.counters();
    assert_eq!((c.early_dialogs, c.active_dialogs), (0, 1));

    let d = h.dlg.get(handle).unwrap();
    let core = d.core();
    assert_eq!(core.call_id.as_bytes(), CALL.as_bytes());
    assert_eq!(&*core.from_uri, b"sip:alice@example.com");
    assert_eq!(&*core.to_uri, b"sip:bob@example.com");
    assert_eq!(&*core.req_uri, b"sip:bob@192.0.2.1");
    assert_eq!(&*core.caller.contact, b"sip:alice@198.51.100.7:5060;ob");
    assert_eq!(core.caller.route_set, vec![Box::from(&b"<sip:p1.example.net;lr>"[..])]);
    assert_eq!(core.caller.cseq, 1);
    assert!(core.nat, "our Record-Route carried nat=yes");
    let callee = d.callee().unwrap();
    assert_eq!(callee.tag.as_bytes(), b"btag");
    assert_eq!(&*callee.contact, b"sip:bob@203.0.113.9:5062");
    assert_eq!(callee.route_set, vec![Box::from(&b"<sip:p3.example.net;lr>"[..])]);
    assert_eq!(callee.cseq, 0);
    let id = d.id().unwrap();
    assert_eq!((id.from_tag.as_bytes(), id.to_tag.as_bytes()), (&b"atag"[..], &b"btag"[..]));

    let ack = h.req(3.2, &in_dialog("ACK", true, "btag", 1, None));
    matched(Some((State::ConfirmedNoAck, State::Confirmed)), Direction::Downstream, ack);
    let bye = h.req(60.0, &in_dialog("BYE", true, "btag", 2, None));
    matched(Some((State::Confirmed, State::Terminated)), Direction::Downstream, bye);
    let Some(Dialog::Terminated(t)) = h.dlg.get(handle) else { panic!() };
    assert_eq!(t.cause, EndCause::Bye(Direction::Downstream));
    // The 200 to the BYE and a retransmitted BYE still match, without change.
    matched(None, Direction::Downstream, h.rep(60.1, &reply(200, CALL, Some("btag"), 2, "BYE")));
    matched(None, Direction::Downstream, h.req(60.5, &in_dialog("BYE", true, "btag", 2, None)));
    assert_eq!(h.dlg.counters(), Counters { processed_dialogs: 1, ..Counters::default() });

    // end_timeout after the BYE, the dialog is gone.
    assert!(h.tick(359.9).is_empty());
    assert_eq!(h.dlg.len(), 1);
    assert!(h.tick(360.0).is_empty());
    assert!(h.dlg.is_empty());
    assert_eq!(h.req(361.0, &in_dialog("BYE", true, "btag", 2, None)), Event::NotTracked);
}

#[test]
fn bye_from_the_callee_matches_upstream() {
    let mut h = Harness::new();
    let handle = h.req(0.0, &invite(CALL, 1)).handle().unwrap();
    h.rep(1.0, &reply(200, CALL, Some("btag"), 1, "INVITE"));
    h.req(1.1, &in_dialog("ACK", true, "btag", 1, None));
    // A tag of the wrong orientation or another dialog does not match.
    assert_eq!(h.req(5.0, &in_dialog("BYE", true, "other", 2, None)), Event::NotTracked);
    let bye_bytes = in_dialog("BYE", false, "btag", 7001, None);
    let bye_msg = Message::parse(bye_bytes.as_bytes()).unwrap();
    let key = DialogKey::of(&bye_msg).unwrap();
    assert_eq!((key.from_tag, key.to_tag), (&b"btag"[..], Some(&b"atag"[..])));
    let (found, dir) = h.dlg.find(&key).unwrap();
    assert_eq!((found.handle(), dir), (handle, Direction::Upstream));
    assert_eq!(found.id().unwrap().matches(&key), Some(Direction::Upstream));
    let bye = h.req(10.0, &bye_bytes);
    matched(Some((State::Confirmed, State::Terminated)), Direction::Upstream, bye);
    let Some(Dialog::Terminated(t)) = h.dlg.get(handle) else { panic!() };
    assert_eq!(t.cause, EndCause::Bye(Direction::Upstream));
    assert_eq!(h.dlg.counters().active_dialogs, 0);
}

#[test]
fn busy_counts_failed() {
    let mut h = Harness::new();
    let handle = h.req(0.0, &invite(CALL, 1)).handle().unwrap();
    h.rep(0.5, &reply(180, CALL, Some("btag"), 1, "INVITE"));
    let busy = h.rep(2.0, &reply(486, CALL, Some("btag"), 1, "INVITE"));
    matched(Some((State::Early, State::Terminated)), Direction::Downstream, busy);
    let Some(Dialog::Terminated(t)) = h.dlg.get(handle) else { panic!() };
    assert_eq!(t.cause, EndCause::Failed(486));
    assert!(t.answer.is_none());
    // The ACK for the 486 matches the ended dialog and changes nothing.
    matched(None, Direction::Downstream, h.req(2.1, &in_dialog("ACK", true, "btag", 1, None)));
    let c = h.dlg.counters();
    assert_eq!((c.processed_dialogs, c.failed_dialogs, c.early_dialogs, c.active_dialogs), (1, 1, 0, 0));
}

#[test]
fn cancel_ends_in_failed_as_kamailio_counts_it() {
    let mut h = Harness::new();
    let handle = h.req(0.0, &invite(CALL, 1)).handle().unwrap();
    h.rep(0.5, &reply(183, CALL, Some("btag"), 1, "INVITE"));
    let cancel = invite(CALL, 1).replace("INVITE sip:", "CANCEL sip:").replace("1 INVITE", "1 CANCEL");
    assert_eq!(h.req(4.0, &cancel), Event::NotTracked);
    matched(None, Direction::Downstream, h.rep(4.1, &reply(200, CALL, None, 1, "CANCEL")));
    let terminated = h.rep(4.2, &reply(487, CALL, Some("btag"), 1, "INVITE"));
    matched(Some((State::Early, State::Terminated)), Direction::Downstream, terminated);
    let c = h.dlg.counters();
    assert_eq!((c.failed_dialogs, c.early_dialogs, c.active_dialogs), (1, 0, 0));
    // The callee answered before the CANCEL reached it: Kamailio's
    // next_state_dlg brings the dialog back to state 3 (no BYE was seen).
    let late = h.rep(4.3, &reply(200, CALL, Some("btag"), 1, "INVITE"));
    matched(Some((State::Terminated, State::ConfirmedNoAck)), Direction::Downstream, late);
    let c = h.dlg.counters();
    assert_eq!((c.failed_dialogs, c.active_dialogs), (1, 1));
    assert_eq!(h.dlg.get(handle).unwrap().callee().unwrap().tag.as_bytes(), b"btag");
}

#[test]
fn forked_early_dialogs_first_answer_wins() {
    let mut h = Harness::new();
    let handle = h.req(0.0, &invite(CALL, 1)).handle().unwrap();
    h.rep(0.5, &reply(180, CALL, Some("fork1"), 1, "INVITE"));
    matched(None, Direction::Downstream, h.rep(0.6, &reply(183, CALL, Some("fork2"), 1, "INVITE")));
    h.rep(0.7, &reply(180, CALL, Some("fork1"), 1, "INVITE"));
    let forks: Vec<_> = h.dlg.get(handle).unwrap().forks().iter().map(|f| f.tag.to_string()).collect();
    assert_eq!(forks, ["fork1", "fork2"]);
    assert_eq!(h.dlg.counters().early_dialogs, 1);
    // A PRACK to fork 2 matches the early dialog (caller tag decides) and
    // fork 2's UPDATE updates that fork's leg.
    matched(None, Direction::Downstream, h.req(0.8, &in_dialog("PRACK", true, "fork2", 2, None)));
    matched(
        None,
        Direction::Upstream,
        h.req(0.9, &in_dialog("UPDATE", false, "fork2", 40, Some("sip:f2@203.0.113.20"))),
    );
    let d = h.dlg.get(handle).unwrap();
    assert_eq!(d.core().caller.cseq, 2);
    assert_eq!((d.forks()[1].cseq, &*d.forks()[1].contact), (40, &b"sip:f2@203.0.113.20"[..]));

    let won = h.rep(2.0, &reply(200, CALL, Some("fork2"), 1, "INVITE"));
    matched(Some((State::Early, State::ConfirmedNoAck)), Direction::Downstream, won);
    // The other fork answers too: the dialog stays with fork 2.
    matched(None, Direction::Downstream, h.rep(2.1, &reply(200, CALL, Some("fork1"), 1, "INVITE")));
    assert_eq!(h.dlg.get(handle).unwrap().callee().unwrap().tag.as_bytes(), b"fork2");
    // The caller ACKs and BYEs the losing fork: neither touches the dialog.
    assert_eq!(h.req(2.2, &in_dialog("ACK", true, "fork1", 1, None)), Event::NotTracked);
    assert_eq!(h.req(2.3, &in_dialog("BYE", true, "fork1", 3, None)), Event::NotTracked);
    matched(
        Some((State::ConfirmedNoAck, State::Confirmed)),
        Direction::Downstream,
        h.req(2.4, &in_dialog("ACK", true, "fork2", 1, None)),
    );
    assert_eq!(h.dlg.counters(), Counters { active_dialogs: 1, processed_dialogs: 1, ..Counters::default() });
}

#[test]
fn spirals_and_reused_call_ids() {
    let mut h = Harness::new();
    let first = h.req(0.0, &invite(CALL, 1)).handle().unwrap();
    assert_eq!(h.req(0.1, &invite(CALL, 1)), Event::Spiraled(first));
    assert_eq!(h.dlg.counters().processed_dialogs, 1);
    // 407 from downstream, then the INVITE again with credentials.
    h.rep(0.2, &reply(407, CALL, Some("px"), 1, "INVITE"));
    let Event::Created(second) = h.req(0.5, &invite(CALL, 2)) else { panic!() };
    assert_ne!(first, second);
    assert!(h.dlg.get(first).is_none(), "the failed dialog was replaced");
    assert_eq!(h.dlg.len(), 1);
    // A late reply to the first INVITE's CSeq matches by tags but moves nothing.
    matched(None, Direction::Downstream, h.rep(0.6, &reply(180, CALL, Some("b"), 1, "INVITE")));
    assert_eq!(h.dlg.get(second).unwrap().state(), State::Unconfirmed);
    h.rep(0.7, &reply(180, CALL, Some("b"), 2, "INVITE"));
    let c = h.dlg.counters();
    assert_eq!((c.processed_dialogs, c.failed_dialogs, c.early_dialogs), (2, 1, 1));
}

/// A proxy that knows no address of its own, and a dialog answered (no
/// ACK yet) with no `nat=yes` anywhere.
fn answered_without_nat() -> (Harness, DialogHandle) {
    let mut cfg = config();
    cfg.myself = Myself::default();
    let mut h = Harness::with(cfg);
    let no_rr = invite(CALL, 5).replace("Record-Route: <sip:p1.example.net;lr>\r\n", "");
    let handle = h.req(0.0, &no_rr).handle().unwrap();
    assert!(!h.dlg.get(handle).unwrap().core().nat);
    let ok = reply(200, CALL, Some("btag"), 5, "INVITE").replace(";nat=yes", "");
    h.rep(1.0, &ok);
    assert!(!h.dlg.get(handle).unwrap().core().nat);
    (h, handle)
}

#[test]
fn in_dialog_requests_update_cseq_contact_and_nat() {
    let (mut h, handle) = answered_without_nat();
    // Without `myself` our own entry stays in the callee route set.
    assert_eq!(h.dlg.get(handle).unwrap().callee().unwrap().route_set.len(), 3);
    h.req(1.1, &in_dialog("ACK", true, "btag", 5, None));
    // Callee re-INVITE with a new Contact; its Route carries nat=yes.
    h.req(100.0, &in_dialog("INVITE", false, "btag", 900, Some("sip:bob@203.0.113.99:6000")));
    h.req(101.0, &in_dialog("INFO", true, "btag", 6, Some("sip:ignored@example.com")));
    h.req(102.0, &in_dialog("INFO", true, "btag", 4, None));
    let d = h.dlg.get(handle).unwrap();
    assert!(d.core().nat);
    assert_eq!(d.core().caller.cseq, 6, "highest CSeq kept");
    assert_eq!(&*d.core().caller.contact, b"sip:alice@198.51.100.7:5060;ob", "INFO is no target refresh");
    let callee = d.callee().unwrap();
    assert_eq!((callee.cseq, &*callee.contact), (900, &b"sip:bob@203.0.113.99:6000"[..]));
    // A 2xx to the caller's re-INVITE refreshes the callee's target.
    h.req(200.0, &in_dialog("INVITE", true, "btag", 7, None));
    let ok = reply(200, CALL, Some("btag"), 7, "INVITE").replace("203.0.113.9:5062", "203.0.113.77");
    matched(None, Direction::Downstream, h.rep(200.1, &ok));
    assert_eq!(&*h.dlg.get(handle).unwrap().callee().unwrap().contact, b"sip:bob@203.0.113.77");
    assert_eq!(h.dlg.get(handle).unwrap().state(), State::Confirmed);
}

#[test]
fn malformed_and_untracked_messages() {
    let mut h = Harness::new();
    let no_tag = invite(CALL, 1).replace(";tag=atag", "");
    let err = h.dlg.on_request(&Message::parse(no_tag.as_bytes()).unwrap(), h.at(0.0));
    assert_eq!(err, Err(MessageError::MissingFromTag));
    let no_contact = invite(CALL, 1).replace("Contact: <sip:alice@198.51.100.7:5060;ob>\r\n", "");
    let err = h.dlg.on_request(&Message::parse(no_contact.as_bytes()).unwrap(), h.at(0.0));
    assert_eq!(err, Err(MessageError::BadContact));
    let two = invite(CALL, 1).replace("Contact: <sip:alice@198.51.100.7:5060;ob>", "Contact: <sip:a@x>, <sip:a@y>");
    let err = h.dlg.on_request(&Message::parse(two.as_bytes()).unwrap(), h.at(0.0));
    assert_eq!(err, Err(MessageError::BadContact));
    let options = invite(CALL, 1).replace("INVITE sip:", "OPTIONS sip:").replace("1 INVITE", "1 OPTIONS");
    assert_eq!(h.req(0.0, &options), Event::NotTracked);
    assert_eq!(h.rep(0.0, &reply(200, CALL, Some("x"), 1, "OPTIONS")), Event::NotTracked);
    assert!(h.dlg.is_empty());
    assert_eq!(h.dlg.counters(), Counters::default());
}

#[test]
fn relayed_requests_match_as_received_without_the_popped_routes() {
    let (mut h, handle) = answered_without_nat();
    let relayed = |h: &mut Harness, secs: f64, bytes: &str, popped: usize| {
        let now = h.at(secs);
        h.dlg.on_relayed(&Message::parse(bytes.as_bytes()).unwrap(), popped, now)
    };
    // Our Route (with nat=yes) was popped: as on_request of the copy,
    // which no longer has it, the dialog is not marked NATed.
    let ack = in_dialog("ACK", true, "btag", 5, None);
    let confirmed = relayed(&mut h, 1.1, &ack, 1).expect("ACK reads no relayed-only header").unwrap();
    matched(Some((State::ConfirmedNoAck, State::Confirmed)), Direction::Downstream, confirmed);
    assert!(!h.dlg.get(handle).unwrap().core().nat);
    // A nat=yes entry that is relayed counts.
    let info = in_dialog("INFO", true, "btag", 6, None);
    relayed(&mut h, 2.0, &info, 0).unwrap().unwrap();
    assert!(h.dlg.get(handle).unwrap().core().nat);
    assert_eq!(h.dlg.get(handle).unwrap().core().caller.cseq, 6);
    // Target refreshes and requests without To tag need the copy itself.
    for method in ["INVITE", "UPDATE"] {
        assert_eq!(relayed(&mut h, 3.0, &in_dialog(method, true, "btag", 7, None), 1), None);
    }
    let untagged = in_dialog("INVITE", true, "btag", 8, None).replace(";tag=btag", "");
    assert_eq!(relayed(&mut h, 3.0, &untagged, 1), None);
    let options = in_dialog("OPTIONS", true, "btag", 9, None).replace(";tag=btag", "");
    assert_eq!(relayed(&mut h, 3.0, &options, 1), Some(Ok(Event::NotTracked)));
    let bye = in_dialog("BYE", false, "btag", 901, None);
    let ended = relayed(&mut h, 4.0, &bye, 1).unwrap().unwrap();
    matched(Some((State::Confirmed, State::Terminated)), Direction::Upstream, ended);
}
