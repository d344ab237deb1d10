//! Transaction errors, split by fault (DESIGN.md style rule 4).

use crate::sip::ParseError;
use thiserror::Error;

/// The message is malformed, so no transaction key can be built: the
/// sender's fault. A request gets 400 with this text, a response is dropped.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum KeyError {
    /// A header the key is made of (Via, CSeq, From, To) is missing or does
    /// not parse (RFC 3261 §8.1.1 lists them as mandatory).
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// No Call-ID header, needed by the RFC 2543 key (RFC 3261 §17.2.3).
    #[error("Missing Call-ID header")]
    MissingCallId,
    /// The top Via of a response has no branch, so it cannot belong to a
    /// transaction of ours: we always send one (RFC 3261 §17.1.3).
    #[error("Missing Via branch")]
    MissingBranch,
    /// A server key was asked of a response; only requests open server
    /// transactions (RFC 3261 §17.2.3).
    #[error("Not a request")]
    NotARequest,
}

/// The proxy core used a transaction wrongly: an internal fault, never the
/// peer's. The transaction is left as it was.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum TxError {
    /// The bytes given to start a client transaction do not parse.
    #[error("outgoing request does not parse: {0}")]
    Unparsable(ParseError),
    /// A response where a request was expected, or the other way round.
    #[error("expected a {0}")]
    WrongKind(&'static str),
    /// ACK never opens a transaction: the ACK to a non-2xx belongs to the
    /// INVITE transaction and the ACK to a 2xx is end-to-end
    /// (RFC 3261 §17.1.1.3, §17.2.3).
    #[error("ACK does not create a transaction")]
    AckCreatesNoTransaction,
    /// The key of the message could not be built.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A status code outside 100..=699 (RFC 3261 §7.2).
    #[error("status code {0} out of range")]
    BadStatus(u16),
    /// A response after the final one (RFC 3261 §17.2.1, §17.2.2: one final
    /// per server transaction); Kamailio's t_reply says "already replied".
    #[error("final response already sent")]
    FinalAlreadySent,
    /// The transaction has ended.
    #[error("transaction terminated")]
    Terminated,
}
