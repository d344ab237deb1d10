//! RFC 3261 §17.1.1 with Kamailio's timers, on virtual time.

use super::harness::Harness;
use super::{request, response, secs};
use crate::sip::Message;
use crate::txn::{Action, ClientInvite, ClientTx, Termination, TimerKind};

const BRANCH: &str = "z9hG4bKpx1";

fn calling() -> Harness<ClientTx> {
    let mut h = Harness::client(&request("INVITE", BRANCH));
    let start = h.take();
    assert!(matches!(&start[0], Action::Send(p) if p.starts_with(b"INVITE ")), "{start:?}");
    assert_eq!(start[1..], [Action::Arm(TimerKind::A, secs(0.5)), Action::Arm(TimerKind::B, secs(30.0))]);
    h
}

fn state(h: &Harness<ClientTx>) -> &'static str {
    h.tx.state_name()
}

fn sent_packets(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send(p) | Action::Resend(p) | Action::SendCancel(p) => Some(p),
            _ => None,
        })
        .map(|p| String::from_utf8_lossy(p.split(|&b| b == b'\r').next().unwrap_or_default()).into_owned())
        .collect()
}

#[test]
fn timer_a_doubles_to_t2_until_b_times_out() {
    let mut h = calling();
    assert_eq!(h.run_out(secs(60.0)), Some((secs(30.0), Termination::Timeout)));
    // 500 ms, 1 s, 2 s, 4 s, then capped at T2 = 4 s (Kamailio retr_timer2).
    assert_eq!(h.resend_times(), [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5]);
    let tail: Vec<Action> = h.take().into_iter().rev().take(3).collect();
    assert_eq!(tail, [Action::Terminated(Termination::Timeout), Action::TimedOut, Action::Cancel(TimerKind::A)]);
    assert!(h.tx.is_terminated());
}

#[test]
fn provisional_stops_a_and_switches_to_fr_inv_timer() {
    let mut h = calling();
    h.advance(secs(1.2));
    h.take();
    h.response(&response(180, BRANCH, "INVITE"));
    assert_eq!(
        h.take(),
        [
            Action::Cancel(TimerKind::A),
            Action::Cancel(TimerKind::B),
            Action::PassUp(180),
            Action::Arm(TimerKind::C, secs(120.0)),
        ]
    );
    assert_eq!(state(&h), "Proceeding");
    // Timer B (30 s) no longer applies, nor does any retransmission.
    h.advance_to(secs(121.0));
    assert!(h.take().is_empty());
    assert_eq!(h.armed(), [TimerKind::C]);
}

#[test]
fn fr_inv_timer_expiry_cancels_the_branch_and_lingers_for_the_487() {
    let mut h = calling();
    h.advance(secs(1.0));
    h.response(&response(180, BRANCH, "INVITE"));
    h.take();
    h.advance_to(secs(121.0));
    let at_expiry = h.take();
    assert_eq!(at_expiry[0], Action::TimedOut);
    assert_eq!(sent_packets(&at_expiry), ["CANCEL sip:bob@192.0.2.20:5060 SIP/2.0"]);
    assert_eq!(at_expiry[2], Action::Arm(TimerKind::B, secs(5.0)), "Kamailio wt_timer");
    assert_eq!(state(&h), "Expired");
    // The 487 is ACKed but not passed up again: the branch is already a 408.
    h.advance(secs(0.1));
    h.response(&response(487, BRANCH, "INVITE"));
    let acked = h.take();
    assert!(!acked.iter().any(|a| matches!(a, Action::PassUp(_))), "{acked:?}");
    assert_eq!(sent_packets(&acked), ["ACK sip:bob@192.0.2.20:5060 SIP/2.0"]);
    assert_eq!(state(&h), "Completed");
    assert_eq!(h.run_out(secs(60.0)), Some((secs(153.1), Termination::Completed)));
}

#[test]
fn expired_branch_gives_up_after_wt_timer_and_still_passes_a_late_2xx() {
    let mut h = calling();
    h.response(&response(183, BRANCH, "INVITE"));
    h.advance_to(secs(120.0));
    assert_eq!(state(&h), "Expired");
    h.advance(secs(4.9));
    h.take();
    h.response(&response(200, BRANCH, "INVITE"));
    assert_eq!(
        h.take(),
        [Action::Cancel(TimerKind::B), Action::PassUp(200), Action::Terminated(Termination::Completed)]
    );

    let mut h = calling();
    h.response(&response(183, BRANCH, "INVITE"));
    assert_eq!(h.run_out(secs(200.0)), Some((secs(125.0), Termination::Timeout)));
}

#[test]
fn each_provisional_restarts_fr_inv_timer() {
    let mut h = calling();
    h.advance(secs(1.0));
    h.response(&response(180, BRANCH, "INVITE"));
    h.advance_to(secs(100.0));
    h.response(&response(183, BRANCH, "INVITE"));
    h.advance_to(secs(219.9));
    assert_eq!(state(&h), "Proceeding");
    h.advance_to(secs(220.0));
    assert_eq!(state(&h), "Expired");
}

