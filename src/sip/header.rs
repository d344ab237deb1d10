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
    /// Looks up a header name as received. Names are case-insensitive and
    /// single letters are compact forms (RFC 3261 §7.3.3, RFC 3515, RFC 3892,
    /// RFC 4028).
    pub fn parse(name: &[u8]) -> HeaderName {
        if name.len() == 1 {
            return Self::compact(name[0].to_ascii_lowercase());
        }
        // Dispatch on length first: cheap and keeps the comparisons few.
        let candidates: &[(&[u8], HeaderName)] = match name.len() {
            2 => &[(b"to", HeaderName::To)],
            3 => &[(b"via", HeaderName::Via)],
            4 => &[
                (b"from", HeaderName::From),
                (b"cseq", HeaderName::CSeq),
                (b"path", HeaderName::Path),
                (b"date", HeaderName::Date),
            ],
            5 => &[
                (b"route", HeaderName::Route),
                (b"allow", HeaderName::Allow),
                (b"event", HeaderName::Event),
            ],
            6 => &[
                (b"accept", HeaderName::Accept),
                (b"server", HeaderName::Server),
            ],
            7 => &[
                (b"call-id", HeaderName::CallId),
                (b"contact", HeaderName::Contact),
                (b"expires", HeaderName::Expires),
                (b"require", HeaderName::Require),
                (b"subject", HeaderName::Subject),
            ],
            8 => &[(b"refer-to", HeaderName::ReferTo)],
            9 => &[
                (b"supported", HeaderName::Supported),
                (b"timestamp", HeaderName::Timestamp),
            ],
            10 => &[(b"user-agent", HeaderName::UserAgent)],
            11 => &[
                (b"min-expires", HeaderName::MinExpires),
                (b"unsupported", HeaderName::Unsupported),
            ],
            12 => &[
                (b"max-forwards", HeaderName::MaxForwards),
                (b"record-route", HeaderName::RecordRoute),
                (b"content-type", HeaderName::ContentType),
            ],
            _ => &[],
        };
        candidates
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map_or_else(|| Self::long_tail(name), |&(_, h)| h)
    }

    fn long_tail(name: &[u8]) -> HeaderName {
        let table: &[(&[u8], HeaderName)] = &[
            (b"content-length", HeaderName::ContentLength),
            (b"proxy-require", HeaderName::ProxyRequire),
            (b"referred-by", HeaderName::ReferredBy),
            (b"session-expires", HeaderName::SessionExpires),
            (b"content-encoding", HeaderName::ContentEncoding),
        ];
        table
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
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
    fn long_and_compact_forms() {
        assert_eq!(HeaderName::parse(b"VIA"), HeaderName::Via);
        assert_eq!(HeaderName::parse(b"v"), HeaderName::Via);
        assert_eq!(HeaderName::parse(b"Call-Id"), HeaderName::CallId);
        assert_eq!(HeaderName::parse(b"i"), HeaderName::CallId);
        assert_eq!(HeaderName::parse(b"l"), HeaderName::ContentLength);
        assert_eq!(
            HeaderName::parse(b"content-LENGTH"),
            HeaderName::ContentLength
        );
        assert_eq!(HeaderName::parse(b"m"), HeaderName::Contact);
        assert_eq!(HeaderName::parse(b"k"), HeaderName::Supported);
        assert_eq!(HeaderName::parse(b"X-Custom"), HeaderName::Other);
        assert_eq!(HeaderName::parse(b""), HeaderName::Other);
        assert_eq!(
            HeaderName::parse(b"Proxy-Require"),
            HeaderName::ProxyRequire
        );
        for c in b"vftimlcksexorub" {
            let h = HeaderName::parse(&[*c]);
            assert_eq!(HeaderName::parse(&[c.to_ascii_uppercase()]), h);
        }
    }
}
