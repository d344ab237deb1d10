//! A sans-IO hashed timer wheel: each shard keeps one to drive SIP transaction timers
//! (T1 = 500 ms up to 64·T1), registration expiry (hours), keepalives and dialog timeouts
//! (12 h).
//!
//! The wheel never reads a clock. Callers pass `now` to [`TimerWheel::expire`] and sleep until
//! [`TimerWheel::next_deadline`], so a test drives a 12 h timer in virtual time.
//!
//! # Semantics
//!
//! Time is cut into ticks of `tick` counted from `start`. A deadline is rounded up to its tick,
//! and an item fires at the first `expire(now)` whose `now` has reached that rounded instant:
//! never before its deadline, at most one tick after it. The one exception is a deadline at or
//! before the latest `now` already given to `expire`: that item is due, and the next `expire`
//! returns it whatever `now` it is given. Deadlines more than 100 years after `start` are
//! treated as 100 years.
//!
//! # Layout
//!
//! - The near ring has one list per tick of the current revolution (`slots` consecutive ticks,
//!   aligned to a multiple of `slots`), so every entry of a near list has the same tick and a
//!   near list fires whole.
//! - The far ring has one list per revolution number modulo `slots`. Its entries keep their
//!   absolute tick, so a list mixes rounds; when a revolution begins, its far list moves the
//!   entries of that revolution to the near ring and leaves the later rounds in place.
//! - The due list holds items inserted with a deadline that has already passed.
//!
//! Both rings keep a bitmap of non-empty lists. Entries live in a slab with a free list and are
//! chained into intrusive doubly linked lists, so a [`TimerId`] (slot index plus generation)
//! finds and unlinks its entry in O(1), and the slab stops allocating once it has grown to the
//! peak number of live timers.
//!
//! # Costs (S = `slots`, W = S / 64 bitmap words)
//!
//! - `insert`, `cancel`, `reset`: O(1), no allocation when a freed slab entry is available.
//! - `expire` within one revolution: O(1) when no tick has elapsed since the last call, else
//!   O(W + fired). Crossing into a new revolution also walks the far lists of the revolutions
//!   crossed (at most S lists, skipping empty ones by bitmap): each far entry is looked at once
//!   per S·S ticks (2.9 h at 10 ms × 1024) plus once when it moves to the near ring.
//! - `next_deadline`: O(due) when items are due (that list empties at every `expire`), else
//!   O(1) from a cached minimum per ring. A ring's cache is rebuilt only after its earliest
//!   timer was cancelled, reset, moved or fired: O(W) for the near ring (16 words for 1024
//!   slots), O(W + far entries walked) for the far ring.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use sipedge::timer::TimerWheel;
//!
//! let start = Instant::now();
//! let mut wheel = TimerWheel::new(start, Duration::from_millis(10), 1024);
//! wheel.insert(start + Duration::from_millis(500), "timer A");
//! assert_eq!(wheel.next_deadline(), Some(start + Duration::from_millis(500)));
//! let mut fired = Vec::new();
//! wheel.expire(start + Duration::from_millis(499), &mut fired);
//! assert!(fired.is_empty());
//! wheel.expire(start + Duration::from_millis(500), &mut fired);
//! assert_eq!(fired, ["timer A"]);
//! ```

#![forbid(unsafe_code)]

use std::cell::Cell;
use std::fmt;
use std::time::{Duration, Instant};

/// End of an intrusive list; also why the slab holds fewer than `u32::MAX` entries.
const NIL: u32 = u32::MAX;

/// Deadlines are clamped this far after `start`, so tick arithmetic cannot overflow.
const MAX_SPAN: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// Names one armed timer. It carries the slab generation, so an id kept after its timer fired
/// or was cancelled never touches a later timer that reuses the slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimerId {
    index: u32,
    generation: u32,
}

/// A hashed timer wheel holding items of type `T`; see the module documentation.
pub struct TimerWheel<T> {
    start: Instant,
    tick_ns: u64,
    /// Deadlines (in nanoseconds since `start`) are clamped to this.
    max_ns: u64,
    slots: usize,
    entries: Vec<Entry<T>>,
    /// Head of the slab's free list.
    free: u32,
    len: usize,
    /// Head of the due list.
    due: u32,
    near: Ring,
    far: Ring,
    /// First tick not yet processed; `cursor / slots` is the current revolution.
    cursor: u64,
    /// Latest `now` given to `expire`, in nanoseconds since `start`.
    latest_ns: u64,
    /// Exact minimum tick of the far ring (`Some(None)` when it is empty), or `None` when a
    /// removal made it unknown. A `Cell` so `next_deadline` can stay `&self` and still rebuild it.
    far_min: Cell<Option<Option<u64>>>,
    /// The same for the near ring: `next_deadline` runs after every message, and without it
    /// each call would scan the near bitmap.
    near_min: Cell<Option<Option<u64>>>,
}

