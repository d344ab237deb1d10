//! The registrar's header lines for its reply (Kamailio registrar/reply.c
//! build_contact, reg_reply_helper). The engine writes the status line and
//! the copied Via/From/To/Call-ID/CSeq; these lines follow them.

use super::binding::{Binding, UnixMillis};
use super::contact::push_q;
use super::location::LocationShard;
use super::outcome::SaveOutcome;
use super::save::SaveRequest;
use crate::config::RegistrarConfig;
use crate::sip::HeaderName;
use crate::sip::fmt::push_u32;
use crate::sip::list::trim_lws;

/// Appends complete `Name: value\r\n` lines in Kamailio's order: Contact,
/// Path, Min-Expires, P-Registrar-Error, Retry-After.
pub fn write_reply_headers(
    loc: &LocationShard,
    outcome: &SaveOutcome,
    req: &SaveRequest<'_, '_>,
    now: UnixMillis,
    cfg: &RegistrarConfig,
    out: &mut Vec<u8>,
) {
    if let Some(aor) = outcome.aor.as_ref().filter(|_| outcome.list_contacts) {
        write_contact(loc.lookup(aor.as_bytes(), now), now, &cfg.received_param, out);
    }
    if outcome.echo_path {
        write_path(req, out);
    }
    if let Some(min) = outcome.min_expires {
        out.extend_from_slice(b"Min-Expires: ");
        push_u32(out, min);
        out.extend_from_slice(b"\r\n");
    }
    if let Some(error) = outcome.error {
        out.extend_from_slice(b"P-Registrar-Error: ");
        out.extend_from_slice(error.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if let Some(secs) = outcome.retry_after {
        out.extend_from_slice(b"Retry-After: ");
        push_u32(out, secs);
        out.extend_from_slice(b"\r\n");
    }
}

/// One `Contact:` line listing the bindings, `, ` between them, nothing
/// when there are none (RFC 3261 §10.3 step 8; reply.c build_contact):
/// `<uri>[;q=Q];expires=S[;received="R"][;+sip.instance="I"][;reg-id=N]`.
/// `received_param` empty hides `received`.
pub fn write_contact<'a>(
    bindings: impl Iterator<Item = &'a Binding>,
    now: UnixMillis,
    received_param: &str,
    out: &mut Vec<u8>,
) {
    let mut first = true;
    for b in bindings {
        out.extend_from_slice(if first { b"Contact: <" } else { b", <" });
        first = false;
        out.extend_from_slice(&b.contact);
        out.push(b'>');
        if let Some(q) = b.q {
            out.extend_from_slice(b";q=");
            push_q(out, q);
        }
        out.extend_from_slice(b";expires=");
        push_u32(out, now.secs_until(b.expires));
        if let Some(rcv) = b.received.as_deref().filter(|_| !received_param.is_empty()) {
            out.push(b';');
            out.extend_from_slice(received_param.as_bytes());
            out.extend_from_slice(b"=\"");
            out.extend_from_slice(rcv);
            out.push(b'"');
        }
        if let Some(instance) = &b.instance {
            out.extend_from_slice(b";+sip.instance=\"");
            out.extend_from_slice(instance);
            out.push(b'"');
        }
        if let Some(reg_id) = b.reg_id {
            out.extend_from_slice(b";reg-id=");
            push_u32(out, reg_id);
        }
    }
    if !first {
        out.extend_from_slice(b"\r\n");
    }
}

/// `Path:` with the request's Path values joined by `,` (reply.c add_path).
fn write_path(req: &SaveRequest<'_, '_>, out: &mut Vec<u8>) {
    out.extend_from_slice(b"Path: ");
    for (i, h) in req.msg.headers_named(HeaderName::Path).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(trim_lws(h.value));
    }
    out.extend_from_slice(b"\r\n");
}
