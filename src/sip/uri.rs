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

/// A valid hostport and its length.
struct HostPort<'a> {
    host: Host<'a>,
    host_text: &'a [u8],
    port: Option<u16>,
    len: usize,
}

/// RFC 3261 §25.1 hostport = host [ ":" port ] at the start of `s`, which
/// it must fill up to ';', '?' or the end.
fn hostport(s: &[u8]) -> Result<HostPort<'_>, UriError> {
    if s.first() == Some(&b'[') {
        return v6_hostport(s);
    }
    let (host_len, host) = scan_host(s);
    if !matches!(s.get(host_len), None | Some(b':' | b';' | b'?')) {
        return Err(UriError::BadHost);
    }
    if host_len == 0 {
        return Err(UriError::MissingHost);
    }
    let host = host.ok_or(UriError::BadHost)?;
    let (port, len) = match s.get(host_len) {
        Some(b':') => scan_port(s, host_len + 1).map(|(p, end)| (Some(p), end))?,
        _ => (None, host_len),
    };
    Ok(HostPort {
        host,
        host_text: &s[..host_len],
        port,
        len,
    })
}

/// hostport whose host is an IPv6reference. Rare, so it stays simple: std
/// parses the address.
fn v6_hostport(s: &[u8]) -> Result<HostPort<'_>, UriError> {
    let len = memchr::memchr2(b';', b'?', s).unwrap_or(s.len());
    let hp = &s[..len];
    let host_len = memchr::memchr(b']', hp).ok_or(UriError::BadHost)? + 1;
    let host_text = &hp[..host_len];
    let host = parse_host(host_text)?;
    let port = match &hp[host_len..] {
        [] => None,
        [b':', ..] => Some(scan_port(hp, host_len + 1)?.0),
        _ => return Err(UriError::BadHost),
    };
    Ok(HostPort {
        host,
        host_text,
        port,
        len,
    })
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

/// Parses a host as written: RFC 3261 §25.1 host = hostname / IPv4address /
/// IPv6reference (brackets included). Also used for Via sent-by (§20.42).
pub fn parse_host(text: &[u8]) -> Result<Host<'_>, UriError> {
    if let [b'[', inner @ .., b']'] = text {
        let s = std::str::from_utf8(inner).map_err(|_| UriError::BadHost)?;
        return s.parse().map(Host::V6).map_err(|_| UriError::BadHost);
    }
    match scan_host(text) {
        (len, Some(host)) if len == text.len() => Ok(host),
        _ => Err(UriError::BadHost),
    }
}

/// Scans the run of hostname characters (alphanum, '-', '.') at the start
/// of `s`: its length, and what it is if it is an IPv4address or hostname.
/// An all-numeric run that is no valid quad (1.2.3.256) is neither, because
/// a toplabel must start with ALPHA.
fn scan_host(s: &[u8]) -> (usize, Option<Host<'_>>) {
    // A quad followed by more hostname characters is no IPv4address.
    if let Some((len, v4)) = scan_ipv4(s)
        && s.get(len).is_none_or(|&b| !is_host_char(b))
    {
        return (len, Some(Host::V4(v4)));
    }
    let (len, ok) = scan_hostname(s);
    (len, ok.then_some(Host::Domain(&s[..len])))
}

fn is_host_char(b: u8) -> bool {
    class(b) & ALNUM != 0 || b == b'-' || b == b'.'
}

/// RFC 3261 §25.1 IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT
/// at the start of `s`, each octet at most 255 (leading zeros are decimal,
/// as the grammar allows): its length and value. The caller checks what
/// follows.
fn scan_ipv4(s: &[u8]) -> Option<(usize, Ipv4Addr)> {
    let (a, i) = octet(s, 0)?;
    let (b, i) = dot_octet(s, i)?;
    let (c, i) = dot_octet(s, i)?;
    let (d, i) = dot_octet(s, i)?;
    Some((i, Ipv4Addr::new(a, b, c, d)))
}

