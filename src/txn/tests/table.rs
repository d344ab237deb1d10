//! Many transactions in one map, driven by one wheel: the shape the proxy
//! core will take.

use super::{request, response, secs};
use crate::sip::Message;
use crate::timer::TimerWheel;
use crate::txn::{Action, Actions, ArmedTimers, ClientTx, Packet, TimerConfig, TimerKind, TxKey};
use std::collections::HashMap;
use std::time::{Duration, Instant};

struct Entry {
    tx: ClientTx,
    timers: ArmedTimers,
}

struct Core {
    cfg: TimerConfig,
    txs: HashMap<TxKey, Entry>,
    wheel: TimerWheel<(TxKey, TimerKind)>,
    out: Actions,
    sent: usize,
    timeouts: usize,
}

impl Core {
    fn carry_out(&mut self, key: &TxKey, now: Instant) {
        let Some(entry) = self.txs.get_mut(key) else { return };
        let mut ended = false;
        for action in self.out.drain() {
            entry.timers.apply(&action, now, &mut self.wheel, |kind| (key.clone(), kind));
            match action {
                Action::Send(_) | Action::Resend(_) => self.sent += 1,
                Action::TimedOut => self.timeouts += 1,
                Action::Terminated(_) => ended = true,
                _ => {}
            }
        }
        if ended {
            let mut entry = self.txs.remove(key).expect("present");
            entry.timers.cancel_all(&mut self.wheel);
        }
    }

    /// Fires every timer due by `until`, including those re-armed on the way.
    fn run_to(&mut self, until: Instant) -> Instant {
        let mut fired = Vec::new();
        let mut now = until;
        while let Some(next) = self.wheel.next_deadline().filter(|&n| n <= until) {
            now = next;
            self.wheel.expire(now, &mut fired);
            for (key, kind) in fired.drain(..) {
                if let Some(entry) = self.txs.get_mut(&key) {
                    entry.timers.fired(kind);
                    entry.tx.handle_timer(kind, &self.cfg, &mut self.out);
                    self.carry_out(&key, now);
                }
            }
        }
        now
    }
}

#[test]
fn a_thousand_branches_time_out_or_complete_on_one_wheel() {
    let t0 = Instant::now();
    let mut core = Core {
        cfg: TimerConfig::default(),
        txs: HashMap::new(),
        wheel: TimerWheel::new(t0, Duration::from_millis(10), 1024),
        out: Actions::new(),
        sent: 0,
        timeouts: 0,
    };
    for i in 0..1000 {
        let method = if i % 2 == 0 { "INVITE" } else { "OPTIONS" };
        let bytes = request(method, &format!("z9hG4bK{i}"));
        let (key, tx) = ClientTx::new(Packet::from(bytes), &core.cfg, &mut core.out).unwrap();
        core.txs.insert(key.clone(), Entry { tx, timers: ArmedTimers::new() });
        core.carry_out(&key, t0);
    }
    // Every fourth branch is answered with a 200 at 2 s.
    let now = t0 + secs(2.0);
    core.run_to(now);
    for i in (0..1000).step_by(4) {
        let bytes = response(200, &format!("z9hG4bK{i}"), "INVITE");
        let msg = Message::parse(&bytes).unwrap();
        let key = TxKey::client(&msg).unwrap();
        let entry = core.txs.get_mut(&key).expect("matched by branch and CSeq method");
        entry.tx.handle_response(&msg, &core.cfg, &mut core.out).unwrap();
        core.carry_out(&key, now);
    }
    assert_eq!(core.txs.len(), 750);
    let end = core.run_to(t0 + secs(3600.0));
    assert!(core.txs.is_empty() && core.wheel.is_empty());
    assert_eq!(core.timeouts, 750);
    // 9 retransmissions each before fr_timer (see the per-machine tests),
    // 2 (at 0.5 s and 1.5 s) before the 200 at 2 s for the answered ones.
    assert_eq!(core.sent, 1000 + 750 * 9 + 250 * 2);
    assert_eq!(end - t0, secs(30.0), "fr_timer, and nothing armed after");
}
