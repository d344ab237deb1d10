//! Timeouts on virtual time: early_timeout, noack_timeout, default_timeout
//! and its reset, end_timeout.

use super::*;
use crate::dialog::{Counters, Dialog, EndCause, Expiry, State};

fn expired(handle: crate::dialog::DialogHandle, expiry: Expiry, send_bye: bool) -> Vec<Expired> {
    vec![Expired { handle, expiry, send_bye }]
}

#[test]
fn early_dialog_expires_at_early_timeout() {
    let mut h = Harness::new();
    let handle = h.req(0.0, &invite(CALL, 1)).handle().unwrap();
    h.rep(1.0, &reply(180, CALL, Some("btag"), 1, "INVITE"));
    assert_eq!(h.dlg.next_timeout(), Some(h.at(300.0)));
    assert!(h.tick(299.9).is_empty());
    assert_eq!(h.tick(300.0), expired(handle, Expiry::Early, false));
    let Some(Dialog::Terminated(t)) = h.dlg.get(handle) else { panic!() };
    assert_eq!(t.cause, EndCause::EarlyTimeout);
    // Kamailio's dlg_clean_run counts nothing; the early gauge is kept true.
    assert_eq!(h.dlg.counters(), Counters { processed_dialogs: 1, ..Counters::default() });
    // Gone end_timeout later.
    assert!(h.tick(599.9).is_empty());
    assert_eq!(h.dlg.len(), 1);
    h.tick(600.0);
    assert!(h.dlg.is_empty());
    assert_eq!(h.dlg.next_timeout(), None);
}

#[test]
fn unanswered_invite_without_reply_expires_too() {
    let mut h = Harness::new();
    let handle = h.req(10.0, &invite(CALL, 1)).handle().unwrap();
    assert!(h.tick(309.0).is_empty());
    assert_eq!(h.tick(310.0), expired(handle, Expiry::Early, false));
    assert_eq!(h.dlg.counters(), Counters { processed_dialogs: 1, ..Counters::default() });
}

#[test]
fn answer_without_ack_ends_ten_seconds_after_noack_timeout() {
    let mut h = Harness::new();
    let handle = h.req(0.0, &invite(CALL, 1)).handle().unwrap();
    h.rep(2.0, &reply(200, CALL, Some("btag"), 1, "INVITE"));
    assert!(h.tick(61.9).is_empty());
    // noack_timeout: the lifetime is cut to 10 s, nothing expires yet.
    assert!(h.tick(62.0).is_empty());
    let Some(Dialog::ConfirmedNoAck(c)) = h.dlg.get(handle) else { panic!() };
    assert!(c.ack_overdue);
    assert_eq!((c.answer.lifetime, c.answer.lifetime_end), (Duration::from_secs(10), h.at(72.0)));
    assert!(h.tick(71.9).is_empty());
    assert_eq!(h.tick(72.0), expired(handle, Expiry::NoAck, false));
    let c = h.dlg.counters();
    assert_eq!((c.active_dialogs, c.expired_dialogs, c.failed_dialogs), (0, 1, 0));
    assert_eq!(h.dlg.get(handle).unwrap().state(), State::Terminated);
}

#[test]
fn late_ack_restores_the_lifetime() {
    let mut h = Harness::new();
    let handle = h.req(0.0, &invite(CALL, 1)).handle().unwrap();
    h.rep(0.0, &reply(200, CALL, Some("btag"), 1, "INVITE"));
    h.tick(60.0);
    h.req(65.0, &in_dialog("ACK", true, "btag", 1, None));
    let Some(Dialog::Confirmed(c)) = h.dlg.get(handle) else { panic!() };
    assert_eq!(c.answer.lifetime_end, h.at(65.0 + 43_200.0));
    assert!(h.tick(1000.0).is_empty());
}

#[test]
fn default_timeout_is_reset_by_reinvite_and_in_dialog_requests() {
    let mut cfg = config();
    cfg.send_bye = true;
    let mut h = Harness::with(cfg);
    let handle = h.req(0.0, &invite(CALL, 1)).handle().unwrap();
    h.rep(1.0, &reply(200, CALL, Some("btag"), 1, "INVITE"));
    h.req(1.0, &in_dialog("ACK", true, "btag", 1, None));
    assert_eq!(h.dlg.next_timeout(), Some(h.at(43_201.0)));
    // re-INVITE from the caller at 40000 s, its ACK later.
    h.req(40_000.0, &in_dialog("INVITE", true, "btag", 2, None));
    h.rep(40_000.5, &reply(200, CALL, Some("btag"), 2, "INVITE"));
    h.req(40_001.0, &in_dialog("ACK", true, "btag", 2, None));
    assert!(h.tick(43_201.0).is_empty());
    // An INFO from the callee at 80000 s.
    h.req(80_000.0, &in_dialog("INFO", false, "btag", 1, None));
    assert!(h.tick(123_199.9).is_empty());
    assert_eq!(h.tick(123_200.0), expired(handle, Expiry::Lifetime, true));
    let Some(Dialog::Terminated(t)) = h.dlg.get(handle) else { panic!() };
    assert_eq!(t.cause, EndCause::Expired);
    assert!(t.answer.is_some(), "kept for the BYEs");
    let c = h.dlg.counters();
    assert_eq!((c.active_dialogs, c.expired_dialogs), (0, 1));
}

#[test]
fn timeout_noreset_keeps_the_first_deadline() {
    let mut cfg = config();
    cfg.timeout_noreset = true;
    cfg.default_timeout = Duration::from_secs(3600);
    let mut h = Harness::with(cfg);
    let handle = h.req(0.0, &invite(CALL, 1)).handle().unwrap();
    h.rep(1.0, &reply(200, CALL, Some("btag"), 1, "INVITE"));
    h.req(2.0, &in_dialog("ACK", true, "btag", 1, None));
    h.req(3000.0, &in_dialog("INVITE", true, "btag", 2, None));
    h.req(3001.0, &in_dialog("ACK", true, "btag", 2, None));
    assert_eq!(h.tick(3602.0), expired(handle, Expiry::Lifetime, false));
}

#[test]
fn many_dialogs_expire_independently() {
    let mut h = Harness::new();
    let mut handles = Vec::new();
    for i in 0..50u32 {
        let call = format!("call-{i}");
        let t = f64::from(i);
        handles.push(h.req(t, &invite(&call, 1)).handle().unwrap());
        h.rep(t, &reply(200, &call, Some("btag"), 1, "INVITE"));
    }
    // All never ACKed: each ends 70 s after its 2xx.
    let mut ended = Vec::new();
    for s in 0..200 {
        ended.extend(h.tick(f64::from(s)).into_iter().map(|e| e.handle));
    }
    assert_eq!(ended, handles);
    assert_eq!(h.dlg.counters().expired_dialogs, 50);
    assert_eq!(h.dlg.counters().active_dialogs, 0);
}
