//! SIP, SIPS and TEL URIs (RFC 3261 §19.1, §25.1; RFC 3966), zero-copy.
//!
//! [`Uri::parse`] validates the whole URI against the grammar and indexes its
//! parts as slices of the input; it never allocates. Other schemes are kept
//! as opaque text (RFC 3261 §25.1 absoluteURI).

use std::net::{Ipv4Addr, Ipv6Addr};

use super::params;

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
        // RFC 4475 §3.1.2.8: whitespace, controls and raw non-ASCII never
        // belong in a URI; rejecting them up front keeps later scans simple.
        if input.iter().any(|&b| b <= b' ' || b >= 0x7f) {
            return Err(UriError::IllegalChar);
        }
        let colon = scheme_end(input)?;
        let scheme_text = &input[..colon];
        let rest_start = colon + 1;
        if rest_start == input.len() {
            return Err(UriError::NothingAfterScheme);
        }
        let scheme = if scheme_text.eq_ignore_ascii_case(b"sip") {
            Scheme::Sip
        } else if scheme_text.eq_ignore_ascii_case(b"sips") {
            Scheme::Sips
        } else if scheme_text.eq_ignore_ascii_case(b"tel") {
            Scheme::Tel
        } else {
            Scheme::Other
        };
        let mut uri = Uri {
            raw: input,
            scheme,
            scheme_text,
            user: None,
            password: None,
            host: None,
            host_text: &input[input.len()..],
            port: None,
            params: &input[input.len()..],
            headers: None,
        };
        match scheme {
            Scheme::Sip | Scheme::Sips => uri.parse_sip(rest_start)?,
            Scheme::Tel => uri.parse_tel(rest_start)?,
            Scheme::Other => {}
        }
        Ok(uri)
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

    /// RFC 3261 §25.1 SIP-URI / SIPS-URI after the scheme's ':'.
    fn parse_sip(&mut self, rest_start: usize) -> Result<(), UriError> {
        let raw = self.raw;
        let rest = &raw[rest_start..];
        // '@' is legal only as the userinfo terminator (it is in no other
        // production), so the first one is it; a second one fails below.
        let hp_start = match memchr::memchr(b'@', rest) {
            Some(at) => {
                self.parse_userinfo(&rest[..at])?;
                rest_start + at + 1
            }
            None => rest_start,
        };
        let after = &raw[hp_start..];
        let hp_len = memchr::memchr2(b';', b'?', after).unwrap_or(after.len());
        let (host, host_text, port) = parse_hostport(&after[..hp_len])?;
        self.host = Some(host);
        self.host_text = host_text;
        self.port = port;
        let tail = &after[hp_len..];
        let params_len = memchr::memchr(b'?', tail).unwrap_or(tail.len());
        self.params = &tail[..params_len];
        check_params(self.params, PARAM)?;
        if let Some(headers) = tail.get(params_len + 1..) {
            check_headers(headers)?;
            self.headers = Some(headers);
        }
        Ok(())
    }

    /// RFC 3261 §25.1 userinfo without its '@': `user [ ":" password ]`.
    fn parse_userinfo(&mut self, userinfo: &'a [u8]) -> Result<(), UriError> {
        let (user, password) = match memchr::memchr(b':', userinfo) {
            Some(c) => (&userinfo[..c], Some(&userinfo[c + 1..])),
            None => (userinfo, None),
        };
        if user.is_empty() {
            return Err(UriError::BadUser);
        }
        check_chars(user, USER, UriError::BadUser)?;
        if let Some(pw) = password {
            check_chars(pw, PASSWORD, UriError::BadUser)?;
        }
        self.user = Some(user);
        self.password = password;
        Ok(())
    }

    /// RFC 3966 §3 telephone-subscriber after `tel:`.
    fn parse_tel(&mut self, rest_start: usize) -> Result<(), UriError> {
        let raw = self.raw;
        let rest = &raw[rest_start..];
        let number_len = memchr::memchr(b';', rest).unwrap_or(rest.len());
        let number = &rest[..number_len];
        check_tel_number(number)?;
        self.user = Some(number);
        self.host_text = &rest[number_len..number_len];
        self.params = &rest[number_len..];
        check_params(self.params, TEL_PNAME)
    }
}

