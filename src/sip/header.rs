//! Header names: the headers the proxy understands, matched case-insensitively
//! and by their compact forms (RFC 3261 §7.3.1, §7.3.3, §20).

/// A header the proxy interprets; everything else is `Other` and passes
/// through byte-exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum HeaderName {
    Via,
    From,
    To,
    CallId,
    CSeq,
    MaxForwards,
    ContentLength,
    ContentType,
    Contact,
    Expires,
    MinExpires,
    Route,
    RecordRoute,
    Require,
    ProxyRequire,
    Supported,
    Unsupported,
    Allow,
    Accept,
    Path,
    UserAgent,
    Server,
    Date,
    Timestamp,
    Event,
    Subject,
    ContentEncoding,
    ReferTo,
    ReferredBy,
    SessionExpires,
    Other,
}

impl HeaderName {
    /// How many kinds there are (`Other` is the last).
    pub const KINDS: usize = HeaderName::Other as usize + 1;

    /// Looks up a header name as received. Names are case-insensitive and
    /// single letters are compact forms (RFC 3261 §7.3.3, RFC 3515, RFC 3892,
    /// RFC 4028).
    pub fn parse(name: &[u8]) -> HeaderName {
        let Some(&first) = name.first() else {
            return HeaderName::Other;
        };
        let first = first.to_ascii_lowercase();
        if name.len() == 1 {
            return Self::compact(first);
        }
        // Length and first letter pick at most a couple of candidates, so
        // each header costs one or two short comparisons.
        use HeaderName as H;
        let candidates: &[(&[u8], HeaderName)] = match (name.len(), first) {
            (2, b't') => &[(b"to", H::To)],
            (3, b'v') => &[(b"via", H::Via)],
            (4, b'f') => &[(b"from", H::From)],
            (4, b'c') => &[(b"cseq", H::CSeq)],
            (4, b'p') => &[(b"path", H::Path)],
            (4, b'd') => &[(b"date", H::Date)],
            (5, b'r') => &[(b"route", H::Route)],
            (5, b'a') => &[(b"allow", H::Allow)],
            (5, b'e') => &[(b"event", H::Event)],
            (6, b'a') => &[(b"accept", H::Accept)],
            (6, b's') => &[(b"server", H::Server)],
            (7, b'c') => &[(b"call-id", H::CallId), (b"contact", H::Contact)],
            (7, b'e') => &[(b"expires", H::Expires)],
            (7, b'r') => &[(b"require", H::Require)],
            (7, b's') => &[(b"subject", H::Subject)],
            (8, b'r') => &[(b"refer-to", H::ReferTo)],
            (9, b's') => &[(b"supported", H::Supported)],
            (9, b't') => &[(b"timestamp", H::Timestamp)],
            (10, b'u') => &[(b"user-agent", H::UserAgent)],
            (11, b'm') => &[(b"min-expires", H::MinExpires)],
            (11, b'u') => &[(b"unsupported", H::Unsupported)],
            (11, b'r') => &[(b"referred-by", H::ReferredBy)],
            (12, b'm') => &[(b"max-forwards", H::MaxForwards)],
            (12, b'r') => &[(b"record-route", H::RecordRoute)],
            (12, b'c') => &[(b"content-type", H::ContentType)],
            (13, b'p') => &[(b"proxy-require", H::ProxyRequire)],
            (14, b'c') => &[(b"content-length", H::ContentLength)],
            (15, b's') => &[(b"session-expires", H::SessionExpires)],
            (16, b'c') => &[(b"content-encoding", H::ContentEncoding)],
            _ => &[],
        };
        // Most senders write the canonical spelling: try an exact compare
        // before the case-folding one.
        candidates
            .iter()
            .find(|&&(n, h)| name == h.as_str().as_bytes() || n.eq_ignore_ascii_case(name))
            .map_or(HeaderName::Other, |&(_, h)| h)
    }

    /// RFC 3261 §7.3.3 compact forms plus `o` (Event, RFC 6665), `r`
    /// (Refer-To, RFC 3515), `b` (Referred-By, RFC 3892), `x`
    /// (Session-Expires, RFC 4028), `u` (Allow-Events is not interpreted).
    fn compact(c: u8) -> HeaderName {
        match c {
            b'v' => HeaderName::Via,
            b'f' => HeaderName::From,
            b't' => HeaderName::To,
            b'i' => HeaderName::CallId,
            b'm' => HeaderName::Contact,
            b'l' => HeaderName::ContentLength,
            b'c' => HeaderName::ContentType,
            b'k' => HeaderName::Supported,
            b's' => HeaderName::Subject,
            b'e' => HeaderName::ContentEncoding,
            b'o' => HeaderName::Event,
            b'r' => HeaderName::ReferTo,
            b'b' => HeaderName::ReferredBy,
            b'x' => HeaderName::SessionExpires,
            _ => HeaderName::Other,
        }
    }

