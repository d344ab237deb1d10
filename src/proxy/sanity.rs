//! Request and response validation before any routing (Kamailio's sanity
//! module plus RFC 3261 §16.3 request validation), in the order RFC 4475's
//! verdicts need: version, syntax, scheme, mandatory headers, Max-Forwards,
//! Proxy-Require.

use crate::sip::typed::{is_valid_sip_date, parse_delta_seconds};
use crate::sip::{HeaderName, Message, ParseError, Scheme, Uri};
use std::fmt;

/// Why a request is refused with a final response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// RFC 3261 §8.2.3 / §21.5.11: 505.
    Version,
    /// Malformed input: 400 with the problem as reason phrase.
    Malformed(ParseError),
    /// RFC 3261 §8.2.2.1 / §21.4.14: 416.
    UnsupportedScheme,
    /// RFC 3261 §16.3 step 3: 483.
    TooManyHops,
    /// RFC 3261 §16.3 step 5 / §21.4.15: 420 with `Unsupported:`.
    BadExtension,
}

impl Rejection {
    pub fn code(self) -> u16 {
        match self {
            Rejection::Version => 505,
            Rejection::Malformed(_) => 400,
            Rejection::UnsupportedScheme => 416,
            Rejection::TooManyHops => 483,
            Rejection::BadExtension => 420,
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::Version => f.write_str("Version Not Supported"),
            Rejection::Malformed(e) => write!(f, "{e}"),
            Rejection::UnsupportedScheme => f.write_str("Unsupported URI Scheme"),
            Rejection::TooManyHops => f.write_str("Too Many Hops"),
            Rejection::BadExtension => f.write_str("Bad Extension"),
        }
    }
}

/// Option tags this proxy implements for `Proxy-Require` (RFC 3261 §16.3
/// step 5). None yet: every tag there is answered 420.
pub const PROXY_SUPPORTED: &[&[u8]] = &[];

/// Validates a request. `to_myself_options` says whether this is an
/// OPTIONS addressed to the proxy itself, which Max-Forwards 0 does not
/// stop (RFC 3261 §16.3 step 2 lets the proxy answer it).
/// What validation learnt that later steps need, so nothing is parsed twice.
#[derive(Debug, Clone, Copy)]
pub struct Checked<'a> {
    pub ruri: Uri<'a>,
    /// The To header carries a tag: the request is in a dialog.
    pub to_tagged: bool,
}

pub fn check_request<'a>(
    msg: &Message<'a>,
    to_myself_options: impl FnOnce(&Uri<'_>) -> bool,
) -> Result<Checked<'a>, Rejection> {
    if !msg.is_sip_2_0() {
        return Err(Rejection::Version);
    }
    let rl = msg.request_line().ok_or(Rejection::Malformed(ParseError::BadStartLine))?;
    let ruri = Uri::parse(rl.uri).map_err(|_| Rejection::Malformed(ParseError::BadRequestUri))?;
    let to_tagged = check_syntax(msg, &ruri).map_err(Rejection::Malformed)?;
    if !matches!(ruri.scheme, Scheme::Sip | Scheme::Sips | Scheme::Tel) {
        return Err(Rejection::UnsupportedScheme);
    }
    check_mandatory(msg).map_err(Rejection::Malformed)?;
    let mf = msg.max_forwards().map_err(Rejection::Malformed)?;
    if mf == Some(0) && !to_myself_options(&ruri) {
        return Err(Rejection::TooManyHops);
    }
    if unsupported_proxy_require(msg).next().is_some() {
        return Err(Rejection::BadExtension);
    }
    Ok(Checked { ruri, to_tagged })
}

/// Proxy-Require tags this proxy does not implement, for `Unsupported:`.
pub fn unsupported_proxy_require<'m, 'a>(msg: &'m Message<'a>) -> impl Iterator<Item = &'a [u8]> + 'm {
    msg.option_tags(HeaderName::ProxyRequire)
        .filter_map(Result::ok)
        .filter(|t| !PROXY_SUPPORTED.iter().any(|s| s.eq_ignore_ascii_case(t)))
}

