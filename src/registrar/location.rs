//! This shard's slice of the location table (Kamailio usrloc: udomain,
//! urecord, ucontact), with an expiry index and a change log for
//! persistence.
//!
//! Expiry costs: every binding has exactly one entry in `expiry`, a
//! `BTreeMap` from its absolute expiry to the AORs due then. Saving or
//! removing a binding is O(log n) there; `expire(now)` pops only the due
//! buckets, so a sweep costs O(k log n) for k expired bindings, not a scan
//! of the table. The price is one extra copy of the AOR per binding.

use super::binding::{Aor, Binding, UnixMillis};
use super::edit::{EditParts, Slot};
use super::versions::Versions;
use crate::config::UsrlocConfig;
use std::collections::{BTreeMap, HashMap};

/// The bindings of one AOR (Kamailio urecord), in lookup order: by q,
/// highest first, equal q in the order they were first registered; or
/// newest first with [`ContactOrder::NewestFirst`] (usrloc/urecord.c
/// mem_insert_ucontact, update_contact_pos).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    bindings: Vec<Binding>,
}

impl Record {
    /// Every binding, including expired ones the timer has not removed yet.
    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    /// The bindings still valid at `now` (Kamailio VALID_CONTACT).
    pub fn valid(&self, now: UnixMillis) -> impl Iterator<Item = &Binding> + '_ {
        self.bindings.iter().filter(move |b| b.expires > now)
    }
}

/// How bindings of one AOR are ordered (usrloc `desc_time_order`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactOrder {
    /// q descending; equal q keep their first-registration order.
    ByQ,
    /// Most recently saved first.
    NewestFirst,
}

/// One logged mutation, for persistence to replay (write-through or
/// write-back): the store's owned record, `Upsert { aor, binding }`
/// (added or replaced; keyed by AOR and contact URI), `Remove { aor,
/// contact }` (removed, replaced under a new URI, or expired) and
/// `RemoveAor { aor }` (`Contact: *`, ul.rm). The table never logs
/// `Clear`. Hand them to `ShardLog::append` via `Change::as_change`.
pub type Change = super::record::Record;

/// Kamailio usrloc statistics for this shard.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// AORs with at least one binding (`<domain>-users`).
    pub users: usize,
    /// Bindings, expired ones not yet swept included (`<domain>-contacts`).
    pub contacts: usize,
    /// Bindings removed because they expired (`<domain>-expires`).
    pub expired: u64,
}

#[derive(Debug)]
pub struct LocationShard {
    records: HashMap<Aor, Record, ahash::RandomState>,
    /// Absolute expiry → the AOR of each binding due then (one entry per
    /// binding; two bindings of one AOR due the same millisecond appear twice).
    expiry: BTreeMap<UnixMillis, Vec<Aor>>,
    order: ContactOrder,
    /// False in db_mode 0: nothing would drain the log.
    track_changes: bool,
    changes: Vec<Change>,
    contacts: usize,
    expired: u64,
    /// The shared versions and this table's shard: every change bumps its
    /// AOR's version (versions.rs).
    versions: Option<(Versions, usize)>,
}

impl LocationShard {
    pub fn new(order: ContactOrder, track_changes: bool) -> LocationShard {
        LocationShard {
            records: HashMap::default(),
            expiry: BTreeMap::new(),
            order,
            track_changes,
            changes: Vec::new(),
            contacts: 0,
            expired: 0,
            versions: None,
        }
    }

    /// From now on every change bumps its AOR's version in `versions`,
    /// as shard `shard`.
    pub fn share_versions(&mut self, versions: Versions, shard: usize) {
        self.versions = Some((versions, shard));
    }

    /// Order from `desc_time_order`; changes are logged unless db_mode is 0.
    pub fn from_config(cfg: &UsrlocConfig) -> LocationShard {
        let order = if cfg.desc_time_order { ContactOrder::NewestFirst } else { ContactOrder::ByQ };
        LocationShard::new(order, cfg.db_mode != 0)
    }

    pub fn order(&self) -> ContactOrder {
        self.order
    }

    pub fn record(&self, aor: &[u8]) -> Option<&Record> {
        self.records.get(aor)
    }

