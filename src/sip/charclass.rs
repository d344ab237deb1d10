//! Byte character classes for the SIP parsers: a 256-entry table of class
//! bits (RFC 3261 §25.1, RFC 3966 §3 pname, and the lenient sets of the
//! parameter readers), and the scans that run over it. Used by [`super::uri`]
//! and [`super::params`].

/// The character classes of `b`: a set of the bits below.
pub(crate) fn class(b: u8) -> u16 {
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
pub(crate) fn scan(s: &[u8], mut i: usize, classes: u16) -> Result<usize, usize> {
    loop {
        i = scan_class(s, i, classes);
        if s.get(i) != Some(&b'%') {
            return Ok(i);
        }
        if escaped(s, i).is_none() {
            return Err(i);
        }
        i += 3;
    }
}

/// The byte the `%HH` at `s[i]` stands for (RFC 3261 §25.1 escaped; `%00`
/// is valid, RFC 4475 §3.1.1.4); `None` unless two hex digits follow. The
/// '%' itself is not checked.
pub(crate) fn escaped(s: &[u8], i: usize) -> Option<u8> {
    let nibble = |k: usize| s.get(i + k).copied().and_then(hex);
    match (nibble(1), nibble(2)) {
        (Some(h), Some(l)) => Some((h << 4) | l),
        _ => None,
    }
}

/// The value of the hex digit `b`, either case.
pub(crate) fn hex(b: u8) -> Option<u8> {
    if class(b) & HEX == 0 {
        None
    } else if b <= b'9' {
        Some(b - b'0')
    } else {
        Some((b | 0x20) - b'a' + 10)
    }
}

/// The value of the decimal digit `b`.
pub(crate) fn digit(b: u8) -> Option<u8> {
    let d = b.wrapping_sub(b'0');
    (d < 10).then_some(d)
}

// Character classes, one bit each: of RFC 3261 §25.1 (and RFC 3966 §3
// pname) for URIs, and of the parameter readers in `params`. No class but
// the last three admits whitespace, a control or a non-ASCII byte.
/// user = 1*( unreserved / escaped / user-unreserved ).
pub(crate) const USER: u16 = 1;
/// password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," ).
pub(crate) const PASSWORD: u16 = 1 << 1;
/// paramchar = param-unreserved / unreserved / escaped.
pub(crate) const PARAM: u16 = 1 << 2;
/// hname / hvalue = *( hnv-unreserved / unreserved / escaped ).
pub(crate) const HEADER: u16 = 1 << 3;
/// RFC 3966 pname = 1*( alphanum / "-" ).
pub(crate) const TEL_PNAME: u16 = 1 << 4;
/// The characters after a scheme's first: ALPHA / DIGIT / "+" / "-" / ".".
pub(crate) const SCHEME: u16 = 1 << 5;
/// alphanum.
pub(crate) const ALNUM: u16 = 1 << 6;
/// HEXDIG, either case.
pub(crate) const HEX: u16 = 1 << 7;
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
        if alnum || matches!(b, b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')') {
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
        if alnum || matches!(b, b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~') {
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
}
