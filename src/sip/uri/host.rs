//! Host and port parsing (RFC 3261 §25.1 hostport, host, port).

use std::net::Ipv4Addr;

use super::{Host, UriError};
use crate::sip::charclass::{ALNUM, class, digit, scan_class};

/// A valid hostport and its length.
pub(super) struct HostPort<'a> {
    pub(super) host: Host<'a>,
    pub(super) host_text: &'a [u8],
    pub(super) port: Option<u16>,
    pub(super) len: usize,
}

/// RFC 3261 §25.1 hostport = host [ ":" port ] at the start of `s`, which
/// it must fill up to ';', '?' or the end.
pub(super) fn hostport(s: &[u8]) -> Result<HostPort<'_>, UriError> {
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
    Ok(HostPort { host, host_text: &s[..host_len], port, len })
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
    Ok(HostPort { host, host_text, port, len })
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
