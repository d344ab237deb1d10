//! Byte-range edits over a received message (DESIGN.md: rewrites are range
//! edits). Every byte outside an edited range is copied unchanged, so
//! headers the proxy does not understand are forwarded byte-exact.

use super::header::HeaderName;
use super::message::{Header, Message};
use super::params::Param;
use std::ops::Range;
use thiserror::Error;

/// Internal fault: the caller asked for edits that contradict each other.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum EditError {
    #[error("edits overlap at byte {0}")]
    Overlap(usize),
    #[error("edit range {0:?} outside message of {1} bytes")]
    OutOfRange(Range<usize>, usize),
}

#[derive(Debug, Clone)]
struct Edit {
    start: usize,
    end: usize,
    text: Range<usize>,
}

/// A reusable list of edits; `clear` keeps the buffers for the next message.
#[derive(Debug, Default)]
pub struct Editor {
    edits: Vec<Edit>,
    arena: Vec<u8>,
}

impl Editor {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn clear(&mut self) {
        self.edits.clear();
        self.arena.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.edits.is_empty()
    }

    /// Replaces `range` with the bytes `write` appends to the buffer it is
    /// given; lets callers format straight into the arena.
    pub fn replace_with(&mut self, range: Range<usize>, write: impl FnOnce(&mut Vec<u8>)) {
        let from = self.arena.len();
        write(&mut self.arena);
        self.edits.push(Edit { start: range.start, end: range.end, text: from..self.arena.len() });
    }

    pub fn replace(&mut self, range: Range<usize>, text: &[u8]) {
        self.replace_with(range, |a| a.extend_from_slice(text));
    }

    /// Inserts at `at`. Several inserts at one offset keep their call order.
    pub fn insert(&mut self, at: usize, text: &[u8]) {
        self.replace(at..at, text);
    }

    pub fn delete(&mut self, range: Range<usize>) {
        self.replace(range, b"");
    }

    /// Removes a whole header line (folded continuation lines included).
    pub fn remove_header(&mut self, msg: &Message<'_>, h: &Header<'_>) {
        let start = msg.offset_of(h.line);
        self.delete(start..start + h.line.len());
    }

    /// Replaces a header's value, keeping its name as written.
    pub fn replace_header_value(&mut self, msg: &Message<'_>, h: &Header<'_>, value: &[u8]) {
        let start = msg.offset_of(h.value);
        self.replace(start..start + h.value.len(), value);
    }

    /// Adds `Name: value` as the first header (e.g. a new top Via or
    /// Record-Route, RFC 3261 §16.6 steps 4 and 8).
    pub fn insert_header_first(&mut self, msg: &Message<'_>, name: HeaderName, value: &[u8]) {
        self.insert_header_at(msg.first_header_offset(), name.as_str().as_bytes(), value);
    }

    /// Adds `Name: value` right before an existing header.
    pub fn insert_header_before(&mut self, msg: &Message<'_>, before: &Header<'_>, name: &[u8], value: &[u8]) {
        self.insert_header_at(msg.offset_of(before.line), name, value);
    }

    /// Adds `Name: value` after the last header.
    pub fn append_header(&mut self, msg: &Message<'_>, name: &[u8], value: &[u8]) {
        self.insert_header_at(msg.headers_end(), name, value);
    }

    fn insert_header_at(&mut self, at: usize, name: &[u8], value: &[u8]) {
        self.replace_with(at..at, |a| {
            a.extend_from_slice(name);
            a.extend_from_slice(b": ");
            a.extend_from_slice(value);
            a.extend_from_slice(b"\r\n");
        });
    }

    /// Appends `;name[=value]` at the end of a parameter list (a header's
    /// or a URI's `params` slice, which must come from `msg`).
    pub fn add_param(&mut self, msg: &Message<'_>, params: &[u8], name: &[u8], value: Option<&[u8]>) {
        let at = msg.offset_of(params) + params.len();
        self.insert_param_at(at, name, value);
    }

    /// Inserts `;name[=value]` at an absolute offset (e.g. right after a
    /// URI's host:port, where Kamailio's add_contact_alias puts it).
    pub fn insert_param_at(&mut self, at: usize, name: &[u8], value: Option<&[u8]>) {
        self.replace_with(at..at, |a| {
            a.push(b';');
            a.extend_from_slice(name);
            if let Some(v) = value {
                a.push(b'=');
                a.extend_from_slice(v);
            }
        });
    }

    /// Removes one parameter (its `raw` text, leading `;` included).
    pub fn remove_param(&mut self, msg: &Message<'_>, p: &Param<'_>) {
        let start = msg.offset_of(p.raw);
        self.delete(start..start + p.raw.len());
    }

