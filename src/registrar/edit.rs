//! A planned change to one AOR's bindings. `save` builds it against the
//! stored record without touching the table, and commits it only when the
//! whole REGISTER is accepted, so a rejected request (423, 400 CSeq, 503
//! max_contacts) changes nothing (DESIGN.md "state is never half-written";
//! Kamailio, by contrast, may have applied the contacts before the failing
//! one).
//!
//! The plan is a list of slots in final lookup order; each is an untouched
//! stored binding or a new value. Inserts and updates are placed exactly as
//! Kamailio's usrloc list operations would place them.

use super::binding::{Binding, UnixMillis};
use super::location::{ContactOrder, q_rank};

/// One entry of the planned record. Slots live for one REGISTER and an
/// AOR has a handful, so `New` stays unboxed (no allocation per binding).
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub(super) enum Slot {
    /// Stored binding at this index, unchanged.
    Old(usize),
    /// A new value, replacing the stored binding at `replaces` if any.
    New { binding: Binding, replaces: Option<usize> },
}

/// The plan, detached from the record it was built against. A stored
/// binding that no slot keeps or replaces was deleted.
#[derive(Debug)]
pub(super) struct EditParts {
    pub slots: Vec<Slot>,
}

pub(super) struct RecordEdit<'r> {
    old: &'r [Binding],
    slots: Vec<Slot>,
    order: ContactOrder,
    now: UnixMillis,
}

impl<'r> RecordEdit<'r> {
    pub fn new(old: &'r [Binding], order: ContactOrder, now: UnixMillis) -> RecordEdit<'r> {
        RecordEdit { old, slots: (0..old.len()).map(Slot::Old).collect(), order, now }
    }

    /// The binding in slot `pos` as the plan stands.
    pub fn view(&self, pos: usize) -> &Binding {
        match &self.slots[pos] {
            Slot::Old(i) => &self.old[*i],
            Slot::New { binding, .. } => binding,
        }
    }

    /// Expired bindings the timer has not swept yet count as absent.
    fn live(&self, pos: usize) -> bool {
        self.view(pos).expires > self.now
    }

    /// The live binding with exactly this contact URI (usrloc matching_mode
    /// 0: byte comparison, urecord.c contact_match).
    pub fn find_contact(&self, contact: &[u8]) -> Option<usize> {
        (0..self.slots.len()).find(|&p| self.live(p) && *self.view(p).contact == *contact)
    }

    /// The live binding with this `+sip.instance` and `reg-id` (RFC 5626
    /// §6; urecord.c get_ucontact_by_instance, `<>` ignored).
    pub fn find_instance(&self, instance: &[u8], reg_id: Option<u32>) -> Option<usize> {
        let instance = strip_angle(instance);
        (0..self.slots.len()).find(|&p| {
            let b = self.view(p);
            self.live(p) && b.reg_id == reg_id && b.instance.as_deref().map(strip_angle) == Some(instance)
        })
    }

    /// Live bindings once the plan is applied (registrar test_max_contacts).
    pub fn valid_count(&self) -> usize {
        (0..self.slots.len()).filter(|&p| self.live(p)).count()
    }

    /// A new binding, placed as usrloc mem_insert_ucontact does.
    pub fn insert(&mut self, binding: Binding) {
        let slot = Slot::New { binding, replaces: None };
        self.place(slot);
    }

    /// Replaces slot `pos`. Kamailio update_contact_pos: newest first moves
    /// it to the front; by q it stays unless its new q breaks the order, and
    /// then goes where an insert would (Kamailio's own re-placement walks
    /// the list in ascending order, a bug not copied).
    pub fn update(&mut self, pos: usize, binding: Binding) {
        let replaces = match self.slots.remove(pos) {
            Slot::Old(i) => Some(i),
            Slot::New { replaces, .. } => replaces,
        };
        let q = q_rank(&binding);
        let in_order =
            (pos == 0 || q_rank(self.view(pos - 1)) >= q) && (pos == self.slots.len() || q_rank(self.view(pos)) <= q);
        let slot = Slot::New { binding, replaces };
        if self.order == ContactOrder::ByQ && in_order {
            self.slots.insert(pos, slot);
        } else {
            self.place(slot);
        }
    }

    /// Deletes slot `pos`.
    pub fn delete(&mut self, pos: usize) {
        self.slots.remove(pos);
    }

    /// Deletes every other slot for which `doomed` holds; returns where
    /// `keep` is afterwards.
    pub fn delete_others(&mut self, keep: usize, doomed: impl Fn(&Binding) -> bool) -> usize {
        let mut keep = keep;
        let mut p = 0;
        while p < self.slots.len() {
            if p != keep && doomed(self.view(p)) {
                self.delete(p);
                if p < keep {
                    keep -= 1;
                }
            } else {
                p += 1;
            }
        }
        keep
    }

    pub fn into_parts(self) -> EditParts {
        EditParts { slots: self.slots }
    }

    fn place(&mut self, slot: Slot) {
        let at = match self.order {
            ContactOrder::NewestFirst => 0,
            ContactOrder::ByQ => {
                let q = match &slot {
                    Slot::Old(i) => q_rank(&self.old[*i]),
                    Slot::New { binding, .. } => q_rank(binding),
                };
                (0..self.slots.len()).find(|&p| q_rank(self.view(p)) < q).unwrap_or(self.slots.len())
            }
        };
        self.slots.insert(at, slot);
    }
}

/// `<urn:uuid:...>` and `urn:uuid:...` name the same instance.
fn strip_angle(s: &[u8]) -> &[u8] {
    match s {
        [b'<', inner @ .., b'>'] => inner,
        _ => s,
    }
}