/// Index of the ':' ending a valid scheme (RFC 3261 §25.1 scheme).
fn scheme_end(input: &[u8]) -> Result<usize, UriError> {
    let colon = memchr::memchr(b':', input).ok_or(UriError::BadScheme)?;
    match &input[..colon] {
        [first, more @ ..]
            if first.is_ascii_alphabetic()
                && more
                    .iter()
                    .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')) =>
        {
            Ok(colon)
        }
        _ => Err(UriError::BadScheme),
    }
}

/// RFC 3261 §25.1 hostport = host [ ":" port ].
fn parse_hostport(hp: &[u8]) -> Result<(Host<'_>, &[u8], Option<u16>), UriError> {
    let host_len = if hp.first() == Some(&b'[') {
        memchr::memchr(b']', hp).ok_or(UriError::BadHost)? + 1
    } else {
        memchr::memchr(b':', hp).unwrap_or(hp.len())
    };
    let (host_text, rest) = hp.split_at(host_len);
    if host_text.is_empty() {
        return Err(UriError::MissingHost);
    }
    let host = parse_host(host_text)?;
    let port = match rest {
        [] => None,
        [b':', digits @ ..] => Some(parse_port(digits)?),
        _ => return Err(UriError::BadHost),
    };
    Ok((host, host_text, port))
}

/// Parses a host as written: RFC 3261 §25.1 host = hostname / IPv4address /
/// IPv6reference (brackets included). Also used for Via sent-by (§20.42).
pub fn parse_host(text: &[u8]) -> Result<Host<'_>, UriError> {
    if let [b'[', inner @ .., b']'] = text {
        let s = std::str::from_utf8(inner).map_err(|_| UriError::BadHost)?;
        return s.parse().map(Host::V6).map_err(|_| UriError::BadHost);
    }
    if let Some(v4) = parse_ipv4(text) {
        return Ok(Host::V4(v4));
    }
    // An all-numeric text that is no valid quad (1.2.3.256) fails here too,
    // because a toplabel must start with ALPHA.
    if is_hostname(text) {
        Ok(Host::Domain(text))
    } else {
        Err(UriError::BadHost)
    }
}

/// RFC 3261 §25.1 IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT,
/// each octet at most 255 (leading zeros are decimal, as the grammar allows).
fn parse_ipv4(text: &[u8]) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = text.split(|&b| b == b'.');
    for octet in &mut octets {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 3 || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let v = part.iter().fold(0u16, |v, &d| v * 10 + u16::from(d - b'0'));
        *octet = u8::try_from(v).ok()?;
    }
    parts.next().is_none().then_some(Ipv4Addr::from(octets))
}

/// RFC 3261 §25.1 hostname = *( domainlabel "." ) toplabel [ "." ].
fn is_hostname(text: &[u8]) -> bool {
    let text = text.strip_suffix(b".").unwrap_or(text);
    let label_ok = |l: &[u8]| match l {
        [] => false,
        [one] => one.is_ascii_alphanumeric(),
        [first, mid @ .., last] => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && mid.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-')
        }
    };
    let top_ok = text
        .rsplit(|&b| b == b'.')
        .next()
        .and_then(|top| top.first())
        .is_some_and(u8::is_ascii_alphabetic);
    top_ok && text.split(|&b| b == b'.').all(label_ok)
}

/// RFC 3261 §25.1 port = 1*DIGIT; must fit a u16 and not be 0.
fn parse_port(digits: &[u8]) -> Result<u16, UriError> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(UriError::BadPort);
    }
    // Leading zeros are allowed; checked arithmetic bounds the value.
    let port = digits.iter().try_fold(0u16, |v, &d| {
        v.checked_mul(10)?.checked_add(u16::from(d - b'0'))
    });
    match port {
        Some(p) if p != 0 => Ok(p),
        _ => Err(UriError::BadPort),
    }
}

