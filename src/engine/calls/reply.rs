//! Responses to what this shard forwarded (RFC 3261 §16.7): matched to
//! their branch, relayed upstream (provisionals and every 2xx at once),
//! or collected until the fork has its best final.

use super::branch::is_first_hop_reply;
use super::{ClientInfo, TxId};
use crate::engine::{Datagram, Engine, Transmit};
use crate::proxy::next_hop::response_destination;
use crate::sip::Message;
use crate::txn::{Actions, TxKey};
use std::net::SocketAddr;
use std::time::Instant;

/// The response being handled, for the `PassUp` it may cause.
pub(super) struct Received<'m, 'a> {
    pub msg: &'m Message<'a>,
    pub src: SocketAddr,
}

impl Engine {
    /// A response received: its client transaction decides whether it is
    /// new. One matching none (a retransmitted 2xx: the INVITE client
    /// transaction ended with the first) is relayed statelessly when the
    /// top Via is ours (RFC 3261 §16.7, Kamailio's stateless forward_reply).
    pub(in crate::engine) fn response(&mut self, now: Instant, msg: &Message<'_>, d: Datagram<'_>) {
        let Ok(key) = TxKey::client(msg) else {
            self.stats.drop_replies += 1;
            return;
        };
        if let Some(&cid) = self.calls.keys.get(&key)
            && let Some(e) = self.calls.clients.get_mut(&cid)
        {
            let mut actions = Actions::new();
            let info = e.info;
            if e.tx.handle_response(msg, &self.calls.txcfg, &mut actions).is_err() {
                self.stats.drop_replies += 1;
                return;
            }
            let r = Received { msg, src: d.src };
            self.client_actions(now, cid, info, &mut actions, Some(r));
            return;
        }
        self.stateless_response(msg, d);
    }

    fn stateless_response(&mut self, msg: &Message<'_>, d: Datagram<'_>) {
        let ours = msg.via_top().is_ok_and(|v| self.cfg.myself.matches(&v.host, v.port.unwrap_or(5060)));
        let dst = response_destination(msg);
        let (true, Some(dst)) = (ours, dst) else {
            self.stats.drop_replies += 1;
            return;
        };
        let mut bytes = self.take_buf();
        if self.upstream_response(msg, d.src, false, &mut bytes).is_err() {
            self.recycle(bytes);
            self.stats.drop_replies += 1;
            return;
        }
        self.stats.fwd_replies += 1;
        self.out.push_back(Transmit { local: d.local, dst, payload: bytes });
    }

    /// A new response of branch `cid` (RFC 3261 §16.7 steps 3-10).
    pub(super) fn relay_response(
        &mut self,
        now: Instant,
        cid: TxId,
        info: ClientInfo,
        r: &Received<'_, '_>,
        code: u16,
    ) {
        // Step 5: a 100 is hop by hop.
        if code == 100 {
            return;
        }
        let Some(sid) = info.server else { return };
        // MANAGE_REPLY runs NATMANAGE on 1xx and 2xx.
        let alias = info.nat_b && code < 300 && is_first_hop_reply(r.msg, r.src, &self.cfg.myself);
        let mut bytes = self.take_buf();
        if let Err(e) = self.upstream_response(r.msg, r.src, alias, &mut bytes) {
            log::debug!("response not relayed: {e}");
            self.recycle(bytes);
            return;
        }
        if code >= 300 {
            return self.branch_final(now, cid, info, code, Some(bytes));
        }
        // The dialog sees what goes upstream (Kamailio TMCB_RESPONSE_READY):
        // provisionals and 2xx now, a failure only as the fork's best. That
        // differs from the reply received only in its top Via, which the
        // dialog does not read, and in a Contact alias: the relayed bytes
        // are parsed again only when an alias was added.
        if alias {
            self.dialog_reply_bytes(now, &bytes);
        } else {
            self.dialog_reply(now, r.msg);
        }
        self.stats.fwd_replies += 1;
        let fork = self.calls.servers.get_mut(&sid).and_then(|e| e.fork.as_mut()).filter(|f| !f.answered);
        let Some(fork) = fork else {
            // The server transaction has its final, or ended with an
            // earlier 2xx: a provisional stops here, but every 2xx still
            // goes upstream (RFC 3261 §16.7 step 5).
            if code >= 200 {
                self.out.push_back(Transmit { local: info.upstream.local, dst: info.upstream.addr, payload: bytes });
            } else {
                self.recycle(bytes);
            }
            return;
        };
        if code >= 200 {
            // Step 10: a 2xx ends the fork; the other branches are cancelled.
            fork.answered = true;
            fork.open.retain(|&c| c != cid);
            let others = std::mem::take(&mut fork.open);
            self.send_upstream(now, sid, code, bytes);
            self.cancel_branches(now, &others);
        } else {
            self.send_upstream(now, sid, code, bytes);
        }
    }

