//! Transaction timers as data: the durations (RFC 3261 §17.1.1.1, Table 4,
//! with Kamailio tm's values where it departs) and one table row per place a
//! timer is armed.

use std::time::Duration;
use thiserror::Error;

/// Timer values, named as in RFC 3261 and Kamailio's tm module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerConfig {
    /// RTT estimate, first retransmission interval (RFC 3261 §17.1.1.1;
    /// Kamailio retr_timer1).
    pub t1: Duration,
    /// Cap of the retransmission interval (RFC 3261 §17.1.2.2; Kamailio
    /// retr_timer2, applied to INVITE too).
    pub t2: Duration,
    /// Longest time a message stays in the network (RFC 3261 §17.1.2.2):
    /// Timers I and K.
    pub t4: Duration,
    /// Kamailio fr_timer: wait for any response, our Timers B and F.
    pub fr_timer: Duration,
    /// Kamailio fr_inv_timer: wait for the final response of an INVITE once a
    /// provisional came, our Timer C (RFC 3261 §16.6 step 11).
    pub fr_inv_timer: Duration,
    /// Kamailio wt_timer: how long a branch whose fr_inv_timer fired stays to
    /// ACK the 487 its CANCEL brings, and an INVITE server transaction stays
    /// Accepted after its 2xx (Kamailio's wait state; RFC 6026 Timer L).
    pub wt_timer: Duration,
}

impl Default for TimerConfig {
    /// Kamailio tm defaults (reference/kamailio-semantics.md §7).
    fn default() -> TimerConfig {
        TimerConfig {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
            fr_timer: Duration::from_secs(30),
            fr_inv_timer: Duration::from_secs(120),
            wt_timer: Duration::from_secs(5),
        }
    }
}

/// A timer configuration the transactions cannot run with: the operator's
/// fault, reported with the key to fix.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum TimerConfigError {
    /// A zero timer would fire at once, forever (retransmissions) or before
    /// any answer (final-response timers).
    #[error("[tm] {0} must be above zero")]
    Zero(&'static str),
    /// The retransmission cap below its start makes no sense.
    #[error("[tm] t2 must be at least t1 (RFC 3261 §17.1.2.2)")]
    T2BelowT1,
}

impl TimerConfig {
    /// Checks the values before a shard starts.
    pub fn check(&self) -> Result<(), TimerConfigError> {
        let named = [
            ("t1", self.t1),
            ("t2", self.t2),
            ("t4", self.t4),
            ("fr_timer", self.fr_timer),
            ("fr_inv_timer", self.fr_inv_timer),
            ("wt_timer", self.wt_timer),
        ];
        if let Some((name, _)) = named.iter().find(|(_, d)| d.is_zero()) {
            return Err(TimerConfigError::Zero(name));
        }
        if self.t2 < self.t1 {
            return Err(TimerConfigError::T2BelowT1);
        }
        Ok(())
    }
}

/// The transaction timers of RFC 3261 Table 4 (C as Kamailio's fr_inv_timer),
/// and RFC 6026's Timer L.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TimerKind {
    A,
    B,
    C,
    D,
    E,
    F,
    G,
    H,
    I,
    J,
    K,
    L,
}

impl TimerKind {
    pub const COUNT: usize = 12;
    pub const ALL: [TimerKind; TimerKind::COUNT] = {
        use TimerKind::*;
        [A, B, C, D, E, F, G, H, I, J, K, L]
    };

    /// Dense index, for per-kind arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The four transaction machines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TxType {
    ClientInvite,
    ClientNonInvite,
    ServerInvite,
    ServerNonInvite,
}

/// How a timer's duration follows from the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Formula {
    /// T1, doubled at each firing up to T2 (RFC 3261 §17.1.2.2, §17.2.1;
    /// Kamailio caps INVITE Timer A at T2 as well).
    Backoff,
    /// T2: Timer E once a provisional came (RFC 3261 §17.1.2.2).
    T2,
    /// T4 (Timers I and K on UDP).
    T4,
    /// 64·T1 (Timers H and J on UDP).
    SixtyFourT1,
    /// At least 32 s, and never below 64·T1 (Timer D on UDP, RFC 3261 §17.1.1.2).
    AtLeast32s,
    /// Kamailio fr_timer.
    FrTimer,
    /// Kamailio fr_inv_timer.
    FrInvTimer,
    /// Kamailio wt_timer.
    WtTimer,
}

impl Formula {
    /// The duration the timer is first armed with.
    pub fn initial(self, cfg: &TimerConfig) -> Duration {
        match self {
            Formula::Backoff => cfg.t1,
            Formula::T2 => cfg.t2,
            Formula::T4 => cfg.t4,
            Formula::SixtyFourT1 => cfg.t1 * 64,
            Formula::AtLeast32s => (cfg.t1 * 64).max(Duration::from_secs(32)),
            Formula::FrTimer => cfg.fr_timer,
            Formula::FrInvTimer => cfg.fr_inv_timer,
            Formula::WtTimer => cfg.wt_timer,
        }
    }

    /// The duration it is re-armed with after firing with `current`.
    pub fn next(self, cfg: &TimerConfig, current: Duration) -> Duration {
        match self {
            Formula::Backoff => (current * 2).min(cfg.t2),
            other => other.initial(cfg),
        }
    }
}

/// One row of the timer table: a timer armed in one state of one machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerSpec {
    pub kind: TimerKind,
    pub tx: TxType,
    /// The state(s) of that machine the timer runs in.
    pub states: &'static str,
    pub formula: Formula,
    /// Where the rule comes from.
    pub source: &'static str,
    /// What happens when it fires.
    pub on_fire: &'static str,
}

