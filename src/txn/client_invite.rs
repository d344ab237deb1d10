//! The INVITE client transaction (RFC 3261 §17.1.1, Figure 5) with Kamailio
//! tm's timers and its way of cancelling a branch (cancel_b_method 1,
//! noisy_ctimer).
//!
//! ```text
//!   Calling ──cancel()──▶ CancelPending
//!      │ 1xx                   │ 1xx: send CANCEL
//!      ▼                       ▼
//!   Proceeding ──cancel()──▶ Cancelling
//!      │ Timer C: 408,         │ Timer C: 408
//!      │ send CANCEL           │
//!      ▼                       ▼
//!   Expired ◀──────────────────┘
//!   300-699 from any of them ──▶ Completed ──Timer D──▶ Terminated
//!   2xx from any of them ─────────────────────────────▶ Terminated
//! ```

use super::action::{Action, Actions, Packet, Termination};
use super::build::{ack_for, cancel_for};
use super::error::TxError;
use super::timers::{INVITE_A, INVITE_B, INVITE_B_EXPIRED, INVITE_C, INVITE_D, TimerConfig, TimerKind};
use crate::sip::Message;
use std::time::Duration;

#[derive(Debug)]
pub enum ClientInvite {
    Calling(Calling),
    CancelPending(CancelPending),
    Proceeding(Proceeding),
    Cancelling(Cancelling),
    Expired(Expired),
    Completed(Completed),
    Terminated(Termination),
}

/// INVITE sent, nothing heard: Timer A retransmits, Timer B gives up.
#[derive(Debug)]
pub struct Calling {
    request: Packet,
    interval: Duration,
}

/// As [`Calling`], but the core cancelled the branch. RFC 3261 §9.1 forbids
/// a CANCEL before a provisional, so it goes out when the first 1xx comes
/// (Kamailio cancel_b_method 1 keeps retransmitting meanwhile).
#[derive(Debug)]
pub struct CancelPending {
    request: Packet,
    interval: Duration,
}

/// A provisional came: retransmissions stop, Timer C (fr_inv_timer) runs.
#[derive(Debug)]
pub struct Proceeding {
    request: Packet,
}

/// CANCEL sent after a provisional; waiting for the final (487) with
/// Timer C still running (Kamailio cancel_branch: "wait for the final timeout").
#[derive(Debug)]
pub struct Cancelling {
    request: Packet,
}

/// Timer C fired: the branch counts as a local 408 and was CANCELled. It
/// stays for wt_timer to ACK the 487; a late non-2xx final is not passed up
/// again, a late 2xx is (RFC 3261 §16.7 step 5: every 2xx goes upstream).
#[derive(Debug)]
pub struct Expired {
    request: Packet,
}

/// A 300-699 was ACKed; Timer D absorbs its retransmissions.
#[derive(Debug)]
pub struct Completed {
    ack: Packet,
}

impl ClientInvite {
    /// Sends the INVITE (RFC 3261 §17.1.1.2: Timer A at T1, Timer B). The
    /// bytes must parse: [`ClientTx::new`](super::ClientTx::new) checks.
    pub(super) fn start(request: Packet, cfg: &TimerConfig, out: &mut Actions) -> ClientInvite {
        out.send(&request);
        out.arm_spec(&INVITE_A, cfg);
        out.arm_spec(&INVITE_B, cfg);
        ClientInvite::Calling(Calling { request, interval: INVITE_A.formula.initial(cfg) })
    }

    /// A response whose key matched this transaction.
    pub fn handle_response(
        &mut self,
        response: &Message<'_>,
        cfg: &TimerConfig,
        out: &mut Actions,
    ) -> Result<(), TxError> {
        let code = response.status_line().ok_or(TxError::WrongKind("response"))?.code;
        self.step(|state| match state {
            Self::Calling(s) => s.on_response(code, response, cfg, out),
            Self::CancelPending(s) => s.on_response(code, response, cfg, out),
            Self::Proceeding(s) => s.on_response(code, response, cfg, out),
            Self::Cancelling(s) => s.on_response(code, response, cfg, out),
            Self::Expired(s) => s.on_response(code, response, cfg, out),
            Self::Completed(s) => s.on_response(code, out),
            done @ Self::Terminated(_) => done,
        });
        Ok(())
    }