struct Entry<T> {
    /// `None` only while the entry is on the free list.
    item: Option<T>,
    /// Deadline rounded up to a tick.
    tick: u64,
    generation: u32,
    prev: u32,
    next: u32,
    list: List,
}

/// Which list an entry is chained into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum List {
    Free,
    Due,
    Near(u32),
    Far(u32),
}

/// List heads plus a bitmap of non-empty lists, so scans skip 64 empty slots per word.
struct Ring {
    heads: Vec<u32>,
    occupied: Vec<u64>,
}

impl<T> TimerWheel<T> {
    /// `tick` is the resolution (e.g. 10 ms) and `slots` the number of ticks per revolution.
    /// Timers beyond one revolution work; a revolution a little longer than the common timer
    /// keeps them on the cheap near ring.
    ///
    /// # Panics
    ///
    /// When `tick` is zero or longer than 100 years, when `slots` is zero or not below
    /// `u32::MAX`, or when `start` plus 100 years is not a representable `Instant`.
    pub fn new(start: Instant, tick: Duration, slots: usize) -> Self {
        assert!(!tick.is_zero() && tick <= MAX_SPAN, "timer tick must be in (0, 100 years]");
        assert!(slots > 0 && slots < NIL as usize, "timer wheel slot count must be in 1..u32::MAX");
        // Checked once here so `instant_of` may add without checking.
        assert!(
            start.checked_add(MAX_SPAN + tick + tick).is_some(),
            "start + 100 years must be a representable Instant"
        );
        let tick_ns = u64::try_from(tick.as_nanos()).expect("a tick of at most 100 years fits u64 ns");
        let max_ns = u64::try_from(MAX_SPAN.as_nanos()).expect("100 years fits u64 ns");
        Self {
            start,
            tick_ns,
            max_ns,
            slots,
            entries: Vec::new(),
            free: NIL,
            len: 0,
            due: NIL,
            near: Ring::new(slots),
            far: Ring::new(slots),
            // `start` counts as the latest `now`: tick 0 is already processed.
            cursor: 1,
            latest_ns: 0,
            far_min: Cell::new(Some(None)),
            near_min: Cell::new(Some(None)),
        }
    }

    /// Arms a timer. A deadline at or before the latest `now` given to `expire` (or before
    /// `start`) fires at the next `expire`.
    pub fn insert(&mut self, deadline: Instant, item: T) -> TimerId {
        let at = self.ns_since_start(deadline);
        let index = self.alloc(item);
        self.place(index, at);
        self.len += 1;
        TimerId { index, generation: self.entries[index as usize].generation }
    }

    /// Disarms a timer and hands its item back; `None` when it already fired or was cancelled.
    pub fn cancel(&mut self, id: TimerId) -> Option<T> {
        let index = self.live(id)?;
        self.unlink(index);
        self.len -= 1;
        self.release(index)
    }

    /// Moves an armed timer to a new deadline, keeping its id; `false` when it is not armed.
    pub fn reset(&mut self, id: TimerId, deadline: Instant) -> bool {
        let Some(index) = self.live(id) else {
            return false;
        };
        let at = self.ns_since_start(deadline);
        self.unlink(index);
        self.place(index, at);
        true
    }

    /// Number of armed timers.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// When the caller should next run `expire`: the earliest deadline rounded up to its tick,
    /// so never before that deadline and less than one tick after it. While items are due it is
    /// no later than the latest `now`, so the caller runs `expire` at once. `None` when empty.
    /// Cost: see the module documentation.
    pub fn next_deadline(&self) -> Option<Instant> {
        if self.due != NIL {
            let earliest = self.list_min(self.due).expect("the due list is not empty");
            let latest = self.start + Duration::from_nanos(self.latest_ns);
            return Some(self.instant_of(earliest).min(latest));
        }
        let tick = match self.near_min() {
            Some(tick) => tick,
            None => self.far_min()?,
        };
        Some(self.instant_of(tick))
    }

