//! Which shard owns a message (DESIGN.md: location records by
//! `hash(AOR) % N`, transactions and dialogs by `hash(Call-ID) % N`).

use crate::ids::ShardId;
use crate::sip::{Message, Method, Uri};
use std::hash::{BuildHasher, Hasher};

/// Hashes keys to shards with one seed for the whole process, so every
/// shard computes the same owner for the same key.
#[derive(Clone)]
pub struct Sharder {
    hasher: ahash::RandomState,
    shards: u16,
}

impl Sharder {
    pub fn new(seed: u64, shards: u16) -> Sharder {
        Sharder {
            hasher: ahash::RandomState::with_seeds(
                seed,
                seed ^ 0x9e37_79b9_7f4a_7c15,
                0x5165_6467_6573_6970,
                !seed,
            ),
            shards: shards.max(1),
        }
    }

    pub fn shards(&self) -> u16 {
        self.shards
    }

    /// The owner of a parsed message, or `None` when it carries no usable
    /// key (it is then handled where it landed: it can only be rejected).
    pub fn owner(&self, msg: &Message<'_>) -> Option<ShardId> {
        if self.shards == 1 {
            return Some(ShardId(0));
        }
        if msg.method() == Some(Method::Register) {
            let to = msg.to().ok()?;
            return Some(self.by_aor(&to.uri));
        }
        msg.call_id().map(|id| self.by_call_id(id))
    }

    pub fn by_call_id(&self, call_id: &[u8]) -> ShardId {
        let mut h = self.hasher.build_hasher();
        h.write(call_id);
        self.pick(h.finish())
    }

    /// The AOR is user@host with the user's escapes decoded and the host
    /// lower-cased (RFC 3261 §10.3 step 5, §19.1.4), so every spelling of
    /// one AOR lands on the same shard.
    pub fn by_aor(&self, uri: &Uri<'_>) -> ShardId {
        let mut h = self.hasher.build_hasher();
        if let Some(user) = uri.user {
            feed_unescaped(&mut h, user);
        }
        h.write_u8(b'@');
        for b in uri.host_text {
            h.write_u8(b.to_ascii_lowercase());
        }
        self.pick(h.finish())
    }

    fn pick(&self, hash: u64) -> ShardId {
        ShardId((hash % u64::from(self.shards)) as u16)
    }
}

fn feed_unescaped(h: &mut impl Hasher, s: &[u8]) {
    let mut i = 0;
    while i < s.len() {
        let decoded = (s[i] == b'%')
            .then(|| s.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok());
        match decoded {
            Some(b) => {
                h.write_u8(b);
                i += 3;
            }
            None => {
                h.write_u8(s[i]);
                i += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aor_spellings_share_an_owner() {
        let s = Sharder::new(7, 16);
        let a = Uri::parse(b"sip:alice@Example.COM").unwrap();
        let b = Uri::parse(b"sip:%61lice@example.com;transport=udp").unwrap();
        assert_eq!(s.by_aor(&a), s.by_aor(&b));
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