/// Every header the proxy interprets must parse (RFC 3261 §25.1).
/// Returns whether To carries a tag.
fn check_syntax(msg: &Message<'_>, ruri: &Uri<'_>) -> Result<bool, ParseError> {
    // RFC 4475 §3.1.2.11: headers in the Request-URI are not allowed.
    if ruri.headers.is_some() && ruri.is_sip() {
        return Err(ParseError::HeadersInRequestUri);
    }
    // The top via-parm is parsed with the message; the others here. (A
    // Via header with no via-parm at all is refused here too.)
    if msg.header(HeaderName::Via).is_some() {
        msg.via_top()?;
    }
    for v in msg.vias().skip(1) {
        v?;
    }
    if msg.header(HeaderName::From).is_some() {
        msg.from()?;
    }
    let to_tagged = match msg.header(HeaderName::To) {
        Some(_) => msg.to()?.tag().is_some(),
        None => false,
    };
    if msg.header(HeaderName::CSeq).is_some() {
        msg.cseq()?;
    }
    if msg.call_id().is_some_and(|id| !is_call_id(id)) {
        return Err(ParseError::BadHeader(HeaderName::CallId));
    }
    msg.max_forwards()?;
    msg.contact_set()?;
    for c in msg.contacts() {
        let c = c?;
        if let Some(Some(e)) = c.param(b"expires") {
            parse_delta_seconds(e).ok_or(ParseError::BadHeader(HeaderName::Contact))?;
        }
    }
    if let Some(h) = msg.header(HeaderName::Expires) {
        parse_delta_seconds(h.value).ok_or(ParseError::BadHeader(HeaderName::Expires))?;
    }
    for name in [HeaderName::Route, HeaderName::RecordRoute] {
        for r in msg.route_set(name) {
            r?;
        }
    }
    for name in [HeaderName::Require, HeaderName::ProxyRequire, HeaderName::Supported] {
        for t in msg.option_tags(name) {
            t?;
        }
    }
    if msg.header(HeaderName::Date).is_some_and(|d| !is_valid_sip_date(d.value)) {
        return Err(ParseError::BadHeader(HeaderName::Date));
    }
    Ok(to_tagged)
}

/// Call-ID = word ["@" word] (RFC 3261 §25.1): visible characters, and
/// no comma, which would make it a list (RFC 4475 §3.3.8).
fn is_call_id(id: &[u8]) -> bool {
    !id.is_empty() && id.iter().all(|&b| b.is_ascii_graphic() && b != b',')
}

/// RFC 3261 §8.1.1: To, From, CSeq, Call-ID and Via are mandatory
/// (Max-Forwards too, but RFC 2543 peers omit it, RFC 4475 §3.4.1); the
/// single-valued ones appear once, and CSeq names the request method.
fn check_mandatory(msg: &Message<'_>) -> Result<(), ParseError> {
    for name in [HeaderName::Via, HeaderName::From, HeaderName::To, HeaderName::CallId, HeaderName::CSeq] {
        if msg.header(name).is_none() {
            return Err(ParseError::MissingHeader(name));
        }
    }
    for name in [
        HeaderName::CallId,
        HeaderName::CSeq,
        HeaderName::From,
        HeaderName::To,
        HeaderName::MaxForwards,
        HeaderName::ContentLength,
    ] {
        if msg.repeats(name) {
            return Err(ParseError::DuplicateHeader(name));
        }
    }
    if Some(msg.cseq()?.method) != msg.method() {
        return Err(ParseError::CSeqMethodMismatch);
    }
    Ok(())
}

/// A response is processed only if it parses well enough to be matched
/// and forwarded: SIP/2.0, a top Via, Call-ID and CSeq. Anything else is
/// dropped, never answered (RFC 3261 §16.7).
pub fn check_response(msg: &Message<'_>) -> Result<(), ParseError> {
    if !msg.is_sip_2_0() {
        return Err(ParseError::BadVersion);
    }
    msg.via_top()?;
    for v in msg.vias().skip(1) {
        v?;
    }
    msg.call_id().ok_or(ParseError::MissingHeader(HeaderName::CallId))?;
    msg.cseq()?;
    check_mandatory_response(msg)
}

fn check_mandatory_response(msg: &Message<'_>) -> Result<(), ParseError> {
    for name in [HeaderName::From, HeaderName::To] {
        if msg.header(name).is_none() {
            return Err(ParseError::MissingHeader(name));
        }
    }
    Ok(())
}
