//! SIP, SIPS and TEL URIs (RFC 3261 §19.1, §25.1; RFC 3966), zero-copy.
//!
//! [`Uri::parse`] validates the whole URI against the grammar and indexes its
//! parts as slices of the input; it never allocates. Other schemes are kept
//! as opaque text (RFC 3261 §25.1 absoluteURI).

use std::net::{Ipv4Addr, Ipv6Addr};

use super::charclass::{HEADER, PARAM, PASSWORD, SCHEME, TEL_PNAME, USER, scan, scan_class};
use super::params;

mod escape;
mod host;
#[cfg(test)]
mod tests;

pub use escape::{eq_escaped, unescape_into};
pub use host::parse_host;

use escape::decode_escape;
use host::hostport;

/// The URI scheme, matched case-insensitively (RFC 3261 §19.1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `sip:` (RFC 3261 §19.1.1).
    Sip,
    /// `sips:` (RFC 3261 §19.1.2).
    Sips,
    /// `tel:` (RFC 3966).
    Tel,
    /// Any other valid scheme: kept as opaque text (absoluteURI).
    Other,
}

/// The host of a SIP or SIPS URI (RFC 3261 §25.1 host).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host<'a> {
    /// A hostname as written (compare case-insensitively).
    Domain(&'a [u8]),
    /// A dotted-quad IPv4address.
    V4(Ipv4Addr),
    /// An IPv6reference; the brackets are in [`Uri::host_text`].
    V6(Ipv6Addr),
}

/// A parsed URI; every slice borrows from [`Uri::raw`].
#[derive(Debug, Clone, Copy)]
pub struct Uri<'a> {
    /// The whole URI text.
    pub raw: &'a [u8],
    /// The scheme.
    pub scheme: Scheme,
    /// The scheme as written, e.g. `b"SIP"`.
    pub scheme_text: &'a [u8],
    /// Still %-escaped; for sip may contain ';' user params (RFC 4475 §3.1.1.9
    /// semiuri). For tel: the number incl. visual separators.
    pub user: Option<&'a [u8]>,
    /// The password after the user's ':', still %-escaped; may be empty.
    pub password: Option<&'a [u8]>,
    /// `None` for tel and other schemes.
    pub host: Option<Host<'a>>,
    /// The host exactly as written incl. `[]` for IPv6 (empty for tel/other).
    pub host_text: &'a [u8],
    /// The port, if written.
    pub port: Option<u16>,
    /// From the first ';' after hostport up to '?' or end (empty if none);
    /// iterate with [`params::iter`]. For tel: the params after the number.
    pub params: &'a [u8],
    /// After '?', without the '?'.
    pub headers: Option<&'a [u8]>,
}

/// Why a URI was rejected. Messages are short enough for a reason phrase.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone, Copy)]
pub enum UriError {
    /// The input is empty.
    #[error("empty URI")]
    Empty,
    /// No ':' after the scheme, or the scheme is not
    /// `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )` (RFC 3261 §25.1 scheme).
    #[error("bad URI scheme")]
    BadScheme,
    /// Nothing follows the scheme's ':' (`sip:`, `tel:`, `foo:`).
    #[error("nothing after URI scheme")]
    NothingAfterScheme,
    /// Whitespace, a control character or a non-ASCII byte anywhere in the
    /// URI (RFC 4475 §3.1.2.8: LWS inside a Request-URI is invalid).
    #[error("illegal character in URI")]
    IllegalChar,
    /// A '%' not followed by two hex digits (RFC 3261 §25.1 escaped).
    #[error("bad escape")]
    BadEscape,
    /// An empty user before '@', or a character outside the user or
    /// password grammar (RFC 3261 §25.1 user, password).
    #[error("bad user part")]
    BadUser,
    /// The host is missing: `sip:user@`, `sip:;lr`, `sip::5060`.
    #[error("missing host")]
    MissingHost,
    /// The host is not a hostname, a dotted-quad IPv4 address or a bracketed
    /// IPv6 reference (RFC 3261 §25.1 host).
    #[error("bad host")]
    BadHost,
    /// The port is empty, not all digits, zero or above 65535.
    #[error("bad port")]
    BadPort,
    /// An empty parameter name or value, or a character outside paramchar
    /// (RFC 3261 §25.1 uri-parameter; RFC 3966 parameter).
    #[error("bad URI parameter")]
    BadParam,
    /// An empty header list, a header without '=' or name, or a character
    /// outside hname/hvalue (RFC 3261 §25.1 headers).
    #[error("bad URI header")]
    BadHeader,
    /// A tel number that is empty, has no digit, or has a character outside
    /// the RFC 3966 §3 global-number-digits / local-number-digits sets.
    #[error("bad telephone number")]
    BadTel,
}

