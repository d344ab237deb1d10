//! Adding `;alias=ip~port~proto` to the first Contact URI: nathelper
//! `add_contact_alias()` (nathelper.c:861) and `set_contact_alias([trim])`
//! (:756, core dset.c:974 uri_add_rcv_alias), reference §1.6. The value
//! format is in [`super::alias`].

use super::NatError;
use super::alias::encode_alias;
use super::contact::{SIP_PORT, first_contact, host_ip};
use super::received::canonical;
use crate::sip::transport::Transport;
use crate::sip::{Editor, Message, NameAddr, Uri, params};
use std::net::SocketAddr;

/// Whether an alias function queued an edit (Kamailio returns 1 / 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AliasOutcome {
    /// The alias (and `<>` where missing) was queued on the editor.
    Changed,
    /// Nothing to do: no Contact, `Contact: *`, or (add only) the Contact
    /// already names the source.
    Unchanged,
}

/// nathelper `add_contact_alias()`: inserts `;name=ip~port~proto` right
/// after the first Contact URI's host[:port], before its other parameters,
/// adding `<>` when the contact has none (Appendix A.4:
/// `<sip:a@192.168.1.10:5060;alias=203.0.113.7~40112~1;ob>`).
///
/// `Unchanged` when there is no Contact or `Contact: *`, or when the
/// contact host is an IP equal to the source IP, its port equals the
/// source port (or is absent and the source port is 5060) and its
/// protocol is the receiving transport. As in Kamailio, the URI's protocol
/// is its `;transport=` parameter only (parse_uri leaves PROTO_NONE
/// otherwise), so a contact without one always gets the alias.
///
/// Kamailio looks for `<` anywhere in the Contact header body to decide on
/// brackets; we look at the first contact itself, which also handles
/// `Contact: sip:a@h, <sip:b@h>` correctly. Call it once per message:
/// Kamailio refuses a second call, here it would queue a second alias.
pub fn add_contact_alias(
    msg: &Message<'_>,
    editor: &mut Editor,
    src: SocketAddr,
    transport: Transport,
    name: &[u8],
) -> Result<AliasOutcome, NatError> {
    let Some(c) = first_contact(msg)? else {
        return Ok(AliasOutcome::Unchanged);
    };
    let src = canonical(src);
    if names_source(&c.uri, src, transport) {
        return Ok(AliasOutcome::Unchanged);
    }
    let at = msg.offset_of(c.uri.raw) + c.uri.hostport_end();
    queue_alias(msg, editor, &c, at..at, src, transport, name);
    Ok(AliasOutcome::Changed)
}

/// nathelper `set_contact_alias([trim])`: ALWAYS appends
/// `;name=ip~port~proto` at the end of the first Contact URI's parameters
/// (no equality check), adding `<>` when missing (Appendix A.4:
/// `<sip:a@192.168.1.10:5060;ob;alias=203.0.113.7~40112~1>`). With `trim`,
/// an alias that is already the URI's last parameter is replaced rather
/// than followed by a second one (a client echoing a stale alias,
/// kamailio#2308).
///
/// Kamailio appends after the whole URI, `?headers` included; we append
/// before `?`, where URI parameters end (RFC 3261 §19.1.1). No Contact or
/// `Contact: *` is `Unchanged` (Kamailio returns -1: a script's false).
pub fn set_contact_alias(
    msg: &Message<'_>,
    editor: &mut Editor,
    src: SocketAddr,
    transport: Transport,
    name: &[u8],
    trim: bool,
) -> Result<AliasOutcome, NatError> {
    let Some(c) = first_contact(msg)? else {
        return Ok(AliasOutcome::Unchanged);
    };
    let end = msg.offset_of(c.uri.raw) + c.uri.params_end();
    let trailing = params::iter(c.uri.params).last().filter(|p| p.name == name);
    let range = match trailing {
        Some(p) if trim => msg.offset_of(p.raw)..end,
        _ => end..end,
    };
    queue_alias(msg, editor, &c, range, canonical(src), transport, name);
    Ok(AliasOutcome::Changed)
}

