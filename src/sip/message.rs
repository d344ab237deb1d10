//! The lazy message view (level one of DESIGN.md's two-level parse): one
//! pass over the bytes indexes the start line and every header's name and
//! value ranges. Typed values are built on demand by the accessors in
//! `typed.rs`. Nothing is copied and nothing is allocated.

use super::error::ParseError;
use super::header::HeaderName;
use super::list::{CommaList, is_lws, is_token_char, trim_lws};
use super::method::Method;
use super::nameaddr::NameAddr;
use super::typed::CSeq;
use super::via::Via;
use memchr::memchr;
use std::cell::OnceCell;

/// Longest message the view indexes: offsets are 16-bit to keep the view
/// small (it is copied on return). UDP payloads never exceed it, and
/// `core.max_msg_size` bounds stream frames below it.
pub const MAX_MESSAGE: usize = u16::MAX as usize;

/// Headers indexed per message. A datagram with more is refused with 400,
/// which bounds the work a hostile sender can cause.
pub const MAX_HEADERS: usize = 128;

// `Message::repeated` has one bit per header kind.
const _: () = assert!(HeaderName::KINDS <= 32);

/// Byte offsets of one header inside the message.
#[derive(Debug, Clone, Copy)]
struct Slot {
    name: HeaderName,
    line_start: u16,
    name_end: u16,
    value_start: u16,
    value_end: u16,
    /// One past the line's LF (or the end of the buffer).
    line_end: u16,
}

const EMPTY_SLOT: Slot =
    Slot { name: HeaderName::Other, line_start: 0, name_end: 0, value_start: 0, value_end: 0, line_end: 0 };

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLine<'a> {
    pub method: Method<'a>,
    pub uri: &'a [u8],
    pub version: &'a [u8],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusLine<'a> {
    pub version: &'a [u8],
    pub code: u16,
    pub reason: &'a [u8],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartLine<'a> {
    Request(RequestLine<'a>),
    Response(StatusLine<'a>),
}

/// One header as seen in the message.
#[derive(Debug, Clone, Copy)]
pub struct Header<'a> {
    pub name: HeaderName,
    /// The name as written (case and compact form preserved).
    pub name_text: &'a [u8],
    /// The value with surrounding white space trimmed; folded lines keep
    /// their inner CRLF + white space, which every typed parser treats as LWS.
    pub value: &'a [u8],
    /// The whole line(s) including the terminating line break: removing
    /// this range removes the header.
    pub line: &'a [u8],
}

pub struct Message<'a> {
    buf: &'a [u8],
    start: StartLine<'a>,
    slots: [Slot; MAX_HEADERS],
    count: usize,
    /// Per header kind (`HeaderName as usize`): one past the index of its
    /// first slot, 0 when absent, so a lookup starts where the kind does.
    first: [u8; HeaderName::KINDS],
    /// Bit `HeaderName as u32` set when the kind occurs more than once.
    repeated: u32,
    /// Offset of the empty line that ends the headers.
    headers_end: usize,
    body_start: usize,
    /// Headers parsed with the message (`typed.rs` hands them out).
    pub(super) parsed: Parsed<'a>,
}

/// To, From, CSeq, the top Via and the first Contact, each parsed the
/// first time it is asked for and kept: the owner, the sanity check, NAT
/// detection, the registrar, the transaction layer, the dialog table and
/// the reply builder all read them, while a forwarded copy re-read for its
/// method and branch parses none of them.
#[derive(Debug, Default)]
pub(super) struct Parsed<'a> {
    pub(super) to: OnceCell<Result<NameAddr<'a>, ParseError>>,
    pub(super) from: OnceCell<Result<NameAddr<'a>, ParseError>>,
    pub(super) via_top: OnceCell<Result<Via<'a>, ParseError>>,
    pub(super) cseq: OnceCell<Result<CSeq<'a>, ParseError>>,
    /// The first Contact value unless it is `*`, with its parse.
    pub(super) contact: OnceCell<Option<FirstContact<'a>>>,
}

/// The first Contact value and its parse.
pub type FirstContact<'a> = (&'a [u8], Result<NameAddr<'a>, ParseError>);

