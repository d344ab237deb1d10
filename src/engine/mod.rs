//! The sans-IO core of one shard: bytes and `now` in, datagrams to send and
//! timers out (DESIGN.md "Layers"). The runtime owns sockets and clocks;
//! everything here runs in a test without either.

mod calls;
mod lookups;
pub mod owner;
mod registrar;
pub mod stats;

use crate::config::{Config, RegistrarConfig, UsrlocConfig};
use crate::dialog::DialogConfig;
use crate::ids::{ListenerId, ShardId};
use crate::nat::NatTest;
use crate::proxy::myself::Myself;
use crate::proxy::sanity::unsupported_proxy_require;
use crate::proxy::stateless::{self, ACCEPT, ALLOW, Decision, DropReason, Extra, Reason, Reply, SUPPORTED, Stateful};
use crate::registrar::{Aor, LocationShard, OwnedTarget, UnixMillis, Versions, lookup_owned};
use crate::sip::response::{ResponseSpec, build_response};
use crate::sip::{HeaderName, Message, Method, ParseError, Uri};
use crate::timer::TimerWheel;
use crate::txn::{TimerConfig, TimerKind};
use calls::{Calls, TxId};
use lookups::Lookups;
use owner::Sharder;
use stats::{SharedStats, Stats};
use std::collections::VecDeque;
use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often a shard publishes its counters.
const HOUSEKEEPING: Duration = Duration::from_secs(1);
/// Timer resolution of the shard's wheel.
pub const TIMER_TICK: Duration = Duration::from_millis(10);
/// Send buffers kept for reuse; beyond this they are freed.
const POOL_MAX: usize = 1024;

/// Settings every shard shares, derived once from the configuration.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub myself: Myself,
    pub max_msg_size: usize,
    /// The `Server:` line for local replies, if enabled.
    pub server_header: Option<Vec<u8>>,
    /// Listen addresses by `ListenerId`: a binding remembers the one its
    /// REGISTER arrived on (Kamailio's socket).
    pub listeners: Vec<SocketAddr>,
    pub registrar: RegistrarConfig,
    pub usrloc: UsrlocConfig,
    /// Kamailio's default script runs `nat_uac_test("19")` on every request.
    pub nat_tests: NatTest,
    /// Per listener, the host and port written into Via and Record-Route
    /// (the advertised address where one is set).
    pub advertised: Vec<(String, u16)>,
    /// `[tm]` timers.
    pub tm: TimerConfig,
    /// `[dialog]` parameters.
    pub dialog: DialogConfig,
}

impl EngineConfig {
    pub fn from_config(cfg: &Config) -> EngineConfig {
        EngineConfig {
            myself: Myself::from_config(cfg),
            max_msg_size: cfg.core.max_msg_size,
            server_header: cfg.core.server_signature.then(|| cfg.core.server_header.clone().into_bytes()),
            listeners: cfg.core.listen.iter().map(|l| l.addr).collect(),
            registrar: cfg.registrar.clone(),
            usrloc: cfg.usrloc.clone(),
            nat_tests: NatTest::DEFAULT_SIGNALLING,
            advertised: cfg.core.listen.iter().map(|l| l.advertised()).collect(),
            tm: cfg.tm.timers(),
            dialog: DialogConfig { myself: Myself::from_config(cfg), ..cfg.dialog.to_dialog_config() },
        }
    }
}

/// One received datagram.
#[derive(Debug, Clone, Copy)]
pub struct Datagram<'a> {
    pub local: ListenerId,
    pub src: SocketAddr,
    pub bytes: &'a [u8],
}

/// A datagram to send from listener `local` to `dst`. The runtime gives
/// `payload` back through `Engine::recycle` once sent.
#[derive(Debug)]
pub struct Transmit {
    pub local: ListenerId,
    pub dst: SocketAddr,
    pub payload: Vec<u8>,
}

/// What the runtime must do with a datagram after `handle_datagram`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    Done,
    /// Another shard owns it: pass the raw bytes, source and listener there.
    HandOff(ShardId),
    /// An initial request whose AOR this shard owns and whose Call-ID
    /// another does: pass it there with the lookup's result.
    HandOffLocated(ShardId, Located),
}