/// `"." octet` at `s[i]`; see [`octet`].
fn dot_octet(s: &[u8], i: usize) -> Option<(u8, usize)> {
    match s.get(i) {
        Some(b'.') => octet(s, i + 1),
        _ => None,
    }
}

/// The 1*3DIGIT octet at `s[i]`, at most 255, and where it ends. A fourth
/// digit is left for the caller to reject as what follows.
fn octet(s: &[u8], i: usize) -> Option<(u8, usize)> {
    let digit_at = |k: usize| s.get(k).and_then(|&b| digit(b)).map(u32::from);
    let mut v = digit_at(i)?;
    let mut end = i + 1;
    if let Some(d) = digit_at(end) {
        v = v * 10 + d;
        end += 1;
        if let Some(d) = digit_at(end) {
            v = v * 10 + d;
            end += 1;
        }
    }
    Some((u8::try_from(v).ok()?, end))
}

/// Scans the run of hostname characters at the start of `s`: its length,
/// and whether it is an RFC 3261 §25.1 hostname =
/// *( domainlabel "." ) toplabel [ "." ], where a label is alphanums with
/// inner '-' and the toplabel starts with ALPHA.
fn scan_hostname(s: &[u8]) -> (usize, bool) {
    let mut ok = true;
    // Where the current label starts, and where the one before it started.
    let (mut label, mut prev_label) = (0, 0);
    let mut i = 0;
    loop {
        i = scan_class(s, i, ALNUM);
        match s.get(i) {
            Some(b'-') => ok &= i != label,
            Some(b'.') => {
                ok &= i != label && s[i - 1] != b'-';
                prev_label = label;
                label = i + 1;
            }
            _ => break,
        }
        i += 1;
    }
    // One trailing '.' is allowed: the toplabel is then the label before it.
    let top = if label < i {
        ok &= s[i - 1] != b'-';
        label
    } else {
        ok &= i > 0;
        prev_label
    };
    (i, ok && s.get(top).is_some_and(u8::is_ascii_alphabetic))
}

/// RFC 3261 §25.1 port = 1*DIGIT from `s[i]`, up to the end of hostport
/// (';', '?' or the end); must fit a u16 and not be 0. Returns the port and
/// where it ends.
fn scan_port(s: &[u8], mut i: usize) -> Result<(u16, usize), UriError> {
    let start = i;
    // Leading zeros are allowed; the saturating value bounds the rest.
    let mut v = 0u32;
    while let Some(d) = s.get(i).and_then(|&b| digit(b)) {
        v = (v * 10 + u32::from(d)).min(1 << 16);
        i += 1;
    }
    if i == start || !matches!(s.get(i), None | Some(b';' | b'?')) {
        return Err(UriError::BadPort);
    }
    match u16::try_from(v) {
        Ok(p) if p != 0 => Ok((p, i)),
        _ => Err(UriError::BadPort),
    }
}

