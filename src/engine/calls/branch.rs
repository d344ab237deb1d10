//! The bytes of a forwarded request (RFC 3261 §16.6) and of a relayed
//! response (§16.7 step 9), as byte-range edits of what was received.

use super::Engine;
use crate::config::DEFAULT_SIP_PORT;
use crate::ids::ListenerId;
use crate::nat::{DEFAULT_ALIAS_NAME, RuriAlias, handle_ruri_alias, set_contact_alias};
use crate::proxy::forward::{self, RrAddr};
use crate::proxy::myself::Myself;
use crate::proxy::next_hop::uri_destination;
use crate::sip::edit::EditError;
use crate::sip::list::CommaList;
use crate::sip::response::write_via_with_source;
use crate::sip::transport::Transport;
use crate::sip::{Editor, HeaderName, Host, Message, Method};
use std::net::{IpAddr, SocketAddr};

/// How an initial request is rewritten for one branch.
pub(super) struct InitialBranch<'t> {
    /// The new Request-URI (the binding's contact), or `None` to keep it.
    pub ruri: Option<&'t [u8]>,
    /// The binding's Path, to become the Route set (RFC 3327 §5.3).
    pub path: Option<&'t [u8]>,
    /// `;nat=yes` on our Record-Route (NATMANAGE `add_rr_param`).
    pub nat_rr: bool,
    pub inbound: ListenerId,
    pub outbound: ListenerId,
    /// Index of the branch within its request, for a distinct Via branch.
    pub index: u32,
}

impl Engine {
    /// Our own address on a listener, for Via and Record-Route.
    pub(super) fn rr_addr(&self, l: ListenerId) -> RrAddr<'_> {
        let (host, port) = self.cfg.advertised.get(usize::from(l.0)).map_or(("127.0.0.1", 5060), |(h, p)| (&h[..], *p));
        RrAddr { host: host.as_bytes(), port, transport: Transport::Udp }
    }

    /// The listener an in-dialog request leaves from when `loose_route`
    /// removed two Route entries of ours (double Record-Route, `;r2=on`):
    /// the second names it, as the first named the one it arrived on
    /// (Kamailio's loose_route sets the send socket from it). `None` when
    /// it names no listener of ours.
    pub(super) fn second_route_listener(&self, msg: &Message<'_>) -> Option<ListenerId> {
        let route = msg.route_set(HeaderName::Route).nth(1)?.ok()?;
        let port = route.uri.port.unwrap_or(5060);
        let host = bare_host(route.uri.host_text);
        (0..self.cfg.advertised.len()).filter_map(|i| u16::try_from(i).ok()).map(ListenerId).find(|&l| {
            let ours = self.rr_addr(l);
            ours.port == port && bare_host(ours.host).eq_ignore_ascii_case(host)
        })
    }

    /// The Via branch of a request's `index`th branch: `index` 0 is the one
    /// loop detection recomputes (RFC 3261 §16.3 step 4).
    pub(super) fn via_branch(&self, msg: &Message<'_>, index: u32) -> [u8; forward::BRANCH_LEN] {
        forward::branch_for(msg, self.calls.salt ^ u64::from(index).wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }

    /// The default script from NATDETECT to t_relay for an initial
    /// request: Max-Forwards, `set_contact_alias()` for a NATed first hop,
    /// `remove_hf("Route")`, `record_route()` for dialog-forming methods,
    /// the lookup's Request-URI and Path, and our Via.
    pub(super) fn initial_branch(
        &mut self,
        msg: &Message<'_>,
        src: SocketAddr,
        nat_s: bool,
        b: &InitialBranch<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), EditError> {
        let mut ed = std::mem::take(&mut self.calls.editor);
        ed.clear();
        // Checked by sanity already; a failure here only skips the edit.
        let _ = forward::max_forwards(msg, &mut ed, forward::DEFAULT_MAX_FORWARDS);
        mark_source(msg, &mut ed, src);
        if nat_s && is_first_hop(msg) {
            let _ = set_contact_alias(msg, &mut ed, src, Transport::Udp, DEFAULT_ALIAS_NAME, false);
        }
        for h in msg.headers_named(HeaderName::Route) {
            ed.remove_header(msg, &h);
        }
        if matches!(msg.method(), Some(Method::Invite | Method::Subscribe | Method::Refer)) {
            let (inb, outb) = (self.rr_addr(b.inbound), self.rr_addr(b.outbound));
            forward::record_route(msg, &mut ed, &inb, &outb, b.nat_rr);
        }
        if let (Some(ruri), Some(rl)) = (b.ruri, msg.request_line()) {
            let start = msg.offset_of(rl.uri);
            ed.replace(start..start + rl.uri.len(), ruri);
        }
        if let Some(path) = b.path {
            ed.insert_header_first(msg, HeaderName::Route, path);
        }
        let branch = self.via_branch(msg, b.index);
        forward::add_via(msg, &mut ed, &self.rr_addr(b.outbound), &branch);
        let r = ed.apply(msg.as_bytes(), out);
        self.calls.editor = ed;
        r
    }

    /// A response on its way upstream: our Via removed (RFC 3261 §16.7
    /// step 3) and, from a NATed callee, its Contact aliased (NATMANAGE for
    /// replies: `if (isbflagset(FLB_NATB) && is_first_hop()) set_contact_alias()`).
    pub(super) fn upstream_response(
        &mut self,
        msg: &Message<'_>,
        src: SocketAddr,
        alias: bool,
        out: &mut Vec<u8>,
    ) -> Result<(), EditError> {
        let mut ed = std::mem::take(&mut self.calls.editor);
        ed.clear();
        remove_top_via(msg, &mut ed);
        if alias {
            let _ = set_contact_alias(msg, &mut ed, src, Transport::Udp, DEFAULT_ALIAS_NAME, false);
        }
        let r = ed.apply(msg.as_bytes(), out);
        self.calls.editor = ed;
        r
    }
}

