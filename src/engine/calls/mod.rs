//! The stateful proxy of one shard: Kamailio's tm, rr and dialog as the
//! default script WITH_NAT drives them (RFC 3261 §16, §17), over the
//! transaction machines of `txn/` and the dialog table of `dialog/`.
//!
//! Every transaction and dialog of a Call-ID lives on the shard that owns
//! the Call-ID (`engine::owner`), so requests, their CANCELs and ACKs, and
//! the responses to what this shard forwarded all meet here. Only the
//! location lookup of an initial request runs elsewhere, on the AOR's
//! owner, which passes the result along with the datagram.
//!
//! - `request.rs`: the request routes (LOCATION, SIPOUT, WITHINDLG, CANCEL);
//! - `branch.rs`: the bytes of a forwarded request;
//! - `reply.rs`: responses, the best final of a fork, serial forking;
//! - this file: the tables and how transaction actions are carried out.

mod branch;
mod reply;
mod request;

use super::{Engine, TimerEvent, Transmit};
use crate::control::dlg::{DlgOp, DlgReply};
use crate::control::jsonrpc::RpcError;
use crate::dialog::{DialogConfig, Dialogs};
use crate::ids::ListenerId;
use crate::proxy::fork::ForkPlan;
use crate::registrar::UnixMillis;
use crate::sip::{Editor, Message, Method};
use crate::txn::{Action, Actions, ArmedTimers, ClientTx, Packet, ServerTx, TimerConfig, TxKey};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Instant;

/// A transaction of this shard; never reused, so a stale timer finds nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TxId(u64);

/// The far end of a transaction: the socket it uses and the address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Peer {
    pub local: ListenerId,
    pub addr: SocketAddr,
}

/// One shard's transactions and dialogs.
pub(crate) struct Calls {
    pub txcfg: TimerConfig,
    /// Server and client keys (they never collide, `TxKey` docs).
    keys: HashMap<TxKey, TxId, ahash::RandomState>,
    servers: HashMap<TxId, ServerEntry, ahash::RandomState>,
    clients: HashMap<TxId, ClientEntry, ahash::RandomState>,
    next: u64,
    pub dialogs: Dialogs,
    /// Salt of our Via branches (`forward::branch_for`): fixed, so every
    /// shard and every restart computes the same branch for a request.
    salt: u64,
    /// Different in every run: the branches of BYEs this proxy originates.
    bye_salt: u64,
    editor: Editor,
}

/// A request received and answered statefully.
struct ServerEntry {
    key: TxKey,
    tx: ServerTx,
    timers: ArmedTimers,
    peer: Peer,
    /// The request as received: local answers are built from it.
    request: Packet,
    /// The request came through NAT (Kamailio FLT_NATS).
    nat_s: bool,
    /// Its branches, once relayed.
    fork: Option<Fork>,
}

/// The branches of one relayed request (tm's `uac[]`) and what came back.
#[derive(Default)]
struct Fork {
    /// Branches of the current q group with no final response yet.
    open: Vec<TxId>,
    /// Branches ever started, for the Via branch of the next one.
    started: u32,
    /// The best final response so far (RFC 3261 §16.7 step 6), ready to
    /// go upstream: code and bytes.
    best: Option<(u16, Vec<u8>)>,
    /// q groups not tried yet.
    plan: ForkPlan,
    /// A CANCEL came: no further groups (RFC 3261 §16.10).
    canceled: bool,
    /// A final went upstream (a 2xx, or the best when all branches
    /// failed): nothing else is sent through the server transaction.
    answered: bool,
    /// The dialog was created, from the first branch that went out.
    dialog_fed: bool,
}

/// A request this shard sent: a branch, a CANCEL or a BYE of its own.
struct ClientEntry {
    key: TxKey,
    tx: ClientTx,
    timers: ArmedTimers,
    info: ClientInfo,
}

