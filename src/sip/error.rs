//! Malformed-input errors. Every variant is a fault of the sender: a request
//! that fails with one gets `400` with the Display text as reason phrase
//! (RFC 3261 §21.4.1), a response is dropped (RFC 3261 §16.7 does not let a
//! proxy answer a response).

use super::header::HeaderName;
use thiserror::Error;

#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// Nothing but white space: a keepalive, never answered (RFC 5626 §3.5.1).
    #[error("Empty message")]
    Empty,
    /// The first line is neither a Request-Line nor a Status-Line
    /// (RFC 3261 §7.1, §7.2), e.g. extra or trailing spaces (RFC 4475 §3.1.2.9/10).
    #[error("Malformed Request-Line")]
    BadStartLine,
    /// SIP-Version that is not `SIP/<digits>.<digits>` (RFC 3261 §7.1).
    #[error("Malformed SIP version")]
    BadVersion,
    /// Status code that is not three digits 100..699 (RFC 3261 §7.2, RFC 4475 §3.1.2.19).
    #[error("Bad status code")]
    BadStatusCode,
    /// The Request-URI does not parse (RFC 4475 §3.1.2.7, §3.1.2.8).
    #[error("Bad Request-URI")]
    BadRequestUri,
    /// The Request-URI carries escaped headers (RFC 4475 §3.1.2.11: SHOULD reject).
    #[error("Headers not allowed in Request-URI")]
    HeadersInRequestUri,
    /// A header line with no colon or a name that is not a token (RFC 3261 §7.3).
    #[error("Malformed header line")]
    BadHeaderLine,
    /// More headers than the view indexes; bounded so a hostile datagram
    /// cannot make the parser allocate.
    #[error("Too many headers")]
    TooManyHeaders,
    /// The header section does not end with a line break.
    #[error("Truncated message")]
    Truncated,
    /// Content-Length is not a non-negative decimal that fits (RFC 4475 §3.1.2.3).
    #[error("Bad Content-Length")]
    BadContentLength,
    /// Content-Length larger than the bytes received (RFC 3261 §18.3, RFC 4475 §3.1.2.2).
    #[error("Content-Length larger than message")]
    ContentLengthTooLarge,
    /// A header the proxy interprets does not parse (RFC 3261 §25.1 grammar).
    #[error("Bad {} header", .0.as_str())]
    BadHeader(HeaderName),
    /// A header that may appear once appears again (RFC 4475 §3.3.8, §3.3.9).
    #[error("Duplicate {} header", .0.as_str())]
    DuplicateHeader(HeaderName),
    /// A mandatory header is missing (RFC 3261 §8.1.1, RFC 4475 §3.3.1).
    #[error("Missing {} header", .0.as_str())]
    MissingHeader(HeaderName),
    /// CSeq method differs from the request method (RFC 3261 §8.1.1.5, RFC 4475 §3.1.2.17).
    #[error("CSeq method does not match request method")]
    CSeqMethodMismatch,
    /// A stream message without Content-Length (RFC 3261 §18.3).
    #[error("Missing Content-Length on stream")]
    MissingContentLength,
    /// A stream message whose header section exceeds the size limit.
    #[error("Message too large")]
    TooLarge,
}
