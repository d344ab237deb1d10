//! RFC 3261 §17.2.1 with Kamailio's automatic 100, on virtual time.

use super::harness::Harness;
use super::{incoming, secs};
use crate::sip::Message;
use crate::txn::{AUTO_INV_100_REASON, Action, Packet, ServerTx, Termination, TimerKind, TxError};

const RINGING: &[u8] = b"SIP/2.0 180 Ringing\r\nContent-Length: 0\r\n\r\n";
const BUSY: &[u8] = b"SIP/2.0 486 Busy Here\r\nContent-Length: 0\r\n\r\n";
const OK: &[u8] = b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n";

fn proceeding() -> (Harness<ServerTx>, Packet) {
    let mut h = Harness::server(&incoming("INVITE", "INVITE", None));
    let actions = h.take();
    let [Action::Send(trying)] = &actions[..] else { panic!("{actions:?}") };
    let status = *Message::parse(trying).unwrap().status_line().unwrap();
    assert_eq!((status.code, status.reason), (100, AUTO_INV_100_REASON.as_bytes()));
    assert_eq!(h.tx.state_name(), "Proceeding");
    (h, trying.clone())
}

fn completed() -> Harness<ServerTx> {
    let (mut h, _) = proceeding();
    h.respond(486, BUSY).unwrap();
    assert_eq!(
        h.take(),
        [Action::Send(BUSY.into()), Action::Arm(TimerKind::G, secs(0.5)), Action::Arm(TimerKind::H, secs(32.0)),]
    );
    h
}

#[test]
fn retransmitted_invite_gets_the_last_provisional_again() {
    let (mut h, trying) = proceeding();
    h.advance(secs(0.5));
    h.request(&incoming("INVITE", "INVITE", None));
    assert_eq!(h.take(), [Action::Resend(trying)]);
    h.respond(180, RINGING).unwrap();
    assert_eq!(h.take(), [Action::Send(RINGING.into())]);
    h.request(&incoming("INVITE", "INVITE", None));
    assert_eq!(h.take(), [Action::Resend(RINGING.into())]);
    assert_eq!(h.armed(), [], "no timer in Proceeding");
}

#[test]
fn timer_g_doubles_to_t2_and_h_ends_it_without_ack() {
    let mut h = completed();
    assert_eq!(h.run_out(secs(60.0)), Some((secs(32.0), Termination::AckTimeout)));
    assert_eq!(h.resend_times(), [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]);
    let last: Vec<Action> = h.take().into_iter().rev().take(2).collect();
    assert_eq!(last, [Action::Terminated(Termination::AckTimeout), Action::Cancel(TimerKind::G)]);
}

#[test]
fn ack_confirms_and_timer_i_ends_it() {
    let mut h = completed();
    h.advance(secs(0.7));
    h.request(&incoming("INVITE", "INVITE", None));
    assert_eq!(
        h.take(),
        [Action::Resend(BUSY.into()), Action::Arm(TimerKind::G, secs(1.0)), Action::Resend(BUSY.into())],
        "G at 0.5, then the retransmitted INVITE"
    );
    h.request(&incoming("ACK", "ACK", Some("b9")));
    assert_eq!(
        h.take(),
        [Action::Cancel(TimerKind::G), Action::Cancel(TimerKind::H), Action::Arm(TimerKind::I, secs(5.0))]
    );
    assert_eq!(h.tx.state_name(), "Confirmed");
    h.advance(secs(1.0));
    h.request(&incoming("ACK", "ACK", Some("b9")));
    h.request(&incoming("INVITE", "INVITE", None));
    assert!(h.take().is_empty(), "Confirmed absorbs");
    assert_eq!(h.run_out(secs(60.0)), Some((secs(5.7), Termination::Completed)));
}

#[test]
fn ack_with_another_to_tag_is_not_ours() {
    let (mut h, _) = proceeding();
    let busy = b"SIP/2.0 486 Busy Here\r\nTo: <sip:bob@example.com>;tag=b9\r\nContent-Length: 0\r\n\r\n";
    h.respond(486, busy).unwrap();
    h.take();
    h.request(&incoming("ACK", "ACK", Some("b8")));
    assert!(h.take().is_empty(), "neither confirmed nor answered");
    assert_eq!(h.tx.state_name(), "Completed");
    h.request(&incoming("ACK", "ACK", Some("b9")));
    assert_eq!(h.tx.state_name(), "Confirmed");
}

#[test]
fn a_2xx_accepts_absorbs_the_invite_passes_more_2xx_and_timer_l_ends_it() {
    let (mut h, _) = proceeding();
    h.respond(180, RINGING).unwrap();
    h.respond(200, OK).unwrap();
    assert_eq!(
        h.take(),
        [Action::Send(RINGING.into()), Action::Send(OK.into()), Action::Arm(TimerKind::L, secs(5.0))],
        "RFC 6026 §7.1: Accepted, Timer L at wt_timer"
    );
    assert_eq!(h.tx.state_name(), "Accepted");
    assert!(h.tx.is_accepted() && h.tx.final_sent());
    h.advance(secs(1.0));
    h.request(&incoming("INVITE", "INVITE", None));
    assert!(h.take().is_empty(), "a retransmitted INVITE is absorbed, no 2xx generated");
    h.request(&incoming("ACK", "ACK", Some("b9")));
    assert!(h.take().is_empty(), "the ACK to a 2xx is the core's to route");
    h.respond(200, OK).unwrap();
    assert_eq!(h.take(), [Action::Send(OK.into())], "a 2xx of another branch goes out");
    assert_eq!(h.respond(486, BUSY), Err(TxError::FinalAlreadySent));
    assert_eq!(h.tx.state_name(), "Accepted");
    assert_eq!(h.run_out(secs(60.0)), Some((secs(5.0), Termination::Completed)));
    assert_eq!(h.respond(200, OK), Err(TxError::Terminated));
}

#[test]
fn one_final_only_and_codes_checked() {
    let mut h = completed();
    assert_eq!(h.respond(200, OK), Err(TxError::FinalAlreadySent));
    assert_eq!(h.respond(99, OK), Err(TxError::BadStatus(99)));
    assert!(h.take().is_empty());
    assert_eq!(h.tx.state_name(), "Completed", "an error leaves the state as it was");
}

#[test]
fn ack_and_response_open_no_transaction() {
    let ack = incoming("ACK", "ACK", Some("b9"));
    let msg = Message::parse(&ack).unwrap();
    let src = "198.51.100.7:40000".parse().unwrap();
    let mut out = crate::txn::Actions::new();
    assert_eq!(ServerTx::new(&msg, src, None, &mut out).err(), Some(TxError::AckCreatesNoTransaction));
    let msg = Message::parse(OK).unwrap();
    assert_eq!(ServerTx::new(&msg, src, None, &mut out).err(), Some(TxError::WrongKind("request")));
    assert!(out.is_empty());
}

#[test]
fn transport_error_terminates() {
    let mut h = completed();
    let mut out = crate::txn::Actions::new();
    h.tx.handle_transport_error(&mut out);
    assert_eq!(out.terminated(), Some(Termination::TransportError));
    assert!(h.tx.is_terminated());
}
