//! Splitting header values on commas (RFC 3261 §7.3.1) without being fooled
//! by commas inside quoted strings, `<...>` URIs or comments.

/// Iterates the comma-separated elements of one header value. Elements are
/// trimmed of linear white space (which may include folded line breaks) and
/// empty elements are skipped.
pub struct CommaList<'a> {
    rest: &'a [u8],
}

impl<'a> CommaList<'a> {
    pub fn new(value: &'a [u8]) -> Self {
        CommaList { rest: value }
    }
}

impl<'a> Iterator for CommaList<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            let end = element_end(self.rest);
            let item = trim_lws(&self.rest[..end]);
            self.rest = if end < self.rest.len() { &self.rest[end + 1..] } else { &[] };
            if !item.is_empty() {
                return Some(item);
            }
        }
    }
}

/// Index of the first top-level comma, or the length when there is none.
/// An unterminated quote or `<` runs to the end (the element is then
/// rejected by its own parser). Jumps with memchr to the next byte that
/// matters in the current state: this runs over every list header.
fn element_end(s: &[u8]) -> usize {
    let (mut in_quotes, mut in_angle) = (false, false);
    let mut i = 0;
    while i < s.len() {
        let rest = &s[i..];
        let hit = if in_quotes {
            memchr::memchr2(b'"', b'\\', rest)
        } else if in_angle {
            memchr::memchr2(b'>', b'"', rest)
        } else {
            memchr::memchr3(b',', b'"', b'<', rest)
        };
        let Some(k) = hit else {
            break;
        };
        let at = i + k;
        i = at + 1;
        match s[at] {
            b'\\' => i += 1, // quoted-pair, RFC 3261 §25.1
            b'"' => in_quotes = !in_quotes,
            b'<' => in_angle = true,
            b'>' => in_angle = false,
            _ => return at, // a top-level comma
        }
    }
    s.len()
}

/// Linear white space: SP, HTAB and the CR LF of a folded line (RFC 3261 §25.1).
pub fn is_lws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

pub fn trim_lws(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| !is_lws(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|&b| !is_lws(b)).map_or(start, |p| p + 1);
    &s[start..end]
}

/// RFC 3261 §25.1 token characters, as a table: this runs for every
/// header name of every message.
static TOKEN: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~');
        c += 1;
    }
    t
};

pub fn is_token_char(b: u8) -> bool {
    TOKEN[usize::from(b)]
}

pub fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_token_char(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(v: &[u8]) -> Vec<&[u8]> {
        CommaList::new(v).collect()
    }

    #[test]
    fn splits_around_quotes_and_brackets() {
        assert_eq!(
            split(b"\"Doe, John\" <sip:a@b;x=1,2>;q=1, <sip:c@d> , sip:e@f"),
            vec![&b"\"Doe, John\" <sip:a@b;x=1,2>;q=1"[..], b"<sip:c@d>", b"sip:e@f"]
        );
        assert_eq!(split(b" , ,a,, b "), vec![&b"a"[..], b"b"]);
        assert_eq!(split(b"\"a\\\",b\", c"), vec![&b"\"a\\\",b\""[..], b"c"]);
        assert_eq!(split(b"x,\r\n y"), vec![&b"x"[..], b"y"]);
        assert!(split(b"").is_empty());
        assert_eq!(split(b"<sip:a,b@c>,d"), vec![&b"<sip:a,b@c>"[..], b"d"]);
        assert_eq!(split(b"\"x\\"), vec![&b"\"x\\"[..]]);
        assert_eq!(split(b"a>,b"), vec![&b"a>"[..], b"b"]);
    }

    /// The memchr scan against the byte-at-a-time definition.
    #[test]
    fn element_end_matches_a_plain_scan() {
        fn plain(s: &[u8]) -> usize {
            let (mut q, mut a, mut i) = (false, false, 0);
            while i < s.len() {
                match s[i] {
                    b'\\' if q => i += 1,
                    b'"' => q = !q,
                    b'<' if !q => a = true,
                    b'>' if !q => a = false,
                    b',' if !q && !a => return i,
                    _ => {}
                }
                i += 1;
            }
            s.len()
        }
        let mut rng = crate::testutil::XorShift(7);
        let alphabet = b",\"<>\\a ";
        for _ in 0..20000 {
            let len = rng.below(12);
            let s: Vec<u8> = (0..len).map(|_| alphabet[rng.below(alphabet.len())]).collect();
            assert_eq!(element_end(&s), plain(&s), "{:?}", String::from_utf8_lossy(&s));
        }
    }

    #[test]
    fn trims() {
        assert_eq!(trim_lws(b" \t a b \r\n "), b"a b");
        assert_eq!(trim_lws(b"   "), b"");
    }
}
