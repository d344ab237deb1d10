//! Errors split by fault (DESIGN.md style rule 4): a message the table
//! cannot read is the sender's fault; an operation on a stored dialog that
//! cannot proceed is the operator's (RPC) or the dialog's state.

use super::bye::Side;
use super::state::State;
use crate::sip::ParseError;
use thiserror::Error;

/// Malformed input. The message is not tracked: a request may still be
/// relayed or answered `400` by the sanity checks, a reply is dropped.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum MessageError {
    /// A header the dialog needs (Call-ID, From, To, CSeq, Contact,
    /// Record-Route, Route) is missing or does not parse.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// From has no tag: no dialog can be identified (RFC 3261 §8.1.1.3,
    /// Kamailio `pre_match_parse` "failed to get From header").
    #[error("From tag missing")]
    MissingFromTag,
    /// The initial INVITE has no Contact or more than one: the caller has no
    /// remote target (RFC 3261 §8.1.1.8; Kamailio `populate_leg_info` "bad
    /// Contact HDR" refuses the dialog).
    #[error("INVITE needs exactly one Contact")]
    BadContact,
}

/// Why an operation on a stored dialog cannot proceed.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum DialogError {
    /// No dialog has this handle (RPC fault 404 "Dialog not found").
    #[error("Dialog not found")]
    NotFound,
    /// The dialog was never answered, so it has no callee to send a BYE to
    /// (Kamailio ends only confirmed dialogs with BYE).
    #[error("Dialog not confirmed (state {})", .0.code())]
    NotConfirmed(State),
    /// The side's remote target is empty: its 2xx carried no Contact.
    #[error("No remote target for the {0:?}")]
    NoTarget(Side),
}
