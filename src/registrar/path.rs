//! The Path of a REGISTER (RFC 3327; Kamailio registrar/path.c
//! build_path_vector), and its first hop for lookup.

use super::outcome::SaveError;
use crate::sip::list::{CommaList, trim_lws};
use crate::sip::uri::unescape_into;
use crate::sip::{HeaderName, Message, NameAddr};

/// Longest Path stored, all headers joined (a sipedge bound, in the range
/// of Kamailio's Path buffer).
const PATH_MAX: usize = 512;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RegisterPath {
    /// Every Path header value, in order, joined with `,` (as Kamailio
    /// stores and echoes it).
    pub joined: Box<[u8]>,
    /// The first hop's `received` URI parameter, unescaped, for
    /// `path_use_received`.
    pub received: Option<Vec<u8>>,
}

impl RegisterPath {
    /// `None` without Path headers. Refused (400 "Path parse error") when
    /// too long, when an entry is not a bracketed name-addr, or when the
    /// first hop is not a loose router (RFC 3327 §5.3).
    pub fn from_message(msg: &Message<'_>) -> Result<Option<RegisterPath>, SaveError> {
        let mut joined = Vec::new();
        for h in msg.headers_named(HeaderName::Path) {
            let body = trim_lws(h.value);
            if joined.len() + body.len() + 1 >= PATH_MAX {
                return Err(SaveError::PathParse);
            }
            if !joined.is_empty() {
                joined.push(b',');
            }
            joined.extend_from_slice(body);
        }
        if msg.route_set(HeaderName::Path).any(|hop| hop.is_err()) {
            return Err(SaveError::PathParse);
        }
        let Some(first) = CommaList::new(&joined).next() else {
            return Ok(None);
        };
        let hop = NameAddr::parse(first).map_err(|_| SaveError::PathParse)?;
        if !hop.uri.is_sip() || !hop.uri.has_lr() {
            return Err(SaveError::PathParse);
        }
        let received = match hop.uri.param(b"received").flatten() {
            Some(v) => {
                let mut out = Vec::with_capacity(v.len());
                unescape_into(v, &mut out).map_err(|_| SaveError::PathParse)?;
                Some(out)
            }
            None => None,
        };
        Ok(Some(RegisterPath { joined: joined.into_boxed_slice(), received }))
    }
}

/// The URI of the first hop of a stored path: where requests to the
/// binding go (Kamailio lookup sets `$du` to it).
pub fn first_hop(path: &[u8]) -> Option<&[u8]> {
    let first = CommaList::new(path).next()?;
    NameAddr::parse(first).ok().map(|n| n.uri.raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path_of(headers: &str) -> Result<Option<RegisterPath>, SaveError> {
        let text = format!(
            "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\n{headers}Content-Length: 0\r\n\r\n"
        );
        let msg = Message::parse(text.as_bytes()).unwrap();
        RegisterPath::from_message(&msg)
    }

    #[test]
    fn joins_headers_in_order() {
        let p = path_of("Path: <sip:p1.example.com;lr>\r\nPath: <sip:p2.example.com;lr>, <sip:p3;lr>\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(&*p.joined, b"<sip:p1.example.com;lr>,<sip:p2.example.com;lr>, <sip:p3;lr>");
        assert_eq!(first_hop(&p.joined), Some(&b"sip:p1.example.com;lr"[..]));
        assert_eq!(p.received, None);
        assert_eq!(path_of(""), Ok(None));
    }

    #[test]
    fn refusals() {
        assert_eq!(path_of("Path: <sip:p1.example.com>\r\n"), Err(SaveError::PathParse));
        assert_eq!(path_of("Path: sip:p1.example.com;lr\r\n"), Err(SaveError::PathParse));
        let long = format!("Path: <sip:{}.example.com;lr>\r\n", "a".repeat(600));
        assert_eq!(path_of(&long), Err(SaveError::PathParse));
    }

    #[test]
    fn received_of_first_hop_is_unescaped() {
        let p = path_of("Path: <sip:edge.example.com;lr;received=sip:203.0.113.7%3A40112>\r\n").unwrap().unwrap();
        assert_eq!(p.received.as_deref(), Some(&b"sip:203.0.113.7:40112"[..]));
    }
}