    /// A timer of this transaction fired. A kind the state does not run is
    /// stale and ignored.
    pub fn handle_timer(&mut self, kind: TimerKind, cfg: &TimerConfig, out: &mut Actions) {
        self.step(|state| match (state, kind) {
            (Self::Calling(s), TimerKind::A) => {
                Self::Calling(Calling { interval: retransmit(&s.request, s.interval, cfg, out), ..s })
            }
            (Self::CancelPending(s), TimerKind::A) => {
                Self::CancelPending(CancelPending { interval: retransmit(&s.request, s.interval, cfg, out), ..s })
            }
            (Self::Calling(_) | Self::CancelPending(_), TimerKind::B) => {
                // RFC 3261 §17.1.1.2: Timer B in Calling is a timeout.
                out.cancel(TimerKind::A);
                out.push(Action::TimedOut);
                Self::Terminated(out.terminate(Termination::Timeout))
            }
            // RFC 3261 §16.8: Timer C after a provisional means CANCEL.
            (Self::Proceeding(s), TimerKind::C) => expire(s.request, true, cfg, out),
            (Self::Cancelling(s), TimerKind::C) => expire(s.request, false, cfg, out),
            (Self::Expired(_), TimerKind::B) => Self::Terminated(out.terminate(Termination::Timeout)),
            (Self::Completed(_), TimerKind::D) => Self::Terminated(out.terminate(Termination::Completed)),
            (state, _) => state,
        });
    }

    /// The core gives up on this branch (upstream CANCEL, or a 2xx or 6xx on
    /// another branch). Sends a CANCEL now or at the first provisional.
    pub fn cancel(&mut self, out: &mut Actions) {
        self.step(|state| match state {
            Self::Calling(Calling { request, interval }) => Self::CancelPending(CancelPending { request, interval }),
            Self::Proceeding(Proceeding { request }) => {
                out.push(Action::SendCancel(cancel_packet(&request)));
                Self::Cancelling(Cancelling { request })
            }
            other => other,
        });
    }

    pub fn state_name(&self) -> &'static str {
        match self {
            Self::Calling(_) => "Calling",
            Self::CancelPending(_) => "CancelPending",
            Self::Proceeding(_) => "Proceeding",
            Self::Cancelling(_) => "Cancelling",
            Self::Expired(_) => "Expired",
            Self::Completed(_) => "Completed",
            Self::Terminated(_) => "Terminated",
        }
    }
}

impl Calling {
    fn on_response(self, code: u16, response: &Message<'_>, cfg: &TimerConfig, out: &mut Actions) -> ClientInvite {
        out.cancel(TimerKind::A);
        out.cancel(TimerKind::B);
        out.push(Action::PassUp(code));
        if code < 200 {
            // Kamailio: the first 1xx switches fr_timer to fr_inv_timer.
            out.arm_spec(&INVITE_C, cfg);
            return ClientInvite::Proceeding(Proceeding { request: self.request });
        }
        finish(self.request, code, response, cfg, out)
    }
}

impl CancelPending {
    fn on_response(self, code: u16, response: &Message<'_>, cfg: &TimerConfig, out: &mut Actions) -> ClientInvite {
        if code >= 200 {
            return Calling { request: self.request, interval: self.interval }.on_response(code, response, cfg, out);
        }
        out.cancel(TimerKind::A);
        out.cancel(TimerKind::B);
        out.push(Action::PassUp(code));
        out.push(Action::SendCancel(cancel_packet(&self.request)));
        out.arm_spec(&INVITE_C, cfg);
        ClientInvite::Cancelling(Cancelling { request: self.request })
    }
}

impl Proceeding {
    fn on_response(self, code: u16, response: &Message<'_>, cfg: &TimerConfig, out: &mut Actions) -> ClientInvite {
        on_response_c(code, response, cfg, out, self.request, |request| {
            ClientInvite::Proceeding(Proceeding { request })
        })
    }
}