impl<'a> Message<'a> {
    /// Parses one UDP datagram. Bytes after Content-Length are ignored
    /// (RFC 3261 §18.3); without Content-Length the body runs to the end.
    pub fn parse(datagram: &'a [u8]) -> Result<Message<'a>, ParseError> {
        // Built in place and moved once: the view is large (the slot
        // array), and every move through a `Result` is a copy.
        let (start, headers) = start_line(datagram)?;
        let mut msg = Message::empty(datagram, start);
        msg.index_headers(headers, false)?;
        let available = datagram.len() - msg.body_start;
        if let Some(len) = msg.content_length_value()? {
            if len > available {
                return Err(ParseError::ContentLengthTooLarge);
            }
            msg.buf = &datagram[..msg.body_start + len];
        }
        Ok(msg)
    }

    /// Parses a message whose length is already known to be exact (a stream
    /// frame from `framing::frame`).
    pub fn parse_exact(bytes: &'a [u8]) -> Result<Message<'a>, ParseError> {
        Self::parse(bytes)
    }

    /// A best-effort view of a request that failed `parse`, good enough to
    /// address a `400` to its sender (RFC 4475 §3.1.2 expects answers even
    /// to broken requests): a bad start line becomes a placeholder, bad
    /// header lines are skipped, Content-Length is not checked. `None` for
    /// responses and empty input, which are never answered.
    pub fn parse_lenient(input: &'a [u8]) -> Option<Message<'a>> {
        if input.len() > MAX_MESSAGE {
            return None;
        }
        let first = input.iter().position(|&b| !is_lws(b) && b != 0)?;
        let line_end = memchr(b'\n', &input[first..]).map_or(input.len(), |i| i + first);
        let line = strip_cr(&input[first..line_end]);
        if line.len() >= 4 && line[..4].eq_ignore_ascii_case(b"SIP/") {
            return None;
        }
        let start = parse_start_line(line).unwrap_or_else(|_| {
            let token = line.split(|&b| b == b' ').next().unwrap_or_default();
            StartLine::Request(RequestLine {
                method: Method::parse(token).unwrap_or(Method::Other(b"")),
                uri: b"",
                version: b"SIP/2.0",
            })
        });
        let mut msg = Message::empty(input, start);
        // Lenient indexing never fails; the Result is only for the strict mode.
        let _ = msg.index_headers((line_end + 1).min(input.len()), true);
        Some(msg)
    }

    fn empty(input: &'a [u8], start: StartLine<'a>) -> Message<'a> {
        Message {
            buf: input,
            start,
            slots: [EMPTY_SLOT; MAX_HEADERS],
            count: 0,
            first: [0; HeaderName::KINDS],
            repeated: 0,
            headers_end: input.len(),
            body_start: input.len(),
            parsed: Parsed::default(),
        }
    }

    /// Indexes start line and headers; `buf` still holds everything after.
    pub(super) fn parse_head(input: &'a [u8]) -> Result<Message<'a>, ParseError> {
        let (start, headers) = start_line(input)?;
        let mut msg = Message::empty(input, start);
        msg.index_headers(headers, false)?;
        Ok(msg)
    }

    fn index_headers(&mut self, mut pos: usize, lenient: bool) -> Result<(), ParseError> {
        let input = self.buf;
        loop {
            if pos >= input.len() {
                // The datagram ends right after the last header line: accept
                // it as a message without body (common from lax senders).
                self.headers_end = input.len();
                self.body_start = input.len();
                return Ok(());
            }
            let nl = memchr(b'\n', &input[pos..]).map(|i| pos + i);
            let nl = match nl {
                Some(nl) => nl,
                None if lenient => input.len(),
                None => return Err(ParseError::Truncated),
            };
            let line = strip_cr(&input[pos..nl]);
            if line.is_empty() {
                self.headers_end = pos;
                self.body_start = (nl + 1).min(input.len());
                return Ok(());
            }
            if line[0] == b' ' || line[0] == b'\t' {
                // RFC 3261 §7.3.1: a folded continuation of the previous value.
                let prev = self.count.checked_sub(1).ok_or(ParseError::BadHeaderLine)?;
                let slot = &mut self.slots[prev];
                let extra = trim_lws(line);
                if !extra.is_empty() {
                    let extra_start = pos + (extra.as_ptr() as usize - line.as_ptr() as usize);
                    if slot.value_start == slot.value_end {
                        slot.value_start = to_u16(extra_start);
                    }
                    slot.value_end = to_u16(extra_start + extra.len());
                }
                slot.line_end = to_u16((nl + 1).min(input.len()));
            } else {
                match self.push_header(pos, line, nl) {
                    Ok(()) => {}
                    Err(ParseError::TooManyHeaders) if lenient => {
                        self.headers_end = pos;
                        self.body_start = pos;
                        return Ok(());
                    }
                    Err(_) if lenient => {}
                    Err(e) => return Err(e),
                }
            }
            pos = nl + 1;
        }
    }

    fn push_header(&mut self, pos: usize, line: &[u8], nl: usize) -> Result<(), ParseError> {
        if self.count == MAX_HEADERS {
            return Err(ParseError::TooManyHeaders);
        }
        // header-name is a token, then optional white space, then HCOLON
        // (RFC 3261 §7.3.1, §25.1): one scan finds both.
        let name_len = line.iter().position(|&b| !is_token_char(b)).unwrap_or(line.len());
        let name = &line[..name_len];
        let colon = name_len + line[name_len..].iter().position(|&b| b != b' ' && b != b'\t').unwrap_or(0);
        if name.is_empty() || line.get(colon) != Some(&b':') {
            return Err(ParseError::BadHeaderLine);
        }
        let raw_value = &line[colon + 1..];
        let value = trim_lws(raw_value);
        let value_start = if value.is_empty() {
            pos + line.len()
        } else {
            pos + colon + 1 + (value.as_ptr() as usize - raw_value.as_ptr() as usize)
        };
        let kind = HeaderName::parse(name);
        let first = &mut self.first[kind as usize];
        if *first == 0 {
            // MAX_HEADERS (128) keeps this within u8.
            *first = (self.count + 1) as u8;
        } else {
            self.repeated |= 1 << kind as u32;
        }
        self.slots[self.count] = Slot {
            name: kind,
            line_start: to_u16(pos),
            name_end: to_u16(pos + name.len()),
            value_start: to_u16(value_start),
            value_end: to_u16(value_start + value.len()),
            line_end: to_u16((nl + 1).min(self.buf.len())),
        };
        self.count += 1;
        Ok(())
    }

    /// The message bytes: start line through the end of the body, without
    /// any trailing bytes beyond Content-Length.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }

    pub fn start_line(&self) -> &StartLine<'a> {
        &self.start
    }

    pub fn request_line(&self) -> Option<&RequestLine<'a>> {
        match &self.start {
            StartLine::Request(r) => Some(r),
            StartLine::Response(_) => None,
        }
    }

    pub fn status_line(&self) -> Option<&StatusLine<'a>> {
        match &self.start {
            StartLine::Response(s) => Some(s),
            StartLine::Request(_) => None,
        }
    }

    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request(_))
    }

    pub fn method(&self) -> Option<Method<'a>> {
        self.request_line().map(|r| r.method)
    }

    /// The SIP-Version of either start line.
    pub fn version(&self) -> &'a [u8] {
        match &self.start {
            StartLine::Request(r) => r.version,
            StartLine::Response(s) => s.version,
        }
    }

    /// RFC 3261 §7.1: the version string is case-insensitive.
    pub fn is_sip_2_0(&self) -> bool {
        self.version().eq_ignore_ascii_case(b"SIP/2.0")
    }

    pub fn headers(&self) -> impl Iterator<Item = Header<'a>> + '_ {
        self.slots[..self.count].iter().map(|s| self.view(s))
    }

    /// Every header of one kind, in order.
    pub fn headers_named(&self, name: HeaderName) -> impl Iterator<Item = Header<'a>> + '_ {
        // From the kind's first slot, comparing indexed names: a view is
        // built only for a match.
        let from = match self.first[name as usize] {
            0 => self.count,
            i => usize::from(i) - 1,
        };
        self.slots[from..self.count].iter().filter(move |s| s.name == name).map(|s| self.view(s))
    }

    /// The first header of one kind.
    pub fn header(&self, name: HeaderName) -> Option<Header<'a>> {
        match self.first[name as usize] {
            0 => None,
            i => Some(self.view(&self.slots[usize::from(i) - 1])),
        }
    }

    pub fn count(&self, name: HeaderName) -> usize {
        self.slots[..self.count].iter().filter(|s| s.name == name).count()
    }

    /// Whether the message has more than one header of this kind.
    pub fn repeats(&self, name: HeaderName) -> bool {
        self.repeated & (1 << name as u32) != 0
    }

    /// Every comma-separated element of every header of one kind, in order
    /// (RFC 3261 §7.3.1: `Route: a, b` equals `Route: a` + `Route: b`).
    pub fn values(&self, name: HeaderName) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.headers_named(name).flat_map(|h| CommaList::new(h.value))
    }

    /// The first header with this exact name, for headers the proxy does
    /// not interpret (`HeaderName::Other`), compared case-insensitively.
    pub fn other_header(&self, name: &[u8]) -> Option<Header<'a>> {
        self.headers().find(|h| h.name == HeaderName::Other && h.name_text.eq_ignore_ascii_case(name))
    }

    /// Offset of the empty line ending the headers: where new headers go.
    pub fn headers_end(&self) -> usize {
        self.headers_end
    }

    /// Offset just after the start line: where a header goes to be first.
    pub fn first_header_offset(&self) -> usize {
        self.slots[..self.count].first().map_or(self.headers_end, |s| s.line_start as usize)
    }

    pub fn body(&self) -> &'a [u8] {
        &self.buf[self.body_start.min(self.buf.len())..]
    }

    pub fn body_offset(&self) -> usize {
        self.body_start
    }

    /// Content-Length as a number; `None` when absent.
    pub fn content_length_value(&self) -> Result<Option<usize>, ParseError> {
        let Some(h) = self.header(HeaderName::ContentLength) else {
            return Ok(None);
        };
        parse_decimal(h.value, 1 << 24).map(Some).ok_or(ParseError::BadContentLength)
    }

    /// Byte offset of `sub` inside the message buffer; `sub` must be a
    /// subslice handed out by this view (or a parser over it).
    pub fn offset_of(&self, sub: &[u8]) -> usize {
        super::offset_in(self.buf, sub)
    }

    fn view(&self, s: &Slot) -> Header<'a> {
        let b = self.buf;
        let clamp = |x: u16| usize::from(x).min(b.len());
        Header {
            name: s.name,
            name_text: &b[clamp(s.line_start)..clamp(s.name_end)],
            value: &b[clamp(s.value_start)..clamp(s.value_end).max(clamp(s.value_start))],
            line: &b[clamp(s.line_start)..clamp(s.line_end)],
        }
    }
}

