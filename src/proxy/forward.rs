//! Preparing a request for forwarding (RFC 3261 §16.4, §16.6) as pure
//! functions that add byte-range edits to an `Editor`: Max-Forwards,
//! loose routing, Record-Route, the proxy's Via and its branch, and loop
//! detection. The caller applies the edits once and sends the result.

use super::myself::Myself;
use crate::sip::list::CommaList;
use crate::sip::transport::Transport;
use crate::sip::{Editor, HeaderName, Message, ParseError, Uri, Via};
use std::io::Write;
use thiserror::Error;

/// Max-Forwards written when a request carries none (RFC 3261 §8.1.1.6).
pub const DEFAULT_MAX_FORWARDS: u8 = 70;

/// `z9hG4bK` followed by 16 lower-case hex digits.
pub const BRANCH_LEN: usize = 7 + 16;

/// Why a request cannot be forwarded as far as Max-Forwards goes.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum HopError {
    /// Policy: the request used up its hops; the caller answers 483
    /// (RFC 3261 §16.3 step 3).
    #[error("Too Many Hops")]
    TooManyHops,
    /// Malformed input: Max-Forwards is not a number 0..=255 (→ 400).
    #[error("{0}")]
    Malformed(ParseError),
}

/// Malformed input: a Route value is not a bracketed name-addr (→ 400).
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
#[error("Malformed Route header")]
pub struct BadRoute;

/// Outcome of `loose_route`, as Kamailio's rr `loose_route()` reports it.
#[derive(Debug, Clone, Copy)]
pub enum LooseRoute<'a> {
    /// No Route header at all: the caller handles an in-dialog request that
    /// does not traverse us (Kamailio: `loose_route()` returns -1).
    NotRouted,
    /// A Route remains after ours were removed: send to `next_hop`
    /// (RFC 3261 §16.12) with the Request-URI unchanged.
    RoutedToNext { next_hop: Uri<'a>, route: Routed },
    /// Every Route was ours: the Request-URI (possibly taken from the last
    /// Route, see `Routed::strict`) is the destination.
    RoutedToRuri { ruri: Uri<'a>, route: Routed },
}

/// What `loose_route` removed on the way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Routed {
    /// Our Route entries removed from the top (0, 1 or 2 with double RR).
    pub removed: u8,
    /// The previous hop was a strict router: the Request-URI was ours and
    /// was replaced by the last Route (RFC 3261 §16.4).
    pub strict: bool,
    /// One of our removed entries carried `nat=yes` (Kamailio
    /// `check_route_param("nat=yes")`, set by NATMANAGE `add_rr_param`).
    pub nat: bool,
}

/// An address this proxy writes into Record-Route (the advertised address
/// where one is configured, else the socket's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RrAddr<'a> {
    pub host: &'a [u8],
    pub port: u16,
    pub transport: Transport,
}

/// The sent-by this proxy writes into its Via (RFC 3261 §18.2.1).
pub type ViaAddr<'a> = RrAddr<'a>;

/// RFC 3261 §16.6 step 3 (Kamailio `mf_process_maxfwd_header`): decrement
/// Max-Forwards, or add `Max-Forwards: default` when absent (not
/// decremented, as Kamailio does). Zero is refused before any edit.
pub fn max_forwards(msg: &Message<'_>, editor: &mut Editor, default: u8) -> Result<(), HopError> {
    let Some(h) = msg.header(HeaderName::MaxForwards) else {
        // Kamailio anchors the new header before the first header.
        let at = msg.first_header_offset();
        editor.replace_with(at..at, |a| {
            let _ = write!(a, "Max-Forwards: {default}\r\n");
        });
        return Ok(());
    };
    match msg.max_forwards().map_err(HopError::Malformed)? {
        Some(0) => Err(HopError::TooManyHops),
        Some(n) => {
            let start = msg.offset_of(h.value);
            editor.replace_with(start..start + h.value.len(), |a| {
                let _ = write!(a, "{}", n - 1);
            });
            Ok(())
        }
        None => Ok(()),
    }
}