    /// Moves into `out` every item whose deadline, rounded up to its tick, is at or before
    /// `now`, plus every due item. Items come out in tick order, except that due items come
    /// first and, when `now` crosses into a new revolution, items from the revolutions crossed
    /// are ordered only by revolution. `now` going backwards is read as the latest `now` seen.
    pub fn expire(&mut self, now: Instant, out: &mut Vec<T>) {
        // One tick past the clamp, so even clamped deadlines fire eventually.
        let now_ns = self.ns_since_start(now).min(self.max_ns + self.tick_ns);
        self.latest_ns = self.latest_ns.max(now_ns);
        if self.due != NIL {
            self.fire_list(List::Due, out);
        }
        let now_tick = self.latest_ns / self.tick_ns;
        if now_tick < self.cursor {
            return;
        }
        let old_rev = self.revolution(self.cursor);
        let next = now_tick + 1;
        let new_rev = self.revolution(next);
        if new_rev == old_rev {
            self.fire_near(self.slot_of(self.cursor), self.slot_of(now_tick) + 1, out);
        } else {
            // Everything left in this revolution is due.
            self.fire_near(self.slot_of(self.cursor), self.slots, out);
            // Set first, so entries moved from the far ring land in the new revolution.
            self.cursor = next;
            self.sweep_far(old_rev, new_rev, now_tick, out);
        }
        self.cursor = next;
    }

    /// Files an entry whose tick field is not yet set, with its deadline in ns since `start`.
    fn place(&mut self, index: u32, at: u64) {
        let tick = at.div_ceil(self.tick_ns);
        self.entries[index as usize].tick = tick;
        // `at > latest_ns` implies `tick >= cursor`, since `cursor - 1 == latest_ns / tick_ns`.
        let list = if at <= self.latest_ns { List::Due } else { self.list_for(tick) };
        self.link(index, list);
    }

    /// The ring list for a tick at or after `cursor`.
    fn list_for(&self, tick: u64) -> List {
        let rev = self.revolution(tick);
        if rev == self.revolution(self.cursor) {
            List::Near(self.slot_of(tick) as u32)
        } else {
            List::Far(self.slot_of(rev) as u32)
        }
    }

    fn fire_near(&mut self, from: usize, to: usize, out: &mut Vec<T>) {
        let mut slot = from;
        while let Some(found) = self.near.next_occupied(slot, to) {
            self.fire_list(List::Near(found as u32), out);
            slot = found + 1;
        }
    }

    /// Walks the far lists of revolutions `old_rev + 1 ..= new_rev`: fires entries up to
    /// `now_tick`, moves those of `new_rev` to the near ring, leaves later rounds in place.
    fn sweep_far(&mut self, old_rev: u64, new_rev: u64, now_tick: u64, out: &mut Vec<T>) {
        let first = self.slot_of(old_rev + 1);
        let last = self.slot_of(new_rev);
        if new_rev - old_rev >= self.slots as u64 {
            self.sweep_far_slots(first, self.slots, new_rev, now_tick, out);
            self.sweep_far_slots(0, first, new_rev, now_tick, out);
        } else if first <= last {
            self.sweep_far_slots(first, last + 1, new_rev, now_tick, out);
        } else {
            self.sweep_far_slots(first, self.slots, new_rev, now_tick, out);
            self.sweep_far_slots(0, last + 1, new_rev, now_tick, out);
        }
    }

    fn sweep_far_slots(&mut self, from: usize, to: usize, new_rev: u64, now_tick: u64, out: &mut Vec<T>) {
        let mut slot = from;
        while let Some(found) = self.far.next_occupied(slot, to) {
            let mut index = self.far.heads[found];
            while index != NIL {
                let entry = &self.entries[index as usize];
                let (next, tick) = (entry.next, entry.tick);
                if tick <= now_tick {
                    self.unlink(index);
                    self.len -= 1;
                    out.extend(self.release(index));
                } else if self.revolution(tick) == new_rev {
                    self.unlink(index);
                    self.link(index, self.list_for(tick));
                }
                index = next;
            }
            slot = found + 1;
        }
    }

    /// Fires a whole list at once; never used on the far ring, whose lists mix rounds.
    fn fire_list(&mut self, list: List, out: &mut Vec<T>) {
        if matches!(list, List::Near(_)) {
            self.near_min.set(None);
        }
        let mut index = self.head(list);
        while index != NIL {
            let next = self.entries[index as usize].next;
            self.len -= 1;
            out.extend(self.release(index));
            index = next;
        }
        self.set_head(list, NIL);
    }

    fn near_min(&self) -> Option<u64> {
        if let Some(known) = self.near_min.get() {
            return known;
        }
        // Near lists before the cursor's slot have fired: the scan starts there. Every near
        // entry has the tick of its slot in the current revolution.
        let known = self
            .near
            .next_occupied(self.slot_of(self.cursor), self.slots)
            .map(|slot| self.revolution(self.cursor) * self.slots as u64 + slot as u64);
        self.near_min.set(Some(known));
        known
    }

