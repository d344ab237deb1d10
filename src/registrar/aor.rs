//! Building the location key from a To URI (RFC 3261 §10.3 step 5;
//! Kamailio registrar/common.c extract_aor).

use super::binding::Aor;
use crate::sip::Uri;
use crate::sip::uri::unescape_into;
use std::borrow::Borrow;
use std::fmt;

/// Longest user part, escaped (Kamailio registrar.h USERNAME_MAX_SIZE).
const USER_MAX: usize = 248;
/// Longest host (Kamailio registrar.h DOMAIN_MAX_SIZE).
const HOST_MAX: usize = 248;

/// Why a To URI gives no AOR. Each maps to the reply Kamailio sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AorError {
    /// Not a sip: or sips: URI (RFC 3261 §10.3 step 4: the registrar
    /// serves SIP AORs only). 400, "Error while parsing AOR".
    #[error("To URI is not a sip or sips URI")]
    NotSip,
    /// User or host longer than Kamailio stores. 500, "Address Of Record
    /// too long" (Kamailio's code for R_AOR_LEN).
    #[error("address of record too long")]
    TooLong,
    /// A bad `%HH` escape in the user. 400, "Error while unescaping
    /// username". `Uri::parse` already refuses these; kept for URIs built
    /// elsewhere.
    #[error("bad escape in the user part")]
    BadEscape,
}

impl Aor {
    /// `user@host` with the user's escapes decoded and the host lower-cased,
    /// or `host` alone when the URI has no user (Kamailio extract_aor with
    /// use_domain; the user stays case-sensitive, case_sensitive=1). Port,
    /// parameters and scheme are dropped, so `sips:` and `sip:` share one
    /// AOR. `Sharder::by_aor` hashes this key, so a key
    /// lives on the shard that receives its REGISTERs.
    pub fn from_uri(uri: &Uri<'_>) -> Result<Aor, AorError> {
        if !uri.is_sip() {
            return Err(AorError::NotSip);
        }
        let user = uri.user.unwrap_or_default();
        if user.len() > USER_MAX || uri.host_text.len() > HOST_MAX {
            return Err(AorError::TooLong);
        }
        let mut out = Vec::with_capacity(user.len() + 1 + uri.host_text.len());
        if !user.is_empty() {
            unescape_into(user, &mut out).map_err(|_| AorError::BadEscape)?;
            out.push(b'@');
        }
        out.extend(uri.host_text.iter().map(u8::to_ascii_lowercase));
        Ok(Aor(out.into_boxed_slice()))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// Lets maps keyed by `Aor` be searched with a plain byte slice.
impl Borrow<[u8]> for Aor {
    fn borrow(&self) -> &[u8] {
        &self.0
    }
}

/// For logs and RPC: printable ASCII as is, anything else (a decoded `%0D`,
/// UTF-8) as `\xNN`, so an AOR can never break a log line.
impl fmt::Display for Aor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.escape_ascii())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::owner::Sharder;

    fn aor(text: &str) -> Result<Aor, AorError> {
        Aor::from_uri(&Uri::parse(text.as_bytes()).unwrap())
    }

    #[test]
    fn spellings_of_one_aor_are_one_key() {
        let a = aor("sip:alice@Example.COM").unwrap();
        assert_eq!(a.as_bytes(), b"alice@example.com");
        for other in
            ["sip:%61lice@example.com;transport=udp", "sips:alice@EXAMPLE.com:5061", "sip:alice:secret@example.com"]
        {
            assert_eq!(aor(other).unwrap(), a, "{other}");
        }
        assert_ne!(aor("sip:Alice@example.com").unwrap(), a, "user is case-sensitive");
    }

    #[test]
    fn same_shard_as_the_sharder() {
        let s = Sharder::new(3, 64);
        let texts = ["sip:%41lice@Example.com", "sip:Alice@example.COM:5070;x=y"];
        let uris: Vec<Uri<'_>> = texts.iter().map(|t| Uri::parse(t.as_bytes()).unwrap()).collect();
        assert_eq!(Aor::from_uri(&uris[0]), Aor::from_uri(&uris[1]));
        let (a, b) = (Aor::from_uri(&uris[0]).unwrap(), Aor::from_uri(&uris[1]).unwrap());
        assert_eq!(s.by_aor(&a), s.by_aor(&b));
    }

    #[test]
    fn hosts_without_user_and_ipv6() {
        assert_eq!(aor("sip:Example.com").unwrap().as_bytes(), b"example.com");
        let v6 = aor("sip:bob@[2001:DB8::1]").unwrap();
        assert_eq!(v6.as_bytes(), b"bob@[2001:db8::1]");
    }

    #[test]
    fn refusals() {
        assert_eq!(aor("tel:+15551234"), Err(AorError::NotSip));
        assert_eq!(aor("mailto:a@example.com"), Err(AorError::NotSip));
        let long = format!("sip:{}@example.com", "a".repeat(249));
        assert_eq!(aor(&long), Err(AorError::TooLong));
        let ok = format!("sip:{}@example.com", "a".repeat(248));
        assert!(aor(&ok).is_ok());
    }

    #[test]
    fn display_escapes_control_bytes() {
        let a = aor("sip:a%0D%0Ab%C3%A9@example.com").unwrap();
        assert_eq!(a.to_string(), "a\\r\\nb\\xc3\\xa9@example.com");
    }
}