/// Kamailio rr `loose_route()` (RFC 3261 §16.4, §16.12): undo a strict
/// router's rewrite, then pop our own Route entries from the top.
pub fn loose_route<'a>(msg: &Message<'a>, editor: &mut Editor, myself: &Myself) -> Result<LooseRoute<'a>, BadRoute> {
    let total = msg.values(HeaderName::Route).count();
    if total == 0 {
        return Ok(LooseRoute::NotRouted);
    }
    let mut routes = msg.route_set(HeaderName::Route);
    let ruri_text = msg.request_line().map_or(&b""[..], |r| r.uri);
    let mut ruri = Uri::parse(ruri_text).map_err(|_| BadRoute)?;
    let mut route = Routed::default();
    // Kamailio is_preloaded(): without a To tag the Route set was preloaded
    // by the caller, so a Request-URI pointing at us is not a strict router's.
    let in_dialog = msg.to().ok().and_then(|t| t.tag()).is_some();
    let mut last = total;
    if in_dialog && myself.is_myself(&ruri) {
        // RFC 3261 §16.4: the Request-URI is the value we Record-Routed;
        // the real target is the last Route value.
        let target = msg.route_set(HeaderName::Route).last().ok_or(BadRoute)?.map_err(|_| BadRoute)?;
        route.strict = true;
        route.nat = is_nat(&ruri);
        let start = msg.offset_of(ruri_text);
        editor.replace(start..start + ruri_text.len(), target.uri.raw);
        ruri = target.uri;
        last -= 1;
    }
    let mut next_hop = None;
    for _ in 0..last {
        let entry = routes.next().ok_or(BadRoute)?.map_err(|_| BadRoute)?;
        // Two entries of ours in a row come from double Record-Route
        // (inbound and outbound sockets differ); never more.
        if route.removed < 2 && myself.is_myself(&entry.uri) {
            route.removed += 1;
            route.nat |= is_nat(&entry.uri);
        } else {
            next_hop = Some(entry.uri);
            break;
        }
    }
    let (removed, strict) = (usize::from(route.removed), route.strict);
    remove_route_values(msg, editor, |i| i < removed || (strict && i == total - 1));
    Ok(match next_hop {
        Some(next_hop) => LooseRoute::RoutedToNext { next_hop, route },
        None => LooseRoute::RoutedToRuri { ruri, route },
    })
}

fn is_nat(uri: &Uri<'_>) -> bool {
    uri.param(b"nat").flatten().is_some_and(|v| v.eq_ignore_ascii_case(b"yes"))
}

/// Deletes the Route values whose index (over all Route headers, RFC 3261
/// §7.3.1) satisfies `remove`: a header left empty goes whole, otherwise
/// each run of removed values goes with the comma that joined it, so the
/// edits never overlap.
fn remove_route_values(msg: &Message<'_>, editor: &mut Editor, remove: impl Fn(usize) -> bool) {
    let mut base = 0;
    for h in msg.headers_named(HeaderName::Route) {
        let n = CommaList::new(h.value).count();
        let range = base..base + n;
        base += n;
        if range.clone().all(&remove) {
            editor.remove_header(msg, &h);
            continue;
        }
        let (mut kept_end, mut run): (Option<usize>, Option<(usize, usize)>) = (None, None);
        for (i, v) in CommaList::new(h.value).enumerate() {
            let (start, end) = (msg.offset_of(v), msg.offset_of(v) + v.len());
            if remove(range.start + i) {
                run = Some((run.map_or(start, |r| r.0), end));
                continue;
            }
            match (run.take(), kept_end) {
                (Some((rs, _)), None) => editor.delete(rs..start),
                (Some((_, re)), Some(ke)) => editor.delete(ke..re),
                (None, _) => {}
            }
            kept_end = Some(end);
        }
        if let (Some((_, re)), Some(ke)) = (run, kept_end) {
            editor.delete(ke..re);
        }
    }
}

/// RFC 3261 §16.6 step 4: adds our Record-Route value(s) above any existing
/// ones (else right after the Via headers, so our new Via stays first in
/// either call order). With different inbound and outbound sockets this
/// writes two entries, as Kamailio's double RR does (with `;r2=on`): the
/// outbound one first, because the callee uses the Record-Route list in
/// order (§12.1.1) and reaches us on the socket facing it, while the caller
/// reverses the list (§12.1.2) and reaches us on the inbound socket.
pub fn record_route(msg: &Message<'_>, editor: &mut Editor, inbound: &RrAddr<'_>, outbound: &RrAddr<'_>, nat: bool) {
    let at = rr_offset(msg);
    let double = inbound != outbound;
    let both = [outbound, inbound];
    for addr in if double { &both[..] } else { &both[1..] } {
        editor.replace_with(at..at, |a| {
            a.extend_from_slice(b"Record-Route: <sip:");
            write_hostport(a, addr);
            if addr.transport != Transport::Udp {
                a.extend_from_slice(b";transport=");
                a.extend_from_slice(addr.transport.as_str().as_bytes());
            }
            if double {
                a.extend_from_slice(b";r2=on");
            }
            a.extend_from_slice(b";lr");
            if nat {
                a.extend_from_slice(b";nat=yes");
            }
            a.extend_from_slice(b">\r\n");
        });
    }
}

fn rr_offset(msg: &Message<'_>) -> usize {
    if let Some(rr) = msg.header(HeaderName::RecordRoute) {
        return msg.offset_of(rr.line);
    }
    msg.headers_named(HeaderName::Via)
        .last()
        .map_or(msg.first_header_offset(), |v| msg.offset_of(v.line) + v.line.len())
}

