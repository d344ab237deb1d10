//! Level two of the parse: typed values built on demand from the view.

use super::error::ParseError;
use super::header::HeaderName;
use super::list::{CommaList, is_lws, is_token, trim_lws};
use super::message::{Message, parse_decimal};
use super::method::Method;
use super::nameaddr::NameAddr;
use super::via::Via;

/// RFC 3261 §20.16.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CSeq<'a> {
    pub seq: u32,
    pub method: Method<'a>,
}

impl<'a> CSeq<'a> {
    pub fn parse(value: &'a [u8]) -> Result<CSeq<'a>, ParseError> {
        let err = ParseError::BadHeader(HeaderName::CSeq);
        let value = trim_lws(value);
        let split = value.iter().position(|&b| is_lws(b)).ok_or(err)?;
        // RFC 3261 §8.1.1.5: a 32-bit unsigned number (RFC 4475 §3.1.2.4).
        let seq = parse_decimal(&value[..split], u64::from(u32::MAX)).ok_or(err)?;
        let method = Method::parse(trim_lws(&value[split..])).ok_or(err)?;
        Ok(CSeq { seq: seq as u32, method })
    }
}

/// A Contact header set: either `*` or addresses (RFC 3261 §20.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactSet {
    None,
    Star,
    Addresses(usize),
}

impl<'a> Message<'a> {
    pub fn call_id(&self) -> Option<&'a [u8]> {
        self.header(HeaderName::CallId).map(|h| h.value)
    }

    /// The CSeq header, parsed once.
    pub fn cseq(&self) -> Result<CSeq<'a>, ParseError> {
        *self.parsed.cseq.get_or_init(|| {
            let h = self.header(HeaderName::CSeq).ok_or(ParseError::MissingHeader(HeaderName::CSeq))?;
            CSeq::parse(h.value)
        })
    }

    /// Max-Forwards, `None` when absent (RFC 3261 §20.22; values above 255
    /// are refused, RFC 4475 §3.1.2.4).
    pub fn max_forwards(&self) -> Result<Option<u8>, ParseError> {
        let Some(h) = self.header(HeaderName::MaxForwards) else {
            return Ok(None);
        };
        let v = parse_decimal(h.value, 255).ok_or(ParseError::BadHeader(HeaderName::MaxForwards))?;
        Ok(Some(v as u8))
    }

    /// Expires header in seconds; values beyond 2^32-1 saturate
    /// (RFC 3261 §20.19).
    pub fn expires(&self) -> Result<Option<u32>, ParseError> {
        let Some(h) = self.header(HeaderName::Expires) else {
            return Ok(None);
        };
        parse_delta_seconds(h.value).map(Some).ok_or(ParseError::BadHeader(HeaderName::Expires))
    }

    /// The first Via value, parsed once.
    pub fn via_top(&self) -> Result<Via<'a>, ParseError> {
        *self.parsed.via_top.get_or_init(|| {
            let first = self.values(HeaderName::Via).next();
            first.ok_or(ParseError::MissingHeader(HeaderName::Via)).and_then(Via::parse)
        })
    }

    pub fn vias(&self) -> impl Iterator<Item = Result<Via<'a>, ParseError>> + '_ {
        self.values(HeaderName::Via).map(Via::parse)
    }

    /// The From header, parsed once.
    pub fn from(&self) -> Result<NameAddr<'a>, ParseError> {
        *self.parsed.from.get_or_init(|| self.name_addr(HeaderName::From))
    }

    /// The To header, parsed once.
    pub fn to(&self) -> Result<NameAddr<'a>, ParseError> {
        *self.parsed.to.get_or_init(|| self.name_addr(HeaderName::To))
    }

    fn name_addr(&self, name: HeaderName) -> Result<NameAddr<'a>, ParseError> {
        let h = self.header(name).ok_or(ParseError::MissingHeader(name))?;
        NameAddr::parse(h.value).map_err(|_| ParseError::BadHeader(name))
    }

    /// The Contact addresses (empty for `*`); see `contact_set`.
    pub fn contacts(&self) -> impl Iterator<Item = Result<NameAddr<'a>, ParseError>> + '_ {
        self.values(HeaderName::Contact).filter(|v| *v != b"*").map(|v| self.contact(v))
    }

    /// The first Contact value, unless it is `*`, and its parse (done
    /// once).
    pub fn first_contact(&self) -> Option<super::message::FirstContact<'a>> {
        *self.parsed.contact.get_or_init(|| {
            let first = self.values(HeaderName::Contact).next().filter(|v| *v != b"*");
            first.map(|v| (v, parse_contact(v)))
        })
    }

    /// A Contact value of this message (from `values(HeaderName::Contact)`),
    /// parsed; the first one is parsed once.
    pub fn contact(&self, value: &'a [u8]) -> Result<NameAddr<'a>, ParseError> {
        match self.first_contact() {
            Some((first, parsed)) if std::ptr::eq(first, value) => parsed,
            _ => parse_contact(value),
        }
    }

    /// Classifies the Contact headers; a `*` mixed with addresses is an
    /// error (RFC 3261 §10.2.2).
    pub fn contact_set(&self) -> Result<ContactSet, ParseError> {
        let mut star = false;
        let mut n = 0;
        for v in self.values(HeaderName::Contact) {
            if v == b"*" {
                star = true;
            } else {
                n += 1;
            }
        }
        match (star, n) {
            (false, 0) => Ok(ContactSet::None),
            (true, 0) => Ok(ContactSet::Star),
            (false, n) => Ok(ContactSet::Addresses(n)),
            (true, _) => Err(ParseError::BadHeader(HeaderName::Contact)),
        }
    }

    /// Route or Record-Route or Path entries: bracketed name-addrs only
    /// (RFC 3261 §20.30, §20.34).
    pub fn route_set(&self, name: HeaderName) -> impl Iterator<Item = Result<NameAddr<'a>, ParseError>> + '_ {
        self.values(name).map(move |v| match NameAddr::parse(v) {
            Ok(n) if n.bracketed => Ok(n),
            _ => Err(ParseError::BadHeader(name)),
        })
    }

    /// Option tags of Require / Proxy-Require / Supported (RFC 3261 §20.32).
    pub fn option_tags(&self, name: HeaderName) -> impl Iterator<Item = Result<&'a [u8], ParseError>> + '_ {
        self.headers_named(name)
            .flat_map(|h| CommaList::new(h.value))
            .map(move |t| if is_token(t) { Ok(t) } else { Err(ParseError::BadHeader(name)) })
    }
}