    /// The canonical spelling, used when the proxy writes a header.
    pub fn as_str(self) -> &'static str {
        match self {
            HeaderName::Via => "Via",
            HeaderName::From => "From",
            HeaderName::To => "To",
            HeaderName::CallId => "Call-ID",
            HeaderName::CSeq => "CSeq",
            HeaderName::MaxForwards => "Max-Forwards",
            HeaderName::ContentLength => "Content-Length",
            HeaderName::ContentType => "Content-Type",
            HeaderName::Contact => "Contact",
            HeaderName::Expires => "Expires",
            HeaderName::MinExpires => "Min-Expires",
            HeaderName::Route => "Route",
            HeaderName::RecordRoute => "Record-Route",
            HeaderName::Require => "Require",
            HeaderName::ProxyRequire => "Proxy-Require",
            HeaderName::Supported => "Supported",
            HeaderName::Unsupported => "Unsupported",
            HeaderName::Allow => "Allow",
            HeaderName::Accept => "Accept",
            HeaderName::Path => "Path",
            HeaderName::UserAgent => "User-Agent",
            HeaderName::Server => "Server",
            HeaderName::Date => "Date",
            HeaderName::Timestamp => "Timestamp",
            HeaderName::Event => "Event",
            HeaderName::Subject => "Subject",
            HeaderName::ContentEncoding => "Content-Encoding",
            HeaderName::ReferTo => "Refer-To",
            HeaderName::ReferredBy => "Referred-By",
            HeaderName::SessionExpires => "Session-Expires",
            HeaderName::Other => "",
        }
    }

    /// Headers that may appear at most once (RFC 3261 §7.3.1: only headers
    /// defined as comma-separated lists may repeat). A duplicate is a 400
    /// (RFC 4475 §3.3.8, §3.3.9).
    pub fn is_single(self) -> bool {
        matches!(
            self,
            HeaderName::CallId
                | HeaderName::CSeq
                | HeaderName::From
                | HeaderName::To
                | HeaderName::MaxForwards
                | HeaderName::ContentLength
        )
    }

    /// Headers whose value is a comma-separated list (RFC 3261 §7.3.1).
    pub fn is_list(self) -> bool {
        matches!(
            self,
            HeaderName::Via
                | HeaderName::Contact
                | HeaderName::Route
                | HeaderName::RecordRoute
                | HeaderName::Require
                | HeaderName::ProxyRequire
                | HeaderName::Supported
                | HeaderName::Unsupported
                | HeaderName::Allow
                | HeaderName::Accept
                | HeaderName::Path
                | HeaderName::ContentEncoding
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_canonical_name_round_trips() {
        use HeaderName as H;
        let all = [
            H::Via,
            H::From,
            H::To,
            H::CallId,
            H::CSeq,
            H::MaxForwards,
            H::ContentLength,
            H::ContentType,
            H::Contact,
            H::Expires,
            H::MinExpires,
            H::Route,
            H::RecordRoute,
            H::Require,
            H::ProxyRequire,
            H::Supported,
            H::Unsupported,
            H::Allow,
            H::Accept,
            H::Path,
            H::UserAgent,
            H::Server,
            H::Date,
            H::Timestamp,
            H::Event,
            H::Subject,
            H::ContentEncoding,
            H::ReferTo,
            H::ReferredBy,
            H::SessionExpires,
        ];
        for h in all {
            assert_eq!(HeaderName::parse(h.as_str().as_bytes()), h);
            assert_eq!(HeaderName::parse(h.as_str().to_uppercase().as_bytes()), h);
        }
    }

    #[test]
    fn long_and_compact_forms() {
        assert_eq!(HeaderName::parse(b"VIA"), HeaderName::Via);
        assert_eq!(HeaderName::parse(b"v"), HeaderName::Via);
        assert_eq!(HeaderName::parse(b"Call-Id"), HeaderName::CallId);
        assert_eq!(HeaderName::parse(b"i"), HeaderName::CallId);
        assert_eq!(HeaderName::parse(b"l"), HeaderName::ContentLength);
        assert_eq!(HeaderName::parse(b"content-LENGTH"), HeaderName::ContentLength);
        assert_eq!(HeaderName::parse(b"m"), HeaderName::Contact);
        assert_eq!(HeaderName::parse(b"k"), HeaderName::Supported);
        assert_eq!(HeaderName::parse(b"X-Custom"), HeaderName::Other);
        assert_eq!(HeaderName::parse(b""), HeaderName::Other);
        assert_eq!(HeaderName::parse(b"Proxy-Require"), HeaderName::ProxyRequire);
        for c in b"vftimlcksexorub" {
            let h = HeaderName::parse(&[*c]);
            assert_eq!(HeaderName::parse(&[c.to_ascii_uppercase()]), h);
        }
    }
}
