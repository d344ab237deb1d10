//! The INVITE server transaction (RFC 3261 §17.2.1, Figure 7).
//!
//! ```text
//!   Proceeding ──300-699 sent──▶ Completed ──ACK──▶ Confirmed ──Timer I──▶ Terminated
//!     │ 2xx sent                   │ Timer H (no ACK)
//!     ▼                            ▼
//!   Accepted ──Timer L──▶ Terminated
//! ```
//!
//! After a 2xx the transaction waits in the Accepted state of RFC 6026
//! §7.1 instead of ending at once as RFC 3261 had it: a retransmitted
//! INVITE is absorbed there rather than taken for a new request and
//! forked again, and further 2xx (from other branches) still go out. It
//! never retransmits a 2xx itself; the UAS does (RFC 3261 §13.3.1.4), and
//! the proxy core relays those. The ACK to a 2xx is end-to-end: the core
//! routes it whether or not it matches this transaction. Timer L runs
//! Kamailio's wt_timer, the wait state tm keeps a transaction in after its
//! final, instead of RFC 6026's 64·T1.

use super::action::{Actions, Packet, Termination};
use super::error::TxError;
use super::timers::{SERVER_G, SERVER_H, SERVER_I, SERVER_L, TimerConfig, TimerKind};
use crate::sip::{Message, Method};
use std::time::Duration;

#[derive(Debug)]
pub enum ServerInvite {
    Proceeding(Proceeding),
    Completed(Completed),
    Confirmed(Confirmed),
    Accepted(Accepted),
    Terminated(Termination),
}

/// No final sent yet. A retransmitted INVITE gets the last provisional.
#[derive(Debug)]
pub struct Proceeding {
    last: Option<Packet>,
}

/// A 300-699 was sent: Timer G retransmits it until the ACK, Timer H gives up.
#[derive(Debug)]
pub struct Completed {
    response: Packet,
    interval: Duration,
}

/// The ACK came; Timer I absorbs further ACKs.
#[derive(Debug)]
pub struct Confirmed {
    _private: (),
}

/// A 2xx was sent (RFC 6026 §7.1): retransmitted INVITEs are absorbed,
/// further 2xx pass, Timer L ends it.
#[derive(Debug)]
pub struct Accepted {
    _private: (),
}

impl ServerInvite {
    /// A new INVITE (RFC 3261 §17.2.1). `trying` is sent at once: the
    /// automatic 100 from [`trying_for`](super::trying_for) when Kamailio's
    /// auto_inv_100 is on, `None` when the core answers within 200 ms itself.
    pub fn start(trying: Option<Packet>, out: &mut Actions) -> ServerInvite {
        if let Some(trying) = &trying {
            out.send(trying);
        }
        ServerInvite::Proceeding(Proceeding { last: trying })
    }

    /// A request whose key matched: a retransmitted INVITE or the ACK to
    /// our negative final (RFC 3261 §17.2.3 maps ACK to INVITE).
    pub fn handle_request(
        &mut self,
        request: &Message<'_>,
        cfg: &TimerConfig,
        out: &mut Actions,
    ) -> Result<(), TxError> {
        let method = request.method().ok_or(TxError::WrongKind("request"))?;
        self.step(|state| match (state, method) {
            (Self::Completed(s), Method::Ack) if acks(request, &s.response) => {
                out.cancel(TimerKind::G);
                out.cancel(TimerKind::H);
                out.arm_spec(&SERVER_I, cfg);
                Self::Confirmed(Confirmed { _private: () })
            }
            // Not the ACK to our response (RFC 3261 §17.2.3): dropped.
            (Self::Completed(s), Method::Ack) => Self::Completed(s),
            (Self::Completed(s), _) => {
                out.resend(&s.response);
                Self::Completed(s)
            }
            (Self::Proceeding(s), Method::Invite) => {
                if let Some(last) = &s.last {
                    out.resend(last);
                }
                Self::Proceeding(s)
            }
            // Confirmed absorbs ACKs and retransmissions alike, Accepted
            // retransmitted INVITEs (RFC 6026 §7.1: never passed up, no 2xx
            // generated); an ACK in Proceeding matches nothing we sent.
            (other, _) => other,
        });
        Ok(())
    }