#[test]
fn negative_final_is_acked_and_timer_d_absorbs_retransmissions() {
    let mut h = calling();
    h.advance(secs(0.7));
    h.take();
    h.response(&response(486, BRANCH, "INVITE"));
    let actions = h.take();
    assert_eq!(actions[..3], [Action::Cancel(TimerKind::A), Action::Cancel(TimerKind::B), Action::PassUp(486)]);
    let Action::Send(ack) = &actions[3] else { panic!("ACK expected: {actions:?}") };
    let ack_msg = Message::parse(ack).unwrap();
    assert_eq!(ack_msg.to().unwrap().tag(), Some(&b"b9"[..]), "To from the response");
    assert_eq!(ack_msg.via_top().unwrap().branch(), Some(BRANCH.as_bytes()), "same branch as the INVITE");
    assert_eq!(actions[4], Action::Arm(TimerKind::D, secs(32.0)));

    // A retransmitted 486 gets the same ACK again and is not passed up.
    h.advance(secs(0.5));
    h.response(&response(486, BRANCH, "INVITE"));
    assert_eq!(h.take(), [Action::Resend(ack.clone())]);
    h.advance(secs(1.0));
    h.response(&response(486, BRANCH, "INVITE"));
    assert_eq!(h.take(), [Action::Resend(ack.clone())]);
    assert!(matches!(h.tx, ClientTx::Invite(ClientInvite::Completed(_))));
    assert_eq!(h.run_out(secs(60.0)), Some((secs(32.7), Termination::Completed)));
}

#[test]
fn two_hundred_terminates_from_calling_and_from_proceeding() {
    let mut h = calling();
    h.response(&response(200, BRANCH, "INVITE"));
    assert_eq!(
        h.take(),
        [
            Action::Cancel(TimerKind::A),
            Action::Cancel(TimerKind::B),
            Action::PassUp(200),
            Action::Terminated(Termination::Completed),
        ]
    );

    let mut h = calling();
    h.response(&response(180, BRANCH, "INVITE"));
    h.take();
    h.response(&response(200, BRANCH, "INVITE"));
    assert_eq!(
        h.take(),
        [Action::PassUp(200), Action::Cancel(TimerKind::C), Action::Terminated(Termination::Completed)]
    );
    assert!(h.tx.is_terminated());
}

#[test]
fn cancel_waits_for_a_provisional_then_sends_cancel() {
    let mut h = calling();
    h.advance(secs(0.2));
    h.cancel();
    assert!(h.take().is_empty(), "RFC 3261 §9.1: no CANCEL before a provisional");
    assert_eq!(state(&h), "CancelPending");
    h.advance_to(secs(2.0));
    assert_eq!(h.resend_times(), [0.5, 1.5], "cancel_b_method 1 keeps retransmitting");
    h.take();
    h.response(&response(180, BRANCH, "INVITE"));
    let actions = h.take();
    assert_eq!(sent_packets(&actions), ["CANCEL sip:bob@192.0.2.20:5060 SIP/2.0"]);
    assert!(actions.contains(&Action::PassUp(180)));
    assert_eq!(state(&h), "Cancelling");
    h.response(&response(487, BRANCH, "INVITE"));
    let actions = h.take();
    assert_eq!(actions[..2], [Action::PassUp(487), Action::Cancel(TimerKind::C)]);
    assert_eq!(sent_packets(&actions), ["ACK sip:bob@192.0.2.20:5060 SIP/2.0"]);
}

#[test]
fn cancel_in_proceeding_is_immediate_and_timer_c_still_bounds_it() {
    let mut h = calling();
    h.response(&response(180, BRANCH, "INVITE"));
    h.take();
    h.cancel();
    let actions = h.take();
    let [Action::SendCancel(cancel)] = &actions[..] else { panic!("{actions:?}") };
    let cancel = Message::parse(cancel).unwrap();
    assert_eq!(cancel.via_top().unwrap().branch(), Some(BRANCH.as_bytes()));
    assert_eq!(cancel.cseq().unwrap().seq, 314);
    h.cancel();
    assert!(h.take().is_empty(), "one CANCEL per branch");
    // No 487 ever: fr_inv_timer reports the 408, then wt_timer ends it.
    h.advance_to(secs(120.0));
    assert_eq!(h.take(), [Action::TimedOut, Action::Arm(TimerKind::B, secs(5.0))]);
    assert_eq!(h.run_out(secs(10.0)), Some((secs(125.0), Termination::Timeout)));
}

#[test]
fn transport_error_and_stale_timers() {
    let mut h = calling();
    h.response(&response(180, BRANCH, "INVITE"));
    h.take();
    // A timer the state does not run (a late A) changes nothing.
    h.tx.handle_timer(TimerKind::A, &h.cfg.clone(), &mut crate::txn::Actions::new());
    assert_eq!(state(&h), "Proceeding");
    let mut out = crate::txn::Actions::new();
    h.tx.handle_transport_error(&mut out);
    assert_eq!(out.as_slice(), [Action::Terminated(Termination::TransportError)]);
    h.tx.handle_transport_error(&mut out);
    assert_eq!(out.len(), 1, "terminated once");
}

#[test]
fn responses_after_termination_and_requests_are_refused_or_ignored() {
    let mut h = calling();
    let req = request("INVITE", BRANCH);
    let msg = Message::parse(&req).unwrap();
    let mut out = crate::txn::Actions::new();
    assert!(h.tx.handle_response(&msg, &h.cfg.clone(), &mut out).is_err());
    h.response(&response(200, BRANCH, "INVITE"));
    h.take();
    h.response(&response(200, BRANCH, "INVITE"));
    assert!(h.take().is_empty());
}
