//! Generic `;name[=value]` parameter lists, zero-copy.
//!
//! One reader serves URI parameters (RFC 3261 §19.1.1 uri-parameters), Via
//! parameters (§20.42 via-params) and header parameters (§25.1
//! generic-param: `;tag=`, `;expires=`, `;q=`, `;received="sip:..."`).
//! Every slice handed out borrows from the input, so callers can turn it
//! into a byte range by pointer difference and edit the message in place.
//! Scans run over the character-class table of `super::charclass`.

use super::charclass::{LAX_NAME, LAX_VALUE, QDTEXT, TOKEN, scan_class};

/// One parameter of a list, as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param<'a> {
    /// The name as written; compare it ASCII case-insensitively
    /// (RFC 3261 §7.3.1, §19.1.4).
    pub name: &'a [u8],
    /// The text after '=', without the whitespace around it; `None` for a
    /// flag parameter such as `;lr`. A quoted-string keeps its quotes.
    pub value: Option<&'a [u8]>,
    /// The whole `;name=value` text incl. the leading ';' (for removal edits).
    pub raw: &'a [u8],
}

/// Iterates the parameters in `text`, which starts at the first ';' (text may
/// be empty).
///
/// Whitespace around ';' and '=' is allowed (LWS in header params, RFC 3261
/// §25.1 SEMI and EQUAL) and is part of neither name nor value. Quoted
/// values are returned with their quotes; a `\"` inside does not end them.
///
/// Best effort, never panics. A name runs to ';', '=' or whitespace and may
/// be empty (`;;` yields an empty name); an unquoted value runs to ';' or
/// whitespace and may be empty (`;a=`). An unterminated quoted value runs to
/// the end of `text`. Iteration ends at the first piece that does not start
/// with ';' after whitespace (`;a=b c;d` yields only `a`): use [`validate`]
/// to reject such lists.
pub fn iter(text: &[u8]) -> ParamIter<'_> {
    ParamIter { text, pos: 0 }
}

/// Iterator over a parameter list; see [`iter`].
#[derive(Debug, Clone)]
pub struct ParamIter<'a> {
    text: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for ParamIter<'a> {
    type Item = Param<'a>;

    fn next(&mut self) -> Option<Param<'a>> {
        let text = self.text;
        let start = skip_ws(text, self.pos);
        if text.get(start) != Some(&b';') {
            self.pos = text.len();
            return None;
        }
        let name_start = skip_ws(text, start + 1);
        let name_end = scan_class(text, name_start, LAX_NAME);
        let after_name = skip_ws(text, name_end);
        let (value, end) = if text.get(after_name) == Some(&b'=') {
            let v_start = skip_ws(text, after_name + 1);
            let v_end = if text.get(v_start) == Some(&b'"') {
                quoted_end(text, v_start).unwrap_or(text.len())
            } else {
                scan_class(text, v_start, LAX_VALUE)
            };
            (Some(&text[v_start..v_end]), v_end)
        } else {
            (None, name_end)
        };
        self.pos = end;
        Some(Param { name: &text[name_start..name_end], value, raw: &text[start..end] })
    }
}

impl std::iter::FusedIterator for ParamIter<'_> {}

/// First param with this name, ASCII case-insensitive: `Some(value)` where
/// value is `None` for a flag param. Stops at the first match.
pub fn find<'a>(text: &'a [u8], name: &[u8]) -> Option<Option<&'a [u8]>> {
    iter(text).find(|p| p.name.eq_ignore_ascii_case(name)).map(|p| p.value)
}

/// Strips the surrounding quotes from a quoted value (no unescaping), or
/// returns it as is.
pub fn unquote(v: &[u8]) -> &[u8] {
    match v {
        [b'"', inner @ .., b'"'] => inner,
        _ => v,
    }
}

/// Validates that `text` is a syntactically valid header parameter list:
/// `*( SEMI token [ EQUAL ( token / host / quoted-string ) ] )`
/// (RFC 3261 §25.1 generic-param), host including an IPv6 reference in
/// brackets. Returns the byte position of the first problem.
///
/// Whitespace may precede and follow the list. Inside a quoted-string bytes
/// of 0x80 and above are accepted as UTF8-NONASCII without checking that
/// they form valid UTF-8.
pub fn validate(text: &[u8]) -> Result<(), usize> {
    let mut i = skip_lws(text, 0)?;
    while i < text.len() {
        if text[i] != b';' {
            return Err(i);
        }
        i = skip_lws(text, i + 1)?;
        let name_end = scan_class(text, i, TOKEN);
        if name_end == i {
            return Err(i);
        }
        i = skip_lws(text, name_end)?;
        if text.get(i) == Some(&b'=') {
            i = skip_lws(text, i + 1)?;
            i = value_end(text, i)?;
            i = skip_lws(text, i)?;
        }
    }
    Ok(())
}

