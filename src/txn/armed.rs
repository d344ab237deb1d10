//! The bridge from [`Action::Arm`]/[`Action::Cancel`] to the shard's
//! [`TimerWheel`]: the wheel ids of one transaction's armed timers.

use super::action::Action;
use super::timers::TimerKind;
use crate::timer::{TimerId, TimerWheel};
use std::time::Instant;

/// Per transaction, the wheel id of each armed timer kind, so arming,
/// re-arming and cancelling are O(1) and a fired timer is forgotten.
#[derive(Debug, Default, Clone)]
pub struct ArmedTimers {
    ids: [Option<TimerId>; TimerKind::COUNT],
}

impl ArmedTimers {
    pub fn new() -> ArmedTimers {
        ArmedTimers::default()
    }

    /// Carries out `action` if it is about timers and says whether it was.
    /// An `Arm` replaces the timer of that kind; `item` names the wheel
    /// entry (typically the transaction's handle plus the kind).
    pub fn apply<T>(
        &mut self,
        action: &Action,
        now: Instant,
        wheel: &mut TimerWheel<T>,
        item: impl FnOnce(TimerKind) -> T,
    ) -> bool {
        match *action {
            Action::Arm(kind, after) => {
                let deadline = now + after;
                let slot = &mut self.ids[kind.index()];
                match slot {
                    Some(id) if wheel.reset(*id, deadline) => {}
                    _ => *slot = Some(wheel.insert(deadline, item(kind))),
                }
                true
            }
            Action::Cancel(kind) => {
                if let Some(id) = self.ids[kind.index()].take() {
                    wheel.cancel(id);
                }
                true
            }
            _ => false,
        }
    }

    /// Forgets a timer the wheel fired, before the transaction handles it.
    pub fn fired(&mut self, kind: TimerKind) {
        self.ids[kind.index()] = None;
    }

    pub fn is_armed(&self, kind: TimerKind) -> bool {
        self.ids[kind.index()].is_some()
    }

    /// Kinds armed now, in table order.
    pub fn armed(&self) -> impl Iterator<Item = TimerKind> + '_ {
        TimerKind::ALL.into_iter().filter(|k| self.is_armed(*k))
    }

    /// Disarms everything, when the transaction terminates.
    pub fn cancel_all<T>(&mut self, wheel: &mut TimerWheel<T>) {
        for id in self.ids.iter_mut().filter_map(Option::take) {
            wheel.cancel(id);
        }
    }
}