/// What a response to a client transaction needs of it, copied out before
/// the transaction runs (it may end while handling the response).
#[derive(Debug, Clone, Copy)]
struct ClientInfo {
    peer: Peer,
    /// The server transaction it is a branch of; `None` for CANCELs and
    /// requests the proxy originates.
    server: Option<TxId>,
    /// Where the server transaction's responses go, for a 2xx that comes
    /// after it ended (RFC 3261 §16.7 step 10: every 2xx goes upstream).
    upstream: Peer,
    /// The branch goes to a NATed party (Kamailio FLB_NATB).
    nat_b: bool,
}

/// What `start_client` is told of a request besides its bytes.
#[derive(Clone, Copy)]
enum Known<'a, 'm> {
    /// Nothing: the bytes are parsed.
    Nothing,
    /// A view of the same bytes.
    Parsed(&'a Message<'m>),
    /// The branch this shard put in the top Via, and the CSeq method.
    Branch(&'a [u8], Method<'m>),
}

impl Calls {
    pub fn new(
        now: Instant,
        wall: UnixMillis,
        txcfg: TimerConfig,
        dialog: DialogConfig,
        shard: crate::ids::ShardId,
        shards: u16,
    ) -> Calls {
        Calls {
            txcfg,
            keys: HashMap::default(),
            servers: HashMap::default(),
            clients: HashMap::default(),
            next: 0,
            dialogs: Dialogs::new(dialog, now, wall, shard, shards),
            salt: 0x7369_7065_6467_6521,
            // The start time differs from one run to the next.
            bye_salt: wall.0 & 0xffff_ffff,
            editor: Editor::new(),
        }
    }

    fn id(&mut self) -> TxId {
        self.next += 1;
        TxId(self.next)
    }

    /// Transactions held now (server, client).
    pub fn len(&self) -> (usize, usize) {
        (self.servers.len(), self.clients.len())
    }
}

impl Engine {
    /// Carries out what a server transaction asked for.
    fn server_actions(&mut self, now: Instant, sid: TxId, actions: &mut Actions) {
        for action in actions.drain() {
            let Some(e) = self.calls.servers.get_mut(&sid) else {
                return;
            };
            if e.timers.apply(&action, now, &mut self.timers, |k| TimerEvent::Server(sid, k)) {
                continue;
            }
            match action {
                Action::Send(p) | Action::Resend(p) => {
                    let peer = e.peer;
                    self.send_packet(peer, &p);
                }
                Action::Terminated(_) => self.end_server(sid),
                // Client-side actions never come from a server transaction.
                _ => {}
            }
        }
    }

    fn end_server(&mut self, sid: TxId) {
        if let Some(mut e) = self.calls.servers.remove(&sid) {
            e.timers.cancel_all(&mut self.timers);
            self.calls.keys.remove(&e.key);
        }
    }

    fn end_client(&mut self, cid: TxId) {
        if let Some(mut e) = self.calls.clients.remove(&cid) {
            e.timers.cancel_all(&mut self.timers);
            self.calls.keys.remove(&e.key);
        }
    }

    /// Starts a client transaction for `request` towards `info.peer`;
    /// `parsed` is a view of the same bytes when the caller has one.
    fn start_client(&mut self, now: Instant, request: Packet, known: Known<'_, '_>, info: ClientInfo) -> Option<TxId> {
        let mut actions = Actions::new();
        let cfg = &self.calls.txcfg;
        let started = match known {
            Known::Nothing => ClientTx::new(request, cfg, &mut actions),
            Known::Parsed(msg) => ClientTx::with_parsed(request, msg, cfg, &mut actions),
            Known::Branch(branch, method) => ClientTx::with_branch(request, branch, method, cfg, &mut actions),
        };
        let (key, tx) = match started {
            Ok(x) => x,
            Err(e) => {
                log::debug!("not sent: {e}");
                return None;
            }
        };
        if let Some(&old) = self.calls.keys.get(&key) {
            // The same branch again (a retransmission that outlived its
            // server transaction): the new one replaces the old.
            self.end_client(old);
        }
        let cid = self.calls.id();
        self.calls.keys.insert(key.clone(), cid);
        self.calls.clients.insert(cid, ClientEntry { key, tx, timers: ArmedTimers::new(), info });
        self.stats.tx_client += 1;
        self.client_actions(now, cid, info, &mut actions, None);
        Some(cid)
    }

