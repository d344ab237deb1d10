//! Requests through the stateful proxy, route by route of Kamailio's
//! default script: LOCATION and SIPOUT for initial requests, WITHINDLG for
//! requests in a dialog, CANCEL, and the ACKs of both kinds.

use super::branch::{InitialBranch, dlguri, is_first_hop, mark_source};
use super::{ClientInfo, Fork, Known, Peer, ServerEntry, TxId};
use crate::dialog::{Event, Sockets};
use crate::engine::{Datagram, Engine};
use crate::nat::{DEFAULT_ALIAS_NAME, nat_uac_test, set_contact_alias};
use crate::proxy::fork::ForkPlan;
use crate::proxy::forward::{self, LooseRoute};
use crate::proxy::next_hop::{UNRESOLVABLE, uri_destination};
use crate::registrar::{BindingFlags, OwnedDestination, OwnedTarget};
use crate::sip::response::{ResponseSpec, build_response};
use crate::sip::transport::Transport;
use crate::sip::{Message, Method};
use crate::txn::{Actions, Packet, ServerTx, TxKey};
use std::net::SocketAddr;
use std::time::Instant;

impl Engine {
    /// An initial request: to one of our users with the lookup's `targets`
    /// (route[LOCATION]), or to a foreign IP address (route[SIPOUT]) with
    /// the Request-URI as the one target.
    pub(in crate::engine) fn initial_request(
        &mut self,
        now: Instant,
        msg: &Message<'_>,
        d: Datagram<'_>,
        targets: Vec<OwnedTarget>,
    ) {
        // NATDETECT: nat_uac_test("19") sets FLT_NATS for the transaction.
        let nat_s = nat_uac_test(msg, d.src, Transport::Udp, self.cfg.nat_tests, true);
        let Some(sid) = self.open_server(now, msg, d, nat_s) else {
            return;
        };
        let Some(plan) = ForkPlan::new(targets) else {
            // route[LOCATION]: lookup() found nothing; t_newtran, then 404.
            let (code, reason) = crate::proxy::fork::NOT_FOUND;
            self.local_reply(now, sid, code, reason);
            return;
        };
        if let Some(e) = self.calls.servers.get_mut(&sid) {
            e.fork = Some(Fork { plan, ..Fork::default() });
        }
        // The transaction keeps these very bytes: no second parse.
        self.next_group(now, sid, Some(msg));
    }

    /// route[SIPOUT]: the Request-URI is the only target (IP literals
    /// only until the DNS subsystem exists).
    pub(in crate::engine) fn foreign_request(&mut self, now: Instant, msg: &Message<'_>, d: Datagram<'_>) {
        let ruri = msg.request_line().map(|r| r.uri).unwrap_or_default();
        let target = OwnedTarget {
            uri: ruri.into(),
            dst: OwnedDestination::Contact,
            path: None,
            local: self.listener_addr(d.local),
            transport: Transport::Udp,
            flags: BindingFlags::default(),
            q: None,
        };
        self.initial_request(now, msg, d, vec![target]);
    }

    /// Matches a request to its server transaction (a retransmission is
    /// absorbed there) or opens one, marked NATed (FLT_NATS) with `nat_s`.
    /// `None` when the request is done with.
    fn open_server(&mut self, now: Instant, msg: &Message<'_>, d: Datagram<'_>, nat_s: bool) -> Option<TxId> {
        let Ok(key) = TxKey::server(msg) else {
            self.stateless(msg, d, 400, "Bad Via");
            return None;
        };
        if let Some(&sid) = self.calls.keys.get(&key) {
            self.retransmission(now, sid, msg);
            return None;
        }
        // RFC 3261 §16.3 step 4.
        if forward::is_loop(msg, &self.cfg.myself, self.calls.salt) {
            self.stateless(msg, d, 482, "Loop Detected");
            return None;
        }
        let mut actions = Actions::new();
        let tx = match ServerTx::new(msg, d.src, self.cfg.server_header.as_deref(), &mut actions) {
            Ok(tx) => tx,
            Err(e) => {
                log::debug!("no transaction: {e}");
                return None;
            }
        };
        let sid = self.calls.id();
        self.calls.keys.insert(key.clone(), sid);
        let entry = ServerEntry {
            key,
            tx,
            timers: Default::default(),
            peer: Peer { local: d.local, addr: d.src },
            request: Packet::from(msg.as_bytes()),
            nat_s,
            fork: None,
        };
        self.calls.servers.insert(sid, entry);
        self.stats.tx_server += 1;
        self.server_actions(now, sid, &mut actions);
        Some(sid)
    }

