//! Address values of the `[core]` section: `listen` entries and `alias` names.
//!
//! The text forms follow Kamailio's `listen` and `alias` parameters so that an
//! operator can paste them from an existing `kamailio.cfg`.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

/// Port used when a `listen` entry names none (Kamailio's SIP_PORT).
pub const DEFAULT_SIP_PORT: u16 = 5060;

/// Why a `listen` or `alias` string was refused. The text is the reason part of
/// a `ConfigError`, so it states the fix as well as the fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// The string is empty.
    #[error("empty value; expected {0}")]
    Empty(&'static str),
    /// A transport Kamailio knows but sipedge does not serve yet.
    #[error("only udp listeners are supported; {0} is not available yet")]
    UnsupportedTransport(String),
    /// A `listen` address whose host is not an IP literal. We bind sockets
    /// directly, so names and interface names (which Kamailio accepts) would
    /// need a resolver at start-up that we do not have.
    #[error(
        "`{0}` is not an IP address; expected [udp:]IP[:PORT], \
         e.g. udp:10.0.0.5:5060 or udp:[2001:db8::1]:5060"
    )]
    NotAnIp(String),
    /// A host that is neither an IP literal nor a valid DNS name.
    #[error(
        "`{0}` is not a valid host; expected a DNS name or an IP address \
         (IPv6 in brackets when a port follows)"
    )]
    BadHost(String),
    /// A port that is not a number in 1..=65535.
    #[error("`{0}` is not a valid port; expected a number from 1 to 65535")]
    BadPort(String),
    /// `advertise` without the address that should follow it.
    #[error("`advertise` must be followed by HOST[:PORT]")]
    MissingAdvertise,
    /// Words after the address that are not `advertise HOST[:PORT]`.
    #[error("unexpected `{0}`; only `advertise HOST[:PORT]` may follow the listen address")]
    Trailing(String),
}

/// Transport protocol of a listen socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// SIP over UDP (RFC 3261 §18).
    Udp,
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Transport::Udp => f.write_str("udp"),
        }
    }
}

/// A host with an optional port, as written in `alias` or after `advertise`.
///
/// `host` holds an IPv6 address without brackets; `Display` adds them back.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(try_from = "String")]
pub struct HostPort {
    pub host: String,
    pub port: Option<u16>,
}

impl FromStr for HostPort {
    type Err = AddressError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            return Err(AddressError::Empty("HOST[:PORT]"));
        }
        if let Some(inner) = s.strip_prefix('[') {
            let (v6, after) = inner.split_once(']').ok_or_else(|| AddressError::BadHost(s.to_owned()))?;
            let port = match after {
                "" => None,
                _ => match after.strip_prefix(':') {
                    Some(p) => Some(parse_port(p)?),
                    None => return Err(AddressError::BadHost(s.to_owned())),
                },
            };
            return match v6.parse::<Ipv6Addr>() {
                Ok(_) => Ok(HostPort { host: v6.to_owned(), port }),
                Err(_) => Err(AddressError::BadHost(s.to_owned())),
            };
        }
        // Two or more colons can only be a bare IPv6 address, which cannot
        // carry a port (the last group would be ambiguous).
        if s.matches(':').count() > 1 {
            return match s.parse::<Ipv6Addr>() {
                Ok(_) => Ok(HostPort { host: s.to_owned(), port: None }),
                Err(_) => Err(AddressError::BadHost(s.to_owned())),
            };
        }
        let (host, port) = match s.split_once(':') {
            Some((h, p)) => (h, Some(parse_port(p)?)),
            None => (s, None),
        };
        if !is_host_name(host) {
            return Err(AddressError::BadHost(host.to_owned()));
        }
        Ok(HostPort { host: host.to_owned(), port })
    }
}

impl TryFrom<String> for HostPort {
    type Error = AddressError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]", self.host)?;
        } else {
            f.write_str(&self.host)?;
        }
        match self.port {
            Some(port) => write!(f, ":{port}"),
            None => Ok(()),
        }
    }
}