    /// The core answers the INVITE through this transaction.
    pub fn send_response(
        &mut self,
        code: u16,
        response: Packet,
        cfg: &TimerConfig,
        out: &mut Actions,
    ) -> Result<(), TxError> {
        check_status(code)?;
        match self {
            Self::Proceeding(_) => {}
            // RFC 6026 §7.1: a 2xx from the TU in Accepted goes out.
            Self::Accepted(_) if (200..=299).contains(&code) => {
                out.send(&response);
                return Ok(());
            }
            Self::Completed(_) | Self::Confirmed(_) | Self::Accepted(_) => return Err(TxError::FinalAlreadySent),
            Self::Terminated(_) => return Err(TxError::Terminated),
        }
        self.step(|state| match state {
            Self::Proceeding(s) => s.respond(code, response, cfg, out),
            other => other,
        });
        Ok(())
    }

    pub fn handle_timer(&mut self, kind: TimerKind, cfg: &TimerConfig, out: &mut Actions) {
        self.step(|state| match (state, kind) {
            (Self::Completed(s), TimerKind::G) => {
                out.resend(&s.response);
                let interval = SERVER_G.formula.next(cfg, s.interval);
                out.arm(TimerKind::G, interval);
                Self::Completed(Completed { interval, ..s })
            }
            (Self::Completed(_), TimerKind::H) => {
                out.cancel(TimerKind::G);
                Self::Terminated(out.terminate(Termination::AckTimeout))
            }
            (Self::Confirmed(_), TimerKind::I) | (Self::Accepted(_), TimerKind::L) => {
                Self::Terminated(out.terminate(Termination::Completed))
            }
            (state, _) => state,
        });
    }

    pub fn state_name(&self) -> &'static str {
        match self {
            Self::Proceeding(_) => "Proceeding",
            Self::Completed(_) => "Completed",
            Self::Confirmed(_) => "Confirmed",
            Self::Accepted(_) => "Accepted",
            Self::Terminated(_) => "Terminated",
        }
    }

    /// Past Proceeding: a final response went out.
    pub fn final_sent(&self) -> bool {
        !matches!(self, Self::Proceeding(_))
    }

    /// A 2xx went out (RFC 6026 §7.1): an ACK that matches is the
    /// end-to-end ACK to it, for the core to route.
    pub fn is_accepted(&self) -> bool {
        matches!(self, Self::Accepted(_))
    }
}

impl Proceeding {
    fn respond(self, code: u16, response: Packet, cfg: &TimerConfig, out: &mut Actions) -> ServerInvite {
        out.send(&response);
        match code {
            100..=199 => ServerInvite::Proceeding(Proceeding { last: Some(response) }),
            200..=299 => {
                out.arm_spec(&SERVER_L, cfg);
                ServerInvite::Accepted(Accepted { _private: () })
            }
            _ => {
                out.arm_spec(&SERVER_G, cfg);
                out.arm_spec(&SERVER_H, cfg);
                ServerInvite::Completed(Completed { response, interval: SERVER_G.formula.initial(cfg) })
            }
        }
    }
}

/// RFC 3261 §17.2.3: an ACK matches when its To tag is the one our final
/// carried. RFC 2543 keys leave the To tag out, so this is their check; for
/// an RFC 3261 branch it always holds (§17.1.1.3 copies the To into the ACK).
fn acks(ack: &Message<'_>, response: &[u8]) -> bool {
    let Ok(ours) = Message::parse(response) else { return true };
    match ours.to().ok().and_then(|to| to.tag()) {
        Some(tag) => ack.to().ok().and_then(|to| to.tag()) == Some(tag),
        None => true,
    }
}

/// RFC 3261 §7.2: status codes are 100..=699.
pub(super) fn check_status(code: u16) -> Result<(), TxError> {
    if (100..=699).contains(&code) { Ok(()) } else { Err(TxError::BadStatus(code)) }
}

lifecycle!(ServerInvite);
