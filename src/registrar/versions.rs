//! Versions of each shard's location table, so that a shard may reuse a
//! lookup another shard answered for it.
//!
//! An initial request to one of our users needs the lookup of its AOR's
//! owner, and its transaction lives with its Call-ID's owner: without a
//! cache, every such call whose two owners differ crosses shards twice
//! (Call-ID owner → AOR owner → Call-ID owner), each crossing a wake-up of
//! a sleeping shard. The Call-ID owner keeps the answer it was handed; it
//! may reuse it while the AOR's version is the one the answer was computed
//! at and no binding in it has expired.
//!
//! Each shard bumps the version of an AOR's bucket on every change to the
//! AOR's bindings (save, expiry, the usrloc RPCs), before the reply that
//! announces the change is sent: a request that follows a REGISTER's 200
//! finds the cached answer stale. Only the owner writes a shard's versions;
//! the others read them, one atomic load per reuse. AORs share buckets, so
//! a change can also invalidate other AORs' answers, which costs a
//! crossing, never a wrong route.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// Buckets per shard (a power of two).
const BUCKETS: usize = 1024;

/// Every shard's bucket versions, shared by all shards.
#[derive(Clone, Debug)]
pub struct Versions {
    shards: Arc<[Box<[AtomicU32]>]>,
    hasher: ahash::RandomState,
}

impl Versions {
    pub fn new(shards: usize) -> Versions {
        let shards = (0..shards.max(1)).map(|_| (0..BUCKETS).map(|_| AtomicU32::new(0)).collect()).collect();
        // Fixed seeds: the same AOR maps to the same bucket on every shard.
        let hasher = ahash::RandomState::with_seeds(0x7665_7273, 0x696f_6e73, 0x5349_5045, 0x4447_4521);
        Versions { shards, hasher }
    }

    fn slot(&self, shard: usize, aor: &[u8]) -> Option<&AtomicU32> {
        let bucket = self.hasher.hash_one(aor) as usize & (BUCKETS - 1);
        self.shards.get(shard).map(|b| &b[bucket])
    }

    /// By the owner `shard`, once `aor`'s bindings changed.
    pub fn bump(&self, shard: usize, aor: &[u8]) {
        if let Some(v) = self.slot(shard, aor) {
            v.fetch_add(1, Ordering::Release);
        }
    }

    /// The version of `aor` at its owner `shard`.
    pub fn get(&self, shard: usize, aor: &[u8]) -> u32 {
        self.slot(shard, aor).map_or(0, |v| v.load(Ordering::Acquire))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bump_changes_the_aors_version_at_its_owner_only() {
        let v = Versions::new(2);
        let (a, b) = (v.get(0, b"alice@example.com"), v.get(1, b"alice@example.com"));
        v.bump(0, b"alice@example.com");
        assert_eq!(v.get(0, b"alice@example.com"), a.wrapping_add(1));
        assert_eq!(v.get(1, b"alice@example.com"), b);
        // Shared: a clone sees the owner's bumps.
        let seen = v.clone();
        v.bump(0, b"alice@example.com");
        assert_eq!(seen.get(0, b"alice@example.com"), a.wrapping_add(2));
        assert_eq!(v.get(7, b"alice@example.com"), 0, "no such shard");
    }
}
