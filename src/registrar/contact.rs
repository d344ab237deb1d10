//! What one Contact of a REGISTER asks for: expiry, q, instance (Kamailio
//! registrar/sip_msg.c calc_contact_expires, calc_contact_q; save.c
//! pack_ci). Everything comes from the Contact header's parameters, never
//! from the URI's (RFC 4475 §3.3.12/13: `<sip:a@b;expires=0>` is a URI
//! parameter and unregisters nothing).

use super::outcome::SaveError;
use crate::config::RegistrarConfig;
use crate::sip::NameAddr;
use crate::sip::params::{self, unquote};

/// One Contact's request, borrowed from the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ContactInfo<'a> {
    /// The URI exactly as written, escapes kept (RFC 4475 §3.3.14).
    pub uri: &'a [u8],
    /// Seconds granted after min/max; 0 removes the binding.
    pub expires: u32,
    pub q: Option<u16>,
    /// `+sip.instance` without its quotes (RFC 5626 §4.1).
    pub instance: Option<&'a [u8]>,
    /// `reg-id`, only read alongside an instance (save.c pack_ci).
    pub reg_id: Option<u32>,
    /// A `;received=` Contact param set by a proxy in front of us
    /// (nathelper add_rcv_param), quotes removed.
    pub received: Option<&'a [u8]>,
}

impl<'a> ContactInfo<'a> {
    pub fn parse(
        contact: &NameAddr<'a>,
        header_expires: Option<u32>,
        cfg: &RegistrarConfig,
    ) -> Result<ContactInfo<'a>, SaveError> {
        let p = Params::of(contact);
        let instance = p.instance.map(unquote).filter(|v| !v.is_empty());
        let reg_id = match (instance, p.reg_id) {
            (Some(_), Some(v)) => Some(decimal(v).filter(|&n| n > 0).ok_or(SaveError::InvalidRegId)?),
            _ => None,
        };
        let q = match p.q {
            Some(v) => Some(parse_q(v).ok_or(SaveError::InvalidQ)?),
            None => cfg.default_q(),
        };
        Ok(ContactInfo {
            uri: contact.uri.raw,
            expires: expires(p.expires, header_expires, cfg)?,
            q,
            instance,
            reg_id,
            received: p.received.map(unquote),
        })
    }
}

/// The Contact header params read here, found in one pass over the list.
/// Each is the first occurrence's value when non-empty; a flag or
/// `;name=` counts as absent, as in Kamailio (`!_ep->body.len`).
struct Params<'a> {
    instance: Option<&'a [u8]>,
    reg_id: Option<&'a [u8]>,
    q: Option<&'a [u8]>,
    expires: Option<&'a [u8]>,
    received: Option<&'a [u8]>,
}

