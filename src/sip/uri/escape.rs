//! `%HH` escapes in URIs (RFC 3261 §19.1.4, §25.1 escaped).

use super::UriError;
use crate::sip::charclass::escaped;

/// Decodes the `%HH` at `s[i]` (RFC 3261 §25.1 escaped; `%00` is valid,
/// RFC 4475 §3.1.1.4).
pub(super) fn decode_escape(s: &[u8], i: usize) -> Result<u8, UriError> {
    escaped(s, i).ok_or(UriError::BadEscape)
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