pub use lookups::Located;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimerEvent {
    Housekeeping,
    /// usrloc's timer: sweep expired bindings every `timer_interval`.
    Usrloc,
    /// A server transaction's timer.
    Server(TxId, TimerKind),
    /// A client transaction's timer.
    Client(TxId, TimerKind),
}

pub struct Engine {
    shard: ShardId,
    cfg: Arc<EngineConfig>,
    sharder: Sharder,
    tag_hasher: ahash::RandomState,
    timers: TimerWheel<TimerEvent>,
    fired: Vec<TimerEvent>,
    out: VecDeque<Transmit>,
    pool: Vec<Vec<u8>>,
    scratch: Vec<u8>,
    stats: Stats,
    shared: Arc<SharedStats>,
    location: LocationShard,
    /// Other shards' lookups, reused while current.
    lookups: Lookups,
    calls: Calls,
    /// Wall-clock time at `started`: bindings expire in wall time so they
    /// survive restarts, while the engine is driven by monotonic `now`.
    started: Instant,
    started_wall: UnixMillis,
}

impl Engine {
    /// `wall` is the wall-clock time at `now`.
    pub fn new(
        now: Instant,
        wall: UnixMillis,
        shard: ShardId,
        cfg: Arc<EngineConfig>,
        sharder: Sharder,
        shared: Arc<SharedStats>,
    ) -> Engine {
        let mut timers = TimerWheel::new(now, TIMER_TICK, 1024);
        timers.insert(now + HOUSEKEEPING, TimerEvent::Housekeeping);
        timers.insert(now + usrloc_interval(&cfg), TimerEvent::Usrloc);
        let calls = Calls::new(now, wall, cfg.tm, cfg.dialog.clone(), shard, sharder.shards());
        Engine {
            shard,
            location: LocationShard::from_config(&cfg.usrloc),
            lookups: Lookups::default(),
            calls,
            cfg,
            sharder,
            // Fixed seeds: every shard derives the same To tag for a
            // retransmission, wherever it lands.
            tag_hasher: ahash::RandomState::with_seeds(0x5349_5045, 0x4447_4521, 0x7461_6773, 0x0073_6970),
            timers,
            fired: Vec::new(),
            out: VecDeque::new(),
            pool: Vec::new(),
            scratch: Vec::new(),
            stats: Stats::default(),
            shared,
            started: now,
            started_wall: wall,
        }
    }

    /// Joins the shards' location versions (registrar/versions.rs): this
    /// shard's changes bump them, and it reuses other shards' lookups while
    /// they are current. Without it every such call crosses shards.
    pub fn share_versions(&mut self, versions: Versions) {
        self.location.share_versions(versions.clone(), usize::from(self.shard.0));
        self.lookups.share(versions);
    }

    /// Wall-clock time at `now`.
    pub fn wall(&self, now: Instant) -> UnixMillis {
        let ms = now.saturating_duration_since(self.started).as_millis();
        UnixMillis(self.started_wall.0.saturating_add(u64::try_from(ms).unwrap_or(u64::MAX)))
    }

    /// A single engine that owns every key: for benches, tests and tools
    /// that drive the core without a runtime.
    pub fn standalone(now: Instant, cfg: &Config) -> Engine {
        let cfg = Arc::new(EngineConfig::from_config(cfg));
        Engine::new(
            now,
            UnixMillis(1_767_225_600_000),
            ShardId(0),
            cfg,
            Sharder::new(0, 1),
            Arc::new(SharedStats::default()),
        )
    }