fn digit(b: u8) -> Option<u8> {
    let d = b.wrapping_sub(b'0');
    (d < 10).then_some(d)
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

/// Decodes the `%HH` at `s[i]` (RFC 3261 §25.1 escaped; `%00` is valid,
/// RFC 4475 §3.1.1.4).
fn decode_escape(s: &[u8], i: usize) -> Result<u8, UriError> {
    let nibble = |k: usize| s.get(i + k).copied().and_then(hex);
    match (nibble(1), nibble(2)) {
        (Some(h), Some(l)) => Ok((h << 4) | l),
        _ => Err(UriError::BadEscape),
    }
}

fn hex(b: u8) -> Option<u8> {
    if class(b) & HEX == 0 {
        None
    } else if b <= b'9' {
        Some(b - b'0')
    } else {
        Some((b | 0x20) - b'a' + 10)
    }
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

/// The character classes of `b`: a set of the bits below.
fn class(b: u8) -> u16 {
    CLASS[usize::from(b)]
}

/// Index of the first byte at or after `i` that is in none of `classes`
/// (or the end). The hot loop of every parser here: one table load a byte.
#[inline]
pub(crate) fn scan_class(s: &[u8], mut i: usize, classes: u16) -> usize {
    let is = |b: u8| class(b) & classes != 0;
    // Four bytes a step, one bounds check for the four.
    while let Some(&[a, b, c, d]) = s.get(i..i + 4) {
        if !is(a) {
            return i;
        }
        if !is(b) {
            return i + 1;
        }
        if !is(c) {
            return i + 2;
        }
        if !is(d) {
            return i + 3;
        }
        i += 4;
    }
    while s.get(i).is_some_and(|&b| is(b)) {
        i += 1;
    }
    i
}

/// Like [`scan_class`], also stepping over `%HH` escapes (RFC 3261 §25.1
/// escaped, allowed wherever `classes` is used here); `Err` holds the index
/// of a '%' not followed by two hex digits.
#[inline]
fn scan(s: &[u8], mut i: usize, classes: u16) -> Result<usize, usize> {
    loop {
        i = scan_class(s, i, classes);
        if s.get(i) != Some(&b'%') {
            return Ok(i);
        }
        if decode_escape(s, i).is_err() {
            return Err(i);
        }
        i += 3;
    }
}

// Character classes, one bit each: of RFC 3261 §25.1 (and RFC 3966 §3
// pname) for URIs, and of the parameter readers in `params`. No class but
// the last three admits whitespace, a control or a non-ASCII byte.
/// user = 1*( unreserved / escaped / user-unreserved ).
const USER: u16 = 1;
/// password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," ).
const PASSWORD: u16 = 1 << 1;
/// paramchar = param-unreserved / unreserved / escaped.
const PARAM: u16 = 1 << 2;
/// hname / hvalue = *( hnv-unreserved / unreserved / escaped ).
const HEADER: u16 = 1 << 3;
/// RFC 3966 pname = 1*( alphanum / "-" ).
const TEL_PNAME: u16 = 1 << 4;
/// The characters after a scheme's first: ALPHA / DIGIT / "+" / "-" / ".".
const SCHEME: u16 = 1 << 5;
/// alphanum.
const ALNUM: u16 = 1 << 6;
/// HEXDIG, either case.
const HEX: u16 = 1 << 7;
/// token = 1*( alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" /
/// "'" / "~" ).
pub(crate) const TOKEN: u16 = 1 << 8;
/// qdtext = LWS / %x21 / %x23-5B / %x5D-7E / UTF8-NONASCII (bytes of a
/// line end are not in it: a fold is checked apart).
pub(crate) const QDTEXT: u16 = 1 << 9;
/// What a lenient parameter name runs over: all but ';', '=' and whitespace.
pub(crate) const LAX_NAME: u16 = 1 << 10;
/// What a lenient parameter value runs over: all but ';' and whitespace.
pub(crate) const LAX_VALUE: u16 = 1 << 11;

static CLASS: [u16; 256] = build_classes();

const fn build_classes() -> [u16; 256] {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let mut c = 0;
        let alnum = b.is_ascii_alphanumeric();
        // unreserved = alphanum / mark
        if alnum
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
        if alnum || b == b'-' {
            c |= TEL_PNAME;
        }
        if alnum || matches!(b, b'+' | b'-' | b'.') {
            c |= SCHEME;
        }
        if alnum {
            c |= ALNUM;
        }
        if b.is_ascii_hexdigit() {
            c |= HEX;
        }
        if alnum
            || matches!(
                b,
                b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
            )
        {
            c |= TOKEN;
        }
        if matches!(b, b' ' | b'\t' | 0x21 | 0x23..=0x5b | 0x5d..=0x7e | 0x80..) {
            c |= QDTEXT;
        }
        let ws = matches!(b, b' ' | b'\t' | b'\r' | b'\n');
        if !ws && b != b';' {
            c |= LAX_VALUE;
            if b != b'=' {
                c |= LAX_NAME;
            }
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
    fn error_precedence() {
        use UriError::*;
        // Each input holds two faults (or a fault that only counts in some
        // places); the error is the one the grammar meets first.
        let rows: &[(&[u8], UriError)] = &[
            // An illegal byte wins over any other fault, wherever it is.
            (b"1sip:a b", IllegalChar),
            (b"sip:%zz@h x", IllegalChar),
            (b"foo:a b", IllegalChar),
            // In a parameter an empty value comes before a bad escape in
            // its name; in a header a missing '=' does.
            (b"sip:h;a%zz=", BadParam),
            (b"sip:h;a%zz=?x=y", BadParam),
            (b"sip:h;a%zz=1", BadEscape),
            (b"sip:h;a%zz", BadEscape),
            (b"tel:1;a%zz=", BadParam),
            (b"sip:h?a%zz&b=c", BadHeader),
            (b"sip:h?a%zz=b", BadEscape),
            // A fault before '@' is a userinfo fault; without an '@' the
            // same bytes were a hostport.
            (b"sip::%zz@h", BadUser),
            (b"sip:a:%zz@h", BadEscape),
            (b"sip:a:b;c@h", BadUser),
            (b"sip:a\"b@c", BadUser),
            (b"sip:a%zz", BadHost),
            (b"sip:a\"b:c", BadHost),
            (b"sip:a:b;c", BadPort),
            // Hosts that look numeric but are no quad.
            (b"sip:1.2.3.4a", BadHost),
            (b"sip:1.2.3.0004", BadHost),
            (b"sip:a.b..", BadHost),
        ];
        for (s, err) in rows {
            let got = Uri::parse(s).map(|u| u.raw);
            assert_eq!(got, Err(*err), "{}", String::from_utf8_lossy(s));
        }
        let host = |s: &'static str| ok(s).host;
        let v4 = |a, b, c, d| Some(Host::V4(Ipv4Addr::new(a, b, c, d)));
        assert_eq!(host("sip:01.02.03.004"), v4(1, 2, 3, 4));
        assert_eq!(host("sip:1.2.3.4:5"), v4(1, 2, 3, 4));
        let d = b"1.2.3.4.example.com";
        assert_eq!(host("sip:1.2.3.4.example.com"), Some(Host::Domain(d)));
        assert_eq!(host("sip:1234.com"), Some(Host::Domain(b"1234.com")));
        assert_eq!(host("sip:a.b."), Some(Host::Domain(b"a.b.")));
        assert_eq!(ok("sip:h:00005060").port, Some(5060));
        assert_eq!(ok("tel:1;a%41=b").params, b";a%41=b");
        assert_eq!(ok("sIp+x:h").scheme, Scheme::Other);
        assert_eq!(ok("Tel:+1").scheme, Scheme::Tel);
        assert_eq!(parse_host(b"1.2.3.4"), Ok(Host::V4([1, 2, 3, 4].into())));
        assert_eq!(parse_host(b"1.2.3.4 "), Err(UriError::BadHost));
        assert_eq!(parse_host(b""), Err(UriError::BadHost));
    }

    #[test]
    fn classes_admit_no_illegal_byte() {
        // Uri::parse looks for illegal bytes only when parsing fails, which
        // is sound only while no URI class admits one.
        let uri_classes = USER | PASSWORD | PARAM | HEADER | TEL_PNAME | SCHEME | ALNUM | HEX;
        for b in (0..=b' ').chain(0x7f..=0xff) {
            assert_eq!(class(b) & uri_classes, 0, "{b:#x}");
            assert_eq!(class(b) & TOKEN, 0, "{b:#x}");
        }
        assert_eq!(hex(b'f'), Some(15));
        assert_eq!(hex(b'A'), Some(10));
        assert_eq!(hex(b'g'), None);
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