impl<'a> Uri<'a> {
    /// Parses and validates `input` as a whole URI. Never allocates.
    pub fn parse(input: &'a [u8]) -> Result<Uri<'a>, UriError> {
        if input.is_empty() {
            return Err(UriError::Empty);
        }
        let parsed = parse_valid(input);
        // RFC 4475 §3.1.2.8: whitespace, controls and raw non-ASCII never
        // belong in a URI, and that error wins over any other. No class in
        // CLASS admits such a byte, so a URI that parses holds none, and only
        // one that fails (or is opaque) needs scanning for them.
        if parsed.is_err() && has_illegal(input) {
            return Err(UriError::IllegalChar);
        }
        parsed
    }

    /// The first URI parameter with this name (case-insensitive):
    /// `Some(None)` for a flag.
    pub fn param(&self, name: &[u8]) -> Option<Option<&'a [u8]>> {
        params::find(self.params, name)
    }

    /// The `;transport=` value (RFC 3261 §19.1.1).
    pub fn transport(&self) -> Option<&'a [u8]> {
        self.param(b"transport").flatten()
    }

    /// Whether `;lr` is present (RFC 3261 §19.1.1, loose routing).
    pub fn has_lr(&self) -> bool {
        self.param(b"lr").is_some()
    }

    /// The `;maddr=` value (RFC 3261 §19.1.1).
    pub fn maddr(&self) -> Option<&'a [u8]> {
        self.param(b"maddr").flatten()
    }

    /// The end of hostport within `raw` (byte index) — edits insert params
    /// here (Kamailio add_contact_alias inserts right after `host[:port]`).
    /// For tel it is the end of the number; for other schemes `raw.len()`.
    pub fn hostport_end(&self) -> usize {
        match offset_in(self.raw, self.params) {
            Some(start) => start,
            None => self.params_end().saturating_sub(self.params.len()),
        }
    }

    /// Index into `raw` where params end (before '?' or end) — for
    /// appending URI params.
    pub fn params_end(&self) -> usize {
        match offset_in(self.raw, self.params) {
            Some(start) => start + self.params.len(),
            None => {
                let tail = self.headers.map_or(0, |h| h.len() + 1);
                self.raw.len().saturating_sub(tail)
            }
        }
    }

    /// Sip or Sips.
    pub fn is_sip(&self) -> bool {
        matches!(self.scheme, Scheme::Sip | Scheme::Sips)
    }
}

/// [`Uri::parse`] for a non-empty `input`, except that an illegal byte may
/// surface as another error.
fn parse_valid(input: &[u8]) -> Result<Uri<'_>, UriError> {
    let (scheme, colon) = scheme(input)?;
    let rest_start = colon + 1;
    if rest_start == input.len() {
        return Err(UriError::NothingAfterScheme);
    }
    match scheme {
        Scheme::Sip | Scheme::Sips => parse_sip(input, scheme, colon),
        Scheme::Tel => parse_tel(input, colon),
        // Opaque: nothing else is checked, so check the bytes here.
        Scheme::Other if has_illegal(input) => Err(UriError::IllegalChar),
        Scheme::Other => {
            let none = &input[input.len()..];
            Ok(Uri {
                raw: input,
                scheme,
                scheme_text: &input[..colon],
                user: None,
                password: None,
                host: None,
                host_text: none,
                port: None,
                params: none,
                headers: None,
            })
        }
    }
}

/// RFC 3261 §25.1 SIP-URI / SIPS-URI whose scheme ends at `raw[colon]`. One
/// pass left to right, so errors come out in the order of the grammar.
fn parse_sip(raw: &[u8], scheme: Scheme, colon: usize) -> Result<Uri<'_>, UriError> {
    let rest_start = colon + 1;
    let (user, password, hp_start) = match userinfo(&raw[rest_start..])? {
        Some(u) => (Some(u.user), u.password, rest_start + u.len),
        None => (None, None, rest_start),
    };
    let hp = hostport(&raw[hp_start..])?;
    let params_start = hp_start + hp.len;
    let params_end = check_params(raw, params_start, PARAM)?;
    let headers = match raw.get(params_end) {
        None => None,
        Some(b'?') => {
            let headers = &raw[params_end + 1..];
            check_headers(headers)?;
            Some(headers)
        }
        // A byte outside paramchar (RFC 3261 §25.1 uri-parameter).
        Some(_) => return Err(UriError::BadParam),
    };
    Ok(Uri {
        raw,
        scheme,
        scheme_text: &raw[..colon],
        user,
        password,
        host: Some(hp.host),
        host_text: hp.host_text,
        port: hp.port,
        params: &raw[params_start..params_end],
        headers,
    })
}

