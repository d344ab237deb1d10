//! The SIP message layer: a zero-copy view over received bytes (RFC 3261
//! §7, §20, §25), typed values on demand, range edits and local responses.

mod charclass;
pub mod edit;
pub mod error;
pub mod fmt;
pub mod framing;
pub mod header;
pub mod list;
pub mod message;
pub mod method;
pub mod nameaddr;
pub mod params;
pub mod response;
pub mod transport;
pub mod typed;
pub mod uri;
pub mod via;

pub use edit::Editor;
pub use error::ParseError;
pub use header::HeaderName;
pub use message::{Header, Message, StartLine};
pub use method::Method;
pub use nameaddr::NameAddr;
pub use typed::{CSeq, ContactSet};
pub use uri::{Host, Scheme, Uri};
pub use via::Via;

/// Whether `sub` lies inside `base` (a slice of the same buffer).
pub fn contains(base: &[u8], sub: &[u8]) -> bool {
    let (b, s) = (base.as_ptr() as usize, sub.as_ptr() as usize);
    s >= b && s + sub.len() <= b + base.len()
}

/// Byte offset of `sub` within `base`. Every slice the parsers hand out
/// points into the received buffer, so its position is its address minus
/// the buffer's: this is what lets edits address ranges without copying.
pub fn offset_in(base: &[u8], sub: &[u8]) -> usize {
    let off = (sub.as_ptr() as usize).wrapping_sub(base.as_ptr() as usize);
    debug_assert!(off <= base.len(), "slice does not point into the buffer");
    off.min(base.len())
}