    fn retransmission(&mut self, now: Instant, sid: TxId, msg: &Message<'_>) {
        let mut actions = Actions::new();
        if let Some(e) = self.calls.servers.get_mut(&sid) {
            let _ = e.tx.handle_request(msg, &self.calls.txcfg, &mut actions);
        }
        self.stats.tx_absorbed += 1;
        self.server_actions(now, sid, &mut actions);
    }

    /// Starts the next q group of a fork; when none is left (or none of
    /// its targets could be reached), the best final goes upstream.
    /// `parsed` is the transaction's request, when the caller has it parsed.
    pub(super) fn next_group(&mut self, now: Instant, sid: TxId, parsed: Option<&Message<'_>>) {
        if let Some(msg) = parsed {
            return self.next_group_of(now, sid, msg);
        }
        let Some(request) = self.calls.servers.get(&sid).map(|e| e.request.clone()) else { return };
        if let Ok(msg) = Message::parse(&request) {
            self.next_group_of(now, sid, &msg);
        }
    }

    fn next_group_of(&mut self, now: Instant, sid: TxId, msg: &Message<'_>) {
        loop {
            let Some(e) = self.calls.servers.get_mut(&sid) else { return };
            let (peer, nat_s) = (e.peer, e.nat_s);
            let Some(fork) = e.fork.as_mut() else { return };
            let group = if fork.canceled || fork.answered { None } else { fork.plan.next_group() };
            let Some(group) = group else {
                self.send_best(now, sid);
                return;
            };
            for t in &group {
                self.start_branch(now, sid, msg, peer, nat_s, t);
            }
            let open = self.calls.servers.get(&sid).and_then(|e| e.fork.as_ref()).is_some_and(|f| !f.open.is_empty());
            if open {
                return;
            }
        }
    }

    fn start_branch(
        &mut self,
        now: Instant,
        sid: TxId,
        msg: &Message<'_>,
        upstream: Peer,
        nat_s: bool,
        t: &OwnedTarget,
    ) {
        let Some(fork) = self.calls.servers.get_mut(&sid).and_then(|e| e.fork.as_mut()) else { return };
        let index = fork.started;
        fork.started += 1;
        let Some(dst) = uri_destination(t.next_hop()) else {
            let (code, reason) = UNRESOLVABLE;
            let bytes = self.local_response(sid, code, reason);
            self.offer_best(sid, code, bytes);
            return;
        };
        let outbound = self.listener_for(t.local, upstream.local);
        let branch = InitialBranch {
            ruri: Some(&t.uri),
            path: t.path.as_deref(),
            nat_rr: nat_s || t.flags.nated,
            inbound: upstream.local,
            outbound,
            index,
        };
        let mut bytes = self.take_buf();
        if let Err(e) = self.initial_branch(msg, upstream.addr, nat_s, &branch, &mut bytes) {
            log::warn!("branch not built: {e}");
            return;
        }
        let parsed = Message::parse(&bytes);
        let Ok(fwd) = &parsed else {
            log::warn!("branch built unparsable");
            self.recycle(bytes);
            return;
        };
        // The dialog is created from the first branch that goes out.
        let first = self
            .calls
            .servers
            .get_mut(&sid)
            .and_then(|e| e.fork.as_mut())
            .is_some_and(|f| !std::mem::replace(&mut f.dialog_fed, true));
        if first && msg.method() == Some(Method::Invite) {
            match self.calls.dialogs.on_request(fwd, now) {
                Ok(Event::Created(handle)) => {
                    let sockets = Sockets { caller: upstream.local, callee: outbound };
                    self.calls.dialogs.bind_sockets(handle, sockets);
                }
                Ok(_) => {}
                Err(e) => log::debug!("dialog not tracked: {e}"),
            }
        }
        let info =
            ClientInfo { peer: Peer { local: outbound, addr: dst }, server: Some(sid), upstream, nat_b: t.flags.nated };
        let packet = Packet::from(&bytes[..]);
        let cid = self.start_client(now, packet, Known::Parsed(fwd), info);
        self.recycle(bytes);
        if let Some(cid) = cid
            && let Some(fork) = self.calls.servers.get_mut(&sid).and_then(|e| e.fork.as_mut())
        {
            fork.open.push(cid);
        }
    }

