//! Stream framing by Content-Length (RFC 3261 §18.3), for TCP/TLS
//! listeners: finds where one message ends in a receive buffer.

use super::error::ParseError;
use super::message::Message;
use memchr::memmem;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// More bytes are needed.
    Incomplete,
    /// Leading line breaks to consume; a double CRLF is an RFC 5626 §3.5.1
    /// keepalive ping that the caller answers with a single CRLF.
    Keepalive { consumed: usize, ping: bool },
    /// A complete message of this many bytes starts at the beginning.
    Message(usize),
}

/// Frames the first message in `buf`; `max` bounds header section and
/// message size so a peer cannot make the buffer grow without end.
pub fn frame(buf: &[u8], max: usize) -> Result<Frame, ParseError> {
    let leading = buf.iter().take_while(|&&b| b == b'\r' || b == b'\n').count();
    if leading > 0 {
        let ping = buf.starts_with(b"\r\n\r\n");
        return Ok(Frame::Keepalive { consumed: if ping { 4 } else { leading }, ping });
    }
    let Some(blank) =
        memmem::find(buf, b"\r\n\r\n").map(|i| i + 4).or_else(|| memmem::find(buf, b"\n\n").map(|i| i + 2))
    else {
        return if buf.len() > max { Err(ParseError::TooLarge) } else { Ok(Frame::Incomplete) };
    };
    let head = Message::parse_head(&buf[..blank])?;
    let len = head.content_length_value()?.ok_or(ParseError::MissingContentLength)?;
    let total = blank + len;
    if total > max {
        return Err(ParseError::TooLarge);
    }
    Ok(if buf.len() < total { Frame::Incomplete } else { Frame::Message(total) })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &[u8] = b"MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 2\r\n\r\nhiOPTIONS sip:b SIP/2.0\r\nl: 0\r\n\r\n";

    #[test]
    fn frames_back_to_back_messages() {
        let Frame::Message(n) = frame(TWO, 4096).unwrap() else { panic!() };
        assert!(TWO[..n].ends_with(b"hi"));
        assert_eq!(frame(&TWO[n..], 4096).unwrap(), Frame::Message(TWO.len() - n));
        assert_eq!(frame(&TWO[..n - 1], 4096).unwrap(), Frame::Incomplete);
        assert_eq!(frame(&TWO[..10], 4096).unwrap(), Frame::Incomplete);
    }

    #[test]
    fn keepalives_and_limits() {
        assert_eq!(frame(b"\r\n\r\nINV", 100).unwrap(), Frame::Keepalive { consumed: 4, ping: true });
        assert_eq!(frame(b"\r\nINV", 100).unwrap(), Frame::Keepalive { consumed: 2, ping: false });
        assert_eq!(frame(b"OPTIONS sip:b SIP/2.0\r\n\r\n", 100), Err(ParseError::MissingContentLength));
        assert_eq!(frame(&[b'a'; 200], 100), Err(ParseError::TooLarge));
        assert_eq!(frame(b"MESSAGE sip:a SIP/2.0\r\nl: 500\r\n\r\n", 100), Err(ParseError::TooLarge));
    }
}
