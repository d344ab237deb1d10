//! name-addr / addr-spec with header parameters: From, To, Contact, Route,
//! Record-Route, Path (RFC 3261 §20.10, §20.20, §20.39, §25.1).

use super::list::{is_lws, is_token_char, trim_lws};
use super::params;
use super::uri::Uri;
use memchr::memchr;

#[derive(Debug, Clone, Copy)]
pub struct NameAddr<'a> {
    /// The whole element as written.
    pub raw: &'a [u8],
    /// Display name as written (quotes kept), if any.
    pub display: Option<&'a [u8]>,
    pub uri: Uri<'a>,
    /// True for the `<...>` form. In the bare addr-spec form a `;` starts
    /// header parameters, never URI parameters (RFC 3261 §20.10).
    pub bracketed: bool,
    /// Header parameters after the address (`;tag=`, `;expires=`, ...).
    pub params: &'a [u8],
}

/// Why a name-addr did not parse; the caller maps it to the header's 400.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadNameAddr;

impl<'a> NameAddr<'a> {
    pub fn parse(raw: &'a [u8]) -> Result<NameAddr<'a>, BadNameAddr> {
        let raw = trim_lws(raw);
        if raw.is_empty() {
            return Err(BadNameAddr);
        }
        let (display, rest) = split_display(raw)?;
        let (uri_text, bracketed, after) = if rest.first() == Some(&b'<') {
            let close = memchr(b'>', rest).ok_or(BadNameAddr)?;
            (&rest[1..close], true, &rest[close + 1..])
        } else {
            if display.is_some() {
                return Err(BadNameAddr);
            }
            // RFC 3261 §20.10: an addr-spec with `,`, `?` or `;` must be
            // bracketed, so the URI ends at the first `;` (RFC 4475 §3.1.2.13).
            let end = memchr(b';', rest).unwrap_or(rest.len());
            let uri_text = trim_lws(&rest[..end]);
            if uri_text.contains(&b'?') || uri_text.contains(&b',') {
                return Err(BadNameAddr);
            }
            (uri_text, false, &rest[end..])
        };
        // Inside `<>` no white space is allowed (RFC 4475 §3.1.2.14).
        let uri = Uri::parse(uri_text).map_err(|_| BadNameAddr)?;
        let params = trim_lws(after);
        if !params.is_empty() && params[0] != b';' {
            return Err(BadNameAddr);
        }
        params::validate(params).map_err(|_| BadNameAddr)?;
        Ok(NameAddr { raw, display, uri, bracketed, params })
    }

    pub fn param(&self, name: &[u8]) -> Option<Option<&'a [u8]>> {
        params::find(self.params, name)
    }

    pub fn tag(&self) -> Option<&'a [u8]> {
        self.param(b"tag").flatten()
    }
}

/// Splits an optional display name (quoted-string or `*(token LWS)`) from
/// the `<addr-spec>` that must then follow. No LWS is needed before `<`
/// (RFC 4475 §3.1.1.6).
fn split_display(s: &[u8]) -> Result<(Option<&[u8]>, &[u8]), BadNameAddr> {
    if s[0] == b'"' {
        let end = quoted_end(s).ok_or(BadNameAddr)?;
        let rest = trim_lws(&s[end..]);
        if rest.first() != Some(&b'<') {
            return Err(BadNameAddr);
        }
        return Ok((Some(&s[..end]), rest));
    }
    let Some(lt) = memchr(b'<', s) else {
        return Ok((None, s));
    };
    // `<` before any ';' means the name-addr form; a '<' inside params of
    // an addr-spec (never valid) fails the token check below anyway.
    let display = trim_lws(&s[..lt]);
    if display.is_empty() {
        return Ok((None, &s[lt..]));
    }
    if !display.iter().all(|&b| is_token_char(b) || is_lws(b)) {
        return Err(BadNameAddr); // RFC 4475 §3.1.2.15
    }
    Ok((Some(display), &s[lt..]))
}

/// One past the closing quote of the quoted-string starting at `s[0]`.
pub fn quoted_end(s: &[u8]) -> Option<usize> {
    let mut i = 1;
    while i < s.len() {
        match s[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None // RFC 4475 §3.1.2.6: unterminated quoted string
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let n = NameAddr::parse(b"\"Alice, A.\" <sip:alice@example.com;lr>;tag=abc").unwrap();
        assert_eq!(n.display, Some(&b"\"Alice, A.\""[..]));
        assert!(n.bracketed);
        assert!(n.uri.has_lr());
        assert_eq!(n.tag(), Some(&b"abc"[..]));
        let n = NameAddr::parse(b"sip:bob@example.com;tag=9").unwrap();
        assert!(!n.bracketed);
        assert_eq!(n.uri.raw, b"sip:bob@example.com");
        assert_eq!(n.tag(), Some(&b"9"[..]));
        let n = NameAddr::parse(b"caller<sip:caller@example.com>;tag=1").unwrap();
        assert_eq!(n.display, Some(&b"caller"[..]));
        let n = NameAddr::parse(b"Bob Smith <sip:b@example.com>").unwrap();
        assert_eq!(n.display, Some(&b"Bob Smith"[..]));
        let n = NameAddr::parse(b"<nobodyKnowsThisScheme:totallyopaque>").unwrap();
        assert_eq!(n.uri.raw, b"nobodyKnowsThisScheme:totallyopaque");
    }

    #[test]
    fn rejects_torture_cases() {
        for bad in [
            &b"\"Unterminated <sip:a@example.com>"[..],
            b"Bell, Alexander <sip:a.g.bell@example.com>",
            b"<sip:a@example.com",
            b"< sip:a@example.com >",
            b"sip:user@example.com?Route=%3Csip:example.com%3E",
            b"<sip:a@example.com> junk",
            b"",
        ] {
            assert!(NameAddr::parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