    fn far_min(&self) -> Option<u64> {
        if let Some(known) = self.far_min.get() {
            return known;
        }
        let known = self.scan_far_min();
        self.far_min.set(Some(known));
        known
    }

    /// Visits far lists in revolution order from the next revolution. The first list holding an
    /// entry of the revolution it stands for holds the minimum: every list visited before it
    /// holds only later rounds. If a whole circle finds none, every far entry is at least one
    /// far revolution away and the minimum is the least tick seen.
    fn scan_far_min(&self) -> Option<u64> {
        let next_rev = self.revolution(self.cursor) + 1;
        let first = self.slot_of(next_rev);
        let mut least: Option<u64> = None;
        for (from, to) in [(first, self.slots), (0, first)] {
            let mut slot = from;
            while let Some(found) = self.far.next_occupied(slot, to) {
                let offset = (found + self.slots - first) % self.slots;
                let rev = next_rev + offset as u64;
                let mut in_rev: Option<u64> = None;
                let mut index = self.far.heads[found];
                while index != NIL {
                    let entry = &self.entries[index as usize];
                    if self.revolution(entry.tick) == rev {
                        in_rev = Some(in_rev.map_or(entry.tick, |m| m.min(entry.tick)));
                    }
                    least = Some(least.map_or(entry.tick, |m| m.min(entry.tick)));
                    index = entry.next;
                }
                if in_rev.is_some() {
                    return in_rev;
                }
                slot = found + 1;
            }
        }
        least
    }

    fn list_min(&self, head: u32) -> Option<u64> {
        let mut least = None;
        let mut index = head;
        while index != NIL {
            let entry = &self.entries[index as usize];
            least = Some(least.map_or(entry.tick, |m: u64| m.min(entry.tick)));
            index = entry.next;
        }
        least
    }

    fn live(&self, id: TimerId) -> Option<u32> {
        let entry = self.entries.get(id.index as usize)?;
        (entry.generation == id.generation && entry.list != List::Free).then_some(id.index)
    }

    fn alloc(&mut self, item: T) -> u32 {
        if self.free != NIL {
            let index = self.free;
            let entry = &mut self.entries[index as usize];
            self.free = entry.next;
            entry.item = Some(item);
            return index;
        }
        let index = u32::try_from(self.entries.len())
            .ok()
            .filter(|&index| index != NIL)
            .expect("a timer wheel holds fewer than u32::MAX timers");
        self.entries.push(Entry { item: Some(item), tick: 0, generation: 0, prev: NIL, next: NIL, list: List::Free });
        index
    }

    /// Puts an unlinked entry on the free list; the new generation makes old ids stale.
    fn release(&mut self, index: u32) -> Option<T> {
        let entry = &mut self.entries[index as usize];
        entry.generation = entry.generation.wrapping_add(1);
        entry.list = List::Free;
        entry.prev = NIL;
        entry.next = self.free;
        self.free = index;
        entry.item.take()
    }

    fn link(&mut self, index: u32, list: List) {
        let head = self.head(list);
        let entry = &mut self.entries[index as usize];
        entry.prev = NIL;
        entry.next = head;
        entry.list = list;
        let tick = entry.tick;
        if head != NIL {
            self.entries[head as usize].prev = index;
        }
        self.set_head(list, index);
        if let Some(cache) = self.min_cache(list)
            && let Some(known) = cache.get()
        {
            cache.set(Some(Some(known.map_or(tick, |m| m.min(tick)))));
        }
    }

    fn unlink(&mut self, index: u32) {
        let entry = &self.entries[index as usize];
        let (prev, next, list, tick) = (entry.prev, entry.next, entry.list, entry.tick);
        if prev == NIL {
            self.set_head(list, next);
        } else {
            self.entries[prev as usize].next = next;
        }
        if next != NIL {
            self.entries[next as usize].prev = prev;
        }
        // Only removing the minimum itself makes a cached minimum wrong.
        if let Some(cache) = self.min_cache(list)
            && cache.get() == Some(Some(tick))
        {
            cache.set(None);
        }
    }

    /// The cached minimum of the ring `list` belongs to.
    fn min_cache(&self, list: List) -> Option<&Cell<Option<Option<u64>>>> {
        match list {
            List::Near(_) => Some(&self.near_min),
            List::Far(_) => Some(&self.far_min),
            List::Due | List::Free => None,
        }
    }