/// RFC 3261 §16.6 step 8: our Via goes above the first Via header (§18.2.1
/// sent-by, RFC 3581 `;rport` so replies come back to the sending socket).
pub fn add_via(msg: &Message<'_>, editor: &mut Editor, local: &ViaAddr<'_>, branch: &[u8]) {
    let at = msg.header(HeaderName::Via).map_or(msg.first_header_offset(), |v| msg.offset_of(v.line));
    editor.replace_with(at..at, |a| {
        a.extend_from_slice(b"Via: SIP/2.0/");
        a.extend_from_slice(via_transport(local.transport));
        a.push(b' ');
        write_hostport(a, local);
        a.extend_from_slice(b";branch=");
        a.extend_from_slice(branch);
        a.extend_from_slice(b";rport\r\n");
    });
}

fn via_transport(t: Transport) -> &'static [u8] {
    match t {
        Transport::Udp => b"UDP",
        Transport::Tcp => b"TCP",
        Transport::Tls => b"TLS",
        Transport::Sctp => b"SCTP",
        Transport::Ws => b"WS",
        Transport::Wss => b"WSS",
    }
}

/// `host:port`, an IPv6 literal in brackets (RFC 3261 §25.1 IPv6reference).
fn write_hostport(a: &mut Vec<u8>, addr: &RrAddr<'_>) {
    let bare_v6 = addr.host.contains(&b':') && addr.host.first() != Some(&b'[');
    if bare_v6 {
        a.push(b'[');
    }
    a.extend_from_slice(addr.host);
    if bare_v6 {
        a.push(b']');
    }
    let _ = write!(a, ":{}", addr.port);
}

/// RFC 3261 §16.6 step 8 / §16.11: a branch that is a function of the
/// request as received, so a retransmission gets the same branch and a
/// looped request can be recognised (§16.3 step 4). Hashes the top Via's
/// branch (or the whole via-parm for an RFC 2543 Via), Request-URI, To and
/// From tags, Call-ID and CSeq number; the method is left out so a CANCEL
/// maps to its INVITE's branch (§9.1). `salt` is fixed per process.
pub fn branch_for(msg: &Message<'_>, salt: u64) -> [u8; BRANCH_LEN] {
    let top = msg.via_top().ok();
    branch_with_top(msg, top.as_ref(), salt)
}

fn branch_with_top(msg: &Message<'_>, top: Option<&Via<'_>>, salt: u64) -> [u8; BRANCH_LEN] {
    let mut h = Fnv::new(salt);
    match top {
        Some(v) if v.is_rfc3261_branch() => h.field(v.branch().unwrap_or_default()),
        Some(v) => h.field(v.raw),
        None => h.field(b""),
    }
    h.field(msg.request_line().map_or(&b""[..], |r| r.uri));
    h.field(msg.to().ok().and_then(|t| t.tag()).unwrap_or_default());
    h.field(msg.from().ok().and_then(|f| f.tag()).unwrap_or_default());
    h.field(msg.call_id().unwrap_or_default());
    h.field(&msg.cseq().map_or(u32::MAX, |c| c.seq).to_be_bytes());
    let mut out = [0u8; BRANCH_LEN];
    out[..7].copy_from_slice(crate::sip::via::MAGIC_COOKIE);
    let v = h.finish();
    for (i, b) in out[7..].iter_mut().enumerate() {
        *b = b"0123456789abcdef"[((v >> (60 - 4 * i)) & 0xf) as usize];
    }
    out
}

/// RFC 3261 §16.3 step 4: the request looped when one of its Vias has our
/// sent-by and the branch we would compute for it now. The Via below ours
/// was the top Via when we first forwarded it, so it stands in for "top".
/// A Via of ours with another branch is a spiral (the Request-URI changed).
pub fn is_loop(msg: &Message<'_>, myself_vias: &Myself, salt: u64) -> bool {
    let mut vias = msg.vias().map_while(Result::ok).peekable();
    while let Some(v) = vias.next() {
        let tls = v.transport.eq_ignore_ascii_case(b"TLS");
        let port = v.port.unwrap_or(if tls { 5061 } else { 5060 });
        if !myself_vias.matches(&v.host, port) {
            continue;
        }
        let expected = branch_with_top(msg, vias.peek(), salt);
        if v.branch() == Some(&expected[..]) {
            return true;
        }
    }
    false
}

/// FNV-1a with a splitmix64 finish: stable across builds and processes
/// (unlike a seeded std hasher), which a branch seen by peers must be.
struct Fnv(u64);

impl Fnv {
    fn new(salt: u64) -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325 ^ salt)
    }

    /// Length-prefixed so ("ab","c") and ("a","bc") differ.
    fn field(&mut self, bytes: &[u8]) {
        for &b in (bytes.len() as u32).to_be_bytes().iter().chain(bytes) {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        let mut z = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
#[path = "forward_tests.rs"]
mod tests;
