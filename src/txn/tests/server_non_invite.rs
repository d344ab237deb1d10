//! RFC 3261 §17.2.2 on virtual time.

use super::harness::Harness;
use super::{incoming, secs};
use crate::txn::{Action, ServerTx, Termination, TimerKind, TxError};

const TRYING: &[u8] = b"SIP/2.0 100 Trying\r\nContent-Length: 0\r\n\r\n";
const OK: &[u8] = b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n";

fn trying() -> Harness<ServerTx> {
    let mut h = Harness::server(&incoming("BYE", "BYE", Some("b9")));
    assert!(h.take().is_empty(), "no automatic 100 for non-INVITE");
    assert_eq!(h.tx.state_name(), "Trying");
    h
}

#[test]
fn trying_absorbs_and_proceeding_resends_the_provisional() {
    let mut h = trying();
    h.request(&incoming("BYE", "BYE", Some("b9")));
    assert!(h.take().is_empty());
    h.respond(100, TRYING).unwrap();
    h.request(&incoming("BYE", "BYE", Some("b9")));
    assert_eq!(h.take(), [Action::Send(TRYING.into()), Action::Resend(TRYING.into())]);
    assert_eq!(h.tx.state_name(), "Proceeding");
}

#[test]
fn timer_j_absorbs_retransmissions_by_resending_the_final() {
    let mut h = trying();
    h.respond(100, TRYING).unwrap();
    h.take();
    h.respond(200, OK).unwrap();
    assert_eq!(h.take(), [Action::Send(OK.into()), Action::Arm(TimerKind::J, secs(32.0))]);
    for at in [1.0, 5.0, 31.9] {
        h.advance_to(secs(at));
        h.request(&incoming("BYE", "BYE", Some("b9")));
    }
    assert_eq!(h.resend_times(), [1.0, 5.0, 31.9]);
    assert_eq!(h.respond(200, OK), Err(TxError::FinalAlreadySent));
    assert_eq!(h.run_out(secs(60.0)), Some((secs(32.0), Termination::Completed)));
}

#[test]
fn final_straight_from_trying() {
    let mut h = trying();
    h.advance(secs(0.1));
    h.respond(404, OK).unwrap();
    assert_eq!(h.tx.state_name(), "Completed");
    assert_eq!(h.run_out(secs(60.0)), Some((secs(32.1), Termination::Completed)));
}
