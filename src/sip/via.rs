//! The Via header (RFC 3261 §20.42, §18.2.1; RFC 3581 rport).

use super::error::ParseError;
use super::header::HeaderName;
use super::list::{is_lws, is_token, trim_lws};
use super::params;
use super::uri::{Host, parse_host};
use memchr::memchr;

/// RFC 3261 §8.1.1.7: branches starting with this are RFC 3261 compliant.
pub const MAGIC_COOKIE: &[u8] = b"z9hG4bK";

#[derive(Debug, Clone, Copy)]
pub struct Via<'a> {
    /// The whole via-parm.
    pub raw: &'a [u8],
    /// Protocol name and version, e.g. `SIP/2.0`, as written.
    pub protocol: &'a [u8],
    pub transport: &'a [u8],
    /// sent-by host as written (IPv6 in brackets).
    pub host_text: &'a [u8],
    pub host: Host<'a>,
    pub port: Option<u16>,
    /// `;name=value` list after sent-by (empty when none).
    pub params: &'a [u8],
}

impl<'a> Via<'a> {
    /// Parses one via-parm (one comma-separated element of a Via header).
    pub fn parse(raw: &'a [u8]) -> Result<Via<'a>, ParseError> {
        let err = ParseError::BadHeader(HeaderName::Via);
        let raw = trim_lws(raw);
        // sent-protocol = name SLASH version SLASH transport; SLASH allows SWS.
        let (name, rest) = split_slash(raw).ok_or(err)?;
        let (version, rest) = split_slash(rest).ok_or(err)?;
        let rest = trim_start(rest);
        let t_end = rest.iter().position(|&b| is_lws(b)).ok_or(err)?;
        let transport = &rest[..t_end];
        if !is_token(name) || !is_token(version) || !is_token(transport) {
            return Err(err);
        }
        let protocol = &raw[..super::offset_in(raw, version) + version.len()];
        let sent_by_and_params = trim_start(&rest[t_end..]);
        let semi = memchr(b';', sent_by_and_params).unwrap_or(sent_by_and_params.len());
        let sent_by = trim_lws(&sent_by_and_params[..semi]);
        let params = &sent_by_and_params[semi..];
        let (host_text, port) = split_host_port(sent_by).ok_or(err)?;
        let host = parse_host(host_text).map_err(|_| err)?;
        params::validate(params).map_err(|_| err)?;
        Ok(Via { raw, protocol, transport, host_text, host, port, params })
    }

    pub fn param(&self, name: &[u8]) -> Option<Option<&'a [u8]>> {
        params::find(self.params, name)
    }

    pub fn branch(&self) -> Option<&'a [u8]> {
        self.param(b"branch").flatten()
    }

    /// RFC 3581: `Some(None)` for a bare `;rport`, `Some(Some(port))` once filled.
    pub fn rport(&self) -> Option<Option<&'a [u8]>> {
        self.param(b"rport")
    }

    pub fn received(&self) -> Option<&'a [u8]> {
        self.param(b"received").flatten()
    }

    pub fn maddr(&self) -> Option<&'a [u8]> {
        self.param(b"maddr").flatten()
    }

    /// Whether the branch carries the RFC 3261 magic cookie (§8.1.1.7);
    /// otherwise transactions match by the RFC 2543 rules (§17.2.3).
    pub fn is_rfc3261_branch(&self) -> bool {
        self.branch().is_some_and(|b| b.starts_with(MAGIC_COOKIE))
    }

    /// End of sent-by inside `raw` (received/rport are appended after the
    /// existing params, so this is only used for reporting).
    pub fn params_end(&self) -> usize {
        super::offset_in(self.raw, self.params) + self.params.len()
    }
}

fn split_slash(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let i = memchr(b'/', s)?;
    Some((trim_lws(&s[..i]), &s[i + 1..]))
}

fn trim_start(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| !is_lws(b)).unwrap_or(s.len());
    &s[start..]
}

/// Splits `host[:port]`, keeping IPv6 brackets on the host. COLON allows
/// SWS (RFC 3261 §25.1).
pub(crate) fn split_host_port(s: &[u8]) -> Option<(&[u8], Option<u16>)> {
    let colon = if s.first() == Some(&b'[') {
        let close = memchr(b']', s)?;
        match s.get(close + 1..).map(trim_lws) {
            Some([]) => None,
            Some(rest) if rest[0] == b':' => Some(s.len() - rest.len()),
            _ => return None,
        }
    } else {
        memchr(b':', s)
    };
    let Some(colon) = colon else {
        return Some((trim_lws(s), None));
    };
    let host = trim_lws(&s[..colon]);
    let port_text = trim_lws(&s[colon + 1..]);
    let port = super::message::parse_decimal(port_text, 65535)?;
    if host.is_empty() || port == 0 {
        return None;
    }
    Some((host, Some(port as u16)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn parses_sent_by_and_params() {
        let v = Via::parse(b"SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bKabc;rport").unwrap();
        assert_eq!(v.transport, b"UDP");
        assert_eq!(v.protocol, b"SIP/2.0");
        assert_eq!(v.host, Host::V4(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!(v.port, Some(5070));
        assert_eq!(v.branch(), Some(&b"z9hG4bKabc"[..]));
        assert_eq!(v.rport(), Some(None));
        assert!(v.is_rfc3261_branch());
    }

    #[test]
    fn tolerates_lws_where_grammar_allows() {
        let v = Via::parse(b"SIP / 2.0 / TCP  [2001:db8::1] : 5060 ; received=192.0.2.9").unwrap();
        assert_eq!(v.transport, b"TCP");
        assert_eq!(v.host_text, b"[2001:db8::1]");
        assert_eq!(v.port, Some(5060));
        assert_eq!(v.received(), Some(&b"192.0.2.9"[..]));
        let v = Via::parse(b"SIP/2.0/UNKNOWN example.com").unwrap();
        assert_eq!((v.transport, v.port), (&b"UNKNOWN"[..], None));
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            &b"SIP/2.0 192.0.2.1"[..],
            b"SIP/2.0/UDP",
            b"SIP/2.0/UDP host:99999",
            b"SIP/2.0/UDP host:0",
            b"SIP/2.0/UDP [::1",
            b"SIP/2.0/UDP a b",
            b"",
        ] {
            assert!(Via::parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
