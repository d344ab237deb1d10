//! Which shard owns a message (DESIGN.md: location records by
//! `hash(AOR) % N`, transactions and dialogs by `hash(Call-ID) % N`).

use crate::ids::ShardId;
use crate::registrar::Aor;
use crate::sip::{Message, Method};

/// Hashes keys to shards with one seed for the whole process, so every
/// shard computes the same owner for the same key.
#[derive(Clone)]
pub struct Sharder {
    seed: u64,
    shards: u16,
}

impl Sharder {
    pub fn new(seed: u64, shards: u16) -> Sharder {
        Sharder { seed, shards: shards.max(1) }
    }

    pub fn shards(&self) -> u16 {
        self.shards
    }

    /// The process's seed: the kernel's steering program (runtime/steer.rs)
    /// hashes Call-IDs and REGISTER users with it too.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The owner of a parsed message, or `None` when it carries no usable
    /// key (it is then handled where it landed: it can only be rejected).
    pub fn owner(&self, msg: &Message<'_>) -> Option<ShardId> {
        if self.shards == 1 {
            return Some(ShardId(0));
        }
        if msg.method() == Some(Method::Register) {
            let to = msg.to().ok()?;
            return Aor::from_uri(&to.uri).ok().map(|a| self.by_aor(&a));
        }
        msg.call_id().map(|id| self.by_call_id(id))
    }

    /// The owner of a Call-ID: [`key_hash`], because the kernel computes
    /// the same hash to deliver each datagram to this shard in the first
    /// place (runtime/steer.rs).
    pub fn by_call_id(&self, call_id: &[u8]) -> ShardId {
        self.pick(u64::from(key_hash(self.seed, call_id)))
    }

    /// The owner of an AOR's bindings: [`key_hash`] of its normalised key
    /// (`Aor::from_uri`) up to the last `@`, the user part alone, so every
    /// spelling of one AOR, and every restored record, lands on the same
    /// shard, and the kernel can compute the owner of a REGISTER from its
    /// To URI (runtime/steer.rs). An AOR without a user hashes whole.
    pub fn by_aor(&self, aor: &Aor) -> ShardId {
        let key = aor.as_bytes();
        let user = memchr::memrchr(b'@', key).map_or(key, |at| &key[..at]);
        self.pick(u64::from(key_hash(self.seed, user)))
    }

    fn pick(&self, hash: u64) -> ShardId {
        ShardId((hash % u64::from(self.shards)) as u16)
    }
}

const FNV_BASIS: u32 = 0x811c_9dc5;
const FNV_PRIME: u32 = 0x0100_0193;

/// The hash of a sharding key (a Call-ID value, an AOR's user part):
/// FNV-1a 32 from a basis mixed with the process's `seed`, finished with
/// murmur3's fmix32 so every input bit reaches the low bits a modulo keeps.
/// Simple enough for the eBPF program that steers datagrams in the kernel
/// to compute it byte by byte.
pub fn key_hash(seed: u64, value: &[u8]) -> u32 {
    let mut h = FNV_BASIS ^ (seed as u32);
    for &b in value {
        h = (h ^ u32::from(b)).wrapping_mul(FNV_PRIME);
    }
    fmix32(h)
}

fn fmix32(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::Uri;

    #[test]
    fn aor_spellings_share_an_owner() {
        let s = Sharder::new(7, 16);
        let aor = |t: &[u8]| Aor::from_uri(&Uri::parse(t).unwrap()).unwrap();
        let a = aor(b"sip:alice@Example.COM");
        let b = aor(b"sip:%61lice@example.com;transport=udp");
        assert_eq!(s.by_aor(&a), s.by_aor(&b));
    }

    #[test]
    fn key_hash_is_seeded() {
        assert_eq!(key_hash(0, b""), fmix32(FNV_BASIS));
        assert_ne!(key_hash(1, b"a@b"), key_hash(2, b"a@b"));
        let s = Sharder::new(9, 2);
        assert_eq!(s.by_call_id(b"x@y").0 as u32, key_hash(9, b"x@y") % 2);
    }

    #[test]
    fn call_ids_spread() {
        let s = Sharder::new(7, 4);
        let mut seen = [0u32; 4];
        for i in 0..4000 {
            seen[s.by_call_id(format!("call-{i}@host").as_bytes()).0 as usize] += 1;
        }
        assert!(seen.iter().all(|&n| n > 800), "{seen:?}");
    }
}