    /// Carries out what a client transaction asked for; `response` is the
    /// response being handled, for `PassUp`.
    fn client_actions(
        &mut self,
        now: Instant,
        cid: TxId,
        info: ClientInfo,
        actions: &mut Actions,
        response: Option<reply::Received<'_, '_>>,
    ) {
        for action in actions.drain() {
            if let Some(e) = self.calls.clients.get_mut(&cid)
                && e.timers.apply(&action, now, &mut self.timers, |k| TimerEvent::Client(cid, k))
            {
                continue;
            }
            match action {
                Action::Send(p) | Action::Resend(p) => self.send_packet(info.peer, &p),
                Action::PassUp(code) => {
                    if let Some(r) = &response {
                        self.relay_response(now, cid, info, r, code);
                    }
                }
                Action::TimedOut => self.branch_final(now, cid, info, 408, None),
                Action::SendCancel(p) => {
                    let cancel = ClientInfo { server: None, ..info };
                    self.start_client(now, p, Known::Nothing, cancel);
                }
                Action::Terminated(t) => {
                    self.end_client(cid);
                    if t == crate::txn::Termination::TransportError {
                        // RFC 3261 §16.9: a transport error counts as a 503.
                        self.branch_final(now, cid, info, 503, None);
                    }
                }
                Action::Arm(..) | Action::Cancel(_) => {}
            }
        }
    }

    /// A transaction timer fired.
    pub(super) fn tx_timer(&mut self, now: Instant, event: TimerEvent) {
        let mut actions = Actions::new();
        match event {
            TimerEvent::Server(sid, kind) => {
                let Some(e) = self.calls.servers.get_mut(&sid) else { return };
                e.timers.fired(kind);
                e.tx.handle_timer(kind, &self.calls.txcfg, &mut actions);
                self.server_actions(now, sid, &mut actions);
            }
            TimerEvent::Client(cid, kind) => {
                let Some(e) = self.calls.clients.get_mut(&cid) else { return };
                e.timers.fired(kind);
                e.tx.handle_timer(kind, &self.calls.txcfg, &mut actions);
                let info = e.info;
                self.client_actions(now, cid, info, &mut actions, None);
            }
            _ => {}
        }
    }

    /// Queues `bytes` to `peer`.
    fn send_packet(&mut self, peer: Peer, bytes: &[u8]) {
        let mut buf = self.take_buf();
        buf.extend_from_slice(bytes);
        self.out.push_back(Transmit { local: peer.local, dst: peer.addr, payload: buf });
    }

    /// The listener whose address is `addr` (a binding's socket), else `fallback`.
    fn listener_for(&self, addr: SocketAddr, fallback: ListenerId) -> ListenerId {
        self.cfg
            .listeners
            .iter()
            .position(|l| *l == addr)
            .and_then(|i| u16::try_from(i).ok())
            .map_or(fallback, ListenerId)
    }

    /// The dialog table (RPC, tests).
    pub fn dialogs(&self) -> &Dialogs {
        &self.calls.dialogs
    }

    /// Each listener as Kamailio's sock_str names it (every one is UDP here).
    fn sock_strs(&self) -> Vec<String> {
        self.cfg.listeners.iter().map(|a| format!("udp:{a}")).collect()
    }

