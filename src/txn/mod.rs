//! SIP transactions over UDP (RFC 3261 §17) as sans-IO state machines.
//!
//! A transaction never touches a socket or a clock. The proxy core feeds it
//! input (`handle_response`, `handle_request`, `handle_timer`, `send_response`,
//! `handle_transport_error`) together with an [`Actions`] sink, and then carries
//! out what it finds there: send these bytes, arm or cancel this timer, pass
//! this response up, the transaction has ended. Timers are relative durations
//! ([`Action::Arm`]); the core turns them into deadlines on its
//! [`TimerWheel`](crate::timer::TimerWheel), and [`ArmedTimers`] keeps the
//! wheel ids of one transaction so that takes O(1). A test drives virtual time
//! and a 32 s Timer H runs in microseconds.
//!
//! Each state is its own type and every transition consumes it (DESIGN.md
//! style rule 2); the wrappers [`ClientTx`] and [`ServerTx`] take `&mut self`
//! so the core can keep many transactions in a map keyed by [`TxKey`].
//!
//! | RFC 3261                      | here                                    |
//! |-------------------------------|-----------------------------------------|
//! | §17.1.1 client INVITE, Fig. 5 | [`ClientInvite`] in `client_invite`     |
//! | §17.1.2 client non-INVITE     | [`ClientNonInvite`]                     |
//! | §17.2.1 server INVITE, Fig. 7 | [`ServerInvite`], with RFC 6026 Accepted |
//! | §17.2.2 server non-INVITE     | [`ServerNonInvite`]                     |
//! | §17.1.3, §17.2.3 matching     | [`TxKey`], [`Branch`]                   |
//! | Table 4 (timers A..K), 6026 L | [`TIMER_TABLE`], [`TimerConfig`]        |
//!
//! Where Kamailio's tm differs from the RFC the Kamailio behaviour is kept
//! (reference/kamailio-semantics.md §7): Timer A is capped at T2, Timer B
//! and F are `fr_timer`, a provisional switches an INVITE to `fr_inv_timer`
//! (our Timer C) restarted on every 1xx, an INVITE gets an automatic
//! `100 trying -- your call is important to us`, and a branch whose
//! `fr_inv_timer` fires after a provisional is CANCELled and reported as a
//! local 408 (`noisy_ctimer`).
//!
//! Only unreliable transports are modelled: every timer the RFC sets to zero
//! for TCP is armed with its UDP value.

#![forbid(unsafe_code)]

/// The lifecycle methods every transaction type shares: a transport
/// failure ends it (RFC 3261 §17.1.1.2, §17.1.2.2, §17.2.4), and `step`
/// runs a transition that consumes the current state.
macro_rules! lifecycle {
    ($t:ident) => {
        impl $t {
            /// RFC 3261 §17.1.1.2 / §17.2.4: a transport failure ends the transaction.
            pub fn handle_transport_error(&mut self, out: &mut Actions) {
                if !self.is_terminated() {
                    *self = Self::Terminated(out.terminate(Termination::TransportError));
                }
            }

            pub fn is_terminated(&self) -> bool {
                matches!(self, Self::Terminated(_))
            }

            // Not every type needs it: the server non-INVITE one transitions in place.
            #[allow(dead_code)]
            fn step(&mut self, transition: impl FnOnce($t) -> $t) {
                let state = std::mem::replace(self, Self::Terminated(Termination::Completed));
                *self = transition(state);
            }
        }
    };
}

mod action;
mod armed;
mod build;
mod client;
pub mod client_invite;
pub mod client_non_invite;
mod error;
mod key;
mod server;
pub mod server_invite;
pub mod server_non_invite;
mod timers;

pub use action::{Action, Actions, Packet, Termination};
pub use armed::ArmedTimers;
pub use build::{AUTO_INV_100_REASON, ack_for, cancel_for, trying_for};
pub use client::ClientTx;
pub use client_invite::ClientInvite;
pub use client_non_invite::ClientNonInvite;
pub use error::{KeyError, TxError};
pub use key::{Branch, TxKey};
pub use server::ServerTx;
pub use server_invite::ServerInvite;
pub use server_non_invite::ServerNonInvite;
pub use timers::{Formula, TIMER_TABLE, TimerConfig, TimerConfigError, TimerKind, TimerSpec, TxType};

#[cfg(test)]
mod tests;