macro_rules! spec {
    ($name:ident, $kind:ident, $tx:ident, $states:literal, $formula:ident, $source:literal, $on_fire:literal) => {
        pub(super) const $name: TimerSpec = TimerSpec {
            kind: TimerKind::$kind,
            tx: TxType::$tx,
            states: $states,
            formula: Formula::$formula,
            source: $source,
            on_fire: $on_fire,
        };
    };
}

spec!(INVITE_A, A, ClientInvite, "Calling", Backoff, "RFC 3261 §17.1.1.2; tm retr_timer2 cap", "retransmit INVITE");
spec!(INVITE_B, B, ClientInvite, "Calling", FrTimer, "RFC 3261 §17.1.1.2; tm fr_timer", "local 408, Terminated");
spec!(
    INVITE_C,
    C,
    ClientInvite,
    "Proceeding, Cancelling",
    FrInvTimer,
    "RFC 3261 §16.6 step 11, §16.8; tm fr_inv_timer, restart_fr_on_each_reply, noisy_ctimer",
    "local 408 (and CANCEL from Proceeding), Expired"
);
spec!(
    INVITE_B_EXPIRED,
    B,
    ClientInvite,
    "Expired",
    WtTimer,
    "RFC 3261 §9.1; tm wt_timer (put_on_wait)",
    "stop waiting for the 487, Terminated"
);
spec!(INVITE_D, D, ClientInvite, "Completed", AtLeast32s, "RFC 3261 §17.1.1.2", "Terminated");
spec!(NON_INVITE_E, E, ClientNonInvite, "Trying", Backoff, "RFC 3261 §17.1.2.2", "retransmit request");
spec!(NON_INVITE_E_T2, E, ClientNonInvite, "Proceeding", T2, "RFC 3261 §17.1.2.2", "retransmit request");
spec!(
    NON_INVITE_F,
    F,
    ClientNonInvite,
    "Trying, Proceeding",
    FrTimer,
    "RFC 3261 §17.1.2.2; tm fr_timer",
    "local 408, Terminated"
);
spec!(NON_INVITE_K, K, ClientNonInvite, "Completed", T4, "RFC 3261 §17.1.2.2", "Terminated");
spec!(SERVER_G, G, ServerInvite, "Completed", Backoff, "RFC 3261 §17.2.1", "retransmit final response");
spec!(SERVER_H, H, ServerInvite, "Completed", SixtyFourT1, "RFC 3261 §17.2.1", "no ACK: Terminated");
spec!(SERVER_I, I, ServerInvite, "Confirmed", T4, "RFC 3261 §17.2.1", "Terminated");
spec!(
    SERVER_L,
    L,
    ServerInvite,
    "Accepted",
    WtTimer,
    "RFC 6026 §7.1 (Timer L); tm wt_timer instead of 64·T1",
    "Terminated"
);
spec!(SERVER_J, J, ServerNonInvite, "Completed", SixtyFourT1, "RFC 3261 §17.2.2", "Terminated");

/// Every place a timer is armed, in RFC order.
pub const TIMER_TABLE: [&TimerSpec; 14] = [
    &INVITE_A,
    &INVITE_B,
    &INVITE_C,
    &INVITE_B_EXPIRED,
    &INVITE_D,
    &NON_INVITE_E,
    &NON_INVITE_E_T2,
    &NON_INVITE_F,
    &NON_INVITE_K,
    &SERVER_G,
    &SERVER_H,
    &SERVER_I,
    &SERVER_L,
    &SERVER_J,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_kamailio_and_rfc() {
        let cfg = TimerConfig::default();
        assert_eq!(cfg.check(), Ok(()));
        let secs = |f: Formula| f.initial(&cfg).as_secs_f64();
        assert_eq!(secs(Formula::Backoff), 0.5);
        assert_eq!(secs(Formula::SixtyFourT1), 32.0);
        assert_eq!(secs(Formula::AtLeast32s), 32.0);
        assert_eq!(secs(Formula::FrTimer), 30.0);
        assert_eq!(secs(Formula::FrInvTimer), 120.0);
        let fast = TimerConfig { t1: Duration::from_millis(100), ..cfg };
        assert_eq!(Formula::AtLeast32s.initial(&fast), Duration::from_secs(32), "D never below 32 s on UDP");
    }

    #[test]
    fn backoff_doubles_to_t2() {
        let cfg = TimerConfig::default();
        let mut d = Formula::Backoff.initial(&cfg);
        let mut seen = vec![d];
        for _ in 0..5 {
            d = Formula::Backoff.next(&cfg, d);
            seen.push(d);
        }
        let ms: Vec<u128> = seen.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, [500, 1000, 2000, 4000, 4000, 4000]);
        assert_eq!(Formula::T2.next(&cfg, Duration::from_millis(1)), cfg.t2);
    }

    #[test]
    fn check_names_the_key() {
        let cfg = TimerConfig { fr_inv_timer: Duration::ZERO, ..TimerConfig::default() };
        assert_eq!(cfg.check(), Err(TimerConfigError::Zero("fr_inv_timer")));
        assert!(cfg.check().unwrap_err().to_string().contains("fr_inv_timer"));
        let cfg = TimerConfig { t2: Duration::from_millis(100), ..TimerConfig::default() };
        assert_eq!(cfg.check(), Err(TimerConfigError::T2BelowT1));
    }

    #[test]
    fn table_covers_every_kind() {
        for kind in TimerKind::ALL {
            assert!(TIMER_TABLE.iter().any(|s| s.kind == kind), "{kind:?} has no row");
            assert_eq!(TimerKind::ALL[kind.index()], kind);
        }
    }
}