    /// route[WITHINDLG]: `loose_route()`, then DLGURI (`handle_ruri_alias()`
    /// when no Route named the next hop), relayed statefully; an ACK is
    /// relayed statelessly. Without a Route of ours: 404 "Not here".
    pub(in crate::engine) fn in_dialog_request(&mut self, now: Instant, msg: &Message<'_>, d: Datagram<'_>) {
        // A retransmission is absorbed by `open_server` below, once the
        // forwarded bytes (then unused) are built: rare work, not a second
        // key lookup on every request.
        let is_ack = msg.method() == Some(Method::Ack);
        let mut ed = std::mem::take(&mut self.calls.editor);
        ed.clear();
        let _ = forward::max_forwards(msg, &mut ed, forward::DEFAULT_MAX_FORWARDS);
        let routed = forward::loose_route(msg, &mut ed, &self.cfg.myself);
        let (dst, route) = match routed {
            Err(_) => {
                self.calls.editor = ed;
                return self.stateless_unless_ack(msg, d, 400, "Bad Route");
            }
            Ok(LooseRoute::NotRouted) => {
                self.calls.editor = ed;
                return self.stateless_unless_ack(msg, d, 404, "Not here");
            }
            Ok(LooseRoute::RoutedToNext { next_hop, route }) => (uri_destination(next_hop.raw), route),
            // A strict router's Request-URI was replaced by loose_route.
            Ok(LooseRoute::RoutedToRuri { ruri, route }) if route.strict => (uri_destination(ruri.raw), route),
            Ok(LooseRoute::RoutedToRuri { ruri, route }) => (dlguri(msg, &mut ed, ruri.raw), route),
        };
        let nat_b = route.nat;
        // Double Record-Route: out through the listener of the other side.
        let local = (route.removed == 2).then(|| self.second_route_listener(msg)).flatten().unwrap_or(d.local);
        mark_source(msg, &mut ed, d.src);
        // NATDETECT runs on every request.
        let nat_s = nat_uac_test(msg, d.src, Transport::Udp, self.cfg.nat_tests, true);
        if nat_s && is_first_hop(msg) {
            let _ = set_contact_alias(msg, &mut ed, d.src, Transport::Udp, DEFAULT_ALIAS_NAME, false);
        }
        let branch = self.via_branch(msg, 0);
        forward::add_via(msg, &mut ed, &self.rr_addr(local), &branch);
        let mut bytes = self.take_buf();
        let applied = ed.apply(msg.as_bytes(), &mut bytes);
        self.calls.editor = ed;
        let Some(dst) = dst.filter(|_| applied.is_ok()) else {
            self.recycle(bytes);
            let (code, reason) = UNRESOLVABLE;
            return self.stateless_unless_ack(msg, d, code, reason);
        };
        // The dialog reads the relayed copy; it is parsed only when the
        // request as received cannot stand in for it.
        let relayed = match route.strict {
            false => self.calls.dialogs.on_relayed(msg, usize::from(route.removed), now),
            true => None,
        };
        let tracked =
            relayed.or_else(|| Message::parse(&bytes).ok().map(|fwd| self.calls.dialogs.on_request(&fwd, now)));
        if let Some(Err(e)) = tracked {
            log::debug!("in-dialog request not matched: {e}");
        }
        let peer = Peer { local, addr: dst };
        if is_ack {
            // RFC 3261 §16.6: the ACK to a 2xx has no transaction.
            self.stats.fwd_requests += 1;
            self.out.push_back(crate::engine::Transmit { local: peer.local, dst, payload: bytes });
            return;
        }
        let packet = Packet::from(&bytes[..]);
        let Some(sid) = self.open_server(now, msg, d, nat_s) else {
            self.recycle(bytes);
            return;
        };
        let info = ClientInfo { peer, server: Some(sid), upstream: Peer { local: d.local, addr: d.src }, nat_b };
        if let Some(e) = self.calls.servers.get_mut(&sid) {
            e.fork = Some(Fork { started: 1, dialog_fed: true, ..Fork::default() });
        }
        let known = match msg.cseq() {
            Ok(cseq) => Known::Branch(&branch, cseq.method),
            Err(_) => Known::Nothing,
        };
        let cid = self.start_client(now, packet, known, info);
        self.recycle(bytes);
        match cid {
            Some(cid) => {
                if let Some(fork) = self.calls.servers.get_mut(&sid).and_then(|e| e.fork.as_mut()) {
                    fork.open.push(cid);
                }
            }
            // Never leave the request unanswered (Kamailio: t_relay failed,
            // sl_reply_error).
            None => self.local_reply(now, sid, 500, "Server Internal Error"),
        }
    }

    /// An ACK: to our negative final it ends at the INVITE server
    /// transaction (RFC 3261 §17.2.1); to a 2xx it is in-dialog, also when
    /// it matches the transaction that sent the 2xx (RFC 6026 §7.1: an RFC
    /// 2543 ACK keeps the INVITE's Via).
    pub(in crate::engine) fn ack(&mut self, now: Instant, msg: &Message<'_>, d: Datagram<'_>, in_dialog: bool) {
        if let Ok(key) = TxKey::server(msg)
            && let Some(&sid) = self.calls.keys.get(&key)
            && !self.calls.servers.get(&sid).is_some_and(|e| e.tx.is_accepted())
        {
            self.retransmission(now, sid, msg);
            self.stats.drop_acks += 1;
            return;
        }
        if in_dialog {
            self.in_dialog_request(now, msg, d);
        } else {
            self.stats.drop_acks += 1;
        }
    }