/// One Kamailio `listen` entry: `[udp:]IP[:PORT] [advertise HOST[:PORT]]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(try_from = "String")]
pub struct ListenSpec {
    pub transport: Transport,
    pub addr: SocketAddr,
    /// Address written into Via, Record-Route and Contact instead of `addr`,
    /// for a proxy behind 1:1 NAT (Kamailio `advertise`).
    pub advertise: Option<HostPort>,
}

impl ListenSpec {
    /// The host and port the proxy writes as its own address: the advertised
    /// address when set (its port defaulting to the listen port, as in
    /// Kamailio), else the listen address. IPv6 hosts come without brackets.
    pub fn advertised(&self) -> (String, u16) {
        match &self.advertise {
            Some(a) => (a.host.clone(), a.port.unwrap_or(self.addr.port())),
            None => (self.addr.ip().to_string(), self.addr.port()),
        }
    }
}

impl FromStr for ListenSpec {
    type Err = AddressError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut words = s.split_whitespace();
        let first = words.next().ok_or(AddressError::Empty("[udp:]IP[:PORT] [advertise HOST[:PORT]]"))?;
        let (transport, addr_text) = split_transport(first)?;
        let addr = parse_listen_addr(addr_text)?;
        let advertise = match words.next() {
            None => None,
            Some(w) if w.eq_ignore_ascii_case("advertise") => {
                let hp = words.next().ok_or(AddressError::MissingAdvertise)?;
                Some(hp.parse()?)
            }
            Some(w) => return Err(AddressError::Trailing(w.to_owned())),
        };
        if let Some(w) = words.next() {
            return Err(AddressError::Trailing(w.to_owned()));
        }
        Ok(ListenSpec { transport, addr, advertise })
    }
}

impl TryFrom<String> for ListenSpec {
    type Error = AddressError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl fmt::Display for ListenSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // SocketAddr's Display already brackets IPv6, so this re-parses.
        write!(f, "{}:{}", self.transport, self.addr)?;
        match &self.advertise {
            Some(a) => write!(f, " advertise {a}"),
            None => Ok(()),
        }
    }
}

/// Splits a leading `proto:`. Without one, Kamailio listens on every enabled
/// protocol; UDP is the only one we have, so it is the default. Only known
/// protocol names count as a prefix: none of them is a hex word, so a bare
/// IPv6 address such as `fe80::1` is never mistaken for one.
fn split_transport(word: &str) -> Result<(Transport, &str), AddressError> {
    let Some((head, rest)) = word.split_once(':') else {
        return Ok((Transport::Udp, word));
    };
    match head.to_ascii_lowercase().as_str() {
        "udp" => Ok((Transport::Udp, rest)),
        "tcp" | "tls" | "sctp" | "ws" | "wss" => Err(AddressError::UnsupportedTransport(head.to_owned())),
        _ => Ok((Transport::Udp, word)),
    }
}

fn parse_listen_addr(text: &str) -> Result<SocketAddr, AddressError> {
    let hp: HostPort = text.parse().map_err(|e| match e {
        AddressError::BadHost(_) => AddressError::NotAnIp(text.to_owned()),
        other => other,
    })?;
    let ip: IpAddr = hp.host.parse().map_err(|_| AddressError::NotAnIp(text.to_owned()))?;
    Ok(SocketAddr::new(ip, hp.port.unwrap_or(DEFAULT_SIP_PORT)))
}

fn parse_port(text: &str) -> Result<u16, AddressError> {
    match text.parse::<u16>() {
        Ok(port) if port != 0 => Ok(port),
        _ => Err(AddressError::BadPort(text.to_owned())),
    }
}

