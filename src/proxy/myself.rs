//! "Myself" as in Kamailio: a URI is ours when its host and port match a
//! listen address, an advertised address or a `[core] alias` entry. A URI
//! without a port means 5060 for sip and 5061 for sips (RFC 3261 §19.1.2).

use crate::config::{Config, DEFAULT_SIP_PORT};
use crate::sip::{Host, Scheme, Uri};
use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Name {
    Ip(IpAddr),
    /// Lower-cased domain without a trailing dot.
    Domain(Vec<u8>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    name: Name,
    /// `None` for an alias without port: any port matches (Kamailio alias
    /// semantics).
    port: Option<u16>,
}

#[derive(Debug, Clone, Default)]
pub struct Myself {
    entries: Vec<Entry>,
}

impl Myself {
    pub fn from_config(cfg: &Config) -> Myself {
        let mut m = Myself::default();
        for l in &cfg.core.listen {
            m.add(&l.addr.ip().to_string(), Some(l.addr.port()));
            if let Some(adv) = &l.advertise {
                m.add(&adv.host, Some(adv.port.unwrap_or(l.addr.port())));
            }
        }
        for a in &cfg.core.alias {
            m.add(&a.host, a.port);
        }
        m
    }

    pub fn add(&mut self, host: &str, port: Option<u16>) {
        let name = match host.trim_matches(|c| c == '[' || c == ']').parse::<IpAddr>() {
            Ok(ip) => Name::Ip(ip),
            Err(_) => Name::Domain(normalize_domain(host.as_bytes())),
        };
        let e = Entry { name, port };
        if !self.entries.contains(&e) {
            self.entries.push(e);
        }
    }

    /// Whether a SIP/SIPS URI points at this proxy.
    pub fn is_myself(&self, uri: &Uri<'_>) -> bool {
        let Some(host) = uri.host else {
            return false;
        };
        let default_port = if uri.scheme == Scheme::Sips { 5061 } else { DEFAULT_SIP_PORT };
        self.matches(&host, uri.port.unwrap_or(default_port))
    }

    pub fn matches(&self, host: &Host<'_>, port: u16) -> bool {
        self.entries.iter().any(|e| {
            let host_ok = match (&e.name, host) {
                (Name::Ip(ip), Host::V4(v4)) => *ip == IpAddr::V4(*v4),
                (Name::Ip(ip), Host::V6(v6)) => *ip == IpAddr::V6(*v6),
                (Name::Domain(d), Host::Domain(h)) => eq_domain(d, h),
                _ => false,
            };
            host_ok && e.port.is_none_or(|p| p == port)
        })
    }
}

fn normalize_domain(d: &[u8]) -> Vec<u8> {
    let d = d.strip_suffix(b".").unwrap_or(d);
    d.to_ascii_lowercase()
}

/// RFC 3261 §19.1.4: hosts compare case-insensitively; a trailing dot
/// (fully qualified form) is the same name.
fn eq_domain(normalized: &[u8], h: &[u8]) -> bool {
    let h = h.strip_suffix(b".").unwrap_or(h);
    normalized.eq_ignore_ascii_case(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> Myself {
        let cfg = Config::load(
            None,
            &["udp:127.0.0.1:5070 advertise 203.0.113.10:5060".into()],
            &["core.alias=[\"sip.example.com\", \"Pbx.Example.net:5080\"]".into()],
        )
        .unwrap();
        Myself::from_config(&cfg)
    }

    fn is(uri: &str) -> bool {
        me().is_myself(&Uri::parse(uri.as_bytes()).unwrap())
    }

    #[test]
    fn listen_advertise_and_alias() {
        assert!(is("sip:127.0.0.1:5070"));
        assert!(!is("sip:127.0.0.1"));
        assert!(is("sip:203.0.113.10"));
        assert!(is("sip:alice@203.0.113.10:5060;transport=udp"));
        assert!(is("sip:SIP.example.COM.:9999"));
        assert!(is("sip:pbx.example.net:5080"));
        assert!(!is("sip:pbx.example.net"));
        assert!(!is("sips:203.0.113.10"));
        assert!(!is("sip:example.org"));
        assert!(!is("tel:+15551234"));
    }
}