    /// CANCEL (RFC 3261 §16.10, Kamailio `t_relay` of a CANCEL): answered
    /// 200 at once, sent on every branch still pending; the INVITE ends
    /// with the 487s that come back, or a local 487 with no branch.
    pub(in crate::engine) fn cancel(&mut self, now: Instant, msg: &Message<'_>, d: Datagram<'_>) {
        if let Ok(key) = TxKey::server(msg)
            && let Some(&sid) = self.calls.keys.get(&key)
        {
            return self.retransmission(now, sid, msg);
        }
        let invite = TxKey::cancel_target(msg).ok().and_then(|k| self.calls.keys.get(&k).copied());
        let Some(invite) = invite else {
            // No transaction to cancel (RFC 3261 §9.2).
            return self.stateless(msg, d, 481, "Call/Transaction Does Not Exist");
        };
        // A CANCEL is answered here and never relayed: NAT does not matter.
        let Some(sid) = self.open_server(now, msg, d, false) else { return };
        if self.calls.servers.get(&invite).is_none_or(|e| e.tx.final_sent()) {
            // RFC 3261 §9.2: too late, the CANCEL has no effect but its 200
            // (Kamailio's CANCEL_DONE reason).
            return self.local_reply(now, sid, 200, "ok -- no more pending branches");
        }
        self.local_reply(now, sid, 200, "canceling");
        let open = match self.calls.servers.get_mut(&invite).and_then(|e| e.fork.as_mut()) {
            Some(f) => {
                f.canceled = true;
                f.open.clone()
            }
            None => Vec::new(),
        };
        if open.is_empty() {
            self.local_reply(now, invite, 487, "Request Terminated");
        } else {
            self.cancel_branches(now, &open);
        }
    }

    /// A response built here for the request of server transaction `sid`.
    pub(super) fn local_response(&mut self, sid: TxId, code: u16, reason: &str) -> Vec<u8> {
        let mut out = self.take_buf();
        let Some(e) = self.calls.servers.get(&sid) else { return out };
        let request = e.request.clone();
        let source = e.peer.addr;
        let Ok(msg) = Message::parse(&request) else { return out };
        let tag = self.to_tag(&msg);
        let tagged = msg.to().is_ok_and(|t| t.tag().is_some());
        let spec = ResponseSpec {
            code,
            reason: &reason,
            source,
            to_tag: (code > 100 && !tagged).then_some(&tag[..]),
            extra: &[],
            raw_headers: b"",
            server: self.cfg.server_header.as_deref(),
        };
        build_response(&msg, &spec, &mut out);
        self.stats.count_reply(code);
        out
    }

    /// Answers server transaction `sid` from here (Kamailio t_reply).
    pub(super) fn local_reply(&mut self, now: Instant, sid: TxId, code: u16, reason: &str) {
        let bytes = self.local_response(sid, code, reason);
        self.send_upstream(now, sid, code, bytes);
    }

    /// Sends a response through server transaction `sid`.
    pub(super) fn send_upstream(&mut self, now: Instant, sid: TxId, code: u16, bytes: Vec<u8>) {
        let mut actions = Actions::new();
        if let Some(e) = self.calls.servers.get_mut(&sid)
            && let Err(err) = e.tx.send_response(code, Packet::from(&bytes[..]), &self.calls.txcfg, &mut actions)
        {
            log::debug!("response {code} not sent: {err}");
        }
        self.recycle(bytes);
        self.server_actions(now, sid, &mut actions);
    }

    /// A stateless answer (Kamailio sl_send_reply).
    fn stateless(&mut self, msg: &Message<'_>, d: Datagram<'_>, code: u16, reason: &'static str) {
        let add_to_tag = !msg.to().is_ok_and(|t| t.tag().is_some());
        self.scratch.clear();
        self.respond(msg, d, code, &reason, &[], add_to_tag);
    }

    fn stateless_unless_ack(&mut self, msg: &Message<'_>, d: Datagram<'_>, code: u16, reason: &'static str) {
        if msg.method() == Some(Method::Ack) {
            self.stats.drop_acks += 1;
        } else {
            self.stateless(msg, d, code, reason);
        }
    }

    pub(super) fn listener_addr(&self, l: crate::ids::ListenerId) -> SocketAddr {
        self.cfg.listeners.get(usize::from(l.0)).copied().unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)))
    }
}