    pub fn shard(&self) -> ShardId {
        self.shard
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// A datagram from one of this shard's sockets.
    pub fn handle_datagram(&mut self, now: Instant, d: Datagram<'_>) -> Disposition {
        self.stats.rcv_datagrams += 1;
        self.handle(now, d, Arrival::Socket)
    }

    /// A datagram another shard passed here because this shard owns it;
    /// `located` is the lookup the AOR's owner did for it. A request whose
    /// AOR this shard owns may go on to the Call-ID's owner.
    pub fn handle_handoff(&mut self, now: Instant, d: Datagram<'_>, located: Option<Located>) -> Disposition {
        self.stats.rcv_handoffs += 1;
        let arrival = match located {
            Some(l) => Arrival::Located(l),
            None => Arrival::HandedOff,
        };
        self.handle(now, d, arrival)
    }

    fn handle(&mut self, now: Instant, d: Datagram<'_>, arrival: Arrival) -> Disposition {
        if d.bytes.len() > self.cfg.max_msg_size {
            self.stats.too_large += 1;
            self.reject_unparsed(d, 513, &"Message Too Large");
            return Disposition::Done;
        }
        // Borrowed, not moved out of the `Result`: the view is large.
        let parsed = Message::parse(d.bytes);
        let msg = match &parsed {
            Ok(m) => m,
            Err(ParseError::Empty) => {
                self.stats.keepalives += 1;
                return Disposition::Done;
            }
            Err(e) => {
                self.stats.err_requests += 1;
                self.reject_unparsed(d, 400, e);
                return Disposition::Done;
            }
        };
        // The lookup AOR, once `owner` has computed it (`Some(None)`: none).
        let mut aor = None;
        // A hand-off is already at its owner: do not hash it again.
        if matches!(arrival, Arrival::Socket)
            && let Some(owner) = self.owner(msg, now, &mut aor).filter(|&o| o != self.shard)
        {
            self.stats.sent_handoffs += 1;
            return Disposition::HandOff(owner);
        }
        if msg.is_request() {
            self.stats.rcv_requests += 1;
        } else {
            self.stats.rcv_replies += 1;
        }
        match stateless::decide(msg, &self.cfg.myself) {
            Decision::Reply(r) => self.reply(msg, d, r),
            Decision::Register => self.register(now, msg, d),
            Decision::Response => self.response(now, msg, d),
            Decision::Proxy(Stateful::Local) => {
                let aor = aor.unwrap_or_else(|| self.lookup_aor(msg));
                return self.local_user(now, msg, d, arrival, aor);
            }
            Decision::Proxy(Stateful::Foreign) => self.foreign_request(now, msg, d),
            Decision::Proxy(Stateful::InDialog) => self.in_dialog_request(now, msg, d),
            Decision::Proxy(Stateful::Cancel) => self.cancel(now, msg, d),
            Decision::Proxy(Stateful::Ack) => {
                let in_dialog = msg.to().is_ok_and(|t| t.tag().is_some());
                self.ack(now, msg, d, in_dialog);
            }
            Decision::Drop(DropReason::Ack) => self.stats.drop_acks += 1,
        }
        Disposition::Done
    }

    /// Which shard handles a message fresh off a socket: a REGISTER's AOR
    /// owner, an initial request's Request-URI AOR owner (it does the
    /// lookup) unless its answer is cached here, else the Call-ID's owner.
    /// The lookup AOR it computes is left in `aor` for the request's
    /// handling.
    fn owner(&self, msg: &Message<'_>, now: Instant, aor: &mut Option<Option<Aor>>) -> Option<ShardId> {
        if self.sharder.shards() > 1
            && let Some(aor) = aor.insert(self.lookup_aor(msg))
        {
            let owner = self.sharder.by_aor(aor);
            if owner == self.shard || self.lookups.get(aor, owner, self.wall(now)).is_none() {
                return Some(owner);
            }
        }
        self.sharder.owner(msg)
    }

    /// The AOR an initial request for one of our users is looked up
    /// under: its Request-URI's, when it has a user part and is ours.
    fn lookup_aor(&self, msg: &Message<'_>) -> Option<Aor> {
        let method = msg.method()?;
        if matches!(method, Method::Register | Method::Ack | Method::Cancel) || msg.to().ok()?.tag().is_some() {
            return None;
        }
        let uri = Uri::parse(msg.request_line()?.uri).ok()?;
        if uri.user.is_none() || !uri.is_sip() || !self.cfg.myself.is_myself(&uri) {
            return None;
        }
        Aor::from_uri(&uri).ok()
    }

    /// route[LOCATION]: looks the user up where its AOR lives (here, unless
    /// the AOR's owner already did), then relays where the Call-ID lives.
    /// `aor` is the request's lookup AOR (`lookup_aor`).
    fn local_user(
        &mut self,
        now: Instant,
        msg: &Message<'_>,
        d: Datagram<'_>,
        arrival: Arrival,
        aor: Option<Aor>,
    ) -> Disposition {
        let targets = match arrival {
            Arrival::Located(l) => {
                if let Some(aor) = aor {
                    let owner = self.sharder.by_aor(&aor);
                    self.lookups.put(aor, owner, &l);
                }
                l.targets
            }
            Arrival::Socket | Arrival::HandedOff => {
                let targets = match aor.as_ref().map(|aor| self.locate(aor, now)) {
                    Some(Ok(targets)) => targets,
                    Some(Err(owner)) => {
                        // Its owner looks it up (no current answer here).
                        self.stats.sent_handoffs += 1;
                        self.stats.rcv_requests -= 1;
                        return Disposition::HandOff(owner);
                    }
                    None => Vec::new(),
                };
                let owner = msg.call_id().map(|c| self.sharder.by_call_id(c));
                if let Some(owner) = owner.filter(|&o| o != self.shard) {
                    self.stats.sent_handoffs += 1;
                    // Counted where it is handled, the Call-ID's owner.
                    self.stats.rcv_requests -= 1;
                    return Disposition::HandOffLocated(owner, self.located(aor.as_ref(), targets, now));
                }
                targets
            }
        };
        self.initial_request(now, msg, d, targets);
        Disposition::Done
    }

    /// `aor`'s lookup: here when this shard owns it, else the owner's
    /// answer kept here while current; `Err(owner)` when neither.
    fn locate(&self, aor: &Aor, now: Instant) -> Result<Vec<OwnedTarget>, ShardId> {
        let wall = self.wall(now);
        let owner = self.sharder.by_aor(aor);
        if owner != self.shard {
            return self.lookups.get(aor, owner, wall).map(|l| l.targets.clone()).ok_or(owner);
        }
        Ok(lookup_owned(&self.location, aor, wall, &self.cfg.registrar))
    }

    /// `targets` (from `locate`) as handed to the Call-ID's owner, with
    /// what it needs to judge a reuse: only for a hand-off, so a call
    /// handled where it landed does not pay for them.
    fn located(&self, aor: Option<&Aor>, targets: Vec<OwnedTarget>, now: Instant) -> Located {
        let wall = self.wall(now);
        let (version, valid_until) = match aor {
            Some(aor) if self.sharder.by_aor(aor) == self.shard => {
                let first_expiry = self.location.lookup(aor.as_bytes(), wall).map(|b| b.expires).min();
                (self.lookups.version(self.shard, aor), first_expiry.unwrap_or(wall))
            }
            // A copy kept here: passed on no fresher than it is.
            Some(aor) => self
                .lookups
                .get(aor, self.sharder.by_aor(aor), wall)
                .map_or((0, UnixMillis(0)), |l| (l.version, l.valid_until)),
            None => (0, UnixMillis(0)),
        };
        Located { targets, version, valid_until }
    }

    /// Answers a request that did not parse, from a lenient view of it;
    /// responses, ACKs and noise get nothing.
    fn reject_unparsed(&mut self, d: Datagram<'_>, code: u16, reason: &dyn std::fmt::Display) {
        let Some(msg) = Message::parse_lenient(d.bytes) else {
            return;
        };
        if msg.method() == Some(Method::Ack) || msg.header(HeaderName::Via).is_none() {
            return;
        }
        let add_to_tag = !msg.to().is_ok_and(|t| t.tag().is_some());
        self.scratch.clear();
        self.respond(&msg, d, code, reason, &[], add_to_tag);
    }

    fn reply(&mut self, msg: &Message<'_>, d: Datagram<'_>, r: Reply) {
        self.scratch.clear();
        if r.extra == Extra::Unsupported {
            // RFC 3261 §20.40: list the option tags refused.
            self.scratch.extend_from_slice(b"Unsupported: ");
            for (i, t) in unsupported_proxy_require(msg).enumerate() {
                if i > 0 {
                    self.scratch.extend_from_slice(b", ");
                }
                self.scratch.extend_from_slice(t);
            }
            self.scratch.extend_from_slice(b"\r\n");
        }
        let extra: &[&[u8]] = match r.extra {
            Extra::None | Extra::Unsupported => &[],
            Extra::Capabilities => &[ALLOW, ACCEPT, SUPPORTED],
        };
        let reason: &dyn std::fmt::Display = match &r.reason {
            Reason::Text(t) => t,
            Reason::Rejected(rej) => rej,
        };
        self.respond(msg, d, r.code, reason, extra, r.add_to_tag);
    }

    /// Queues a locally generated response to `msg`, with `extra` lines and
    /// the complete header lines the caller left in `self.scratch`.
    /// RFC 3581 §4 (force_rport): it always goes to the source address.
    fn respond(
        &mut self,
        msg: &Message<'_>,
        d: Datagram<'_>,
        code: u16,
        reason: &dyn std::fmt::Display,
        extra: &[&[u8]],
        add_to_tag: bool,
    ) {
        let tag = add_to_tag.then(|| self.to_tag(msg));
        let mut buf = self.take_buf();
        let spec = ResponseSpec {
            code,
            reason,
            source: d.src,
            to_tag: tag.as_ref().map(|t| &t[..]),
            extra,
            raw_headers: &self.scratch,
            server: self.cfg.server_header.as_deref(),
        };
        build_response(msg, &spec, &mut buf);
        self.stats.count_reply(code);
        self.out.push_back(Transmit { local: d.local, dst: d.src, payload: buf });
    }

    /// A To tag that is the same for every retransmission of a request,
    /// wherever it lands, as Kamailio's sl does: a hash of the raw Call-ID,
    /// From (with its tag), top Via (with its branch) and CSeq values,
    /// which a retransmission repeats byte for byte.
    fn to_tag(&self, msg: &Message<'_>) -> [u8; 16] {
        let mut h = self.tag_hasher.build_hasher();
        for name in [HeaderName::CallId, HeaderName::From, HeaderName::Via, HeaderName::CSeq] {
            h.write(msg.header(name).map_or(&[][..], |v| v.value));
        }
        hex16(h.finish())
    }

    /// Runs the timers that are due.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.fired.clear();
        self.timers.expire(now, &mut self.fired);
        for i in 0..self.fired.len() {
            match self.fired[i] {
                TimerEvent::Housekeeping => {
                    self.publish();
                    self.timers.insert(now + HOUSEKEEPING, TimerEvent::Housekeeping);
                }
                TimerEvent::Usrloc => {
                    let wall = self.wall(now);
                    self.location.expire_into(wall, &mut Vec::new());
                    self.timers.insert(now + usrloc_interval(&self.cfg), TimerEvent::Usrloc);
                }
                tx @ (TimerEvent::Server(..) | TimerEvent::Client(..)) => self.tx_timer(now, tx),
            }
        }
        if self.calls.dialogs.next_timeout().is_some_and(|t| t <= now) {
            self.dialog_timeouts(now);
        }
    }