/// Checks `*( ";" name [ "=" value ] )` with both non-empty: RFC 3261 §25.1
/// uri-parameter (pname, pvalue = 1*paramchar) or, with `TEL_PNAME`, RFC 3966
/// §3 parameter (pname = 1*( alphanum / "-" )).
fn check_params(text: &[u8], name_class: u8) -> Result<(), UriError> {
    if text.is_empty() {
        return Ok(());
    }
    let rest = text.strip_prefix(b";").ok_or(UriError::BadParam)?;
    for param in rest.split(|&b| b == b';') {
        let (name, value) = match memchr::memchr(b'=', param) {
            Some(eq) => (&param[..eq], Some(&param[eq + 1..])),
            None => (param, None),
        };
        if name.is_empty() || value.is_some_and(<[u8]>::is_empty) {
            return Err(UriError::BadParam);
        }
        check_chars(name, name_class, UriError::BadParam)?;
        check_chars(value.unwrap_or_default(), PARAM, UriError::BadParam)?;
    }
    Ok(())
}

/// RFC 3261 §25.1 headers = header *( "&" header ), header = hname "=" hvalue,
/// hname = 1*( hnv-unreserved / unreserved / escaped ), hvalue = *( same ).
fn check_headers(text: &[u8]) -> Result<(), UriError> {
    for header in text.split(|&b| b == b'&') {
        let eq = memchr::memchr(b'=', header).ok_or(UriError::BadHeader)?;
        let (name, value) = (&header[..eq], &header[eq + 1..]);
        if name.is_empty() {
            return Err(UriError::BadHeader);
        }
        check_chars(name, HEADER, UriError::BadHeader)?;
        check_chars(value, HEADER, UriError::BadHeader)?;
    }
    Ok(())
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

/// Checks that every byte of `s` is in `class` or starts a valid `%HH`.
fn check_chars(s: &[u8], class: u8, err: UriError) -> Result<(), UriError> {
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        if b == b'%' {
            decode_escape(s, i)?;
            i += 3;
        } else if CLASS[usize::from(b)] & class != 0 {
            i += 1;
        } else {
            return Err(err);
        }
    }
    Ok(())
}

/// Decodes the `%HH` at `s[i]` (RFC 3261 §25.1 escaped; `%00` is valid,
/// RFC 4475 §3.1.1.4).
fn decode_escape(s: &[u8], i: usize) -> Result<u8, UriError> {
    let digit = |k: usize| s.get(i + k).copied().and_then(hex);
    match (digit(1), digit(2)) {
        (Some(h), Some(l)) => Ok((h << 4) | l),
        _ => Err(UriError::BadEscape),
    }
}