    fn head(&self, list: List) -> u32 {
        match list {
            List::Due => self.due,
            List::Near(slot) => self.near.heads[slot as usize],
            List::Far(slot) => self.far.heads[slot as usize],
            List::Free => unreachable!("free entries are not chained through list heads"),
        }
    }

    fn set_head(&mut self, list: List, head: u32) {
        match list {
            List::Due => self.due = head,
            List::Near(slot) => self.near.set_head(slot as usize, head),
            List::Far(slot) => self.far.set_head(slot as usize, head),
            List::Free => unreachable!("free entries are not chained through list heads"),
        }
    }

    fn revolution(&self, tick: u64) -> u64 {
        tick / self.slots as u64
    }

    fn slot_of(&self, n: u64) -> usize {
        // Below `slots`, which fits usize.
        (n % self.slots as u64) as usize
    }

    fn ns_since_start(&self, instant: Instant) -> u64 {
        let ns = instant.saturating_duration_since(self.start).as_nanos();
        u64::try_from(ns).map_or(self.max_ns, |ns| ns.min(self.max_ns))
    }

    fn instant_of(&self, tick: u64) -> Instant {
        // `tick <= (max_ns + tick_ns) / tick_ns + 1`, which `new` checked is representable.
        self.start + Duration::from_nanos(tick.saturating_mul(self.tick_ns))
    }
}

impl<T> fmt::Debug for TimerWheel<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimerWheel")
            .field("len", &self.len)
            .field("tick", &Duration::from_nanos(self.tick_ns))
            .field("slots", &self.slots)
            .field("cursor", &self.cursor)
            .finish_non_exhaustive()
    }
}

impl Ring {
    fn new(slots: usize) -> Self {
        Self { heads: vec![NIL; slots], occupied: vec![0; slots.div_ceil(64)] }
    }

    fn set_head(&mut self, slot: usize, head: u32) {
        self.heads[slot] = head;
        let bit = 1u64 << (slot % 64);
        if head == NIL {
            self.occupied[slot / 64] &= !bit;
        } else {
            self.occupied[slot / 64] |= bit;
        }
    }