    /// Replaces one parameter with `;name[=value]`.
    pub fn replace_param(&mut self, msg: &Message<'_>, p: &Param<'_>, value: Option<&[u8]>) {
        let start = msg.offset_of(p.raw);
        let name = p.name;
        self.replace_with(start..start + p.raw.len(), |a| {
            a.push(b';');
            a.extend_from_slice(name);
            if let Some(v) = value {
                a.push(b'=');
                a.extend_from_slice(v);
            }
        });
    }

    /// Writes `src` with all edits applied to `out` (which is cleared).
    pub fn apply(&mut self, src: &[u8], out: &mut Vec<u8>) -> Result<(), EditError> {
        // Stable sort keeps same-offset inserts in call order.
        self.edits.sort_by_key(|e| (e.start, e.end));
        out.clear();
        out.reserve(src.len() + self.arena.len());
        let mut pos = 0;
        for e in &self.edits {
            if e.start > e.end || e.end > src.len() {
                return Err(EditError::OutOfRange(e.start..e.end, src.len()));
            }
            if e.start < pos {
                return Err(EditError::Overlap(e.start));
            }
            out.extend_from_slice(&src[pos..e.start]);
            out.extend_from_slice(&self.arena[e.text.clone()]);
            pos = e.end;
        }
        out.extend_from_slice(&src[pos..]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::params;

    const MSG: &[u8] = b"INVITE sip:bob@example.com;transport=udp SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n\
X-Weird:   keep   this  \r\n\
Route: <sip:proxy.example.com;lr>\r\n\
Contact: <sip:alice@192.168.1.10:5060;ob>;expires=60\r\n\
Content-Length: 0\r\n\
\r\n";

    fn edited(f: impl FnOnce(&Message<'_>, &mut Editor)) -> String {
        let m = Message::parse(MSG).unwrap();
        let mut e = Editor::new();
        f(&m, &mut e);
        let mut out = Vec::new();
        e.apply(m.as_bytes(), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn untouched_bytes_survive() {
        assert_eq!(edited(|_, _| {}).as_bytes(), MSG);
        let s = edited(|m, e| {
            let r = m.header(HeaderName::Route).unwrap();
            e.remove_header(m, &r);
        });
        assert!(!s.contains("Route:"));
        assert!(s.contains("X-Weird:   keep   this  \r\n"));
    }

    #[test]
    fn header_inserts_keep_order() {
        let s = edited(|m, e| {
            e.insert_header_first(m, HeaderName::RecordRoute, b"<sip:p1;lr>");
            e.insert_header_first(m, HeaderName::Via, b"SIP/2.0/UDP p1;branch=z9hG4bKx");
            e.append_header(m, b"P-Hint", b"outbound");
        });
        assert!(s.contains("SIP/2.0\r\nRecord-Route: <sip:p1;lr>\r\nVia: SIP/2.0/UDP p1;branch=z9hG4bKx\r\nVia:"));
        assert!(s.ends_with("Content-Length: 0\r\nP-Hint: outbound\r\n\r\n"));
    }

    #[test]
    fn params_edits() {
        let s = edited(|m, e| {
            let c = m.contacts().next().unwrap().unwrap();
            e.insert_param_at(m.offset_of(c.uri.raw) + c.uri.hostport_end(), b"alias", Some(b"203.0.113.7~40112~1"));
            e.add_param(m, c.params, b"received", Some(b"\"sip:203.0.113.7:40112\""));
            let p = params::iter(c.params).next().unwrap();
            e.replace_param(m, &p, Some(b"3600"));
        });
        assert!(s.contains(
            "Contact: <sip:alice@192.168.1.10:5060;alias=203.0.113.7~40112~1;ob>;expires=3600;received=\"sip:203.0.113.7:40112\"\r\n"
        ));
        let s = edited(|m, e| {
            let uri = crate::sip::Uri::parse(m.request_line().unwrap().uri).unwrap();
            let p = params::iter(uri.params).next().unwrap();
            e.remove_param(m, &p);
        });
        assert!(s.starts_with("INVITE sip:bob@example.com SIP/2.0\r\n"));
    }

    #[test]
    fn overlap_is_an_error() {
        let m = Message::parse(MSG).unwrap();
        let mut e = Editor::new();
        e.replace(5..10, b"x");
        e.replace(8..12, b"y");
        assert_eq!(e.apply(m.as_bytes(), &mut Vec::new()), Err(EditError::Overlap(8)));
        e.clear();
        e.replace(5..10_000, b"x");
        assert!(matches!(e.apply(m.as_bytes(), &mut Vec::new()), Err(EditError::OutOfRange(..))));
    }
}