fn hex(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Decodes `%HH` escapes of `src` onto `out` (RFC 3261 §19.1.4). On a bad
/// escape returns `Err(BadEscape)` and leaves `out` as it was. `out` grows by
/// at most `src.len()` bytes.
pub fn unescape_into(src: &[u8], out: &mut Vec<u8>) -> Result<(), UriError> {
    let mark = out.len();
    out.reserve(src.len());
    let mut i = 0;
    while i < src.len() {
        match decoded_at(src, &mut i) {
            Ok(b) => out.push(b),
            Err(e) => {
                out.truncate(mark);
                return Err(e);
            }
        }
    }
    Ok(())
}

/// Compares two escaped strings after decoding, byte for byte (RFC 3261
/// §19.1.4: `%61lice` equals `alice`; hex digits are case-insensitive; the
/// decoded bytes are compared case-sensitively, as userinfo is). Decodes on
/// the fly without allocating. Identical text is always equal; otherwise a
/// malformed escape on either side makes them unequal.
pub fn eq_escaped(a: &[u8], b: &[u8]) -> bool {
    if a == b {
        return true;
    }
    let (mut i, mut j) = (0, 0);
    loop {
        match (i < a.len(), j < b.len()) {
            (false, false) => return true,
            (true, true) => match (decoded_at(a, &mut i), decoded_at(b, &mut j)) {
                (Ok(x), Ok(y)) if x == y => {}
                _ => return false,
            },
            _ => return false,
        }
    }
}

/// The decoded byte at `s[*i]` (which must be in bounds); advances `i`.
fn decoded_at(s: &[u8], i: &mut usize) -> Result<u8, UriError> {
    let b = s.get(*i).copied().ok_or(UriError::BadEscape)?;
    if b == b'%' {
        let v = decode_escape(s, *i)?;
        *i += 3;
        Ok(v)
    } else {
        *i += 1;
        Ok(b)
    }
}

/// Byte offset of `inner` within `outer`, if it lies inside it.
fn offset_in(outer: &[u8], inner: &[u8]) -> Option<usize> {
    let start = inner.as_ptr().addr().checked_sub(outer.as_ptr().addr())?;
    (start.checked_add(inner.len())? <= outer.len()).then_some(start)
}

// Character classes of RFC 3261 §25.1 (and RFC 3966 §3 pname), one bit each.
/// user = 1*( unreserved / escaped / user-unreserved ).
const USER: u8 = 1;
/// password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," ).
const PASSWORD: u8 = 2;
/// paramchar = param-unreserved / unreserved / escaped.
const PARAM: u8 = 4;
/// hname / hvalue = *( hnv-unreserved / unreserved / escaped ).
const HEADER: u8 = 8;
/// RFC 3966 pname = 1*( alphanum / "-" ).
const TEL_PNAME: u8 = 16;

static CLASS: [u8; 256] = build_classes();

const fn build_classes() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let mut c = 0;
        // unreserved = alphanum / mark
        if b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')'
            )
        {
            c |= USER | PASSWORD | PARAM | HEADER;
        }
        // user-unreserved
        if matches!(b, b'&' | b'=' | b'+' | b'$' | b',' | b';' | b'?' | b'/') {
            c |= USER;
        }
        if matches!(b, b'&' | b'=' | b'+' | b'$' | b',') {
            c |= PASSWORD;
        }
        // param-unreserved
        if matches!(b, b'[' | b']' | b'/' | b':' | b'&' | b'+' | b'$') {
            c |= PARAM;
        }
        // hnv-unreserved
        if matches!(b, b'[' | b']' | b'/' | b'?' | b':' | b'+' | b'$') {
            c |= HEADER;
        }
        if b.is_ascii_alphanumeric() || b == b'-' {
            c |= TEL_PNAME;
        }
        table[i] = c;
        i += 1;
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Uri<'_> {
        match Uri::parse(s.as_bytes()) {
            Ok(u) => u,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    fn b(s: &str) -> Option<&[u8]> {
        Some(s.as_bytes())
    }

    /// `user|password|host_text|port|params|headers`, `-` for None.
    fn summary(u: &Uri<'_>) -> String {
        let text =
            |o: Option<&[u8]>| o.map_or("-".into(), |v| String::from_utf8_lossy(v).into_owned());
        let port = u.port.map_or("-".into(), |p| p.to_string());
        let host = text(Some(u.host_text));
        let params = text(Some(u.params));
        let (user, pw, headers) = (text(u.user), text(u.password), text(u.headers));
        format!("{user}|{pw}|{host}|{port}|{params}|{headers}")
    }

    #[test]
    fn valid_sip_table() {
        let rows: &[(&str, &str)] = &[
            ("sip:alice@example.com", "alice|-|example.com|-||-"),
            ("SIP:x@Y.com", "x|-|Y.com|-||-"),
            ("sip:%61lice@example.com", "%61lice|-|example.com|-||-"),
            (
                "sip:user;par=u%40example.net@example.com",
                "user;par=u%40example.net|-|example.com|-||-",
            ),
            (
                "sip:[2001:db8::10]:5070;transport=udp",
                "-|-|[2001:db8::10]|5070|;transport=udp|-",
            ),
            (
                "sips:bob@example.com;maddr=239.255.255.1?subject=x&priority=urgent",
                "bob|-|example.com|-|;maddr=239.255.255.1|subject=x&priority=urgent",
            ),
            (
                "sip:alice@192.168.1.10:5060;ob;alias=203.0.113.7~40112~1",
                "alice|-|192.168.1.10|5060|;ob;alias=203.0.113.7~40112~1|-",
            ),
            ("sip:example.com", "-|-|example.com|-||-"),
            ("sip:example.com.:1", "-|-|example.com.|1||-"),
            ("sip:u:pw@h", "u|pw|h|-||-"),
            ("sip:u:@h", "u||h|-||-"),
            ("sip:%00@h", "%00|-|h|-||-"),
            (
                "sip:+1-212-555-1212:1234@gateway.com;user=phone",
                "+1-212-555-1212|1234|gateway.com|-|;user=phone|-",
            ),
            ("sip:a?b@host", "a?b|-|host|-||-"),
            ("sip:host?subject=x", "-|-|host|-||subject=x"),
            ("sip:host?a=", "-|-|host|-||a="),
            ("sip:[2001:db8::10:5070]", "-|-|[2001:db8::10:5070]|-||-"),
            (
                "sip:[::ffff:192.0.2.1]:65535",
                "-|-|[::ffff:192.0.2.1]|65535||-",
            ),
            (
                "sip:sips%3Auser%40example.com@example.net",
                "sips%3Auser%40example.com|-|example.net|-||-",
            ),
            ("sip:h;lr;x=[::1];y=a:b", "-|-|h|-|;lr;x=[::1];y=a:b|-"),
            ("sip:a-b.c-d.example", "-|-|a-b.c-d.example|-||-"),
            ("sip:1and1.com", "-|-|1and1.com|-||-"),
            (
                "sip:h;transport=sctp;transport=unknown",
                "-|-|h|-|;transport=sctp;transport=unknown|-",
            ),
            (
                // RFC 4475 §3.1.1.1 wsinv / intmeth style user and password.
                "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com",
                "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*|&it+has=1,weird!*pas$wo~d_too.(doesn't-it)|example.com|-||-",
            ),
        ];
        for (s, want) in rows {
            let u = ok(s);
            assert!(u.is_sip(), "{s}");
            assert_eq!(u.raw, s.as_bytes());
            assert_eq!(summary(&u), *want, "{s}");
        }
    }

    #[test]
    fn scheme_and_host_kinds() {
        let u = ok("SIP:x@Y.com");
        assert_eq!((u.scheme, u.scheme_text), (Scheme::Sip, &b"SIP"[..]));
        assert_eq!(u.host, Some(Host::Domain(b"Y.com")));
        assert_eq!(ok("sIpS:h").scheme, Scheme::Sips);
        let v4 = |s| ok(s).host;
        assert_eq!(v4("sip:1.2.3.4"), Some(Host::V4([1, 2, 3, 4].into())));
        assert_eq!(v4("sip:010.0.0.1"), Some(Host::V4([10, 0, 0, 1].into())));
        let v6: Ipv6Addr = "2001:db8::10".parse().unwrap_or(Ipv6Addr::UNSPECIFIED);
        assert_eq!(ok("sip:[2001:db8::10]:5070").host, Some(Host::V6(v6)));
    }

    #[test]
    fn tel_and_other() {
        let u = ok("tel:+1-201-555-0123;phone-context=example.com");
        assert_eq!(u.scheme, Scheme::Tel);
        assert_eq!(u.user, b("+1-201-555-0123"));
        assert_eq!((u.host, u.host_text, u.port), (None, &b""[..], None));
        assert_eq!(u.params, b";phone-context=example.com");
        assert_eq!(u.param(b"PHONE-CONTEXT"), Some(b("example.com")));
        assert_eq!(u.hostport_end(), "tel:+1-201-555-0123".len());
        assert!(!u.is_sip());
        assert_eq!(ok("tel:7042;phone-context=+1-201").user, b("7042"));
        assert_eq!(ok("TEL:*67(123)").user, b("*67(123)"));
        assert_eq!(ok("tel:%23100;phone-context=x").user, b("%23100"));
        assert_eq!(ok("tel:+1;ext=22;isub=1").params, b";ext=22;isub=1");

        for s in [
            "nobodyKnowsThisScheme:totallyopaque",
            "soap.beep://192.0.2.103:3002",
            "urn:uuid:f81d4fae-7dec",
        ] {
            let u = ok(s);
            assert_eq!(u.scheme, Scheme::Other, "{s}");
            assert_eq!(
                (u.user, u.host, u.host_text, u.params, u.headers),
                (None, None, &b""[..], &b""[..], None)
            );
            assert_eq!((u.hostport_end(), u.params_end()), (s.len(), s.len()));
        }
        assert_eq!(ok("soap.beep://x").scheme_text, b"soap.beep");
    }

    #[test]
    fn invalid_table() {
        use UriError::*;
        let rows: &[(&[u8], UriError)] = &[
            (b"", Empty),
            (b"sip", BadScheme),
            (b":x", BadScheme),
            (b"1sip:x", BadScheme),
            (b"s_p:x", BadScheme),
            (b"<sip:user@example.com>", BadScheme),
            (b"sip:", NothingAfterScheme),
            (b"tel:", NothingAfterScheme),
            (b"foo:", NothingAfterScheme),
            (b"sip:a b@c", IllegalChar),
            (b"sip:user@example.com; lr", IllegalChar),
            (b"sip:user@example.com\r\n", IllegalChar),
            (b"sip:caf\xc3\xa9@h", IllegalChar),
            (b"sip:a\x00@h", IllegalChar),
            (b"foo:a\x7f", IllegalChar),
            (b"sip:%6@h", BadEscape),
            (b"sip:%zz@h", BadEscape),
            (b"sip:a@h;x=%", BadEscape),
            (b"sip:a@h?x=%4", BadEscape),
            (b"sip:@h", BadUser),
            (b"sip::pw@h", BadUser),
            (b"sip:a\"b@h", BadUser),
            (b"sip:a[1]@h", BadUser),
            (b"sip:a:p;w@h", BadUser),
            (b"sip:user@", MissingHost),
            (b"sip:;lr", MissingHost),
            (b"sip::5060", MissingHost),
            (b"sip:?a=b", MissingHost),
            (b"sip:a@b@c", BadHost),
            (b"sip:[::1", BadHost),
            (b"sip:[::1]x", BadHost),
            (b"sip:[zz::1]", BadHost),
            (b"sip:[::1%25eth0]", BadHost),
            (b"sip:1.2.3.256", BadHost),
            (b"sip:1.2.3", BadHost),
            (b"sip:-a.com", BadHost),
            (b"sip:a-.com", BadHost),
            (b"sip:a..com", BadHost),
            (b"sip:host_name.com", BadHost),
            (b"sip:example.123", BadHost),
            (b"sip:.", BadHost),
            (b"sip:example.com:99999", BadPort),
            (b"sip:example.com:65536", BadPort),
            (b"sip:example.com:0", BadPort),
            (b"sip:example.com:", BadPort),
            (b"sip:example.com:5o60", BadPort),
            (b"sip:example.com:5060:5061", BadPort),
            (b"sip:2001:db8::10", BadHost),
            (b"sip:example.com:000000000000000000000000070000", BadPort),
            (b"sip:h;", BadParam),
            (b"sip:h;;lr", BadParam),
            (b"sip:h;=x", BadParam),
            (b"sip:h;a=", BadParam),
            (b"sip:h;a=\"x\"", BadParam),
            (b"sip:h;a=b=c", BadParam),
            (b"sip:h?", BadHeader),
            (b"sip:h?a", BadHeader),
            (b"sip:h?=b", BadHeader),
            (b"sip:h?a=b&", BadHeader),
            (b"sip:h?a=b=c", BadHeader),
            (b"sip:h?a=<x>", BadHeader),
            (b"tel:+", BadTel),
            (b"tel:+1a", BadTel),
            (b"tel:--", BadTel),
            (b"tel:12x", BadTel),
            (b"tel:;phone-context=x", BadTel),
            (b"tel:123?x=y", BadTel),
            (b"tel:123;", BadParam),
            (b"tel:123;a_b=c", BadParam),
            (b"tel:123;ctx=a?b", BadParam),
        ];
        for (s, err) in rows {
            let got = Uri::parse(s).map(|u| u.raw);
            assert_eq!(got, Err(*err), "{}", String::from_utf8_lossy(s));
        }
    }

    #[test]
    fn params_accessors() {
        let u = ok("sip:a@h;Transport=TCP;LR;maddr=239.255.255.1;ob");
        assert_eq!(u.transport(), b("TCP"));
        assert!(u.has_lr());
        assert_eq!(u.maddr(), b("239.255.255.1"));
        assert_eq!(u.param(b"ob"), Some(None));
        assert_eq!(u.param(b"x"), None);
        let u = ok("sip:h;transport");
        assert_eq!(u.transport(), None);
        assert!(!ok("sip:h;lrx").has_lr());
        let names: Vec<&[u8]> = params::iter(ok("sip:a@h:1;a;b=2?c=3").params)
            .map(|p| p.name)
            .collect();
        assert_eq!(names, [&b"a"[..], b"b"]);
    }

    #[test]
    fn offsets() {
        let rows: &[(&str, usize, usize)] = &[
            ("sip:alice@192.168.1.10:5060;ob;alias=1", 27, 38),
            ("sip:alice@example.com", 21, 21),
            ("sip:alice@example.com?x=y", 21, 21),
            ("sip:a@h:5;lr?x=y", 9, 12),
            ("sip:[::1]:5060;lr", 14, 17),
            ("sip:[::1]", 9, 9),
            ("sip:a?b@host;p", 12, 14),
        ];
        for &(s, hp, pe) in rows {
            let u = ok(s);
            assert_eq!((u.hostport_end(), u.params_end()), (hp, pe), "{s}");
        }
        // Kamailio add_contact_alias style edit: insert right after hostport.
        let s = "sip:alice@192.168.1.10:5060;ob";
        let u = ok(s);
        let (head, tail) = s.split_at(u.hostport_end());
        let edited = format!("{head};alias=1{tail}");
        assert_eq!(edited, "sip:alice@192.168.1.10:5060;alias=1;ob");
        // A Uri built by hand from unrelated slices still answers in bounds.
        let hand = Uri {
            params: b";x",
            headers: Some(b"a=b"),
            ..ok("sip:h;x?a=b")
        };
        assert_eq!((hand.hostport_end(), hand.params_end()), (5, 7));
    }

    #[test]
    fn escapes() {
        assert!(eq_escaped(b"%61lice", b"alice"));
        assert!(eq_escaped(b"alice", b"%61lice"));
        assert!(eq_escaped(b"%6C", b"%6c"));
        assert!(eq_escaped(b"%4a", b"J"));
        assert!(!eq_escaped(b"%41", b"a"));
        assert!(!eq_escaped(b"alice", b"alicE"));
        assert!(!eq_escaped(b"alice", b"alic"));
        assert!(!eq_escaped(b"%6", b"%06"));
        assert!(eq_escaped(b"%zz", b"%zz"));
        assert!(!eq_escaped(b"%zz", b"%zZ"));
        assert!(eq_escaped(b"", b""));
        assert!(eq_escaped(b"a%00b", b"a%00b"));

        let mut out = b"x".to_vec();
        assert_eq!(unescape_into(b"%61l%69ce%00", &mut out), Ok(()));
        assert_eq!(out, b"xalice\0");
        assert_eq!(unescape_into(b"ok%4", &mut out), Err(UriError::BadEscape));
        assert_eq!(out, b"xalice\0");
        assert_eq!(unescape_into(b"%g0", &mut out), Err(UriError::BadEscape));
        assert_eq!(out, b"xalice\0");
    }

    #[test]
    fn error_messages_fit_reason_phrase() {
        use UriError::*;
        let all = [
            Empty,
            BadScheme,
            NothingAfterScheme,
            IllegalChar,
            BadEscape,
            BadUser,
        ];
        let more = [MissingHost, BadHost, BadPort, BadParam, BadHeader, BadTel];
        for e in all.into_iter().chain(more) {
            let m = e.to_string();
            assert!(!m.is_empty() && m.len() <= 32 && m.is_ascii(), "{m}");
        }
    }

    /// xorshift64*, deterministic.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: usize) -> usize {
            usize::try_from(self.next() % n.max(1) as u64).unwrap_or(0)
        }
    }

    fn within(outer: &[u8], inner: &[u8]) -> bool {
        offset_in(outer, inner).is_some()
    }

    /// Exercises every entry point on `input` and checks the invariants that
    /// callers rely on; a panic anywhere fails the test.
    fn exercise(input: &[u8]) -> bool {
        let parsed = Uri::parse(input);
        if let Ok(u) = parsed {
            let parts = [u.raw, u.scheme_text, u.host_text, u.params];
            assert!(parts.iter().all(|p| within(input, p)));
            let opts = [u.user, u.password, u.headers];
            assert!(opts.iter().flatten().all(|p| within(input, p)));
            if let Some(Host::Domain(d)) = u.host {
                assert!(within(input, d));
            }
            let (hp, pe) = (u.hostport_end(), u.params_end());
            assert!(hp <= pe && pe <= input.len());
            assert!(matches!(input.get(pe), None | Some(b'?')));
            for p in params::iter(u.params) {
                assert!(within(u.params, p.raw) && !p.name.is_empty());
            }
            let _ = (u.transport(), u.has_lr(), u.maddr());
            let again = Uri::parse(u.raw).map(|v| (v.user, v.host, v.port, v.params));
            assert_eq!(again, Ok((u.user, u.host, u.port, u.params)));
        }
        for p in params::iter(input) {
            assert!(within(input, p.raw) && within(p.raw, p.name));
            assert!(p.value.is_none_or(|v| within(p.raw, v)));
        }
        if let Err(pos) = params::validate(input) {
            assert!(pos <= input.len());
        }
        let _ = params::find(input, b"tag");
        let mut out = Vec::new();
        if unescape_into(input, &mut out).is_ok() {
            assert!(out.len() <= input.len());
        }
        let _ = eq_escaped(input, &out);
        parsed.is_ok()
    }

    #[test]
    fn fuzz_no_panic() {
        const ALPHABET: &[u8] =
            b"sipSIPtel:+-.;=?&@[]%\"\\ \t\r\n0123456789abcdefABCDEF:;<>/,_~\x00\xff";
        let seeds: &[&[u8]] = &[
            b"sip:alice@192.168.1.10:5060;ob;alias=203.0.113.7~40112~1",
            b"sips:bob@example.com;maddr=239.255.255.1?subject=x&priority=urgent",
            b"sip:[2001:db8::10]:5070;transport=udp",
            b"sip:user;par=u%40example.net@example.com",
            b"tel:+1-201-555-0123;phone-context=example.com",
            b";received=\"sip:a;b\" ; tag = 1 ;lr;x=[::1]",
            b"soap.beep://192.0.2.103:3002",
        ];
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut buf = Vec::with_capacity(128);
        let mut valid = 0;
        for round in 0..100_000 {
            buf.clear();
            if round % 2 == 0 {
                let len = rng.below(48);
                let from_alphabet = rng.below(2) == 0;
                for _ in 0..len {
                    let byte = if from_alphabet {
                        ALPHABET[rng.below(ALPHABET.len())]
                    } else {
                        u8::try_from(rng.below(256)).unwrap_or(0)
                    };
                    buf.push(byte);
                }
            } else {
                buf.extend_from_slice(seeds[rng.below(seeds.len())]);
                for _ in 0..=rng.below(4) {
                    let at = rng.below(buf.len() + 1);
                    let byte = ALPHABET[rng.below(ALPHABET.len())];
                    match rng.below(4) {
                        0 if at < buf.len() => buf[at] = byte,
                        1 if at < buf.len() => {
                            buf.remove(at);
                        }
                        2 => buf.truncate(at),
                        _ => buf.insert(at, byte),
                    }
                }
            }
            valid += usize::from(exercise(&buf));
        }
        // The mutations must reach past the first checks, not only fail them.
        assert!(valid > 10_000, "{valid}");
    }
}
