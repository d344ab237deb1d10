//! One shard's dialog table (Kamailio dlg_hash.c `d_table`): storage,
//! lookups, the counters and the timers. What messages do to a dialog is
//! in `handlers.rs`.

use super::error::DialogError;
use super::id::{CallId, DialogHandle, DialogKey, Direction, Handles};
use super::state::{Dialog, EndCause, Sockets, State};
use super::{Counters, DialogConfig, NOACK_GRACE};
use crate::ids::ShardId;
use crate::registrar::UnixMillis;
use crate::timer::{TimerId, TimerWheel};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Resolution of the dialog timers; Kamailio's dialog timer ticks in
/// seconds, so this is finer than needed.
const TICK: Duration = Duration::from_millis(100);
const SLOTS: usize = 1024;

/// What a message did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// No tracked dialog: an initial request other than INVITE, a CANCEL
    /// (it has no To tag; its 487 ends the dialog), or no match.
    NotTracked,
    /// An initial INVITE created a dialog in state 1 (Kamailio
    /// `dlg_new_dialog`; `processed_dialogs` counts it).
    Created(DialogHandle),
    /// An INVITE without To tag for a dialog already tracked: a spiral
    /// through this proxy or a retransmission (Kamailio `detect_spirals`).
    Spiraled(DialogHandle),
    /// The message belongs to a dialog; `change` is set when its state
    /// moved. For a reply, `direction` is that of the request it answers.
    Matched { handle: DialogHandle, direction: Direction, change: Option<Change> },
}

impl Event {
    pub fn handle(&self) -> Option<DialogHandle> {
        match *self {
            Event::NotTracked => None,
            Event::Created(h) | Event::Spiraled(h) | Event::Matched { handle: h, .. } => Some(h),
        }
    }
}

/// A state transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub from: State,
    pub to: State,
}

/// A dialog that timed out in `handle_timeout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expired {
    pub handle: DialogHandle,
    pub expiry: Expiry,
    /// `send_bye` is on and the dialog was confirmed: build the BYEs with
    /// `bye::build_byes` from the (now terminated) dialog and send them.
    pub send_bye: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// `early_timeout` in state 1 or 2.
    Early,
    /// The lifetime of a dialog in state 3, cut to 10 s after `noack_timeout`.
    NoAck,
    /// `default_timeout` since the ACK or the last in-dialog request.
    Lifetime,
}

struct Entry {
    dialog: Dialog,
    timer: TimerId,
}

/// The dialogs of one shard.
pub struct Dialogs {
    pub(super) cfg: DialogConfig,
    pub(super) handles: Handles,
    entries: HashMap<DialogHandle, Entry, ahash::RandomState>,
    /// Dialogs by Call-ID: a Call-ID usually has one, several only when
    /// callers reuse it with other From tags.
    by_call_id: HashMap<CallId, Vec<DialogHandle>, ahash::RandomState>,
    timers: TimerWheel<DialogHandle>,
    fired: Vec<DialogHandle>,
    pub(super) counters: Counters,
    started: Instant,
    started_wall: UnixMillis,
}

impl Dialogs {
    /// `wall` is the wall-clock time at `now` (timestamps in `dlg.list`);
    /// `shard` of `shards` makes the handles unique across shards.
    pub fn new(cfg: DialogConfig, now: Instant, wall: UnixMillis, shard: ShardId, shards: u16) -> Dialogs {
        Dialogs {
            handles: Handles::new(cfg.hash_size, shard, shards),
            cfg,
            entries: HashMap::default(),
            by_call_id: HashMap::default(),
            timers: TimerWheel::new(now, TICK, SLOTS),
            fired: Vec::new(),
            counters: Counters::default(),
            started: now,
            started_wall: wall,
        }
    }

    pub fn config(&self) -> &DialogConfig {
        &self.cfg
    }

    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Dialogs held, terminated ones still lingering included.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get(&self, handle: DialogHandle) -> Option<&Dialog> {
        self.entries.get(&handle).map(|e| &e.dialog)
    }

    /// Records the listen sockets towards the caller and the callee of a
    /// dialog just created (`Event::Created`).
    pub fn bind_sockets(&mut self, handle: DialogHandle, sockets: Sockets) {
        if let Some(e) = self.entries.get_mut(&handle) {
            e.dialog.core_mut().sockets = sockets;
        }
    }