/// A Contact value's name-addr; a malformed one is a bad Contact header.
fn parse_contact(value: &[u8]) -> Result<NameAddr<'_>, ParseError> {
    NameAddr::parse(value).map_err(|_| ParseError::BadHeader(HeaderName::Contact))
}

/// delta-seconds = 1*DIGIT, saturating at 2^32-1 (RFC 3261 §20.19).
pub fn parse_delta_seconds(v: &[u8]) -> Option<u32> {
    let v = trim_lws(v);
    if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let digits = &v[v.iter().position(|&d| d != b'0').unwrap_or(v.len())..];
    if digits.len() > 10 {
        return Some(u32::MAX);
    }
    let n = digits.iter().fold(0u64, |a, &d| a * 10 + u64::from(d - b'0'));
    Some(u32::try_from(n).unwrap_or(u32::MAX))
}

/// SIP-date (RFC 3261 §20.17): an RFC 1123 date that MUST be in GMT
/// (RFC 4475 §3.1.2.12). Only the shape and the zone are checked.
pub fn is_valid_sip_date(v: &[u8]) -> bool {
    let v = trim_lws(v);
    let Some(body) = v.strip_suffix(b" GMT") else {
        return false;
    };
    // "Sat, 13 Nov 2010 23:29:00"
    body.len() == 25 && body[3] == b',' && body[4] == b' ' && body[..3].iter().all(u8::is_ascii_alphabetic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cseq() {
        let c = CSeq::parse(b"  42  INVITE ").unwrap();
        assert_eq!((c.seq, c.method), (42, Method::Invite));
        assert!(CSeq::parse(b"36893488147419103232 INVITE").is_err());
        assert!(CSeq::parse(b"-1 INVITE").is_err());
        assert!(CSeq::parse(b"1").is_err());
        assert_eq!(CSeq::parse(b"4294967295 ACK").unwrap().seq, u32::MAX);
    }

    #[test]
    fn scalars() {
        assert_eq!(parse_delta_seconds(b"3600"), Some(3600));
        assert_eq!(parse_delta_seconds(b"10000000000000000000"), Some(u32::MAX));
        assert_eq!(parse_delta_seconds(b"0000000000003600"), Some(3600));
        assert_eq!(parse_delta_seconds(b"-1"), None);
        assert!(is_valid_sip_date(b"Sat, 13 Nov 2010 23:29:00 GMT"));
        assert!(!is_valid_sip_date(b"Fri, 01 Jan 2010 16:00:00 EST"));
    }

    #[test]
    fn typed_accessors() {
        let m = Message::parse(
            b"REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
Max-Forwards: 70\r\nTo: <sip:a@example.com>\r\nFrom: <sip:a@example.com>;tag=x\r\n\
Call-ID: c1\r\nCSeq: 7 REGISTER\r\nContact: <sip:a@192.0.2.1>;expires=60, sip:a@192.0.2.2;q=0.5\r\n\
Expires: 120\r\nProxy-Require: foo, bar\r\nRoute: <sip:p1;lr>, <sip:p2;lr>\r\n\r\n",
        )
        .unwrap();
        assert_eq!(m.max_forwards().unwrap(), Some(70));
        assert_eq!(m.cseq().unwrap().seq, 7);
        assert_eq!(m.expires().unwrap(), Some(120));
        assert_eq!(m.contact_set().unwrap(), ContactSet::Addresses(2));
        let c: Vec<_> = m.contacts().map(|c| c.unwrap().uri.raw).collect();
        assert_eq!(c, vec![&b"sip:a@192.0.2.1"[..], b"sip:a@192.0.2.2"]);
        let tags: Vec<_> = m.option_tags(HeaderName::ProxyRequire).map(Result::unwrap).collect();
        assert_eq!(tags, vec![&b"foo"[..], b"bar"]);
        assert_eq!(m.route_set(HeaderName::Route).count(), 2);
        assert_eq!(m.from().unwrap().tag(), Some(&b"x"[..]));
        assert_eq!(m.call_id(), Some(&b"c1"[..]));
    }
}
