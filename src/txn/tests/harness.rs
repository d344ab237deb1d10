//! Drives one transaction the way the proxy core will: carry out its
//! actions, keep its timers on a [`TimerWheel`], fire them in virtual time.

use crate::sip::Message;
use crate::timer::TimerWheel;
use crate::txn::{
    Action, Actions, ArmedTimers, ClientTx, Formula, Packet, ServerTx, TIMER_TABLE, Termination, TimerConfig,
    TimerKind, TxError, TxType,
};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

pub(super) trait Machine {
    fn on_timer(&mut self, kind: TimerKind, cfg: &TimerConfig, out: &mut Actions);
    fn tx_type(&self) -> TxType;
}

impl Machine for ClientTx {
    fn on_timer(&mut self, kind: TimerKind, cfg: &TimerConfig, out: &mut Actions) {
        self.handle_timer(kind, cfg, out);
    }

    fn tx_type(&self) -> TxType {
        if self.is_invite() { TxType::ClientInvite } else { TxType::ClientNonInvite }
    }
}

impl Machine for ServerTx {
    fn on_timer(&mut self, kind: TimerKind, cfg: &TimerConfig, out: &mut Actions) {
        self.handle_timer(kind, cfg, out);
    }

    fn tx_type(&self) -> TxType {
        if self.is_invite() { TxType::ServerInvite } else { TxType::ServerNonInvite }
    }
}

pub(super) struct Harness<M> {
    pub tx: M,
    pub cfg: TimerConfig,
    t0: Instant,
    now: Instant,
    wheel: TimerWheel<TimerKind>,
    timers: ArmedTimers,
    out: Actions,
    /// Every action, stamped with the virtual time it came at.
    pub log: Vec<(Duration, Action)>,
    pub ended: Option<(Duration, Termination)>,
}

impl Harness<ClientTx> {
    pub fn client(request: &[u8]) -> Harness<ClientTx> {
        let cfg = TimerConfig::default();
        let mut out = Actions::new();
        let (_, tx) = ClientTx::new(Packet::from(request), &cfg, &mut out).expect("valid request");
        Harness::with(tx, cfg, out)
    }

    pub fn response(&mut self, bytes: &[u8]) {
        let msg = Message::parse(bytes).expect("fixture parses");
        self.tx.handle_response(&msg, &self.cfg, &mut self.out).expect("a response");
        self.settle();
    }

    pub fn cancel(&mut self) {
        self.tx.cancel(&mut self.out);
        self.settle();
    }
}

impl Harness<ServerTx> {
    pub fn server(request: &[u8]) -> Harness<ServerTx> {
        let cfg = TimerConfig::default();
        let mut out = Actions::new();
        let msg = Message::parse(request).expect("fixture parses");
        let source: SocketAddr = "198.51.100.7:40000".parse().expect("address");
        let tx = ServerTx::new(&msg, source, None, &mut out).expect("opens a transaction");
        Harness::with(tx, cfg, out)
    }

    pub fn request(&mut self, bytes: &[u8]) {
        let msg = Message::parse(bytes).expect("fixture parses");
        self.tx.handle_request(&msg, &self.cfg, &mut self.out).expect("a request");
        self.settle();
    }

    pub fn respond(&mut self, code: u16, bytes: &[u8]) -> Result<(), TxError> {
        let result = self.tx.send_response(code, Packet::from(bytes), &self.cfg, &mut self.out);
        self.settle();
        result
    }
}

impl<M: Machine> Harness<M> {
    fn with(tx: M, cfg: TimerConfig, out: Actions) -> Harness<M> {
        let t0 = Instant::now();
        let wheel = TimerWheel::new(t0, Duration::from_millis(1), 4096);
        let mut h =
            Harness { tx, cfg, t0, now: t0, wheel, timers: ArmedTimers::new(), out, log: Vec::new(), ended: None };
        h.settle();
        h
    }

    pub fn elapsed(&self) -> Duration {
        self.now - self.t0
    }

    /// Moves virtual time forward, firing every timer due on the way.
    pub fn advance(&mut self, by: Duration) {
        self.advance_to(self.elapsed() + by);
    }

    pub fn advance_to(&mut self, at: Duration) {
        let target = self.t0 + at;
        let mut fired = Vec::new();
        while let Some(next) = self.wheel.next_deadline().filter(|&n| n <= target) {
            self.now = self.now.max(next);
            self.wheel.expire(self.now, &mut fired);
            for kind in fired.drain(..) {
                self.timers.fired(kind);
                if self.ended.is_none() {
                    self.tx.on_timer(kind, &self.cfg, &mut self.out);
                    self.settle();
                }
            }
        }
        self.now = self.now.max(target);
    }

    /// Runs until the transaction ends, at most `limit` of virtual time.
    pub fn run_out(&mut self, limit: Duration) -> Option<(Duration, Termination)> {
        self.advance(limit);
        self.ended
    }

    pub fn armed(&self) -> Vec<TimerKind> {
        self.timers.armed().collect()
    }

    /// Actions since the last call, without their times.
    pub fn take(&mut self) -> Vec<Action> {
        self.log.drain(..).map(|(_, a)| a).collect()
    }

    /// When each retransmission went out, in seconds.
    pub fn resend_times(&self) -> Vec<f64> {
        self.log.iter().filter(|(_, a)| matches!(a, Action::Resend(_))).map(|(t, _)| t.as_secs_f64()).collect()
    }

    /// Carries the actions out as the core would, checking each against the
    /// timer table and that a transaction leaves no timer behind.
    fn settle(&mut self) {
        let tx_type = self.tx.tx_type();
        let mut out = std::mem::take(&mut self.out);
        for action in out.drain() {
            assert!(self.ended.is_none(), "{action:?} after termination");
            if let Action::Arm(kind, after) = action {
                assert!(in_table(tx_type, kind, after, &self.cfg), "{tx_type:?} arms {kind:?} for {after:?}");
            }
            self.timers.apply(&action, self.now, &mut self.wheel, |kind| kind);
            if let Action::Terminated(why) = action {
                if why != Termination::TransportError {
                    assert_eq!(self.armed(), [], "timers left armed at {why:?}");
                }
                self.timers.cancel_all(&mut self.wheel);
                self.ended = Some((self.elapsed(), why));
            }
            self.log.push((self.elapsed(), action));
        }
        self.out = out;
    }
}

/// Whether a row of [`TIMER_TABLE`] allows this timer at this duration.
fn in_table(tx: TxType, kind: TimerKind, after: Duration, cfg: &TimerConfig) -> bool {
    TIMER_TABLE.iter().filter(|s| s.tx == tx && s.kind == kind).any(|s| match s.formula {
        Formula::Backoff => {
            let mut d = s.formula.initial(cfg);
            loop {
                if d == after {
                    return true;
                }
                if d >= cfg.t2 {
                    return false;
                }
                d = s.formula.next(cfg, d);
            }
        }
        other => other.initial(cfg) == after,
    })
}