    /// Sends CANCEL on `branches` (RFC 3261 §16.7 step 10, §16.10).
    pub(super) fn cancel_branches(&mut self, now: Instant, branches: &[TxId]) {
        for &cid in branches {
            let mut actions = Actions::new();
            let Some(e) = self.calls.clients.get_mut(&cid) else { continue };
            e.tx.cancel(&mut actions);
            let info = e.info;
            self.client_actions(now, cid, info, &mut actions, None);
        }
    }

    /// A branch ended with a final of 300 or more, a time-out (local 408)
    /// or a transport error (503): kept if it is the best so far; when it
    /// was the last open branch, the next q group starts or the best goes
    /// upstream (RFC 3261 §16.7 steps 6-8).
    pub(super) fn branch_final(
        &mut self,
        now: Instant,
        cid: TxId,
        info: ClientInfo,
        code: u16,
        bytes: Option<Vec<u8>>,
    ) {
        let Some(sid) = info.server else { return };
        let Some(fork) = self.calls.servers.get_mut(&sid).and_then(|e| e.fork.as_mut()) else { return };
        let Some(pos) = fork.open.iter().position(|&c| c == cid) else {
            // Already counted (a late final after a time-out).
            if let Some(b) = bytes {
                self.recycle(b);
            }
            return;
        };
        fork.open.swap_remove(pos);
        if code >= 600 {
            // Step 5 (RFC 3261 §16.7): a 6xx cancels the other branches and
            // no further ones start.
            fork.canceled = true;
            let others = std::mem::take(&mut fork.open);
            self.cancel_branches(now, &others);
            if let Some(fork) = self.calls.servers.get_mut(&sid).and_then(|e| e.fork.as_mut()) {
                fork.open = others;
            }
        }
        let Some(fork) = self.calls.servers.get_mut(&sid).and_then(|e| e.fork.as_mut()) else { return };
        let last = fork.open.is_empty();
        let bytes = match bytes {
            Some(b) => b,
            None => self.local_response(sid, code, local_reason(code)),
        };
        self.offer_best(sid, code, bytes);
        if last {
            self.next_group(now, sid, None);
        }
    }

    /// Keeps `bytes` as the fork's best final if it beats the one held.
    pub(super) fn offer_best(&mut self, sid: TxId, code: u16, bytes: Vec<u8>) {
        let Some(fork) = self.calls.servers.get_mut(&sid).and_then(|e| e.fork.as_mut()) else {
            return self.recycle(bytes);
        };
        let better = fork.best.as_ref().is_none_or(|(held, _)| rank(code) < rank(*held));
        if better && let Some((_, old)) = fork.best.replace((code, bytes)) {
            self.recycle(old);
        }
    }

    /// No branch is left: the best final goes upstream (a 500 if somehow
    /// none was collected). Nothing after a 2xx.
    pub(super) fn send_best(&mut self, now: Instant, sid: TxId) {
        let Some(fork) = self.calls.servers.get_mut(&sid).and_then(|e| e.fork.as_mut()) else { return };
        if fork.answered {
            return;
        }
        fork.answered = true;
        match fork.best.take() {
            Some((code, mut bytes)) => {
                // Step 6 (tm remap_503_500): a 503 goes upstream as 500,
                // so the caller does not take it for this proxy's state.
                let code = if code == 503 { remap_503(&mut bytes) } else { code };
                self.stats.fwd_replies += 1;
                self.dialog_reply_bytes(now, &bytes);
                self.send_upstream(now, sid, code, bytes);
            }
            None => self.local_reply(now, sid, 500, "Server Internal Error"),
        }
    }

    fn dialog_reply(&mut self, now: Instant, up: &Message<'_>) {
        if let Err(e) = self.calls.dialogs.on_reply(up, now) {
            log::debug!("reply not tracked: {e}");
        }
    }

    /// `dialog_reply` for a reply known only as the bytes going upstream.
    fn dialog_reply_bytes(&mut self, now: Instant, bytes: &[u8]) {
        if let Ok(up) = Message::parse(bytes) {
            self.dialog_reply(now, &up);
        }
    }
}

/// RFC 3261 §16.7 step 6: a 6xx beats everything, then the lowest class
/// and code.
fn rank(code: u16) -> u16 {
    if code >= 600 { 0 } else { code }
}

/// Rewrites the status code of `SIP/2.0 503 ...` to 500, keeping the
/// reason phrase (Kamailio tm's remap_503_500).
fn remap_503(bytes: &mut [u8]) -> u16 {
    if bytes.get(8..11) == Some(b"503") {
        bytes[8..11].copy_from_slice(b"500");
    }
    500
}

/// Reason phrases of the finals tm generates for a branch.
fn local_reason(code: u16) -> &'static str {
    match code {
        408 => "Request Timeout",
        503 => "Service Unavailable",
        487 => "Request Terminated",
        _ => "Server Internal Error",
    }
}