    /// Every dialog, in handle order (Kamailio walks its table by slot).
    pub fn iter(&self) -> impl Iterator<Item = &Dialog> + '_ {
        let mut handles: Vec<_> = self.entries.keys().copied().collect();
        handles.sort_unstable();
        handles.into_iter().filter_map(|h| self.get(h))
    }

    /// Dialogs of a Call-ID, optionally of one caller tag (`dlg.dlg_list`).
    pub fn by_call_id<'s>(&'s self, call_id: &[u8], from_tag: Option<&'s [u8]>) -> impl Iterator<Item = &'s Dialog> {
        self.by_call_id
            .get(call_id)
            .into_iter()
            .flatten()
            .filter_map(|h| self.get(*h))
            .filter(move |d| from_tag.is_none_or(|t| d.core().caller.tag.as_bytes() == t))
    }

    /// The dialog a message with this key belongs to, and which way.
    pub fn find(&self, key: &DialogKey<'_>) -> Option<(&Dialog, Direction)> {
        self.lookup(key).and_then(|(h, dir)| self.get(h).map(|d| (d, dir)))
    }

    pub(super) fn lookup(&self, key: &DialogKey<'_>) -> Option<(DialogHandle, Direction)> {
        self.by_call_id.get(key.call_id)?.iter().find_map(|&h| {
            let d = self.get(h)?;
            // Before the 2xx no callee tag is settled (early forks may
            // differ): the caller tag alone decides, as in `match_dialog`.
            let callee = d.callee().map(|c| c.tag.as_bytes());
            key.direction(d.core().caller.tag.as_bytes(), callee).map(|dir| (h, dir))
        })
    }

    /// The dialog whose initial INVITE transaction has this caller tag and
    /// CSeq, whatever To tag the reply carries.
    pub(super) fn initial_transaction(&self, key: &DialogKey<'_>, cseq: u32) -> Option<DialogHandle> {
        self.by_call_id.get(key.call_id)?.iter().copied().find(|&h| {
            self.get(h).is_some_and(|d| d.core().caller.tag.as_bytes() == key.from_tag && d.core().invite_cseq == cseq)
        })
    }

    /// Marks a dialog as involving a NATed party (the proxy's FLT_NATS /
    /// FLB_NATB); `false` when there is no such dialog.
    pub fn set_nat(&mut self, handle: DialogHandle) -> bool {
        self.entries.get_mut(&handle).map(|e| e.dialog.core_mut().nat = true).is_some()
    }

    /// Ends a confirmed dialog from the proxy side (`dlg.end_dlg`,
    /// `dlg.terminate_dlg`): it becomes terminated at once and leaves
    /// `active_dialogs`, where Kamailio waits for the BYE replies. The caller
    /// then builds the two BYEs from the returned dialog.
    pub fn terminate(&mut self, handle: DialogHandle, now: Instant) -> Result<&Dialog, DialogError> {
        let state = self.get(handle).ok_or(DialogError::NotFound)?.state();
        if !matches!(state, State::ConfirmedNoAck | State::Confirmed) {
            return Err(DialogError::NotConfirmed(state));
        }
        self.update(handle, |d| match d {
            Dialog::ConfirmedNoAck(c) => Dialog::Terminated(c.end(EndCause::Local, now)),
            Dialog::Confirmed(c) => Dialog::Terminated(c.end(EndCause::Local, now)),
            other => other,
        });
        self.get(handle).ok_or(DialogError::NotFound)
    }

    /// Runs the timers due at `now`: early and lifetime expiry, the no-ACK
    /// cut, and removal of terminated dialogs after `end_timeout`.
    pub fn handle_timeout(&mut self, now: Instant) -> Vec<Expired> {
        let mut fired = std::mem::take(&mut self.fired);
        self.timers.expire(now, &mut fired);
        let mut out = Vec::new();
        for handle in fired.drain(..) {
            let Some(entry) = self.entries.get(&handle) else { continue };
            if matches!(entry.dialog, Dialog::Terminated(_)) {
                self.remove(handle);
                continue;
            }
            let send_bye = self.cfg.send_bye;
            let mut expired = None;
            self.update(handle, |d| fire(d, now, send_bye, &mut expired));
            out.extend(expired.map(|(expiry, send_bye)| Expired { handle, expiry, send_bye }));
        }
        self.fired = fired;
        out
    }

    /// When `handle_timeout` should run next.
    pub fn next_timeout(&self) -> Option<Instant> {
        self.timers.next_deadline()
    }

    /// Wall-clock time at `t`.
    pub fn wall(&self, t: Instant) -> UnixMillis {
        let ms = t.saturating_duration_since(self.started).as_millis();
        UnixMillis(self.started_wall.0.saturating_add(u64::try_from(ms).unwrap_or(u64::MAX)))
    }

    pub(super) fn insert(&mut self, dialog: Dialog) {
        let handle = dialog.handle();
        let timer = self.timers.insert(self.deadline(&dialog), handle);
        self.by_call_id.entry(dialog.core().call_id.clone()).or_default().push(handle);
        self.entries.insert(handle, Entry { dialog, timer });
    }

    pub(super) fn remove(&mut self, handle: DialogHandle) {
        let Some(entry) = self.entries.remove(&handle) else { return };
        self.timers.cancel(entry.timer);
        let call_id = entry.dialog.core().call_id.as_bytes();
        if let Some(list) = self.by_call_id.get_mut(call_id) {
            list.retain(|&h| h != handle);
            if list.is_empty() {
                self.by_call_id.remove(call_id);
            }
        }
    }

    /// Applies a transition, keeps the counters and re-arms the timer.
    pub(super) fn update(&mut self, handle: DialogHandle, step: impl FnOnce(Dialog) -> Dialog) -> Option<Change> {
        let Entry { dialog, timer } = self.entries.remove(&handle)?;
        let from = dialog.state();
        let dialog = step(dialog);
        self.counters.record(from, &dialog);
        let deadline = self.deadline(&dialog);
        // The timer that just fired is no longer armed: arm a new one.
        let timer = if self.timers.reset(timer, deadline) { timer } else { self.timers.insert(deadline, handle) };
        let to = dialog.state();
        self.entries.insert(handle, Entry { dialog, timer });
        (from != to).then_some(Change { from, to })
    }

    /// The one deadline each state has.
    fn deadline(&self, dialog: &Dialog) -> Instant {
        match dialog {
            Dialog::Unconfirmed(d) => d.core.init + self.cfg.early_timeout,
            Dialog::Early(d) => d.core.init + self.cfg.early_timeout,
            Dialog::ConfirmedNoAck(d) if d.ack_overdue => d.answer.lifetime_end,
            Dialog::ConfirmedNoAck(d) => (d.answer.start + self.cfg.noack_timeout).min(d.answer.lifetime_end),
            Dialog::Confirmed(d) => d.answer.lifetime_end,
            Dialog::Terminated(d) => d.end + self.cfg.end_timeout,
        }
    }
}