/// End of a gen-value starting at `i` (RFC 3261 §25.1: token / host /
/// quoted-string). hostname and IPv4address are subsets of token.
fn value_end(text: &[u8], i: usize) -> Result<usize, usize> {
    match text.get(i) {
        Some(b'"') => quoted_valid_end(text, i),
        Some(b'[') => {
            let close = memchr::memchr(b']', &text[i..]).ok_or(i)? + i;
            let inner = std::str::from_utf8(&text[i + 1..close]).map_err(|_| i)?;
            inner.parse::<std::net::Ipv6Addr>().map_err(|_| i)?;
            Ok(close + 1)
        }
        _ => {
            let end = scan_class(text, i, TOKEN);
            if end == i { Err(i) } else { Ok(end) }
        }
    }
}

/// End (after the closing quote) of a valid quoted-string opening at `open`
/// (RFC 3261 §25.1 quoted-string, qdtext, quoted-pair).
fn quoted_valid_end(text: &[u8], open: usize) -> Result<usize, usize> {
    let mut i = open + 1;
    loop {
        i = scan_class(text, i, QDTEXT);
        match text.get(i) {
            None => return Err(open),
            Some(b'"') => return Ok(i + 1),
            // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
            Some(b'\\') => match text.get(i + 1) {
                Some(&c) if c <= 0x7f && c != b'\n' && c != b'\r' => i += 2,
                _ => return Err(i),
            },
            Some(b'\r' | b'\n') => i = skip_lws(text, i)?,
            Some(_) => return Err(i),
        }
    }
}

/// Index after the quoted-string opening at `open`, honouring `\` escapes;
/// `None` if it is not terminated.
fn quoted_end(text: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    loop {
        let at = i + memchr::memchr2(b'"', b'\\', text.get(i..)?)?;
        if text[at] == b'"' {
            return Some(at + 1);
        }
        i = at + 2;
    }
}

/// Skips LWS strictly (RFC 3261 §25.1: `[*WSP CRLF] 1*WSP`, bare LF also
/// accepted as a line end). A line end not followed by WSP is an error.
#[inline]
fn skip_lws(text: &[u8], i: usize) -> Result<usize, usize> {
    match text.get(i) {
        Some(b' ' | b'\t' | b'\r' | b'\n') => skip_lws_slow(text, i),
        _ => Ok(i),
    }
}

/// The loop of [`skip_lws`], out of line: whitespace is rare here.
fn skip_lws_slow(text: &[u8], mut i: usize) -> Result<usize, usize> {
    loop {
        match text.get(i) {
            Some(b' ' | b'\t') => i += 1,
            Some(b'\r') if text.get(i + 1) == Some(&b'\n') => i = folded(text, i, i + 2)?,
            Some(b'\n') => i = folded(text, i, i + 1)?,
            Some(b'\r') => return Err(i),
            _ => return Ok(i),
        }
    }
}

/// Checks that the line end at `at` continues at `next` with WSP (a fold).
fn folded(text: &[u8], at: usize, next: usize) -> Result<usize, usize> {
    match text.get(next) {
        Some(b' ' | b'\t') => Ok(next),
        _ => Err(at),
    }
}

