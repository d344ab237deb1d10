//! The non-INVITE server transaction (RFC 3261 §17.2.2, Figure 8).
//!
//! ```text
//!   Trying ──1xx sent──▶ Proceeding
//!     │ 200-699 sent       │ 200-699 sent
//!     ▼                    ▼
//!   Completed ──Timer J──▶ Terminated
//! ```

use super::action::{Actions, Packet, Termination};
use super::error::TxError;
use super::server_invite::check_status;
use super::timers::{SERVER_J, TimerConfig, TimerKind};
use crate::sip::Message;

#[derive(Debug)]
pub enum ServerNonInvite {
    Trying(Trying),
    Proceeding(Proceeding),
    Completed(Completed),
    Terminated(Termination),
}

/// Nothing sent yet: retransmissions are absorbed (RFC 3261 §17.2.2).
#[derive(Debug)]
pub struct Trying {
    _private: (),
}

/// A provisional was sent; a retransmission gets it again.
#[derive(Debug)]
pub struct Proceeding {
    last: Packet,
}

/// The final was sent; Timer J keeps it for retransmitted requests.
#[derive(Debug)]
pub struct Completed {
    response: Packet,
}

impl ServerNonInvite {
    /// A new non-INVITE request (RFC 3261 §17.2.2): nothing to send yet.
    pub fn start() -> ServerNonInvite {
        ServerNonInvite::Trying(Trying { _private: () })
    }

    /// A retransmission of the request that created the transaction.
    pub fn handle_request(&mut self, request: &Message<'_>, out: &mut Actions) -> Result<(), TxError> {
        request.method().ok_or(TxError::WrongKind("request"))?;
        match self {
            Self::Proceeding(s) => out.resend(&s.last),
            Self::Completed(s) => out.resend(&s.response),
            Self::Trying(_) | Self::Terminated(_) => {}
        }
        Ok(())
    }

    pub fn send_response(
        &mut self,
        code: u16,
        response: Packet,
        cfg: &TimerConfig,
        out: &mut Actions,
    ) -> Result<(), TxError> {
        check_status(code)?;
        match self {
            Self::Trying(_) | Self::Proceeding(_) => {}
            Self::Completed(_) => return Err(TxError::FinalAlreadySent),
            Self::Terminated(_) => return Err(TxError::Terminated),
        }
        out.send(&response);
        *self = if code < 200 {
            Self::Proceeding(Proceeding { last: response })
        } else {
            out.arm_spec(&SERVER_J, cfg);
            Self::Completed(Completed { response })
        };
        Ok(())
    }

    pub fn handle_timer(&mut self, kind: TimerKind, out: &mut Actions) {
        if let (Self::Completed(_), TimerKind::J) = (&*self, kind) {
            *self = Self::Terminated(out.terminate(Termination::Completed));
        }
    }

    /// Past Trying and Proceeding: a final response went out.
    pub fn final_sent(&self) -> bool {
        !matches!(self, Self::Trying(_) | Self::Proceeding(_))
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

lifecycle!(ServerNonInvite);