/// A live dialog's timer fired (dlg_ontimeout, dlg_clean_run). The wheel
/// never fires early, so a deadline not yet reached means the timer was
/// stale and `update` re-arms it.
fn fire(d: Dialog, now: Instant, send_bye: bool, expired: &mut Option<(Expiry, bool)>) -> Dialog {
    match d {
        Dialog::Unconfirmed(u) => {
            *expired = Some((Expiry::Early, false));
            Dialog::Terminated(u.time_out(now))
        }
        Dialog::Early(e) => {
            *expired = Some((Expiry::Early, false));
            Dialog::Terminated(e.time_out(now))
        }
        Dialog::ConfirmedNoAck(c) if c.answer.lifetime_end <= now => {
            *expired = Some((if c.ack_overdue { Expiry::NoAck } else { Expiry::Lifetime }, send_bye));
            Dialog::Terminated(c.end(EndCause::Expired, now))
        }
        Dialog::ConfirmedNoAck(c) if !c.ack_overdue => Dialog::ConfirmedNoAck(c.ack_overdue(NOACK_GRACE, now)),
        Dialog::Confirmed(c) if c.answer.lifetime_end <= now => {
            *expired = Some((Expiry::Lifetime, send_bye));
            Dialog::Terminated(c.end(EndCause::Expired, now))
        }
        other => other,
    }
}

impl Counters {
    /// Counter moves of dlg_handlers.c for a transition out of `from`.
    fn record(&mut self, from: State, to: &Dialog) {
        let dec = |v: &mut u64| *v = v.saturating_sub(1);
        match (from, to) {
            (from, to) if from == to.state() => {}
            (State::Unconfirmed, Dialog::Early(_)) => self.early_dialogs += 1,
            (from, Dialog::ConfirmedNoAck(_)) => {
                if from == State::Early {
                    dec(&mut self.early_dialogs);
                }
                self.active_dialogs += 1;
            }
            (State::Unconfirmed | State::Early, Dialog::Terminated(t)) => {
                if from == State::Early {
                    dec(&mut self.early_dialogs);
                }
                if let EndCause::Failed(_) = t.cause {
                    self.failed_dialogs += 1;
                }
            }
            (State::ConfirmedNoAck | State::Confirmed, Dialog::Terminated(t)) => {
                dec(&mut self.active_dialogs);
                if t.cause == EndCause::Expired {
                    self.expired_dialogs += 1;
                }
            }
            _ => {}
        }
    }
}