/// Skips whitespace leniently (any SP, HTAB, CR, LF), for [`iter`].
fn skip_ws(text: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\r' | b'\n') = text.get(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (name, value, raw) of one param.
    type Parts<'a> = (&'a [u8], Option<&'a [u8]>, &'a [u8]);

    fn all(text: &[u8]) -> Vec<Parts<'_>> {
        iter(text).map(|p| (p.name, p.value, p.raw)).collect()
    }

    #[test]
    fn empty_and_junk() {
        assert!(all(b"").is_empty());
        assert!(all(b"   ").is_empty());
        assert!(all(b"tag=1").is_empty());
        assert_eq!(validate(b""), Ok(()));
        assert_eq!(validate(b"  "), Ok(()));
    }

    #[test]
    fn flags_and_values() {
        let got = all(b";lr;transport=tcp;ob");
        assert_eq!(
            got,
            vec![
                (&b"lr"[..], None, &b";lr"[..]),
                (b"transport", Some(&b"tcp"[..]), b";transport=tcp"),
                (b"ob", None, b";ob"),
            ]
        );
    }

    #[test]
    fn whitespace_around_separators() {
        let got = all(b" ; tag = abc ;  expires=60 ; rport");
        assert_eq!(
            got,
            vec![
                (&b"tag"[..], Some(&b"abc"[..]), &b"; tag = abc"[..]),
                (b"expires", Some(b"60"), b";  expires=60"),
                (b"rport", None, b"; rport"),
            ]
        );
        assert_eq!(validate(b" ; tag = abc ;  expires=60 ; rport "), Ok(()));
        assert_eq!(validate(b";tag=a\r\n ;x"), Ok(()));
        assert_eq!(validate(b";tag=a\r\n;x"), Err(6));
    }

    #[test]
    fn quoted_values() {
        let text = br#";received="sip:a;b=c" ;x="a\"b;c";q=0.5"#;
        let got = all(text);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].1, Some(&br#""sip:a;b=c""#[..]));
        assert_eq!(got[1].1, Some(&br#""a\"b;c""#[..]));
        assert_eq!(got[2], (&b"q"[..], Some(&b"0.5"[..]), &b";q=0.5"[..]));
        assert_eq!(unquote(got[1].1.unwrap_or_default()), br#"a\"b;c"#);
        assert_eq!(validate(text), Ok(()));
    }

    #[test]
    fn unterminated_quote_runs_to_end() {
        let got = all(br#";a="x;b=1"#);
        assert_eq!(got, vec![(&b"a"[..], Some(&br#""x;b=1"#[..]), &br#";a="x;b=1"#[..])]);
        assert_eq!(validate(br#";a="x;b=1"#), Err(3));
    }

    #[test]
    fn malformed_best_effort() {
        assert_eq!(all(b";;a").len(), 2);
        assert_eq!(all(b";;a")[0].0, b"");
        assert_eq!(all(b";a=")[0].1, Some(&b""[..]));
        assert_eq!(all(b";a=b c;d").len(), 1);
        assert_eq!(all(b";=x")[0], (&b""[..], Some(&b"x"[..]), &b";=x"[..]));
    }

    #[test]
    fn find_is_case_insensitive() {
        let t = b";Transport=TCP;LR;tag=9";
        assert_eq!(find(t, b"transport"), Some(Some(&b"TCP"[..])));
        assert_eq!(find(t, b"lr"), Some(None));
        assert_eq!(find(t, b"maddr"), None);
        assert_eq!(find(b";tag=1;tag=2", b"TAG"), Some(Some(&b"1"[..])));
    }

    #[test]
    fn unquote_cases() {
        assert_eq!(unquote(b"\"abc\""), b"abc");
        assert_eq!(unquote(b"\"\""), b"");
        assert_eq!(unquote(b"\""), b"\"");
        assert_eq!(unquote(b"abc"), b"abc");
        assert_eq!(unquote(b"\"abc"), b"\"abc");
    }

    #[test]
    fn validate_cases() {
        let ok: &[&[u8]] = &[
            b";tag=1928301774",
            b";branch=z9hG4bK776asdhds;received=192.0.2.1;rport=5060",
            b";received=[2001:db8::1]",
            b";maddr=example.com.",
            b";x=\"\"",
            b";x=\"caf\xc3\xa9\"",
            b";q=0.7;expires=3600;+sip.instance=\"<urn:uuid:f81d4fae>\"",
        ];
        for t in ok {
            assert_eq!(validate(t), Ok(()), "{}", String::from_utf8_lossy(t));
        }
        let bad: &[(&[u8], usize)] = &[
            (b"tag=1", 0),
            (b";", 1),
            (b";=1", 1),
            (b";a=", 3),
            (b";a=;b", 3),
            (b";a b", 3),
            (b";a=b c", 5),
            (b";a=[::1", 3),
            (b";a=[zz]", 3),
            (b";a@=1", 2),
            (b";a=\"x\x01\"", 5),
            (b";a=\"x\\\r\"", 5),
            (b";a=\"x\"y", 6),
            (b";a=b,c", 4),
        ];
        for (t, pos) in bad {
            assert_eq!(validate(t), Err(*pos), "{}", String::from_utf8_lossy(t));
        }
    }

    #[test]
    fn find_stops_at_first_match() {
        // The first match is returned even if the list goes bad later.
        let t = b";a=1;tag=x;tag=y;b=\"unterminated";
        assert_eq!(find(t, b"tag"), Some(Some(&b"x"[..])));
        assert_eq!(find(t, b"b"), Some(Some(&b"\"unterminated"[..])));
        assert_eq!(find(t, b"ta"), None);
        assert_eq!(find(b";a=\"x\\\"", b"a"), Some(Some(&b"\"x\\\""[..])));
        assert_eq!(find(b";a=\"x\\", b"a"), Some(Some(&b"\"x\\"[..])));
    }

    #[test]
    fn validate_long_runs() {
        // Tokens and quoted strings longer than one scan step.
        let t = b";branch=z9hG4bK776asdhds;received=192.0.2.1;x=\"a b\\\"c;d\"";
        assert_eq!(validate(t), Ok(()));
        assert_eq!(validate(b";branch=z9hG4bK776as/hds"), Err(20));
        assert_eq!(validate(b";abcdefgh@"), Err(9));
        assert_eq!(validate(b";x=\"abcdefgh\x01\""), Err(12));
    }

    #[test]
    fn slices_borrow_from_input() {
        let t = b" ;a = \"q;\" ; b ;c=1";
        let range = t.as_ptr_range();
        for p in iter(t) {
            for s in [p.name, p.raw, p.value.unwrap_or(p.name)] {
                assert!(range.start <= s.as_ptr() && s.as_ptr_range().end <= range.end);
            }
            assert_eq!(p.raw.first(), Some(&b';'));
        }
    }
}