fn parse_start_line(line: &[u8]) -> Result<StartLine<'_>, ParseError> {
    let sp1 = memchr(b' ', line).ok_or(ParseError::BadStartLine)?;
    let first = &line[..sp1];
    if first.len() > 4 && first[..4].eq_ignore_ascii_case(b"SIP/") {
        return parse_status_line(line, sp1);
    }
    // RFC 3261 §7.1: Method SP Request-URI SP SIP-Version, single spaces.
    let method = Method::parse(first).ok_or(ParseError::BadStartLine)?;
    let rest = &line[sp1 + 1..];
    let sp2 = memchr::memrchr(b' ', rest).ok_or(ParseError::BadStartLine)?;
    let uri = &rest[..sp2];
    let version = &rest[sp2 + 1..];
    if uri.is_empty() || uri.iter().any(|&b| is_lws(b)) || version.is_empty() {
        return Err(ParseError::BadStartLine);
    }
    if !is_version(version) {
        return Err(ParseError::BadVersion);
    }
    Ok(StartLine::Request(RequestLine { method, uri, version }))
}

fn parse_status_line(line: &[u8], sp1: usize) -> Result<StartLine<'_>, ParseError> {
    let version = &line[..sp1];
    if !is_version(version) {
        return Err(ParseError::BadVersion);
    }
    let rest = &line[sp1 + 1..];
    let (code_text, reason) = match memchr(b' ', rest) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &rest[rest.len()..]),
    };
    // RFC 3261 §7.2: Status-Code is exactly three digits (RFC 4475 §3.1.2.19).
    if code_text.len() != 3 || !code_text.iter().all(u8::is_ascii_digit) {
        return Err(ParseError::BadStatusCode);
    }
    let code = code_text.iter().fold(0u16, |a, &d| a * 10 + u16::from(d - b'0'));
    if !(100..=699).contains(&code) {
        return Err(ParseError::BadStatusCode);
    }
    Ok(StartLine::Response(StatusLine { version, code, reason }))
}