impl Cancelling {
    fn on_response(self, code: u16, response: &Message<'_>, cfg: &TimerConfig, out: &mut Actions) -> ClientInvite {
        on_response_c(code, response, cfg, out, self.request, |request| {
            ClientInvite::Cancelling(Cancelling { request })
        })
    }
}

impl Expired {
    fn on_response(self, code: u16, response: &Message<'_>, cfg: &TimerConfig, out: &mut Actions) -> ClientInvite {
        if code < 200 {
            return ClientInvite::Expired(self);
        }
        out.cancel(TimerKind::B);
        if code < 300 {
            out.push(Action::PassUp(code));
            return ClientInvite::Terminated(out.terminate(Termination::Completed));
        }
        complete(&self.request, response, cfg, out)
    }
}

impl Completed {
    fn on_response(self, code: u16, out: &mut Actions) -> ClientInvite {
        match code {
            // RFC 3261 §17.1.1.2: a retransmitted final is answered by the
            // same ACK and not passed up.
            300.. => out.resend(&self.ack),
            // A 2xx cannot follow a negative final on one branch; pass it up
            // anyway, as every 2xx to an INVITE reaches the UAC (§16.7 step 5).
            200..=299 => out.push(Action::PassUp(code)),
            _ => {}
        }
        ClientInvite::Completed(self)
    }
}

/// Responses while Timer C runs: a 1xx restarts it (Kamailio
/// restart_fr_on_each_reply), a final stops it.
fn on_response_c(
    code: u16,
    response: &Message<'_>,
    cfg: &TimerConfig,
    out: &mut Actions,
    request: Packet,
    stay: impl FnOnce(Packet) -> ClientInvite,
) -> ClientInvite {
    out.push(Action::PassUp(code));
    if code < 200 {
        out.arm_spec(&INVITE_C, cfg);
        return stay(request);
    }
    out.cancel(TimerKind::C);
    finish(request, code, response, cfg, out)
}

/// A final response already passed up: 2xx ends the transaction (its ACK is
/// end-to-end, RFC 3261 §17.1.1.2), 300-699 is ACKed here.
fn finish(request: Packet, code: u16, response: &Message<'_>, cfg: &TimerConfig, out: &mut Actions) -> ClientInvite {
    if code < 300 {
        return ClientInvite::Terminated(out.terminate(Termination::Completed));
    }
    complete(&request, response, cfg, out)
}

/// RFC 3261 §17.1.1.3: ACK the negative final hop by hop, then Timer D.
fn complete(request: &Packet, response: &Message<'_>, cfg: &TimerConfig, out: &mut Actions) -> ClientInvite {
    let ack: Packet = ack_for(&reparse(request), response).into();
    out.send(&ack);
    out.arm_spec(&INVITE_D, cfg);
    ClientInvite::Completed(Completed { ack })
}

/// Timer C fired: report the local 408, CANCEL unless that was done, and
/// linger for the 487.
fn expire(request: Packet, send_cancel: bool, cfg: &TimerConfig, out: &mut Actions) -> ClientInvite {
    out.push(Action::TimedOut);
    if send_cancel {
        out.push(Action::SendCancel(cancel_packet(&request)));
    }
    out.arm_spec(&INVITE_B_EXPIRED, cfg);
    ClientInvite::Expired(Expired { request })
}

/// Timer A: re-send and double, capped at T2 (Kamailio retr_timer2).
fn retransmit(request: &Packet, interval: Duration, cfg: &TimerConfig, out: &mut Actions) -> Duration {
    out.resend(request);
    let next = INVITE_A.formula.next(cfg, interval);
    out.arm(TimerKind::A, next);
    next
}

fn cancel_packet(request: &Packet) -> Packet {
    cancel_for(&reparse(request)).into()
}

fn reparse(request: &Packet) -> Message<'_> {
    Message::parse(request).expect("the INVITE parsed when ClientTx::new started the transaction")
}

lifecycle!(ClientInvite);