/// `force_rport()` on a request being forwarded: its top Via gets
/// `received` and `rport` with the source address (RFC 3261 §18.2.1, RFC
/// 3581 §4), so every response finds the way back through a NAT, the
/// ones relayed without a transaction (retransmitted 2xx) included.
pub(super) fn mark_source(msg: &Message<'_>, ed: &mut Editor, src: SocketAddr) {
    if let Some(h) = msg.header(HeaderName::Via) {
        let start = msg.offset_of(h.value);
        ed.replace_with(start..start + h.value.len(), |a| {
            write_via_with_source(h.value, msg.via_top().ok().as_ref(), src, a)
        });
    }
}

/// route[DLGURI]: a request going to its Request-URI goes to the
/// `;alias=` the URI carries (`handle_ruri_alias()`, which queues the
/// alias's removal), else to the URI's own address.
pub(super) fn dlguri(msg: &Message<'_>, ed: &mut Editor, ruri: &[u8]) -> Option<SocketAddr> {
    match handle_ruri_alias(msg, ed, DEFAULT_ALIAS_NAME, false) {
        Ok(RuriAlias::Done { dst, .. }) => Some(dst),
        _ => uri_destination(ruri),
    }
}

/// siputils `is_first_hop()` for a request: it carries a single Via, so it
/// comes straight from the UA.
pub(super) fn is_first_hop(msg: &Message<'_>) -> bool {
    msg.values(HeaderName::Via).nth(1).is_none()
}

/// siputils `is_first_hop()` for a reply, which MANAGE_REPLY asks before
/// `set_contact_alias()`: the reply carries no Record-Route, or its top
/// Record-Route entry is ours, written with an IP address (a domain is
/// never the first hop), and the reply did not come from that very
/// address (a loop through ourselves). A record-routing proxy between us
/// and the UAS puts its own entry on top, so its replies are not aliased.
/// An entry without a port is 5060 here, as for every `myself` check;
/// Kamailio's check_self ignores the port of such an entry.
pub(super) fn is_first_hop_reply(msg: &Message<'_>, src: SocketAddr, myself: &Myself) -> bool {
    let Some(top) = msg.route_set(HeaderName::RecordRoute).next() else {
        return true;
    };
    let Ok(rr) = top else { return false };
    let ip = match rr.uri.host {
        Some(Host::V4(v4)) => IpAddr::V4(v4),
        Some(Host::V6(v6)) => IpAddr::V6(v6),
        _ => return false,
    };
    if !myself.is_myself(&rr.uri) {
        return false;
    }
    let udp = rr.uri.transport().is_none_or(|t| t.eq_ignore_ascii_case(b"udp"));
    !(udp && src.ip() == ip && src.port() == rr.uri.port.unwrap_or(DEFAULT_SIP_PORT))
}

/// Deletes the first Via value: the whole header when it is the only
/// value, else the value and the comma after it.
pub(super) fn remove_top_via(msg: &Message<'_>, ed: &mut Editor) {
    let Some(h) = msg.header(HeaderName::Via) else {
        return;
    };
    let mut values = CommaList::new(h.value);
    let (Some(first), second) = (values.next(), values.next()) else {
        return;
    };
    match second {
        None => ed.remove_header(msg, &h),
        Some(next) => ed.delete(msg.offset_of(first)..msg.offset_of(next)),
    }
}

/// A host without the brackets of an IPv6 reference.
fn bare_host(h: &[u8]) -> &[u8] {
    h.strip_prefix(b"[").and_then(|h| h.strip_suffix(b"]")).unwrap_or(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> Myself {
        let mut m = Myself::default();
        m.add("192.0.2.1", Some(5060));
        m.add("sip.example.com", None);
        m
    }

    fn reply(rr: &str) -> Vec<u8> {
        format!("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx\r\n{rr}Content-Length: 0\r\n\r\n")
            .into_bytes()
    }

    fn first_hop(rr: &str, src: &str) -> bool {
        let bytes = reply(rr);
        is_first_hop_reply(&Message::parse(&bytes).unwrap(), src.parse().unwrap(), &me())
    }

    #[test]
    fn a_reply_is_from_the_first_hop_when_our_record_route_is_on_top() {
        let ua = "198.51.100.2:40000";
        assert!(first_hop("", ua), "no Record-Route at all");
        assert!(first_hop("Record-Route: <sip:192.0.2.1:5060;lr;nat=yes>, <sip:203.0.113.9;lr>\r\n", ua));
        assert!(first_hop("Record-Route: <sip:192.0.2.1;lr>\r\n", ua), "no port is 5060");
        let behind = "Record-Route: <sip:198.51.100.9;lr>\r\nRecord-Route: <sip:192.0.2.1:5060;lr>\r\n";
        assert!(!first_hop(behind, ua), "another proxy record-routed after us");
        assert!(!first_hop("Record-Route: <sip:sip.example.com;lr>\r\n", ua), "a domain, even ours");
        assert!(!first_hop("Record-Route: <sip:192.0.2.1:5070;lr>\r\n", ua), "not our port");
        assert!(!first_hop("Record-Route: <sip:192.0.2.1:5060;lr>\r\n", "192.0.2.1:5060"), "a loop");
        let tcp = "Record-Route: <sip:192.0.2.1:5060;transport=tcp;lr>\r\n";
        assert!(first_hop(tcp, "192.0.2.1:5060"), "same address, other transport: no loop");
        assert!(!first_hop("Record-Route: sip:192.0.2.1;lr\r\n", ua), "malformed");
    }
}
