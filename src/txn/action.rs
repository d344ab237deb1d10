//! What a transaction asks of the proxy core: actions as plain data.

use super::TimerConfig;
use super::timers::{TimerKind, TimerSpec};
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

/// Bytes of one SIP message, shared rather than copied: a transaction keeps
/// what it sent for retransmission (RFC 3261 §17.1.1.2, §17.2.1) and an
/// action hands out a second reference, which can stay alive until an
/// io_uring send completes.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Packet(Arc<[u8]>);

impl Packet {
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl Deref for Packet {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for Packet {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for Packet {
    fn from(bytes: Vec<u8>) -> Packet {
        Packet(bytes.into())
    }
}

impl From<&[u8]> for Packet {
    fn from(bytes: &[u8]) -> Packet {
        Packet(bytes.into())
    }
}

impl fmt::Debug for Packet {
    /// The start line only: enough to tell messages apart in a failed test.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let line = self.0.split(|&b| b == b'\r' || b == b'\n').next().unwrap_or_default();
        write!(f, "Packet({:?}, {} bytes)", String::from_utf8_lossy(line), self.0.len())
    }
}

/// Why a transaction ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Termination {
    /// Normal end: a 2xx passed or sent, or the wait timer (D, I, J, K) of
    /// the Completed or Confirmed state fired.
    Completed,
    /// No final response in time (Timer B, C or F); [`Action::TimedOut`]
    /// came first unless the timeout had already been reported.
    Timeout,
    /// Server INVITE: Timer H fired without an ACK for the negative final
    /// (RFC 3261 §17.2.1: "a transaction failure has occurred").
    AckTimeout,
    /// The transport reported a failure (RFC 3261 §17.1.4, §17.2.4); a
    /// client branch counts as answered by 503 (§16.9).
    TransportError,
}

/// One thing the proxy core must do for a transaction. Messages go to the
/// transaction's peer, which the core keeps next to it: the next hop for a
/// client transaction, the RFC 3261 §18.2.2 response address for a server one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Transmit a message for the first time.
    Send(Packet),
    /// Transmit again a message already sent: a timer retransmission, or
    /// the ACK or response re-sent to absorb a retransmission from the peer.
    Resend(Packet),
    /// Arm this transaction's timer of this kind to fire after the duration,
    /// replacing the one of that kind if it is armed.
    Arm(TimerKind, Duration),
    /// Disarm this transaction's timer of this kind if it is armed.
    Cancel(TimerKind),
    /// Client: the response just handled (status code given) is new and
    /// goes up to the proxy core. Absent for absorbed retransmissions.
    PassUp(u16),
    /// Client: no final response in time. The core acts as if this branch
    /// received a 408 (RFC 3261 §16.8, §17.1.1.2; Kamailio's local 408 that
    /// runs failure_route).
    TimedOut,
    /// Client INVITE: start a CANCEL for this branch, a new non-INVITE
    /// client transaction to the same peer with these bytes (RFC 3261 §9.1).
    SendCancel(Packet),
    /// The transaction is over: drop it and disarm any timer it still has.
    Terminated(Termination),
}

/// The sink transitions write their actions into. The core keeps one and
/// clears it after carrying the actions out, so the steady state allocates
/// nothing.
#[derive(Debug, Default)]
pub struct Actions {
    list: Vec<Action>,
}

impl Actions {
    pub fn new() -> Actions {
        Actions::default()
    }

    pub fn as_slice(&self) -> &[Action] {
        &self.list
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn clear(&mut self) {
        self.list.clear();
    }

    /// Takes the actions out in order, leaving the sink empty with its capacity.
    pub fn drain(&mut self) -> std::vec::Drain<'_, Action> {
        self.list.drain(..)
    }

    /// Whether an [`Action::Terminated`] is among the actions.
    pub fn terminated(&self) -> Option<Termination> {
        self.list.iter().find_map(|a| match a {
            Action::Terminated(t) => Some(*t),
            _ => None,
        })
    }

    pub(super) fn push(&mut self, action: Action) {
        self.list.push(action);
    }

    pub(super) fn send(&mut self, packet: &Packet) {
        self.push(Action::Send(packet.clone()));
    }

    pub(super) fn resend(&mut self, packet: &Packet) {
        self.push(Action::Resend(packet.clone()));
    }

    pub(super) fn arm(&mut self, kind: TimerKind, after: Duration) {
        self.push(Action::Arm(kind, after));
    }

    /// Arms a timer at the initial duration its table row gives.
    pub(super) fn arm_spec(&mut self, spec: &TimerSpec, cfg: &TimerConfig) {
        self.arm(spec.kind, spec.formula.initial(cfg));
    }

    pub(super) fn cancel(&mut self, kind: TimerKind) {
        self.push(Action::Cancel(kind));
    }

    pub(super) fn terminate(&mut self, why: Termination) -> Termination {
        self.push(Action::Terminated(why));
        why
    }
}

impl<'a> IntoIterator for &'a Actions {
    type Item = &'a Action;
    type IntoIter = std::slice::Iter<'a, Action>;

    fn into_iter(self) -> Self::IntoIter {
        self.list.iter()
    }
}