/// A valid userinfo: user, password, and its length incl. the '@'.
struct UserInfo<'a> {
    user: &'a [u8],
    password: Option<&'a [u8]>,
    len: usize,
}

/// RFC 3261 §25.1 `userinfo = user [ ":" password ] "@"` at the start of
/// `rest`, validated in the same pass that looks for its '@'; `None` if
/// there is no userinfo.
fn userinfo(rest: &[u8]) -> Result<Option<UserInfo<'_>>, UriError> {
    // '@' is legal only as the userinfo terminator (it is in no other
    // production, nor in an escape), so the first one is it and a second
    // one fails later. A fault met before it is a userinfo fault only if an
    // '@' follows; otherwise this was the hostport, parsed next.
    let fault = |at: usize, err: UriError| match rest.get(at..) {
        Some(tail) if memchr::memchr(b'@', tail).is_some() => Err(err),
        _ => Ok(None),
    };
    // ':' is in neither class, so the user ends at the first one.
    let user_end = match scan(rest, 0, USER) {
        Ok(end) => end,
        Err(pct) => return fault(pct, UriError::BadEscape),
    };
    // An empty user is the first fault, before any in the password.
    let empty_user_or = |err| match user_end {
        0 => UriError::BadUser,
        _ => err,
    };
    let at = match rest.get(user_end) {
        Some(b'@') => user_end,
        Some(b':') => match scan(rest, user_end + 1, PASSWORD) {
            Ok(end) if rest.get(end) == Some(&b'@') => end,
            Ok(end) => return fault(end, UriError::BadUser),
            Err(pct) => return fault(pct, empty_user_or(UriError::BadEscape)),
        },
        _ => return fault(user_end, UriError::BadUser),
    };
    if user_end == 0 {
        return Err(UriError::BadUser);
    }
    Ok(Some(UserInfo {
        user: &rest[..user_end],
        // None when there is no ':' (at == user_end).
        password: rest.get(user_end + 1..at),
        len: at + 1,
    }))
}

/// RFC 3966 §3 telephone-subscriber after `tel:` (`raw[colon]`).
fn parse_tel(raw: &[u8], colon: usize) -> Result<Uri<'_>, UriError> {
    let rest = &raw[colon + 1..];
    let number_len = memchr::memchr(b';', rest).unwrap_or(rest.len());
    let number = &rest[..number_len];
    check_tel_number(number)?;
    // The params run to the end: '?' is no paramchar here.
    if check_params(raw, colon + 1 + number_len, TEL_PNAME)? != raw.len() {
        return Err(UriError::BadParam);
    }
    Ok(Uri {
        raw,
        scheme: Scheme::Tel,
        scheme_text: &raw[..colon],
        user: Some(number),
        password: None,
        host: None,
        host_text: &rest[number_len..number_len],
        port: None,
        params: &rest[number_len..],
        headers: None,
    })
}

/// Whether `input` holds whitespace, a control or a non-ASCII byte
/// (RFC 4475 §3.1.2.8).
fn has_illegal(input: &[u8]) -> bool {
    input.iter().any(|&b| !(0x21..0x7f).contains(&b))
}

/// The scheme of `input` and the index of the ':' ending it (RFC 3261 §25.1
/// scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), matched
/// case-insensitively, §19.1.4).
fn scheme(input: &[u8]) -> Result<(Scheme, usize), UriError> {
    // Setting bit 5 lowercases a capital and changes no other scheme
    // character, nor makes any byte but a capital a lowercase letter.
    let lower = |b: &u8| b | 0x20;
    match input {
        [a, b, c, b':', ..] => match [lower(a), lower(b), lower(c)] {
            [b's', b'i', b'p'] => return Ok((Scheme::Sip, 3)),
            [b't', b'e', b'l'] => return Ok((Scheme::Tel, 3)),
            _ => {}
        },
        [a, b, c, d, b':', ..] if [lower(a), lower(b), lower(c), lower(d)] == *b"sips" => {
            return Ok((Scheme::Sips, 4));
        }
        _ => {}
    }
    if !input.first().is_some_and(u8::is_ascii_alphabetic) {
        return Err(UriError::BadScheme);
    }
    match scan_class(input, 1, SCHEME) {
        end if input.get(end) == Some(&b':') => Ok((Scheme::Other, end)),
        _ => Err(UriError::BadScheme),
    }
}