/// `SIP/1*DIGIT.1*DIGIT`, the literal case-insensitive (RFC 3261 §7.1, §25.1).
fn is_version(v: &[u8]) -> bool {
    if v.len() < 7 || !v[..4].eq_ignore_ascii_case(b"SIP/") {
        return false;
    }
    let nums = &v[4..];
    let Some(dot) = memchr(b'.', nums) else {
        return false;
    };
    let (major, minor) = (&nums[..dot], &nums[dot + 1..]);
    !major.is_empty() && !minor.is_empty() && major.iter().chain(minor).all(u8::is_ascii_digit)
}

/// A decimal without sign or spaces that is at most `max`.
pub fn parse_decimal(text: &[u8], max: u64) -> Option<usize> {
    if text.is_empty() || text.len() > 19 || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v = text.iter().fold(0u64, |a, &d| a * 10 + u64::from(d - b'0'));
    (v <= max).then_some(v as usize)
}

/// The start line and the offset where the headers begin.
fn start_line(input: &[u8]) -> Result<(StartLine<'_>, usize), ParseError> {
    if input.len() > MAX_MESSAGE {
        return Err(ParseError::TooLarge);
    }
    // RFC 3261 §7.5: empty lines before the start line are ignored.
    let first = input.iter().position(|&b| !is_lws(b) && b != 0).ok_or(ParseError::Empty)?;
    let line_end = memchr(b'\n', &input[first..]).ok_or(ParseError::Truncated)? + first;
    let line = strip_cr(&input[first..line_end]);
    Ok((parse_start_line(line)?, line_end + 1))
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn to_u16(x: usize) -> u16 {
    // `parse_head` and `parse_lenient` refuse input longer than
    // MAX_MESSAGE, so every offset fits.
    u16::try_from(x).expect("message offsets fit in u16")
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTIONS: &[u8] = b"OPTIONS sip:127.0.0.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n\
v: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK2, SIP/2.0/UDP 192.0.2.3\r\n\
To: <sip:127.0.0.1>\r\n\
From: <sip:a@example.com>;tag=1\r\n\
Call-ID: abc\r\n\
CSeq: 1 OPTIONS\r\n\
Subject: folded\r\n  line\r\n\
Content-Length: 4\r\n\
\r\n\
bodyTRAILING";

    #[test]
    fn request_view() {
        let m = Message::parse(OPTIONS).unwrap();
        let r = m.request_line().unwrap();
        assert_eq!(r.method, Method::Options);
        assert_eq!(r.uri, b"sip:127.0.0.1");
        assert!(m.is_sip_2_0());
        assert_eq!(m.count(HeaderName::Via), 2);
        assert_eq!(m.values(HeaderName::Via).count(), 3);
        assert_eq!(m.header(HeaderName::CallId).unwrap().value, b"abc");
        assert_eq!(m.header(HeaderName::Subject).unwrap().value, b"folded\r\n  line");
        assert_eq!(m.body(), b"body");
        assert!(m.as_bytes().ends_with(b"\r\n\r\nbody"));
        let h = m.header(HeaderName::CSeq).unwrap();
        assert_eq!(h.line, b"CSeq: 1 OPTIONS\r\n");
        assert_eq!(m.offset_of(h.line), m.as_bytes().windows(4).position(|w| w == b"CSeq").unwrap());
    }

    #[test]
    fn response_view() {
        let m = Message::parse(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\r\n\r\n").unwrap();
        let s = m.status_line().unwrap();
        assert_eq!((s.code, s.reason), (200, &b"OK"[..]));
        let m = Message::parse(b"SIP/2.0 100\r\n\r\n").unwrap();
        assert_eq!(m.status_line().unwrap().reason, b"");
        assert_eq!(Message::parse(b"SIP/2.0 4294967301 x\r\n\r\n").err(), Some(ParseError::BadStatusCode));
    }

    #[test]
    fn start_line_errors() {
        let bad: &[&[u8]] = &[
            b"INVITE  sip:a@b SIP/2.0\r\n\r\n",
            b"INVITE sip:a@b SIP/2.0 \r\n\r\n",
            b"INVITE sip:a@b; lr SIP/2.0\r\n\r\n",
            b"INVITE sip:a@b\r\n\r\n",
        ];
        for b in bad {
            assert!(Message::parse(b).is_err(), "{}", String::from_utf8_lossy(b));
        }
        let m = Message::parse(b"INVITE sip:a@b SIP/7.0\r\n\r\n").unwrap();
        assert!(!m.is_sip_2_0());
        assert_eq!(Message::parse(b"\r\n\r\n").err(), Some(ParseError::Empty));
        assert_eq!(Message::parse(b"\0\0\0\0").err(), Some(ParseError::Empty));
    }

    #[test]
    fn content_length_rules() {
        let m = Message::parse(b"MESSAGE sip:a@b SIP/2.0\r\nl: 2\r\n\r\nhello").unwrap();
        assert_eq!(m.body(), b"he");
        let e = Message::parse(b"MESSAGE sip:a@b SIP/2.0\r\nl: 9\r\n\r\nhello").err();
        assert_eq!(e, Some(ParseError::ContentLengthTooLarge));
        let e = Message::parse(b"MESSAGE sip:a@b SIP/2.0\r\nl: -1\r\n\r\nhello").err();
        assert_eq!(e, Some(ParseError::BadContentLength));
        let m = Message::parse(b"MESSAGE sip:a@b SIP/2.0\r\nTo: x\r\n\r\nhello").unwrap();
        assert_eq!(m.body(), b"hello");
        let m = Message::parse(b"MESSAGE sip:a@b SIP/2.0\r\nTo: x\r\n").unwrap();
        assert_eq!(m.body(), b"");
        assert_eq!(Message::parse(b"MESSAGE sip:a@b SIP/2.0\r\nTo: x").err(), Some(ParseError::Truncated));
    }

    #[test]
    fn lenient_view_for_answering_broken_requests() {
        let m = Message::parse_lenient(
            b"INVITE  sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nbroken\r\nCall-ID: x\r\nl: 99\r\n\r\n",
        )
        .unwrap();
        assert_eq!(m.method(), Some(Method::Invite));
        assert_eq!(m.call_id(), Some(&b"x"[..]));
        assert!(Message::parse_lenient(b"SIP/2.0 200 OK\r\n\r\n").is_none());
        assert!(Message::parse_lenient(b"\r\n").is_none());
        let m = Message::parse_lenient(b"garbage").unwrap();
        assert_eq!(m.headers().count(), 0);
    }

    #[test]
    fn header_limits_and_syntax() {
        let mut big = b"OPTIONS sip:a SIP/2.0\r\n".to_vec();
        for _ in 0..=MAX_HEADERS {
            big.extend_from_slice(b"X: y\r\n");
        }
        big.extend_from_slice(b"\r\n");
        assert_eq!(Message::parse(&big).err(), Some(ParseError::TooManyHeaders));
        let e = Message::parse(b"OPTIONS sip:a SIP/2.0\r\nNoColon\r\n\r\n").err();
        assert_eq!(e, Some(ParseError::BadHeaderLine));
        let e = Message::parse(b"OPTIONS sip:a SIP/2.0\r\n folded-first\r\n\r\n").err();
        assert_eq!(e, Some(ParseError::BadHeaderLine));
        let m = Message::parse(b"OPTIONS sip:a SIP/2.0\nTo : x\n\n").unwrap();
        assert_eq!(m.header(HeaderName::To).unwrap().value, b"x");
        let m = Message::parse(b"OPTIONS sip:a SIP/2.0\r\nSubject:\r\n  late\r\n\r\n").unwrap();
        assert_eq!(m.header(HeaderName::Subject).unwrap().value, b"late");
    }
}
