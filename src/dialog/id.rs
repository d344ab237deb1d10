//! Dialog identity: the owned `(Call-ID, From tag, To tag)` triple of
//! RFC 3261 §12, the borrowed key an in-dialog message presents, and
//! Kamailio's external `h_entry:h_id` handle (dlg_hash.c `link_dlg`).

use crate::ids::ShardId;
use std::borrow::Borrow;
use std::fmt;

/// A Call-ID as received. RFC 3261 §20.8: Call-IDs compare byte for byte,
/// case-sensitive.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallId(Box<[u8]>);

/// A From or To tag. Compared byte for byte, as Kamailio's `match_dialog`
/// does (strncmp).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(Box<[u8]>);

macro_rules! bytes_newtype {
    ($t:ident) => {
        impl $t {
            pub fn new(bytes: &[u8]) -> $t {
                $t(bytes.into())
            }

            pub fn as_bytes(&self) -> &[u8] {
                &self.0
            }
        }

        // Hashes like `[u8]` (the derive hashes the one field), so maps keyed
        // by the newtype are searched with a borrowed slice.
        impl Borrow<[u8]> for $t {
            fn borrow(&self) -> &[u8] {
                &self.0
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&String::from_utf8_lossy(&self.0))
            }
        }

        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($t), String::from_utf8_lossy(&self.0))
            }
        }
    };
}

bytes_newtype!(CallId);
bytes_newtype!(Tag);

/// Which way a request travels in a dialog (Kamailio `DLG_DIR_*`). The
/// caller is the UAC of the initial INVITE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Caller to callee: From tag is the caller's tag.
    Downstream,
    /// Callee to caller: From and To are swapped.
    Upstream,
}

/// A dialog's identity, oriented as in the initial INVITE: `from_tag` is
/// the caller's, `to_tag` the callee's (RFC 3261 §12: "Call-ID, local tag
/// and remote tag").
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DialogId {
    pub call_id: CallId,
    pub from_tag: Tag,
    pub to_tag: Tag,
}

impl DialogId {
    /// How a message with this key belongs to the dialog, if it does.
    pub fn matches(&self, key: &DialogKey<'_>) -> Option<Direction> {
        if key.call_id != self.call_id.as_bytes() {
            return None;
        }
        key.direction(self.from_tag.as_bytes(), Some(self.to_tag.as_bytes()))
    }
}

/// The identity a message presents, borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DialogKey<'a> {
    pub call_id: &'a [u8],
    pub from_tag: &'a [u8],
    pub to_tag: Option<&'a [u8]>,
}

impl DialogKey<'_> {
    /// RFC 3261 §12.2.2: a request matches a dialog when its Call-ID, From
    /// tag and To tag equal the dialog's Call-ID, remote tag and local tag,
    /// from either end. Until the callee tag is known only the caller tag
    /// can be checked (Kamailio `match_dialog` with an empty callee tag).
    /// The Call-ID is the caller's to compare.
    pub fn direction(&self, caller: &[u8], callee: Option<&[u8]>) -> Option<Direction> {
        match callee {
            Some(callee) => {
                if self.from_tag == caller && self.to_tag == Some(callee) {
                    Some(Direction::Downstream)
                } else if self.from_tag == callee && self.to_tag == Some(caller) {
                    Some(Direction::Upstream)
                } else {
                    None
                }
            }
            None if self.from_tag == caller => Some(Direction::Downstream),
            None if self.to_tag == Some(caller) => Some(Direction::Upstream),
            None => None,
        }
    }
}

/// Kamailio's external dialog handle, used by `dlg.end_dlg h_entry h_id`
/// and printed by `dlg.list`: the hash slot of the Call-ID and an id unique
/// within the slot. `h_id` is never 0 (Kamailio keeps 0 for "none").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DialogHandle {
    pub h_entry: u32,
    pub h_id: u32,
}

impl fmt::Display for DialogHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.h_entry, self.h_id)
    }
}

