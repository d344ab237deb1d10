//! The engine's registrar path (Kamailio default script: NATDETECT, then
//! route[REGISTRAR] `save("location")`) and the location table hooks the
//! runtime and the control interface use.

use super::{Datagram, Engine};
use crate::control::usrloc::{UlOp, UlReply, apply};
use crate::nat::{nat_uac_test, received_uri};
use crate::registrar::{Aor, Binding, Change, LocationShard, SaveRequest, save, write_reply_headers};
use crate::sip::Message;
use crate::sip::transport::Transport;
use std::time::Instant;

impl Engine {
    /// Answers a REGISTER addressed to one of our domains.
    pub(super) fn register(&mut self, now: Instant, msg: &Message<'_>, d: Datagram<'_>) {
        let wall = self.wall(now);
        // Only UDP listeners exist so far.
        let transport = Transport::Udp;
        // NATDETECT: nat_uac_test("19") → fix_nated_register() and FLB_NATB.
        let nated = nat_uac_test(msg, d.src, transport, self.cfg.nat_tests, true);
        let mut received = Vec::new();
        if nated {
            received_uri(d.src, transport, &mut received);
        }
        let local = self.cfg.listeners.get(usize::from(d.local.0)).copied().unwrap_or(d.src);
        let req = SaveRequest {
            msg,
            source: d.src,
            transport,
            local,
            received: nated.then_some(&received[..]),
            nated,
            ping: false,
        };
        let outcome = save(&mut self.location, &self.cfg.registrar, &req, wall);
        self.scratch.clear();
        write_reply_headers(&self.location, &outcome, &req, wall, &self.cfg.registrar, &mut self.scratch);
        if (200..300).contains(&outcome.code) {
            self.stats.accepted_regs += 1;
        } else {
            self.stats.rejected_regs += 1;
        }
        let add_to_tag = !msg.to().is_ok_and(|t| t.tag().is_some());
        self.respond(msg, d, outcome.code, &outcome.reason, &[], add_to_tag);
    }

    /// Changes to the location table since the last call, for the store.
    pub fn drain_changes(&mut self, out: &mut Vec<Change>) {
        self.location.drain_changes(out);
    }

    /// Puts back a binding loaded from the store at start-up (not logged
    /// again: it is already durable).
    pub fn restore(&mut self, aor: Aor, binding: Binding) {
        self.location.restore(aor, binding);
    }

    /// This shard's slice of the location table (dump, snapshot).
    pub fn location(&self) -> &LocationShard {
        &self.location
    }

    /// Mutable access for the control interface's ul.rm / ul.add; every
    /// change is still logged for the store.
    pub fn location_mut(&mut self) -> &mut LocationShard {
        &mut self.location
    }

    /// Runs a control-interface usrloc operation on this shard's table.
    pub fn usrloc(&mut self, op: UlOp, now: Instant) -> UlReply {
        let wall = self.wall(now);
        apply(&mut self.location, op, wall)
    }
}