    /// A `dlg.*` RPC on this shard's dialogs.
    pub fn dialog_rpc(&mut self, op: DlgOp, now: Instant) -> DlgReply {
        match op {
            DlgOp::List => DlgReply::List(crate::dialog::rpc::list(&self.calls.dialogs, &self.sock_strs())),
            DlgOp::ListCall { call_id, from_tag } => {
                let tag = from_tag.as_deref().map(str::as_bytes);
                let sockets = self.sock_strs();
                DlgReply::List(crate::dialog::rpc::dlg_list(&self.calls.dialogs, call_id.as_bytes(), tag, &sockets))
            }
            DlgOp::StatsActive => DlgReply::Stats(crate::dialog::ActiveStats::of(&self.calls.dialogs)),
            DlgOp::End { handle, extra } => match self.calls.dialogs.terminate(handle, now).map(|_| ()) {
                Ok(()) if self.send_byes(now, handle, extra.as_bytes()) => DlgReply::Ended,
                Ok(()) => DlgReply::Failed(RpcError::Failed(500, "Failed to build the BYEs".into())),
                Err(crate::dialog::DialogError::NotFound) => {
                    DlgReply::Failed(RpcError::Failed(404, "Dialog not found".into()))
                }
                Err(e) => DlgReply::Failed(RpcError::Failed(500, e.to_string())),
            },
        }
    }

    /// The dialog timers that are due. With `send_bye`, a confirmed dialog
    /// that timed out is ended with a BYE to each side.
    pub(super) fn dialog_timeouts(&mut self, now: Instant) {
        for expired in self.calls.dialogs.handle_timeout(now) {
            if expired.send_bye {
                self.send_byes(now, expired.handle, b"");
            }
        }
    }

    /// `dlg_bye_all`: a BYE to the caller and one to the callee, each in a
    /// client transaction of its own.
    pub(super) fn send_byes(&mut self, now: Instant, handle: crate::dialog::DialogHandle, extra: &[u8]) -> bool {
        let Some(dialog) = self.calls.dialogs.get(handle) else { return false };
        // Each BYE leaves from the socket its side is reached from.
        let sockets = dialog.core().sockets;
        // A branch no other shard or earlier run of this proxy uses: the
        // shard, the start time and a per-shard counter.
        let via = |this: &Engine, side: u64, local: ListenerId| {
            let addr = this.rr_addr(local);
            let mut v = b"SIP/2.0/UDP ".to_vec();
            v.extend_from_slice(addr.host);
            let (shard, salt, n) = (this.shard.0, this.calls.bye_salt, this.calls.next);
            v.extend_from_slice(
                format!(":{};branch=z9hG4bKdlg{shard:x}.{salt:x}.{n:x}.{side};rport", addr.port).as_bytes(),
            );
            v
        };
        let (to_caller, to_callee) = (via(self, 1, sockets.caller), via(self, 2, sockets.callee));
        let Ok(byes) = crate::dialog::build_byes(dialog, &to_caller, &to_callee, extra) else { return false };
        let mut sent = 0;
        // build_byes gives the caller's BYE first.
        for (bye, local) in byes.into_iter().zip([sockets.caller, sockets.callee]) {
            let mut ed = Editor::new();
            let Ok(m) = Message::parse(&bye.bytes) else { continue };
            let ruri = m.request_line().map(|r| r.uri).unwrap_or_default();
            // With no Route the BYE goes to the Request-URI: a NATed side
            // through the alias of its Contact (kamailio#1689).
            let dst = if *bye.destination == *ruri {
                branch::dlguri(&m, &mut ed, ruri)
            } else {
                crate::proxy::next_hop::uri_destination(&bye.destination)
            };
            let mut bytes = Vec::new();
            let Some(dst) = dst.filter(|_| ed.apply(&bye.bytes, &mut bytes).is_ok()) else { continue };
            let info = ClientInfo {
                peer: Peer { local, addr: dst },
                server: None,
                upstream: Peer { local, addr: dst },
                nat_b: false,
            };
            sent += usize::from(self.start_client(now, Packet::from(bytes), Known::Nothing, info).is_some());
        }
        sent > 0
    }
}

#[cfg(test)]
mod tests;