/// RFC 1123 host names, loosely: dot-separated non-empty labels of letters,
/// digits, `-` and `_` (the latter appears in SRV-style names).
fn is_host_name(host: &str) -> bool {
    host.len() <= 253
        && host
            .split('.')
            .all(|label| !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listen(s: &str) -> ListenSpec {
        s.parse().expect("valid listen spec")
    }

    #[test]
    fn listen_forms() {
        let l = listen("udp:10.0.0.5:5070");
        assert_eq!(l.transport, Transport::Udp);
        assert_eq!(l.addr, "10.0.0.5:5070".parse().unwrap());
        assert_eq!(l.advertise, None);
        // Kamailio defaults: no proto means udp here, no port means 5060.
        assert_eq!(listen("10.0.0.5").addr, "10.0.0.5:5060".parse().unwrap());
        assert_eq!(listen("UDP:10.0.0.5").to_string(), "udp:10.0.0.5:5060");
        assert_eq!(listen("udp:[::1]").addr, "[::1]:5060".parse().unwrap());
        assert_eq!(listen("udp:::1").addr, "[::1]:5060".parse().unwrap());
        assert_eq!(listen("fe80::1").addr, "[fe80::1]:5060".parse().unwrap());
    }

    #[test]
    fn listen_display_round_trips() {
        for s in [
            "udp:127.0.0.1:5060",
            "udp:10.0.0.5:5060 advertise 203.0.113.10:5060",
            "udp:10.0.0.5:5060 advertise sip.example.com",
            "udp:[::1]:5060",
            "udp:[2001:db8::5]:5062 advertise [2001:db8::10]:5060",
            "udp:[2001:db8::5]:5062 advertise [2001:db8::10]",
        ] {
            assert_eq!(listen(s).to_string(), s);
            assert_eq!(listen(&listen(s).to_string()), listen(s));
        }
    }

    #[test]
    fn advertised_address() {
        let l = listen("udp:10.0.0.5:5070 advertise 203.0.113.10");
        assert_eq!(l.advertised(), ("203.0.113.10".to_owned(), 5070));
        let l = listen("udp:10.0.0.5:5070 advertise [2001:db8::1]:5080");
        assert_eq!(l.advertised(), ("2001:db8::1".to_owned(), 5080));
        let l = listen("udp:[::1]:5070");
        assert_eq!(l.advertised(), ("::1".to_owned(), 5070));
    }

    #[test]
    fn listen_errors() {
        let err = |s: &str| s.parse::<ListenSpec>().unwrap_err().to_string();
        assert!(err("tcp:1.2.3.4:5060").contains("only udp listeners are supported"));
        assert!(err("tls:1.2.3.4").contains("tls is not available"));
        assert!(err("udp:sip.example.com:5060").contains("not an IP address"));
        assert!(err("udp:1.2.3.4:0").contains("`0` is not a valid port"));
        assert!(err("udp:1.2.3.4:99999").contains("`99999` is not a valid port"));
        assert!(err("udp:1.2.3.4 advertise").contains("must be followed by HOST"));
        assert!(err("udp:1.2.3.4 name x").contains("unexpected `name`"));
        assert!(err("udp:1.2.3.4 advertise a.b c").contains("unexpected `c`"));
        assert!(err("  ").contains("empty value"));
    }

    #[test]
    fn host_port_forms() {
        let hp = |s: &str| s.parse::<HostPort>().unwrap();
        assert_eq!(hp("example.com"), HostPort { host: "example.com".into(), port: None });
        assert_eq!(hp("example.com:5070").port, Some(5070));
        assert_eq!(hp("[2001:db8::1]:5060").host, "2001:db8::1");
        assert_eq!(hp("2001:db8::1").port, None);
        for s in ["example.com", "example.com:5070", "[2001:db8::1]:5060", "[::1]", "1.2.3.4"] {
            assert_eq!(hp(s).to_string(), s);
        }
    }

    #[test]
    fn host_port_errors() {
        for s in ["", "exa mple.com", "a..b", "[1.2.3.4]", "[::1", "[::1]x", "x:y", "::g"] {
            assert!(s.parse::<HostPort>().is_err(), "{s:?} should be refused");
        }
    }
}