    /// First non-empty slot in `from..to`.
    fn next_occupied(&self, from: usize, to: usize) -> Option<usize> {
        let mut slot = from;
        while slot < to {
            let word = self.occupied[slot / 64] >> (slot % 64);
            if word != 0 {
                let found = slot + word.trailing_zeros() as usize;
                return (found < to).then_some(found);
            }
            slot = (slot / 64 + 1) * 64;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashMap};

    const TICK: Duration = Duration::from_millis(10);

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn wheel<T>(slots: usize) -> (Instant, TimerWheel<T>) {
        let start = Instant::now();
        (start, TimerWheel::new(start, TICK, slots))
    }

    fn expire<T>(wheel: &mut TimerWheel<T>, now: Instant) -> Vec<T> {
        let mut out = Vec::new();
        wheel.expire(now, &mut out);
        out
    }

    #[test]
    fn fires_in_deadline_order() {
        let (t0, mut w) = wheel(1024);
        w.insert(t0 + ms(30), 30);
        w.insert(t0 + ms(10), 10);
        w.insert(t0 + ms(20), 20);
        assert_eq!(w.len(), 3);
        assert_eq!(expire(&mut w, t0 + ms(100)), [10, 20, 30]);
        assert!(w.is_empty());

        w.insert(t0 + ms(300), 300);
        w.insert(t0 + ms(200), 200);
        assert_eq!(expire(&mut w, t0 + ms(199)), Vec::<u32>::new());
        assert_eq!(expire(&mut w, t0 + ms(200)), [200]);
        assert_eq!(expire(&mut w, t0 + ms(300)), [300]);
    }

    #[test]
    fn never_fires_before_deadline_and_at_most_one_tick_after() {
        let (t0, mut w) = wheel(1024);
        w.insert(t0 + ms(15), "off-tick");
        w.insert(t0 + ms(20), "on-tick");
        assert!(expire(&mut w, t0 + ms(14)).is_empty());
        // 15 ms rounds up to the 20 ms tick.
        assert!(expire(&mut w, t0 + ms(19)).is_empty());
        let mut fired = expire(&mut w, t0 + ms(20));
        fired.sort_unstable();
        assert_eq!(fired, ["off-tick", "on-tick"]);
    }

    #[test]
    fn same_tick_items_fire_together() {
        let (t0, mut w) = wheel(64);
        for (i, at) in [21, 25, 29, 30].into_iter().enumerate() {
            w.insert(t0 + ms(at), i);
        }
        assert!(expire(&mut w, t0 + ms(29)).is_empty());
        let mut fired = expire(&mut w, t0 + ms(30));
        fired.sort_unstable();
        assert_eq!(fired, [0, 1, 2, 3]);
    }

    #[test]
    fn past_deadline_fires_at_next_expire() {
        let (t0, mut w) = wheel(1024);
        assert!(expire(&mut w, t0 + ms(1007)).is_empty());
        w.insert(t0 + ms(500), "long ago");
        w.insert(t0 + ms(1005), "this tick, already passed");
        w.insert(t0.checked_sub(ms(5)).unwrap_or(t0), "before start");
        w.insert(t0 + ms(1008), "not yet");
        let next = w.next_deadline().expect("armed");
        assert!(next <= t0 + ms(1007), "due items must make the caller expire at once");
        let mut fired = expire(&mut w, t0 + ms(1007));
        fired.sort_unstable();
        assert_eq!(fired, ["before start", "long ago", "this tick, already passed"]);
        assert_eq!(w.next_deadline(), Some(t0 + ms(1010)));
        assert_eq!(expire(&mut w, t0 + ms(1010)), ["not yet"]);
    }

    #[test]
    fn cancel_returns_the_item_once() {
        let (t0, mut w) = wheel(16);
        let a = w.insert(t0 + ms(50), 'a');
        let b = w.insert(t0 + ms(60), 'b');
        let far = w.insert(t0 + Duration::from_secs(60), 'f');
        assert_eq!(w.cancel(a), Some('a'));
        assert_eq!(w.cancel(a), None);
        assert_eq!(w.cancel(far), Some('f'));
        assert_eq!(w.len(), 1);
        assert_eq!(expire(&mut w, t0 + Duration::from_secs(120)), ['b']);
        assert_eq!(w.cancel(b), None, "a fired timer cannot be cancelled");
    }

    #[test]
    fn stale_id_never_touches_a_reused_slot() {
        let (t0, mut w) = wheel(16);
        let old = w.insert(t0 + ms(50), 1);
        assert_eq!(w.cancel(old), Some(1));
        let new = w.insert(t0 + ms(70), 2);
        assert_eq!(new.index, old.index, "the slab reuses the freed slot");
        assert_ne!(new, old);
        assert_eq!(w.cancel(old), None);
        assert!(!w.reset(old, t0 + ms(10)));
        assert_eq!(w.len(), 1);
        assert_eq!(expire(&mut w, t0 + ms(70)), [2]);

        let fired_id = w.insert(t0 + ms(80), 3);
        assert_eq!(expire(&mut w, t0 + ms(80)), [3]);
        let reused = w.insert(t0 + ms(90), 4);
        assert_eq!(reused.index, fired_id.index);
        assert_eq!(w.cancel(fired_id), None);
        assert_eq!(w.cancel(reused), Some(4));
    }

    #[test]
    fn reset_moves_a_timer_and_keeps_its_id() {
        let (t0, mut w) = wheel(16);
        let id = w.insert(t0 + ms(50), "t");
        assert!(w.reset(id, t0 + Duration::from_secs(30)), "near to far");
        assert!(expire(&mut w, t0 + ms(100)).is_empty());
        assert_eq!(w.next_deadline(), Some(t0 + Duration::from_secs(30)));
        assert!(w.reset(id, t0 + ms(120)), "far to near");
        assert_eq!(w.next_deadline(), Some(t0 + ms(120)));
        assert!(w.reset(id, t0 + ms(20)), "into the past");
        assert_eq!(w.len(), 1);
        assert_eq!(expire(&mut w, t0 + ms(100)), ["t"]);
        assert!(!w.reset(id, t0 + ms(500)), "fired");
    }

    #[test]
    fn twelve_hour_timer_on_a_ten_second_wheel() {
        let (t0, mut w) = wheel(1024);
        let twelve_h = Duration::from_secs(12 * 3600);
        w.insert(t0 + twelve_h, "dialog");
        w.insert(t0 + Duration::from_secs(3600), "register");
        w.insert(t0 + ms(10_240), "revolution edge");
        assert_eq!(w.next_deadline(), Some(t0 + ms(10_240)));
        let mut now = t0;
        let mut fired = Vec::new();
        // Steps of 7 minutes: each expire crosses dozens of revolutions.
        while now < t0 + twelve_h + Duration::from_secs(600) {
            now += Duration::from_secs(7 * 60);
            for item in expire(&mut w, now) {
                fired.push((item, now));
            }
        }
        let at = |name| fired.iter().find(|(n, _)| *n == name).map(|&(_, t)| t);
        assert_eq!(at("revolution edge"), Some(t0 + Duration::from_secs(420)));
        assert_eq!(at("register"), Some(t0 + Duration::from_secs(3780)));
        assert_eq!(at("dialog"), Some(t0 + Duration::from_secs(43_260)));

        // Waking exactly at next_deadline fires exactly on time.
        let (t0, mut w) = wheel(1024);
        w.insert(t0 + twelve_h, "dialog");
        assert_eq!(w.next_deadline(), Some(t0 + twelve_h));
        assert!(expire(&mut w, t0 + twelve_h - ms(1)).is_empty());
        assert_eq!(w.next_deadline(), Some(t0 + twelve_h));
        assert_eq!(expire(&mut w, t0 + twelve_h), ["dialog"]);
        assert_eq!(w.next_deadline(), None);
    }

    #[test]
    fn many_timers_fire_once_and_reuse_the_slab() {
        let (t0, mut w) = wheel(256);
        let n = 100_000u64;
        let deadline = |i: u64| t0 + Duration::from_micros(i * 7_919 % 5_000_000_000);
        for i in 0..n {
            w.insert(deadline(i), i);
        }
        let capacity = w.entries.len();
        let mut seen = vec![false; n as usize];
        let mut now = t0;
        while !w.is_empty() {
            now = w.next_deadline().expect("not empty");
            for i in expire(&mut w, now) {
                assert!(deadline(i) <= now, "timer {i} fired early");
                assert!(now < deadline(i) + TICK, "timer {i} fired late");
                assert!(!std::mem::replace(&mut seen[i as usize], true), "fired twice");
            }
        }
        assert!(seen.iter().all(|&s| s));
        for i in 0..n {
            w.insert(now + Duration::from_micros(i), i);
        }
        assert_eq!(w.entries.len(), capacity, "steady state reuses freed entries");
    }

    #[test]
    fn next_deadline_is_the_earliest_deadline_rounded_up() {
        let (t0, mut w) = wheel::<u32>(32);
        assert_eq!(w.next_deadline(), None);
        let cases = [ms(3), ms(10), ms(11), ms(319), ms(320), ms(321), ms(9_999), ms(100_001)];
        for &offset in cases.iter().rev() {
            let id = w.insert(t0 + offset, 0);
            let next = w.next_deadline().expect("armed");
            assert!(next >= t0 + offset && next < t0 + offset + TICK, "{offset:?}");
            assert_eq!(next, t0 + offset.div_duration_f64(TICK).ceil() as u32 * TICK);
            w.cancel(id);
        }
        // Cancelling the earliest far timer must not leave a stale, earlier answer.
        let first = w.insert(t0 + Duration::from_secs(100), 0);
        w.insert(t0 + Duration::from_secs(200), 1);
        w.insert(t0 + Duration::from_secs(50_000), 2);
        assert_eq!(w.next_deadline(), Some(t0 + Duration::from_secs(100)));
        w.cancel(first);
        assert_eq!(w.next_deadline(), Some(t0 + Duration::from_secs(200)));
    }

    #[test]
    fn now_going_backwards_fires_nothing_new() {
        let (t0, mut w) = wheel(8);
        w.insert(t0 + ms(200), ());
        assert!(expire(&mut w, t0 + ms(150)).is_empty());
        assert!(expire(&mut w, t0 + ms(20)).is_empty());
        assert_eq!(expire(&mut w, t0 + ms(200)).len(), 1);
    }

    use crate::testutil::XorShift as Rng;

    /// Reference model: what must fire is exactly the due items plus those whose deadline
    /// rounded up to a tick is at or before `now`.
    #[derive(Default)]
    struct Model {
        by_key: BTreeMap<(u64, u64), TimerId>,
        armed: HashMap<TimerId, Armed>,
        latest_ns: u64,
    }

    #[derive(Clone, Copy)]
    struct Armed {
        at_ns: u64,
        tick: u64,
        due: bool,
        serial: u64,
    }

    impl Model {
        fn arm(&mut self, id: TimerId, at_ns: u64, tick_ns: u64, serial: u64) {
            let armed = Armed { at_ns, tick: at_ns.div_ceil(tick_ns), due: at_ns <= self.latest_ns, serial };
            let key = if armed.due { 0 } else { armed.tick };
            self.by_key.insert((key, serial), id);
            self.armed.insert(id, armed);
        }

        fn disarm(&mut self, id: TimerId) -> Option<Armed> {
            let armed = self.armed.remove(&id)?;
            let key = if armed.due { 0 } else { armed.tick };
            self.by_key.remove(&(key, armed.serial));
            Some(armed)
        }
    }

    fn run_model(seed: u64, tick: Duration, slots: usize, steps: usize) {
        let mut rng = Rng(seed);
        let t0 = Instant::now();
        let tick_ns = tick.as_nanos() as u64;
        let mut w = TimerWheel::new(t0, tick, slots);
        let mut model = Model::default();
        let mut ids: Vec<TimerId> = Vec::new();
        let mut stale: Vec<TimerId> = Vec::new();
        let mut serial = 0u64;
        let mut fired = Vec::new();
        let horizons = [tick_ns * 3, tick_ns * slots as u64 * 2, 13 * 3600 * 1_000_000_000];

        for _ in 0..steps {
            match rng.below_u64(100) {
                0..40 => {
                    let span = horizons[rng.below_u64(3) as usize];
                    let at_ns = (model.latest_ns + rng.below_u64(span)).saturating_sub(rng.below_u64(tick_ns * 4));
                    serial += 1;
                    let id = w.insert(t0 + Duration::from_nanos(at_ns), serial);
                    model.arm(id, at_ns, tick_ns, serial);
                    ids.push(id);
                }
                40..55 if !ids.is_empty() => {
                    let id = if rng.below_u64(4) == 0 && !stale.is_empty() {
                        stale[rng.below_u64(stale.len() as u64) as usize]
                    } else {
                        ids.swap_remove(rng.below_u64(ids.len() as u64) as usize)
                    };
                    let expected = model.disarm(id).map(|a| a.serial);
                    assert_eq!(w.cancel(id), expected);
                    stale.push(id);
                }
                55..70 if !ids.is_empty() => {
                    let id = ids[rng.below_u64(ids.len() as u64) as usize];
                    let span = horizons[rng.below_u64(3) as usize];
                    let at_ns = model.latest_ns + rng.below_u64(span);
                    let armed = model.disarm(id);
                    assert_eq!(w.reset(id, t0 + Duration::from_nanos(at_ns)), armed.is_some());
                    if let Some(armed) = armed {
                        model.arm(id, at_ns, tick_ns, armed.serial);
                    }
                }
                _ => {
                    let step = match rng.below_u64(20) {
                        0 => rng.below_u64(3 * 3600 * 1_000_000_000),
                        1 => rng.below_u64(tick_ns * slots as u64 * 3),
                        _ => rng.below_u64(tick_ns * 3),
                    };
                    let now_ns = model.latest_ns + step;
                    model.latest_ns = now_ns;
                    w.expire(t0 + Duration::from_nanos(now_ns), &mut fired);
                    let now_tick = now_ns / tick_ns;
                    let mut expected: Vec<u64> = Vec::new();
                    while let Some((&(key, _), &id)) = model.by_key.first_key_value() {
                        if key > now_tick {
                            break;
                        }
                        let armed = model.disarm(id).expect("indexed");
                        assert!(armed.at_ns <= now_ns, "model fires early");
                        expected.push(armed.serial);
                        stale.push(id);
                    }
                    ids.retain(|id| model.armed.contains_key(id));
                    fired.sort_unstable();
                    expected.sort_unstable();
                    assert_eq!(fired, expected, "seed {seed} at {now_ns} ns");
                    fired.clear();
                    if let Some(next) = w.next_deadline() {
                        assert!(next > t0 + Duration::from_nanos(now_ns), "would spin");
                    }
                }
            }
            assert_eq!(w.len(), model.armed.len());
            // Due items come first; among them (or else among all) the earliest deadline rules.
            let any_due = model.armed.values().any(|a| a.due);
            let earliest = model.armed.values().filter(|a| a.due || !any_due).min_by_key(|a| a.at_ns);
            let expected_next = earliest.map(|armed| {
                let deadline = t0 + Duration::from_nanos(armed.at_ns);
                let rounded = t0 + Duration::from_nanos(armed.tick * tick_ns);
                assert!(rounded >= deadline && rounded < deadline + tick);
                if armed.due { rounded.min(t0 + Duration::from_nanos(model.latest_ns)) } else { rounded }
            });
            assert_eq!(w.next_deadline(), expected_next, "seed {seed}");
        }
    }

    #[test]
    fn matches_a_reference_model() {
        for seed in 1..=20u64 {
            let seed = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
            run_model(seed, ms(10), 8, 3_000);
            run_model(seed, ms(1), 1, 1_000);
            run_model(seed, ms(10), 64, 3_000);
            run_model(seed, ms(10), 1024, 3_000);
            run_model(seed, Duration::from_nanos(333), 100, 1_000);
        }
    }
}