impl<'a> Params<'a> {
    fn of(contact: &NameAddr<'a>) -> Params<'a> {
        // Per name: whether an occurrence was seen, and its value.
        let mut seen = [None::<Option<&'a [u8]>>; 5];
        const NAMES: [&[u8]; 5] = [b"+sip.instance", b"reg-id", b"q", b"expires", b"received"];
        for p in params::iter(contact.params) {
            if let Some(i) = NAMES.iter().position(|n| n.eq_ignore_ascii_case(p.name))
                && seen[i].is_none()
            {
                seen[i] = Some(p.value);
            }
        }
        let [instance, reg_id, q, expires, received] = seen.map(|v| v.flatten().filter(|v| !v.is_empty()));
        Params { instance, reg_id, q, expires, received }
    }
}

/// RFC 3261 §10.3 step 7 with Kamailio's precedence and limits: the
/// Contact `expires` param, else the Expires header, else default_expires;
/// a param that is not a number falls back to default_expires (str2int
/// failing in calc_contact_expires). A non-zero value below min_expires is
/// raised or refused (423) by min_expires_mode, then cut to max_expires.
fn expires(param: Option<&[u8]>, header: Option<u32>, cfg: &RegistrarConfig) -> Result<u32, SaveError> {
    let mut e = match param {
        Some(v) => decimal(v).unwrap_or(cfg.default_expires),
        None => header.unwrap_or(cfg.default_expires),
    };
    if e == 0 {
        return Ok(0);
    }
    if e < cfg.min_expires {
        if cfg.min_expires_mode == 1 {
            return Err(SaveError::IntervalTooBrief);
        }
        e = cfg.min_expires;
    }
    if cfg.max_expires != 0 && e > cfg.max_expires {
        e = cfg.max_expires;
    }
    Ok(e)
}

/// Digits only, fitting a u32.
fn decimal(v: &[u8]) -> Option<u32> {
    if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    v.iter().try_fold(0u32, |n, &d| n.checked_mul(10)?.checked_add(u32::from(d - b'0')))
}

/// RFC 3261 §20.10 qvalue in thousandths: `"0" ["." 0*3DIGIT]` or
/// `"1" ["." 0*3"0"]`; `q=0.5` is 500.
pub fn parse_q(v: &[u8]) -> Option<u16> {
    let (int, frac) = match v.iter().position(|&b| b == b'.') {
        Some(dot) => (&v[..dot], &v[dot + 1..]),
        None => (v, &[][..]),
    };
    if frac.len() > 3 || !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let thousandths =
        frac.iter().chain(std::iter::repeat(&b'0')).take(3).fold(0u16, |n, &d| n * 10 + u16::from(d - b'0'));
    match int {
        b"0" => Some(thousandths),
        b"1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// Writes a q as Kamailio q2str does: `1`, `0`, else `0.` and up to three
/// digits without trailing zeros (`0.5`, `0.25`, `0.005`).
pub fn push_q(out: &mut Vec<u8>, q: u16) {
    match q {
        1000.. => out.push(b'1'),
        0 => out.push(b'0'),
        _ => {
            out.extend_from_slice(b"0.");
            let digits = [q / 100, q / 10 % 10, q % 10];
            let used = 3 - digits.iter().rev().take_while(|&&d| d == 0).count();
            out.extend(digits[..used].iter().map(|&d| b'0' + d as u8));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q_values() {
        for (text, q) in [
            ("0", 0),
            ("0.", 0),
            ("0.5", 500),
            ("0.25", 250),
            ("0.005", 5),
            ("0.999", 999),
            ("1", 1000),
            ("1.0", 1000),
            ("1.000", 1000),
        ] {
            assert_eq!(parse_q(text.as_bytes()), Some(q), "{text}");
        }
        for bad in ["", "1.5", "2", "0.1234", "-0.5", ".5", "0,5", "abc", "1.001", "01"] {
            assert_eq!(parse_q(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn q_formatting_matches_kamailio() {
        for (q, text) in [
            (1000, "1"),
            (0, "0"),
            (500, "0.5"),
            (250, "0.25"),
            (5, "0.005"),
            (50, "0.05"),
            (100, "0.1"),
            (123, "0.123"),
        ] {
            let mut out = Vec::new();
            push_q(&mut out, q);
            assert_eq!(out, text.as_bytes(), "{q}");
        }
    }

    #[test]
    fn expires_precedence_and_limits() {
        let cfg = RegistrarConfig::default();
        let e = |p: Option<&str>, h| expires(p.map(str::as_bytes), h, &cfg);
        assert_eq!(e(Some("120"), Some(300)), Ok(120), "param beats header");
        assert_eq!(e(None, Some(300)), Ok(300));
        assert_eq!(e(None, None), Ok(3600), "default_expires");
        assert_eq!(e(Some("junk"), Some(300)), Ok(3600), "bad param: default");
        assert_eq!(e(Some("99999999999"), None), Ok(3600), "overflow: default");
        assert_eq!(e(Some("0"), Some(300)), Ok(0));
        assert_eq!(e(None, Some(0)), Ok(0));
        assert_eq!(e(Some("30"), None), Ok(60), "mode 0 raises to min");
        assert_eq!(e(Some("7200"), None), Ok(3600), "max clamps");
        let strict = RegistrarConfig { min_expires_mode: 1, max_expires: 0, ..cfg.clone() };
        assert_eq!(expires(Some(b"30"), None, &strict), Err(SaveError::IntervalTooBrief));
        assert_eq!(expires(Some(b"60"), None, &strict), Ok(60));
        assert_eq!(expires(Some(b"90000"), None, &strict), Ok(90000), "no max");
    }

    #[test]
    fn header_params_only() {
        let cfg = RegistrarConfig::default();
        let na = NameAddr::parse(b"<sip:a@b;expires=0;q=0.1>;q=0.5;expires=120").unwrap();
        let info = ContactInfo::parse(&na, Some(300), &cfg).unwrap();
        assert_eq!((info.expires, info.q), (120, Some(500)));
        assert_eq!(info.uri, b"sip:a@b;expires=0;q=0.1");
        let na = NameAddr::parse(b"<sip:a@b;expires=0>").unwrap();
        assert_eq!(ContactInfo::parse(&na, None, &cfg).unwrap().expires, 3600);
    }

    #[test]
    fn instance_and_reg_id() {
        let cfg = RegistrarConfig::default();
        let parse = |s: &str| {
            let na = NameAddr::parse(s.as_bytes()).unwrap();
            ContactInfo::parse(&na, None, &cfg).map(|i| (i.instance.map(<[u8]>::to_vec), i.reg_id))
        };
        let urn = b"<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>".to_vec();
        assert_eq!(
            parse("<sip:a@b>;+sip.instance=\"<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>\";reg-id=2"),
            Ok((Some(urn), Some(2)))
        );
        assert_eq!(parse("<sip:a@b>;reg-id=2"), Ok((None, None)), "reg-id alone ignored");
        assert_eq!(parse("<sip:a@b>;+sip.instance=\"<urn:x>\";reg-id=0"), Err(SaveError::InvalidRegId));
        assert_eq!(parse("<sip:a@b>;+sip.instance=\"<urn:x>\";reg-id=x"), Err(SaveError::InvalidRegId));
        assert_eq!(parse("<sip:a@b>;q=2"), Err(SaveError::InvalidQ));
    }
}