    fn publish(&mut self) {
        let c = self.location.counters();
        self.stats.location_users = c.users as u64;
        self.stats.location_contacts = c.contacts as u64;
        self.stats.location_expires = c.expired;
        let d = self.calls.dialogs.counters();
        self.stats.active_dialogs = d.active_dialogs;
        self.stats.early_dialogs = d.early_dialogs;
        self.stats.processed_dialogs = d.processed_dialogs;
        self.stats.expired_dialogs = d.expired_dialogs;
        self.stats.failed_dialogs = d.failed_dialogs;
        let (servers, clients) = self.calls.len();
        self.stats.tx_current = (servers + clients) as u64;
        self.shared.publish(&self.stats);
    }

    /// When `handle_timeout` next has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let tx = self.timers.next_deadline();
        match (tx, self.calls.dialogs.next_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.pop_front()
    }

    /// Returns a sent payload's buffer for reuse.
    pub fn recycle(&mut self, mut buf: Vec<u8>) {
        if self.pool.len() < POOL_MAX {
            buf.clear();
            self.pool.push(buf);
        }
    }

    /// Flushes state before exit; publishes the final counters.
    pub fn shutdown(&mut self) {
        self.publish();
    }

    fn take_buf(&mut self) -> Vec<u8> {
        self.pool.pop().unwrap_or_else(|| Vec::with_capacity(1024))
    }
}

/// How a datagram reached this shard.
enum Arrival {
    /// From its own socket: it may belong elsewhere.
    Socket,
    /// From another shard that found this one the owner.
    HandedOff,
    /// From the AOR's owner, with the lookup done.
    Located(Located),
}

fn usrloc_interval(cfg: &EngineConfig) -> Duration {
    Duration::from_secs(u64::from(cfg.usrloc.timer_interval.max(1)))
}

fn hex16(v: u64) -> [u8; 16] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 16];
    for (i, o) in out.iter_mut().enumerate() {
        *o = HEX[((v >> (60 - 4 * i)) & 0xf) as usize];
    }
    out
}

#[cfg(test)]
mod tests;