/// Checks the `*( ";" name [ "=" value ] )` starting at `s[i]`, names and
/// values non-empty: RFC 3261 §25.1 uri-parameter (pname, pvalue =
/// 1*paramchar) or, with `TEL_PNAME`, RFC 3966 §3 parameter (pname =
/// 1*( alphanum / "-" )). Returns where the list ends: at the first byte
/// that continues none of it, which the caller checks.
fn check_params(s: &[u8], mut i: usize, name_class: u16) -> Result<usize, UriError> {
    while s.get(i) == Some(&b';') {
        let name = i + 1;
        i = scan(s, name, name_class).map_err(|at| param_escape_error(s, at, name_class))?;
        if i == name {
            return Err(UriError::BadParam);
        }
        if s.get(i) == Some(&b'=') {
            let value = i + 1;
            i = scan(s, value, PARAM).map_err(|_| UriError::BadEscape)?;
            if i == value {
                return Err(UriError::BadParam);
            }
        }
    }
    Ok(i)
}

/// The error for a bad escape at `s[at]` in a parameter name: an empty
/// value later in the same parameter (`;a%zz=`) is reported first.
#[cold]
fn param_escape_error(s: &[u8], at: usize, name_class: u16) -> UriError {
    let rest = &s[at..];
    // For sip the list ends at '?'; for tel '?' is just a bad character.
    let list_len = match name_class {
        PARAM => memchr::memchr(b'?', rest).unwrap_or(rest.len()),
        _ => rest.len(),
    };
    let param = &rest[..memchr::memchr(b';', &rest[..list_len]).unwrap_or(list_len)];
    match memchr::memchr(b'=', param) {
        Some(eq) if eq + 1 == param.len() => UriError::BadParam,
        _ => UriError::BadEscape,
    }
}

/// RFC 3261 §25.1 headers = header *( "&" header ), header = hname "=" hvalue,
/// hname = 1*( hnv-unreserved / unreserved / escaped ), hvalue = *( same ).
fn check_headers(s: &[u8]) -> Result<(), UriError> {
    let mut i = 0;
    loop {
        let name = i;
        i = scan(s, name, HEADER).map_err(|at| header_escape_error(s, at))?;
        // '=' is no hname character, so a name stops at the first one.
        if i == name || s.get(i) != Some(&b'=') {
            return Err(UriError::BadHeader);
        }
        i = scan(s, i + 1, HEADER).map_err(|_| UriError::BadEscape)?;
        match s.get(i) {
            None => return Ok(()),
            Some(b'&') => i += 1,
            Some(_) => return Err(UriError::BadHeader),
        }
    }
}

/// The error for a bad escape at `s[at]` in a header name: a header with
/// no '=' (`?a%zz&b=c`) is reported first.
#[cold]
fn header_escape_error(s: &[u8], at: usize) -> UriError {
    let rest = &s[at..];
    let header = &rest[..memchr::memchr(b'&', rest).unwrap_or(rest.len())];
    match memchr::memchr(b'=', header) {
        Some(_) => UriError::BadEscape,
        None => UriError::BadHeader,
    }
}

/// RFC 3966 §3: global-number-digits = "+" *phonedigit DIGIT *phonedigit,
/// local-number-digits = *phonedigit-hex (HEXDIG / "*" / "#") *phonedigit-hex.
/// %HH escapes count as digits in a local number (e.g. `%23` for '#').
/// The phone-context a local number should carry is not enforced.
fn check_tel_number(number: &[u8]) -> Result<(), UriError> {
    let (global, digits) = match number.strip_prefix(b"+") {
        Some(d) => (true, d),
        None => (false, number),
    };
    let mut saw_digit = false;
    let mut i = 0;
    while let Some(&b) = digits.get(i) {
        i += 1;
        if matches!(b, b'-' | b'.' | b'(' | b')') {
            continue;
        }
        let ok = if global {
            b.is_ascii_digit()
        } else if b == b'%' {
            decode_escape(digits, i - 1)?;
            i += 2;
            true
        } else {
            b.is_ascii_hexdigit() || matches!(b, b'*' | b'#')
        };
        if !ok {
            return Err(UriError::BadTel);
        }
        saw_digit = true;
    }
    saw_digit.then_some(()).ok_or(UriError::BadTel)
}

/// Byte offset of `inner` within `outer`, if it lies inside it.
fn offset_in(outer: &[u8], inner: &[u8]) -> Option<usize> {
    let start = inner.as_ptr().addr().checked_sub(outer.as_ptr().addr())?;
    (start.checked_add(inner.len())? <= outer.len()).then_some(start)
}
