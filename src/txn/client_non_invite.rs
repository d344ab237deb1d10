//! The non-INVITE client transaction (RFC 3261 §17.1.2, Figure 6), with
//! Kamailio's fr_timer as Timer F.
//!
//! ```text
//!   Trying ──1xx──▶ Proceeding
//!     │ 200-699        │ 200-699
//!     ▼                ▼
//!   Completed ──Timer K──▶ Terminated
//!   Timer F (Trying, Proceeding) ──▶ Terminated (timeout)
//! ```

use super::action::{Action, Actions, Packet, Termination};
use super::error::TxError;
use super::timers::{NON_INVITE_E, NON_INVITE_E_T2, NON_INVITE_F, NON_INVITE_K, TimerConfig, TimerKind};
use crate::sip::Message;
use std::time::Duration;

#[derive(Debug)]
pub enum ClientNonInvite {
    Trying(Trying),
    Proceeding(Proceeding),
    Completed(Completed),
    Terminated(Termination),
}

/// Request sent, nothing heard: Timer E retransmits from T1 doubling to T2.
#[derive(Debug)]
pub struct Trying {
    request: Packet,
    interval: Duration,
}

/// A provisional came: Timer E now re-arms at T2 each time it fires.
#[derive(Debug)]
pub struct Proceeding {
    request: Packet,
}

/// Final received; Timer K absorbs its retransmissions.
#[derive(Debug)]
pub struct Completed {
    _private: (),
}

impl ClientNonInvite {
    /// Sends the request (RFC 3261 §17.1.2.2: Timer E at T1, Timer F).
    pub(super) fn start(request: Packet, cfg: &TimerConfig, out: &mut Actions) -> ClientNonInvite {
        out.send(&request);
        out.arm_spec(&NON_INVITE_E, cfg);
        out.arm_spec(&NON_INVITE_F, cfg);
        ClientNonInvite::Trying(Trying { request, interval: NON_INVITE_E.formula.initial(cfg) })
    }

    pub fn handle_response(
        &mut self,
        response: &Message<'_>,
        cfg: &TimerConfig,
        out: &mut Actions,
    ) -> Result<(), TxError> {
        let code = response.status_line().ok_or(TxError::WrongKind("response"))?.code;
        self.step(|state| match state {
            Self::Trying(s) => on_response(s.request, code, cfg, out),
            Self::Proceeding(s) => on_response(s.request, code, cfg, out),
            // RFC 3261 §17.1.2.2: Completed absorbs retransmitted finals.
            other => other,
        });
        Ok(())
    }

    pub fn handle_timer(&mut self, kind: TimerKind, cfg: &TimerConfig, out: &mut Actions) {
        self.step(|state| match (state, kind) {
            (Self::Trying(s), TimerKind::E) => {
                out.resend(&s.request);
                let interval = NON_INVITE_E.formula.next(cfg, s.interval);
                out.arm(TimerKind::E, interval);
                Self::Trying(Trying { interval, ..s })
            }
            (Self::Proceeding(s), TimerKind::E) => {
                out.resend(&s.request);
                out.arm_spec(&NON_INVITE_E_T2, cfg);
                Self::Proceeding(s)
            }
            (Self::Trying(_) | Self::Proceeding(_), TimerKind::F) => {
                out.cancel(TimerKind::E);
                out.push(Action::TimedOut);
                Self::Terminated(out.terminate(Termination::Timeout))
            }
            (Self::Completed(_), TimerKind::K) => Self::Terminated(out.terminate(Termination::Completed)),
            (state, _) => state,
        });
    }

    pub fn state_name(&self) -> &'static str {
        match self {
            Self::Trying(_) => "Trying",
            Self::Proceeding(_) => "Proceeding",
            Self::Completed(_) => "Completed",
            Self::Terminated(_) => "Terminated",
        }
    }
}

/// Trying and Proceeding answer alike; only Timer E's next value differs,
/// and the RFC keeps the running E until it fires (§17.1.2.2).
fn on_response(request: Packet, code: u16, cfg: &TimerConfig, out: &mut Actions) -> ClientNonInvite {
    out.push(Action::PassUp(code));
    if code < 200 {
        return ClientNonInvite::Proceeding(Proceeding { request });
    }
    out.cancel(TimerKind::E);
    out.cancel(TimerKind::F);
    out.arm_spec(&NON_INVITE_K, cfg);
    ClientNonInvite::Completed(Completed { _private: () })
}

lifecycle!(ClientNonInvite);
