//! Contact host:port repair: nathelper `fix_nated_contact()` (nathelper.c:662)
//! and nat_traversal `fix_contact()` (nat_traversal.c:1462). Both break
//! RFC 3261 (a proxy must not rewrite Contact) and are kept for parity;
//! the default script uses `set_contact_alias` instead.

use super::NatError;
use super::received::{canonical, push_hostport};
use crate::sip::{Editor, Host, Message, NameAddr, params};
use std::net::{IpAddr, SocketAddr};

/// The port a URI without one means for these tests: Kamailio's SIP_PORT,
/// whatever the transport (`uri.port_no ? uri.port_no : SIP_PORT`).
pub(crate) const SIP_PORT: u16 = 5060;

/// nathelper `fix_nated_contact()`: replaces the FIRST Contact URI's
/// host[:port] with the source `ip:port` (IPv6 in brackets), keeps the user
/// and every parameter except `maddr`, which "makes no sense anymore" and is
/// removed (reference §1.3). Always rewrites, even when equal. A second
/// call on the same editor makes `apply` fail with an overlap, as Kamailio
/// refuses it ("you can't call fix_nated_contact twice").
///
/// `Ok(false)` when there is nothing to fix: no Contact or `Contact: *`
/// (Kamailio returns -1 there, which a script reads as false).
pub fn fix_nated_contact(msg: &Message<'_>, editor: &mut Editor, src: SocketAddr) -> Result<bool, NatError> {
    let Some(c) = first_contact(msg)? else {
        return Ok(false);
    };
    replace_hostport(msg, editor, &c, canonical(src));
    let maddr = params::iter(c.uri.params).find(|p| p.name.eq_ignore_ascii_case(b"maddr"));
    if let Some(p) = maddr {
        editor.remove_param(msg, &p);
    }
    Ok(true)
}

/// nat_traversal `fix_contact()`: like [`fix_nated_contact`] but leaves the
/// Contact alone (`Ok(false)`) when its host is already the source IP and
/// its port (5060 when absent) the source port, and never touches `maddr`
/// (reference §2). Kamailio compares the host as text; we compare it as an
/// address, so `[2001:db8::1]` equals the source 2001:db8::1.
pub fn fix_contact(msg: &Message<'_>, editor: &mut Editor, src: SocketAddr) -> Result<bool, NatError> {
    let Some(c) = first_contact(msg)? else {
        return Ok(false);
    };
    let src = canonical(src);
    if host_ip(c.uri.host) == Some(src.ip()) && c.uri.port.unwrap_or(SIP_PORT) == src.port() {
        return Ok(false);
    }
    replace_hostport(msg, editor, &c, src);
    Ok(true)
}

/// The first contact of the first Contact header, as Kamailio's
/// `get_contact_uri` picks it: `None` for no Contact or `Contact: *`.
/// A contact that does not parse, or whose URI has no host, is an error.
pub(crate) fn first_contact<'a>(msg: &Message<'a>) -> Result<Option<NameAddr<'a>>, NatError> {
    let Some((_, parsed)) = msg.first_contact() else {
        return Ok(None);
    };
    let c = parsed.map_err(|_| NatError::BadContact)?;
    if c.uri.host.is_none() {
        return Err(NatError::NoContactHost);
    }
    Ok(Some(c))
}

/// Every contact of every Contact header (none for `*`), as Kamailio's
/// `contact_iterator` walks them.
pub(crate) fn contact_elements<'m, 'a>(
    msg: &'m Message<'a>,
) -> impl Iterator<Item = Result<NameAddr<'a>, NatError>> + 'm {
    msg.contacts().map(|c| c.map_err(|_| NatError::BadContact))
}

/// The address a URI host names, if it is an IP literal.
pub(crate) fn host_ip(host: Option<Host<'_>>) -> Option<IpAddr> {
    match host? {
        Host::V4(v4) => Some(IpAddr::V4(v4)),
        Host::V6(v6) => Some(IpAddr::V6(v6)),
        Host::Domain(_) => None,
    }
}