    /// The AOR's valid bindings at `now`, in lookup order.
    pub fn lookup(&self, aor: &[u8], now: UnixMillis) -> impl Iterator<Item = &Binding> + '_ {
        self.records.get(aor).into_iter().flat_map(move |r| r.valid(now))
    }

    /// Every record, for ul.dump and snapshots (no particular order).
    pub fn iter(&self) -> impl Iterator<Item = (&Aor, &Record)> + '_ {
        self.records.iter()
    }

    /// Every binding with its AOR, expired ones included: the snapshot for
    /// `ShardLog::open` / `compact` (filter on `expires > now` for live ones).
    pub fn bindings(&self) -> impl Iterator<Item = (&Aor, &Binding)> + '_ {
        self.records.iter().flat_map(|(aor, r)| r.bindings.iter().map(move |b| (aor, b)))
    }

    pub fn counters(&self) -> Counters {
        Counters { users: self.records.len(), contacts: self.contacts, expired: self.expired }
    }

    /// Moves the logged changes, oldest first, onto `out`.
    pub fn drain_changes(&mut self, out: &mut Vec<Change>) {
        out.append(&mut self.changes);
    }

    /// Earliest expiry in the table: when the next sweep has work.
    pub fn next_expiry(&self) -> Option<UnixMillis> {
        self.expiry.keys().next().copied()
    }

    /// Adds a binding, or replaces the AOR's binding with the same contact,
    /// as Kamailio `ul.add` does; logged as an Upsert.
    pub fn insert_raw(&mut self, aor: Aor, binding: Binding) {
        self.put(aor, binding, true);
    }

    /// As [`LocationShard::insert_raw`] but not logged: for loading what
    /// persistence already holds.
    pub fn restore(&mut self, aor: Aor, binding: Binding) {
        self.put(aor, binding, false);
    }

    /// Removes every binding of `aor` (`Contact: *`, ul.rm); returns how many.
    pub fn remove_aor(&mut self, aor: &[u8]) -> usize {
        let Some((aor, record)) = self.records.remove_entry(aor) else {
            return 0;
        };
        for b in &record.bindings {
            self.unindex(&aor, b.expires);
        }
        let n = record.bindings.len();
        self.contacts -= n;
        self.log(&aor, || Change::RemoveAor { aor: aor.clone() });
        n
    }

    /// Removes the binding with exactly this contact URI (ul.rm_contact).
    pub fn remove_contact(&mut self, aor: &[u8], contact: &[u8]) -> Option<Binding> {
        let (key, record) = self.records.get_key_value(aor)?;
        let at = record.bindings.iter().position(|b| *b.contact == *contact)?;
        let key = key.clone();
        Some(self.take(&key, at))
    }

    /// Removes every binding whose expiry is at or before `now` (usrloc
    /// timer, VALID_CONTACT is `expires > now`) and returns them.
    pub fn expire(&mut self, now: UnixMillis) -> Vec<(Aor, Binding)> {
        let mut out = Vec::new();
        self.expire_into(now, &mut out);
        out
    }

    /// [`LocationShard::expire`] onto a reused buffer; returns the count.
    pub fn expire_into(&mut self, now: UnixMillis, out: &mut Vec<(Aor, Binding)>) -> usize {
        let before = out.len();
        while let Some(entry) = self.expiry.first_entry() {
            if *entry.key() > now {
                break;
            }
            let (at, aors) = entry.remove_entry();
            for aor in aors {
                let due = self.records.get(&aor).and_then(|r| r.bindings.iter().position(|b| b.expires == at));
                // The index holds one entry per binding at its expiry, so a
                // binding is always found; the guard only keeps a broken
                // invariant from panicking.
                let Some(i) = due else { continue };
                let b = self.take_unindexed(&aor, i);
                self.expired += 1;
                out.push((aor, b));
            }
        }
        out.len() - before
    }

    /// Applies what `save` planned for one AOR, all at once. Every Remove
    /// is logged before any Upsert, so replaying the log can never remove
    /// a contact this commit (re)writes.
    pub(super) fn commit(&mut self, aor: &Aor, edit: EditParts, now: UnixMillis) {
        let mut old: Vec<Option<Binding>> = match self.records.get_mut(aor.as_bytes()) {
            Some(r) => std::mem::take(&mut r.bindings).into_iter().map(Some).collect(),
            None => Vec::new(),
        };
        let mut kept_old = vec![false; old.len()];
        for slot in &edit.slots {
            match slot {
                Slot::Old(i) => {
                    let Some(entry) = old.get_mut(*i) else {
                        continue;
                    };
                    match entry.as_ref().map(|b| b.expires <= now) {
                        // Not yet swept: it goes now, as the timer would take it.
                        Some(true) => {
                            if let Some(b) = entry.take() {
                                self.expired += 1;
                                self.drop_binding(aor, b);
                            }
                        }
                        Some(false) => kept_old[*i] = true,
                        None => {}
                    }
                }
                Slot::New { binding, replaces } => match replaces.and_then(|i| old.get_mut(i)).and_then(Option::take) {
                    Some(prev) => {
                        self.unindex(aor, prev.expires);
                        if prev.contact != binding.contact {
                            let contact = prev.contact;
                            self.log(aor, || Change::Remove { aor: aor.clone(), contact });
                        }
                    }
                    None => self.contacts += 1,
                },
            }
        }
        // Deleted by the request; and anything the plan neither kept nor
        // replaced (it cannot happen) rather than leak it from the index.
        for (i, slot) in old.iter_mut().enumerate() {
            if !kept_old[i]
                && let Some(b) = slot.take()
            {
                self.drop_binding(aor, b);
            }
        }
        let mut kept = Vec::with_capacity(edit.slots.len());
        for slot in edit.slots {
            match slot {
                Slot::Old(i) => kept.extend(old.get_mut(i).and_then(Option::take)),
                Slot::New { binding, .. } => {
                    self.index(aor, binding.expires);
                    self.log(aor, || Change::Upsert { aor: aor.clone(), binding: binding.clone() });
                    kept.push(binding);
                }
            }
        }
        if kept.is_empty() {
            self.records.remove(aor.as_bytes());
        } else {
            self.records.entry(aor.clone()).or_default().bindings = kept;
        }
    }

    fn put(&mut self, aor: Aor, binding: Binding, logged: bool) {
        self.index(&aor, binding.expires);
        if logged {
            self.log(&aor, || Change::Upsert { aor: aor.clone(), binding: binding.clone() });
        } else {
            self.bump(&aor);
        }
        let order = self.order;
        let record = self.records.entry(aor.clone()).or_default();
        let list = &mut record.bindings;
        let same = list.iter().position(|b| b.contact == binding.contact);
        let old = same.map(|i| list.remove(i));
        // Kamailio mem_update_ucontact keeps the position unless the q
        // changed (desc_time_order moves it to the front).
        let keep_at = same.filter(|_| order == ContactOrder::ByQ && old.as_ref().map(|o| o.q) == Some(binding.q));
        let at = keep_at.unwrap_or_else(|| insert_at(list, &binding, order));
        list.insert(at, binding);
        match old {
            Some(old) => self.unindex(&aor, old.expires),
            None => self.contacts += 1,
        }
    }

    /// Removes binding `i` of `aor`, indexed, and logs it.
    fn take(&mut self, aor: &Aor, i: usize) -> Binding {
        let b = self.take_unindexed(aor, i);
        self.unindex(aor, b.expires);
        b
    }

    /// Removes binding `i` of `aor` whose index entry is already gone.
    fn take_unindexed(&mut self, aor: &Aor, i: usize) -> Binding {
        let record = self.records.get_mut(aor.as_bytes()).expect("caller found the binding");
        let b = record.bindings.remove(i);
        if record.bindings.is_empty() {
            self.records.remove(aor.as_bytes());
        }
        self.contacts -= 1;
        let contact = b.contact.clone();
        self.log(aor, || Change::Remove { aor: aor.clone(), contact });
        b
    }

    /// Forgets a binding already taken out of its record.
    fn drop_binding(&mut self, aor: &Aor, b: Binding) {
        self.unindex(aor, b.expires);
        self.contacts -= 1;
        let contact = b.contact;
        self.log(aor, || Change::Remove { aor: aor.clone(), contact });
    }

    fn index(&mut self, aor: &Aor, at: UnixMillis) {
        self.expiry.entry(at).or_default().push(aor.clone());
    }

    fn unindex(&mut self, aor: &Aor, at: UnixMillis) {
        if let Some(due) = self.expiry.get_mut(&at) {
            if let Some(i) = due.iter().position(|a| a == aor) {
                due.swap_remove(i);
            }
            if due.is_empty() {
                self.expiry.remove(&at);
            }
        }
    }

    /// `aor`'s bindings changed: its version moves (versions.rs).
    fn bump(&self, aor: &Aor) {
        if let Some((v, shard)) = &self.versions {
            v.bump(*shard, aor.as_bytes());
        }
    }

    /// Records a change of `aor`'s bindings: its version, and the log.
    fn log(&mut self, aor: &Aor, change: impl FnOnce() -> Change) {
        self.bump(aor);
        if self.track_changes {
            self.changes.push(change());
        }
    }
}

/// Kamailio's unspecified q (-1) ranks below q=0.
pub(super) fn q_rank(b: &Binding) -> i32 {
    b.q.map_or(-1, i32::from)
}

/// Where Kamailio mem_insert_ucontact puts a new binding: at the front
/// when newest first, else after every binding with a q at least as high.
fn insert_at(list: &[Binding], b: &Binding, order: ContactOrder) -> usize {
    match order {
        ContactOrder::NewestFirst => 0,
        ContactOrder::ByQ => {
            let q = q_rank(b);
            list.iter().position(|x| q_rank(x) < q).unwrap_or(list.len())
        }
    }
}
