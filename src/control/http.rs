//! Just enough HTTP/1.1 (RFC 9112) for the control listener: one request
//! per connection, `Content-Length` bodies, bounded sizes. Sans-IO.

use memchr::memmem;
use thiserror::Error;

/// Requests larger than this are refused: RPC calls are small.
pub const MAX_REQUEST: usize = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    pub method: &'a str,
    /// Path without query string.
    pub path: &'a str,
    pub body: &'a [u8],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed<'a> {
    Incomplete,
    Complete(Request<'a>),
}

#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum HttpError {
    /// Request line or header section is not HTTP/1.x.
    #[error("malformed request")]
    Malformed,
    /// Header section or body beyond `MAX_REQUEST`.
    #[error("request too large")]
    TooLarge,
}

impl HttpError {
    pub fn status(self) -> (u16, &'static str) {
        match self {
            HttpError::Malformed => (400, "Bad Request"),
            HttpError::TooLarge => (413, "Content Too Large"),
        }
    }
}

pub fn parse_request(buf: &[u8]) -> Result<Parsed<'_>, HttpError> {
    let Some(head_end) = memmem::find(buf, b"\r\n\r\n") else {
        return if buf.len() > MAX_REQUEST { Err(HttpError::TooLarge) } else { Ok(Parsed::Incomplete) };
    };
    let head = std::str::from_utf8(&buf[..head_end]).map_err(|_| HttpError::Malformed)?;
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let (Some(method), Some(target), Some(version), None) = (first.next(), first.next(), first.next(), first.next())
    else {
        return Err(HttpError::Malformed);
    };
    if !version.starts_with("HTTP/1.") || method.is_empty() || !target.starts_with('/') {
        return Err(HttpError::Malformed);
    }
    let mut length = 0usize;
    for line in lines {
        let (name, value) = line.split_once(':').ok_or(HttpError::Malformed)?;
        if name.trim().eq_ignore_ascii_case("content-length") {
            length = value.trim().parse().map_err(|_| HttpError::Malformed)?;
        }
    }
    let body_start = head_end + 4;
    if length > MAX_REQUEST {
        return Err(HttpError::TooLarge);
    }
    if buf.len() < body_start + length {
        return Ok(Parsed::Incomplete);
    }
    let path = target.split('?').next().unwrap_or(target);
    Ok(Parsed::Complete(Request { method, path, body: &buf[body_start..body_start + length] }))
}

pub fn write_response(status: u16, reason: &str, content_type: &str, body: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(
        format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(body);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_post_with_body() {
        let req = b"POST /RPC?x=1 HTTP/1.1\r\nHost: a\r\ncontent-length: 4\r\n\r\nbodyEXTRA";
        let Parsed::Complete(r) = parse_request(req).unwrap() else { panic!() };
        assert_eq!((r.method, r.path, r.body), ("POST", "/RPC", &b"body"[..]));
        assert_eq!(parse_request(&req[..30]).unwrap(), Parsed::Incomplete);
        let short = b"POST /RPC HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc";
        assert_eq!(parse_request(short).unwrap(), Parsed::Incomplete);
    }

    #[test]
    fn refuses_garbage() {
        assert_eq!(parse_request(b"GARBAGE\r\n\r\n"), Err(HttpError::Malformed));
        assert_eq!(parse_request(b"GET / HTTP/1.1\r\nNoColon\r\n\r\n"), Err(HttpError::Malformed));
        assert_eq!(parse_request(b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n"), Err(HttpError::Malformed));
        let big = format!("POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n", MAX_REQUEST + 1);
        assert_eq!(parse_request(big.as_bytes()), Err(HttpError::TooLarge));
    }
}