/// Kamailio's "no need to add alias param" test (nathelper.c
/// add_contact_alias_0): same IP, same port (5060 when absent), same proto.
fn names_source(uri: &Uri<'_>, src: SocketAddr, transport: Transport) -> bool {
    let same_port = match uri.port {
        Some(p) => p == src.port(),
        None => src.port() == SIP_PORT,
    };
    host_ip(uri.host) == Some(src.ip()) && same_port && uri.transport().and_then(Transport::parse) == Some(transport)
}

/// Replaces `range` (inside the URI) with `;name=value`, closing the `<>`
/// it opens before the URI when the contact was unbracketed. An
/// unbracketed URI has no parameters (RFC 3261 §20.10), so `range` is then
/// at its end and the `>` lands right after it.
fn queue_alias(
    msg: &Message<'_>,
    editor: &mut Editor,
    c: &NameAddr<'_>,
    range: std::ops::Range<usize>,
    src: SocketAddr,
    transport: Transport,
    name: &[u8],
) {
    if !c.bracketed {
        // The URI starts the element: no display name without `<>`.
        editor.insert(msg.offset_of(c.uri.raw), b"<");
    }
    let close = !c.bracketed;
    editor.replace_with(range, |a| {
        a.push(b';');
        a.extend_from_slice(name);
        a.push(b'=');
        encode_alias(src, transport, a);
        if close {
            a.push(b'>');
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nat::DEFAULT_ALIAS_NAME as ALIAS;

    const SRC: &str = "203.0.113.7:40112";

    type AliasFn = fn(&Message<'_>, &mut Editor, SocketAddr, Transport) -> Result<AliasOutcome, NatError>;

    fn add(m: &Message<'_>, e: &mut Editor, s: SocketAddr, t: Transport) -> Result<AliasOutcome, NatError> {
        add_contact_alias(m, e, s, t, ALIAS)
    }

    fn set(m: &Message<'_>, e: &mut Editor, s: SocketAddr, t: Transport) -> Result<AliasOutcome, NatError> {
        set_contact_alias(m, e, s, t, ALIAS, false)
    }

    fn trim(m: &Message<'_>, e: &mut Editor, s: SocketAddr, t: Transport) -> Result<AliasOutcome, NatError> {
        set_contact_alias(m, e, s, t, ALIAS, true)
    }

    /// The Contact line after `f`, and its outcome.
    fn run(f: AliasFn, contact: &str, src: &str, t: Transport) -> Result<(AliasOutcome, String), NatError> {
        let text = format!("OPTIONS sip:b@example.com SIP/2.0\r\n{contact}\r\nl: 0\r\n\r\n");
        let m = Message::parse(text.as_bytes()).unwrap();
        let mut e = Editor::new();
        let r = f(&m, &mut e, src.parse().unwrap(), t)?;
        let mut out = Vec::new();
        e.apply(m.as_bytes(), &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        Ok((r, out.lines().nth(1).unwrap_or_default().to_owned()))
    }

    fn line(f: AliasFn, contact: &str, t: Transport) -> String {
        run(f, contact, SRC, t).unwrap().1
    }

    #[test]
    fn add_inserts_after_hostport() {
        let t = Transport::Udp;
        assert_eq!(
            line(add, "Contact: <sip:a@192.168.1.10:5060;ob>;expires=60", t),
            "Contact: <sip:a@192.168.1.10:5060;alias=203.0.113.7~40112~1;ob>;expires=60"
        );
        assert_eq!(
            line(add, "Contact: \"A <b>\" <sip:a@host.example?x=y>", Transport::Tls),
            "Contact: \"A <b>\" <sip:a@host.example;alias=203.0.113.7~40112~3?x=y>"
        );
        assert_eq!(
            line(add, "Contact: sip:a@192.168.1.10:5060;expires=60", t),
            "Contact: <sip:a@192.168.1.10:5060;alias=203.0.113.7~40112~1>;expires=60"
        );
        // Only the first contact; brackets decided per contact.
        assert_eq!(
            line(add, "Contact: sip:a@10.0.0.1, <sip:b@10.0.0.2>", t),
            "Contact: <sip:a@10.0.0.1;alias=203.0.113.7~40112~1>, <sip:b@10.0.0.2>"
        );
    }

    #[test]
    fn add_skips_contact_that_names_the_source() {
        let unchanged = |c: &str, src: &str, t| run(add, c, src, t).unwrap().0;
        use AliasOutcome::*;
        let c = "Contact: <sip:a@203.0.113.7:40112;transport=udp>";
        assert_eq!(unchanged(c, SRC, Transport::Udp), Unchanged);
        assert_eq!(unchanged(c, SRC, Transport::Tcp), Changed);
        assert_eq!(unchanged(c, "203.0.113.7:40113", Transport::Udp), Changed);
        assert_eq!(unchanged(c, "203.0.113.8:40112", Transport::Udp), Changed);
        let c = "Contact: <sip:a@203.0.113.7;transport=TCP>";
        assert_eq!(unchanged(c, "203.0.113.7:5060", Transport::Tcp), Unchanged);
        assert_eq!(unchanged(c, "203.0.113.7:5061", Transport::Tcp), Changed);
        let c = "Contact: <sip:a@[2001:db8::1]:5062;transport=ws>";
        assert_eq!(unchanged(c, "[2001:db8::1]:5062", Transport::Ws), Unchanged);
        // Kamailio: no ;transport= means PROTO_NONE, which never matches.
        let c = "Contact: <sip:a@203.0.113.7:40112>";
        assert_eq!(unchanged(c, SRC, Transport::Udp), Changed);
        let c = "Contact: <sip:a@example.com:40112;transport=udp>";
        assert_eq!(unchanged(c, SRC, Transport::Udp), Changed);
    }

    #[test]
    fn set_appends_at_end_of_params() {
        assert_eq!(
            line(set, "Contact: <sip:a@192.168.1.10:5060;ob>", Transport::Udp),
            "Contact: <sip:a@192.168.1.10:5060;ob;alias=203.0.113.7~40112~1>"
        );
        // No equality check; headers stay after the params.
        assert_eq!(
            line(set, "m: <sip:a@203.0.113.7:40112;transport=tcp?h=v>;q=1", Transport::Tcp),
            "m: <sip:a@203.0.113.7:40112;transport=tcp;alias=203.0.113.7~40112~2?h=v>;q=1"
        );
        assert_eq!(
            run(set, "Contact: sip:a@[fd00::5];ob", "[2001:db8::1]:5060", Transport::Wss).unwrap().1,
            "Contact: <sip:a@[fd00::5];alias=[2001:db8::1]~5060~6>;ob"
        );
    }

    #[test]
    fn set_trim_replaces_a_trailing_alias_only() {
        let c = "Contact: <sip:a@10.0.0.1;alias=198.51.100.1~5060~1>";
        assert_eq!(line(trim, c, Transport::Udp), "Contact: <sip:a@10.0.0.1;alias=203.0.113.7~40112~1>");
        assert_eq!(
            line(set, c, Transport::Udp),
            "Contact: <sip:a@10.0.0.1;alias=198.51.100.1~5060~1;alias=203.0.113.7~40112~1>"
        );
        // Not the last parameter: kept, the new one appended.
        let c = "Contact: <sip:a@10.0.0.1;alias=198.51.100.1~5060~1;ob>";
        assert_eq!(
            line(trim, c, Transport::Udp),
            "Contact: <sip:a@10.0.0.1;alias=198.51.100.1~5060~1;ob;alias=203.0.113.7~40112~1>"
        );
    }

    #[test]
    fn custom_name_and_no_contact() {
        let r = run(
            |m, e, s, t| set_contact_alias(m, e, s, t, b"nat", false),
            "Contact: <sip:a@10.0.0.1>",
            SRC,
            Transport::Udp,
        );
        assert_eq!(r.unwrap().1, "Contact: <sip:a@10.0.0.1;nat=203.0.113.7~40112~1>");
        for f in [add as AliasFn, set, trim] {
            assert_eq!(run(f, "Contact: *", SRC, Transport::Udp).unwrap().0, AliasOutcome::Unchanged);
            assert_eq!(run(f, "X: 1", SRC, Transport::Udp).unwrap().0, AliasOutcome::Unchanged);
            assert_eq!(run(f, "Contact: <sip:a@", SRC, Transport::Udp), Err(NatError::BadContact));
            assert_eq!(run(f, "Contact: <tel:+1>", SRC, Transport::Udp), Err(NatError::NoContactHost));
        }
    }
}
