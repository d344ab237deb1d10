//! The BYEs that end a dialog from the proxy: `dlg.end_dlg` and a timeout
//! with `send_bye` (Kamailio dlg_req_within.c `build_dlg_t` and
//! `dlg_bye_all`). Each is a request within the dialog (RFC 3261 §12.2.1.1)
//! as the other side would send it: From and To with the tags of that
//! orientation, its next CSeq, the route set of the side it goes to.

use super::error::DialogError;
use super::state::{Dialog, Leg};
use crate::sip::NameAddr;
use crate::sip::fmt::push_u32;

/// Which side a BYE goes to (Kamailio `DLG_CALLER_LEG` / `DLG_CALLEE_LEG`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Caller,
    Callee,
}

/// A BYE ready to send once the proxy resolves `destination`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bye {
    pub to: Side,
    pub bytes: Vec<u8>,
    /// The URI to send to (RFC 3261 §12.2.1.1, §16.12): the first Route
    /// with loose routing, else the Request-URI. Resolve it with RFC 3263;
    /// a NATed party's Contact carries `;alias=` for `handle_ruri_alias`.
    pub destination: Box<[u8]>,
}

/// The Max-Forwards of every request the proxy originates (tm default).
const MAX_FORWARDS: &[u8] = b"70";

/// Builds the BYE to one side of an answered dialog (also one just ended
/// by `Dialogs::terminate` or a timeout). `via` is the whole Via header
/// value the proxy adds (`SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK…`),
/// with a branch of its own for each BYE. `extra` are header lines to add,
/// each ending in CRLF (Kamailio `dlg_extra_hdrs`, `dlg.end_dlg`'s third
/// parameter); may be empty.
pub fn build_bye(dialog: &Dialog, to: Side, via: &[u8], extra: &[u8]) -> Result<Bye, DialogError> {
    let core = dialog.core();
    let callee = dialog.callee().ok_or(DialogError::NotConfirmed(dialog.state()))?;
    // build_dlg_t(dlg, dir): remote = leg[dir], local = the other leg; the
    // BYE to the caller goes From the callee's To URI.
    let (remote, local, local_uri, remote_uri) = match to {
        Side::Callee => (callee, &core.caller, &core.from_uri, &core.to_uri),
        Side::Caller => (&core.caller, callee, &core.to_uri, &core.from_uri),
    };
    if remote.contact.is_empty() {
        return Err(DialogError::NoTarget(to));
    }
    let target = Target::of(remote);
    let mut out = Vec::with_capacity(256 + via.len() + extra.len());
    out.extend_from_slice(b"BYE ");
    out.extend_from_slice(target.request_uri);
    out.extend_from_slice(b" SIP/2.0\r\nVia: ");
    out.extend_from_slice(via);
    out.extend_from_slice(b"\r\n");
    if !target.route.is_empty() {
        out.extend_from_slice(b"Route: ");
        out.extend_from_slice(&target.route);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"Max-Forwards: ");
    out.extend_from_slice(MAX_FORWARDS);
    push_name_addr(&mut out, b"\r\nFrom: ", local_uri, local.tag.as_bytes());
    push_name_addr(&mut out, b"\r\nTo: ", remote_uri, remote.tag.as_bytes());
    out.extend_from_slice(b"\r\nCall-ID: ");
    out.extend_from_slice(core.call_id.as_bytes());
    out.extend_from_slice(b"\r\nCSeq: ");
    // RFC 3261 §12.2.1.1: the local sequence number plus one.
    push_u32(&mut out, local.cseq.saturating_add(1));
    out.extend_from_slice(b" BYE\r\n");
    out.extend_from_slice(extra);
    if !extra.is_empty() && !extra.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"Content-Length: 0\r\n\r\n");
    Ok(Bye { to, bytes: out, destination: target.destination.into() })
}

/// Both BYEs of `dlg_bye_all`: to the caller, then to the callee.
pub fn build_byes(
    dialog: &Dialog,
    via_to_caller: &[u8],
    via_to_callee: &[u8],
    extra: &[u8],
) -> Result<[Bye; 2], DialogError> {
    Ok([build_bye(dialog, Side::Caller, via_to_caller, extra)?, build_bye(dialog, Side::Callee, via_to_callee, extra)?])
}

/// Request-URI, Route header value and next hop of a request to `leg`
/// (RFC 3261 §12.2.1.1).
struct Target<'a> {
    request_uri: &'a [u8],
    /// The Route header value; empty for no Route.
    route: Vec<u8>,
    destination: &'a [u8],
}

impl<'a> Target<'a> {
    fn of(leg: &'a Leg) -> Target<'a> {
        let contact = &*leg.contact;
        let Some(first) = leg.route_set.first().and_then(|r| NameAddr::parse(r).ok()) else {
            // No route set: straight to the remote target.
            return Target { request_uri: contact, route: Vec::new(), destination: contact };
        };
        if first.uri.has_lr() {
            let route = leg.route_set.join(&b", "[..]);
            return Target { request_uri: contact, route, destination: first.uri.raw };
        }
        // A strict router first: it becomes the Request-URI, and the remote
        // target goes last in Route.
        let mut route = leg.route_set[1..].join(&b", "[..]);
        if !route.is_empty() {
            route.extend_from_slice(b", ");
        }
        route.push(b'<');
        route.extend_from_slice(contact);
        route.push(b'>');
        Target { request_uri: first.uri.raw, route, destination: first.uri.raw }
    }
}

fn push_name_addr(out: &mut Vec<u8>, name: &[u8], uri: &[u8], tag: &[u8]) {
    out.extend_from_slice(name);
    out.push(b'<');
    out.extend_from_slice(uri);
    out.push(b'>');
    if !tag.is_empty() {
        out.extend_from_slice(b";tag=");
        out.extend_from_slice(tag);
    }
}