/// Queues `host[:port]` of `c`'s URI ⇒ `src` (already canonical).
fn replace_hostport(msg: &Message<'_>, editor: &mut Editor, c: &NameAddr<'_>, src: SocketAddr) {
    let host_at = msg.offset_of(c.uri.host_text);
    let end = msg.offset_of(c.uri.raw) + c.uri.hostport_end();
    editor.replace_with(host_at..end, |a| push_hostport(a, src));
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "203.0.113.7:40112";

    fn run(
        contact: &str,
        src: &str,
        f: fn(&Message<'_>, &mut Editor, SocketAddr) -> Result<bool, NatError>,
    ) -> Result<(bool, String), NatError> {
        let text =
            format!("INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1\r\n{contact}\r\nl: 0\r\n\r\n");
        let m = Message::parse(text.as_bytes()).unwrap();
        let mut e = Editor::new();
        let changed = f(&m, &mut e, src.parse().unwrap())?;
        let mut out = Vec::new();
        e.apply(m.as_bytes(), &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        let line = out.lines().nth(2).unwrap_or_default().to_owned();
        Ok((changed, line))
    }

    #[test]
    fn nathelper_rewrites_hostport_keeps_user_and_params() {
        let r = run("Contact: \"Al, B\" <sip:a@192.168.1.10:5060;ob;transport=udp>;expires=60", SRC, fix_nated_contact);
        assert_eq!(r, Ok((true, "Contact: \"Al, B\" <sip:a@203.0.113.7:40112;ob;transport=udp>;expires=60".into())));
        // No port in the URI; a second contact is not touched.
        let r = run("m: <sip:a@192.168.1.10>, <sip:b@192.168.1.11:5070>", SRC, fix_nated_contact);
        assert_eq!(r.unwrap().1, "m: <sip:a@203.0.113.7:40112>, <sip:b@192.168.1.11:5070>");
    }

    #[test]
    fn nathelper_removes_maddr_and_always_rewrites() {
        let r = run("Contact: <sip:a@h.example:5070;ob;MADDR=10.0.0.9;lr>", SRC, fix_nated_contact);
        assert_eq!(r.unwrap().1, "Contact: <sip:a@203.0.113.7:40112;ob;lr>");
        let r = run("Contact: <sip:a@[fd00::1]:5060;maddr=x>", "[2001:db8::1]:5062", fix_nated_contact);
        assert_eq!(r.unwrap().1, "Contact: <sip:a@[2001:db8::1]:5062>");
        let r = run("Contact: <sip:a@203.0.113.7:40112>", SRC, fix_nated_contact);
        assert!(r.unwrap().0);
    }

    #[test]
    fn nat_traversal_skips_equal_and_keeps_maddr() {
        let r = run("Contact: <sip:a@203.0.113.7:40112>", SRC, fix_contact);
        assert!(!r.unwrap().0);
        let r = run("Contact: <sip:a@203.0.113.7>", "203.0.113.7:5060", fix_contact);
        assert!(!r.unwrap().0);
        let r = run("Contact: <sip:a@[2001:db8::1]>", "[2001:db8::1]:5060", fix_contact);
        assert!(!r.unwrap().0);
        let r = run("Contact: <sip:a@203.0.113.7>", SRC, fix_contact);
        assert_eq!(r.unwrap(), (true, "Contact: <sip:a@203.0.113.7:40112>".into()));
        let r = run("Contact: sip:a@10.1.1.1;maddr=10.0.0.9", SRC, fix_contact);
        assert_eq!(r.unwrap().1, "Contact: sip:a@203.0.113.7:40112;maddr=10.0.0.9");
        let r = run("Contact: <sip:a@10.1.1.1;maddr=10.0.0.9>", "[::ffff:203.0.113.7]:9", fix_contact);
        assert_eq!(r.unwrap().1, "Contact: <sip:a@203.0.113.7:9;maddr=10.0.0.9>");
    }

    #[test]
    fn nothing_to_fix_or_bad() {
        for f in [fix_nated_contact, fix_contact] {
            assert_eq!(run("Contact: *", SRC, f).map(|r| r.0), Ok(false));
            assert_eq!(run("X: y", SRC, f).map(|r| r.0), Ok(false));
            assert_eq!(run("Contact: <sip:a@b", SRC, f), Err(NatError::BadContact));
            assert_eq!(run("Contact: <tel:+123>", SRC, f), Err(NatError::NoContactHost));
        }
    }
}
