//! One registered contact of an AOR, with everything usrloc keeps for it
//! (Kamailio ucontact_t) and that persistence must restore.

use crate::sip::transport::Transport;
use std::net::SocketAddr;

/// Wall-clock milliseconds since the Unix epoch. Expiry is stored as wall
/// time so bindings survive a restart; the runtime supplies it alongside
/// the monotonic `Instant`, and tests use any number they like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct UnixMillis(pub u64);

impl UnixMillis {
    pub fn plus_secs(self, secs: u32) -> UnixMillis {
        UnixMillis(self.0.saturating_add(u64::from(secs) * 1000))
    }

    /// Whole seconds from `self` until `later`, rounded up, 0 when past.
    pub fn secs_until(self, later: UnixMillis) -> u32 {
        let ms = later.0.saturating_sub(self.0);
        u32::try_from(ms.div_ceil(1000)).unwrap_or(u32::MAX)
    }
}

/// Address of record: the key of the location table (RFC 3261 §10.3 step 5),
/// `user@host` with the user's escapes decoded and the host lower-cased,
/// so every spelling of one AOR is one key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Aor(pub Box<[u8]>);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BindingFlags {
    /// Registered through NAT (Kamailio nat_bflag, FLB_NATB).
    pub nated: bool,
    /// Wants SIP keepalive pings (Kamailio sipping_bflag, FLB_NATSIPPING).
    pub ping: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The Contact URI exactly as sent: escapes and parameters kept
    /// (RFC 4475 §3.3.14); URI params stay apart from the Contact header's
    /// params, which are not stored (RFC 4475 §3.3.12/13).
    pub contact: Box<[u8]>,
    /// `sip:IP:PORT[;transport=x]` from fix_nated_register (Kamailio
    /// received_avp), shown as `;received="..."` in the 200 OK and used as
    /// the destination by lookup.
    pub received: Option<Box<[u8]>>,
    /// Where the REGISTER came from, and over what.
    pub source: SocketAddr,
    pub transport: Transport,
    /// The listen address it arrived on (Kamailio socket); requests to
    /// this binding leave from it.
    pub local: SocketAddr,
    /// Path header values, comma-joined, in received order (RFC 3327).
    pub path: Option<Box<[u8]>>,
    /// q-value in thousandths (0..=1000); `None` when unspecified.
    pub q: Option<u16>,
    pub call_id: Box<[u8]>,
    pub cseq: u32,
    pub user_agent: Option<Box<[u8]>>,
    pub flags: BindingFlags,
    /// Absolute expiry.
    pub expires: UnixMillis,
    /// Last time the binding was refreshed or answered a keepalive.
    pub last_keepalive: UnixMillis,
    /// Last REGISTER that changed it: equal q values order older first.
    pub updated: UnixMillis,
    /// `+sip.instance` and `reg-id` Contact params (RFC 5626), if given.
    pub instance: Option<Box<[u8]>>,
    pub reg_id: Option<u32>,
}