/// Hands out handles for one shard. `h_entry` is CRC-32 of the Call-ID
/// modulo `hash_size`: stable across processes and restarts, as an operator
/// handle should be (Kamailio uses `core_hash`). `h_id` comes from a
/// per-shard counter interleaved over the shards (`1 + shard + n·shards`),
/// so handles never collide between shards and [`handle_owner`] routes an
/// RPC to the shard that holds the dialog.
#[derive(Debug, Clone)]
pub(super) struct Handles {
    hash_size: u32,
    shard: u32,
    shards: u32,
    next: u32,
}

impl Handles {
    pub(super) fn new(hash_size: u32, shard: ShardId, shards: u16) -> Handles {
        let shards = u32::from(shards.max(1));
        Handles { hash_size: hash_size.max(1), shard: u32::from(shard.0) % shards, shards, next: 0 }
    }

    pub(super) fn h_entry(&self, call_id: &[u8]) -> u32 {
        crc32fast::hash(call_id) % self.hash_size
    }

    pub(super) fn allocate(&mut self, call_id: &[u8]) -> DialogHandle {
        let h_id = self.next.wrapping_mul(self.shards).wrapping_add(self.shard).wrapping_add(1);
        // Wrap before `h_id` would overflow, keeping the shard residue.
        self.next = if self.next >= (u32::MAX - self.shard - 1) / self.shards { 0 } else { self.next + 1 };
        DialogHandle { h_entry: self.h_entry(call_id), h_id }
    }
}

/// The shard that allocated a handle, for routing `dlg.end_dlg`.
pub fn handle_owner(handle: DialogHandle, shards: u16) -> Option<ShardId> {
    let shards = u32::from(shards.max(1));
    let index = handle.h_id.checked_sub(1)? % shards;
    u16::try_from(index).ok().map(ShardId)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key<'a>(from: &'a [u8], to: Option<&'a [u8]>) -> DialogKey<'a> {
        DialogKey { call_id: b"c1", from_tag: from, to_tag: to }
    }

    #[test]
    fn matching_either_direction() {
        let id = DialogId { call_id: CallId::new(b"c1"), from_tag: Tag::new(b"a"), to_tag: Tag::new(b"b") };
        assert_eq!(id.matches(&key(b"a", Some(b"b"))), Some(Direction::Downstream));
        assert_eq!(id.matches(&key(b"b", Some(b"a"))), Some(Direction::Upstream));
        assert_eq!(id.matches(&key(b"a", Some(b"x"))), None);
        assert_eq!(id.matches(&key(b"a", None)), None);
        assert_eq!(id.matches(&DialogKey { call_id: b"C1", from_tag: b"a", to_tag: Some(b"b") }), None);
        // Callee tag not known yet: the caller tag decides.
        assert_eq!(key(b"a", Some(b"x")).direction(b"a", None), Some(Direction::Downstream));
        assert_eq!(key(b"x", Some(b"a")).direction(b"a", None), Some(Direction::Upstream));
        assert_eq!(key(b"x", Some(b"y")).direction(b"a", None), None);
    }

    #[test]
    fn handles_are_stable_and_route_to_their_shard() {
        let mut h = Handles::new(4096, ShardId(2), 4);
        let a = h.allocate(b"call-1");
        let b = h.allocate(b"call-1");
        assert_eq!(a.h_entry, b.h_entry);
        assert!(a.h_entry < 4096);
        assert_eq!((a.h_id, b.h_id), (3, 7));
        assert_eq!(handle_owner(a, 4), Some(ShardId(2)));
        assert_eq!(handle_owner(b, 4), Some(ShardId(2)));
        assert_eq!(handle_owner(DialogHandle { h_entry: 0, h_id: 0 }, 4), None);
        assert_eq!(a.to_string(), format!("{}:3", a.h_entry));
    }

    #[test]
    fn counter_wraps_without_zero() {
        let mut h = Handles::new(16, ShardId(3), 4);
        h.next = (u32::MAX - 3 - 1) / 4;
        let last = h.allocate(b"x");
        assert_eq!(handle_owner(last, 4), Some(ShardId(3)));
        let first = h.allocate(b"x");
        assert_eq!(first.h_id, 4);
    }
}
