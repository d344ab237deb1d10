//! Finding where to send a request for one of our users (Kamailio
//! registrar lookup(); reference §4.2).

use super::binding::{Aor, Binding, BindingFlags, UnixMillis};
use super::location::LocationShard;
use super::path::first_hop;
use crate::config::RegistrarConfig;
use crate::sip::transport::Transport;
use std::net::SocketAddr;

/// Where a branch is sent before the Request-URI is looked at (Kamailio
/// `$du`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination<'a> {
    /// The first Path hop's URI; the whole path becomes the Route set
    /// (RFC 3327 §5.3).
    PathHop(&'a [u8]),
    /// The `received` URI (`sip:IP:PORT[;transport=x]`) saved for a NATed
    /// contact (nathelper fix_nated_register).
    Received(&'a [u8]),
    /// No `$du`: the contact URI itself, resolved as usual.
    Contact,
}

/// One branch of the lookup result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target<'a> {
    /// The new Request-URI: the contact as registered.
    pub uri: &'a [u8],
    pub dst: Destination<'a>,
    /// The stored Path, to become Route headers, if any.
    pub path: Option<&'a [u8]>,
    /// The socket the REGISTER arrived on (Kamailio forced socket).
    pub local: SocketAddr,
    /// How the REGISTER arrived.
    pub transport: Transport,
    /// Branch flags restored (nat_bflag, sipping_bflag).
    pub flags: BindingFlags,
    pub q: Option<u16>,
}

impl<'a> Target<'a> {
    fn of(b: &'a Binding) -> Target<'a> {
        let hop = b.path.as_deref().and_then(first_hop);
        let dst = match (hop, b.received.as_deref()) {
            (Some(hop), _) => Destination::PathHop(hop),
            (None, Some(rcv)) => Destination::Received(rcv),
            (None, None) => Destination::Contact,
        };
        Target {
            uri: &b.contact,
            dst,
            path: b.path.as_deref(),
            local: b.local,
            transport: b.transport,
            flags: b.flags,
            q: b.q,
        }
    }
}

/// The AOR's valid bindings as branches, best first (q order, or newest
/// first with desc_time_order). With `append_branches` off only the first
/// (Kamailio: the R-URI only, no extra branches). Empty means 404.
pub fn lookup<'a>(
    loc: &'a LocationShard,
    aor: &Aor,
    now: UnixMillis,
    cfg: &RegistrarConfig,
) -> impl Iterator<Item = Target<'a>> + 'a {
    let limit = if cfg.append_branches { usize::MAX } else { 1 };
    loc.lookup(aor.as_bytes(), now).take(limit).map(Target::of)
}

/// A lookup result that outlives the location table borrow: what one shard
/// (the AOR's owner) hands to another (the Call-ID's owner), and what a
/// transaction keeps for the q groups it has not tried yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedTarget {
    pub uri: Box<[u8]>,
    pub dst: OwnedDestination,
    pub path: Option<Box<[u8]>>,
    pub local: SocketAddr,
    pub transport: Transport,
    pub flags: BindingFlags,
    pub q: Option<u16>,
}

/// [`Destination`], owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnedDestination {
    PathHop(Box<[u8]>),
    Received(Box<[u8]>),
    Contact,
}

impl OwnedTarget {
    pub fn of(t: &Target<'_>) -> OwnedTarget {
        OwnedTarget {
            uri: t.uri.into(),
            dst: match t.dst {
                Destination::PathHop(h) => OwnedDestination::PathHop(h.into()),
                Destination::Received(r) => OwnedDestination::Received(r.into()),
                Destination::Contact => OwnedDestination::Contact,
            },
            path: t.path.map(Into::into),
            local: t.local,
            transport: t.transport,
            flags: t.flags,
            q: t.q,
        }
    }

    /// The URI the branch is sent to (Kamailio `$du`, else the R-URI).
    pub fn next_hop(&self) -> &[u8] {
        match &self.dst {
            OwnedDestination::PathHop(h) | OwnedDestination::Received(h) => h,
            OwnedDestination::Contact => &self.uri,
        }
    }
}

/// [`lookup`] into owned targets.
pub fn lookup_owned(loc: &LocationShard, aor: &Aor, now: UnixMillis, cfg: &RegistrarConfig) -> Vec<OwnedTarget> {
    lookup(loc, aor, now, cfg).map(|t| OwnedTarget::of(&t)).collect()
}
