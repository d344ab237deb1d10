//! RFC 3261 §17.1.2 with Kamailio's fr_timer, on virtual time.

use super::harness::Harness;
use super::{request, response, secs};
use crate::txn::{Action, ClientTx, Termination, TimerKind};

const BRANCH: &str = "z9hG4bKbye1";

fn trying() -> Harness<ClientTx> {
    let mut h = Harness::client(&request("BYE", BRANCH));
    let start = h.take();
    assert_eq!(start[1..], [Action::Arm(TimerKind::E, secs(0.5)), Action::Arm(TimerKind::F, secs(30.0))]);
    assert_eq!(h.tx.state_name(), "Trying");
    h
}

#[test]
fn timer_e_doubles_to_t2_until_f_times_out() {
    let mut h = trying();
    assert_eq!(h.run_out(secs(60.0)), Some((secs(30.0), Termination::Timeout)));
    assert_eq!(h.resend_times(), [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5]);
    let last: Vec<Action> = h.take().into_iter().rev().take(3).collect();
    assert_eq!(last, [Action::Terminated(Termination::Timeout), Action::TimedOut, Action::Cancel(TimerKind::E)]);
}

#[test]
fn provisional_switches_timer_e_to_t2() {
    let mut h = trying();
    h.advance(secs(0.7));
    h.response(&response(100, BRANCH, "BYE"));
    assert_eq!(h.tx.state_name(), "Proceeding");
    assert!(h.take().contains(&Action::PassUp(100)));
    // The running E (1 s, armed at 0.5) fires at 1.5, then every T2.
    h.advance_to(secs(14.0));
    assert_eq!(h.resend_times(), [1.5, 5.5, 9.5, 13.5]);
    assert!(h.take().contains(&Action::Arm(TimerKind::E, secs(4.0))));
    assert_eq!(h.run_out(secs(60.0)), Some((secs(30.0), Termination::Timeout)), "F still runs");
}

#[test]
fn final_response_starts_timer_k_which_absorbs_retransmissions() {
    let mut h = trying();
    h.advance(secs(2.0));
    h.response(&response(180, BRANCH, "BYE"));
    h.take();
    h.response(&response(200, BRANCH, "BYE"));
    assert_eq!(
        h.take(),
        [
            Action::PassUp(200),
            Action::Cancel(TimerKind::E),
            Action::Cancel(TimerKind::F),
            Action::Arm(TimerKind::K, secs(5.0)),
        ]
    );
    h.advance(secs(1.0));
    h.response(&response(200, BRANCH, "BYE"));
    assert!(h.take().is_empty(), "retransmitted final absorbed");
    assert_eq!(h.run_out(secs(60.0)), Some((secs(7.0), Termination::Completed)));
}

#[test]
fn a_final_in_trying_goes_straight_to_completed() {
    let mut h = trying();
    h.response(&response(404, BRANCH, "BYE"));
    assert_eq!(h.tx.state_name(), "Completed");
    assert_eq!(h.run_out(secs(10.0)), Some((secs(5.0), Termination::Completed)));
    assert_eq!(h.resend_times(), Vec::<f64>::new());
}
