//! Transaction matching keys (RFC 3261 §17.1.3, §17.2.3, §9.2).
//!
//! A key is one owned byte string: a tag byte, then the fields that decide a
//! match, each length-prefixed so no two field lists encode alike. Building
//! one allocates once, exactly the key's size, and copies only those fields.

use super::error::KeyError;
use crate::sip::{Message, Method, Via};
use std::fmt;

/// An RFC 3261 branch (§8.1.1.7), owned: the transaction id a Via carries.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Branch(Box<[u8]>);

impl Branch {
    pub fn new(bytes: &[u8]) -> Branch {
        Branch(bytes.into())
    }

    /// The branch of a Via, `None` when it has none.
    pub fn of(via: &Via<'_>) -> Option<Branch> {
        via.branch().map(Branch::new)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Starts with the magic cookie `z9hG4bK`, so it is unique per
    /// transaction and matching may rely on it (RFC 3261 §17.2.3).
    pub fn is_rfc3261(&self) -> bool {
        self.0.starts_with(crate::sip::via::MAGIC_COOKIE)
    }
}

impl fmt::Debug for Branch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Branch({:?})", String::from_utf8_lossy(&self.0))
    }
}

/// Which rule built a key; the first byte of every key.
const SERVER_RFC3261: u8 = 1;
const SERVER_RFC2543: u8 = 2;
const CLIENT: u8 = 3;

/// A transaction key, hashable and owned, for the core's transaction map.
/// Client and server keys never compare equal, so one map may hold both.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TxKey(Box<[u8]>);

impl TxKey {
    /// The key a received request is matched under (RFC 3261 §17.2.3). An
    /// ACK maps to INVITE, so the ACK to a negative final finds the INVITE
    /// server transaction; a CANCEL keeps its own method and opens its own
    /// transaction (see [`TxKey::cancel_target`]).
    pub fn server(request: &Message<'_>) -> Result<TxKey, KeyError> {
        let method = request.method().ok_or(KeyError::NotARequest)?;
        let class = match method {
            Method::Ack => Method::Invite,
            other => other,
        };
        server_key(request, class)
    }

    /// The key of the INVITE server transaction a CANCEL cancels: the
    /// CANCEL's own key with INVITE as the method (RFC 3261 §9.2).
    pub fn cancel_target(cancel: &Message<'_>) -> Result<TxKey, KeyError> {
        if !cancel.is_request() {
            return Err(KeyError::NotARequest);
        }
        server_key(cancel, Method::Invite)
    }

    /// The client key of a request we send or of a response to it: top Via
    /// branch plus CSeq method, the method telling an INVITE from the
    /// CANCEL that shares its branch (RFC 3261 §17.1.3).
    pub fn client(message: &Message<'_>) -> Result<TxKey, KeyError> {
        let via = message.via_top()?;
        let branch = via.branch().ok_or(KeyError::MissingBranch)?;
        Ok(client_key(branch, message.cseq()?.method))
    }

    /// [`TxKey::client`] from parts the core already holds.
    pub fn client_for(branch: &[u8], cseq_method: Method<'_>) -> TxKey {
        client_key(branch, cseq_method)
    }

    /// Built by the RFC 2543 fallback rules (no magic cookie in the branch).
    pub fn is_rfc2543(&self) -> bool {
        self.0.first() == Some(&SERVER_RFC2543)
    }

    pub fn is_client(&self) -> bool {
        self.0.first() == Some(&CLIENT)
    }
}

impl fmt::Debug for TxKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TxKey({})", self.0.escape_ascii())
    }
}

fn client_key(branch: &[u8], method: Method<'_>) -> TxKey {
    let method = method.as_bytes();
    let mut key = KeyBuf::new(CLIENT, field_len(branch) + field_len(method));
    key.field(branch);
    key.field(method);
    key.finish()
}

fn server_key(request: &Message<'_>, class: Method<'_>) -> Result<TxKey, KeyError> {
    let via = request.via_top()?;
    let method = class.as_bytes();
    match via.branch() {
        // RFC 3261 §17.2.3: branch, sent-by and method.
        Some(branch) if via.is_rfc3261_branch() => {
            let host = via.host_text;
            let len = field_len(branch) + field_len(host) + 2 + field_len(method);
            let mut key = KeyBuf::new(SERVER_RFC3261, len);
            key.field(branch);
            key.field_lowercase(host);
            key.bytes(&via.port.unwrap_or(0).to_le_bytes());
            key.field(method);
            Ok(key.finish())
        }
        _ => rfc2543_key(request, &via, method),
    }
}

/// RFC 3261 §17.2.3 for RFC 2543 peers: Request-URI, To tag, From tag,
/// Call-ID, CSeq number, top Via and method. The INVITE family (INVITE, its
/// ACK, the CANCEL lookup) leaves the To tag out: the ACK carries the tag
/// our negative response added, which the INVITE did not have.
fn rfc2543_key(request: &Message<'_>, via: &Via<'_>, method: &[u8]) -> Result<TxKey, KeyError> {
    let uri = request.request_line().ok_or(KeyError::NotARequest)?.uri;
    let call_id = request.call_id().ok_or(KeyError::MissingCallId)?;
    let seq = request.cseq()?.seq.to_le_bytes();
    let from_tag = request.from()?.tag().unwrap_or_default();
    let to_tag = if method == Method::Invite.as_bytes() { b"" } else { request.to()?.tag().unwrap_or_default() };
    let fields = [uri, to_tag, from_tag, call_id, via.raw, method];
    let len = fields.iter().map(|f| field_len(f)).sum::<usize>() + seq.len();
    let mut key = KeyBuf::new(SERVER_RFC2543, len);
    for field in fields {
        key.field(field);
    }
    key.bytes(&seq);
    Ok(key.finish())
}

fn field_len(field: &[u8]) -> usize {
    2 + field.len()
}

/// Fills a key buffer allocated at its final size.
struct KeyBuf {
    buf: Vec<u8>,
    len: usize,
}

impl KeyBuf {
    fn new(tag: u8, len: usize) -> KeyBuf {
        let mut buf = Vec::with_capacity(1 + len);
        buf.push(tag);
        KeyBuf { buf, len: 1 + len }
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// A message is at most 64 KiB (`sip::message::MAX_MESSAGE`), so any
    /// field's length fits the u16 prefix.
    fn prefix(&mut self, field: &[u8]) {
        let len = u16::try_from(field.len()).unwrap_or(u16::MAX);
        self.buf.extend_from_slice(&len.to_le_bytes());
    }

    fn field(&mut self, field: &[u8]) {
        self.prefix(field);
        self.bytes(field);
    }

    /// Host names compare case-insensitively (RFC 3261 §19.1.4).
    fn field_lowercase(&mut self, field: &[u8]) {
        self.prefix(field);
        self.buf.extend(field.iter().map(u8::to_ascii_lowercase));
    }

    fn finish(self) -> TxKey {
        debug_assert_eq!(self.buf.len(), self.len, "key length computed exactly");
        TxKey(self.buf.into_boxed_slice())
    }
}
