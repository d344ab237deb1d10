//! The Call-ID owner's copies of the lookups AOR owners answered for it,
//! reused while current (registrar/versions.rs says when), so that a call
//! to a user another shard owns crosses shards only the first time.

use crate::ids::ShardId;
use crate::registrar::{Aor, OwnedTarget, UnixMillis, Versions};
use std::collections::HashMap;

/// Answers kept at most; a full cache starts over, which costs crossings
/// until it fills again, never a wrong route.
const MAX_ENTRIES: usize = 4096;

/// The location lookup of an initial request, done by the AOR's owner for
/// the Call-ID's owner (DESIGN.md: lookups from other shards are messages
/// to the owner), with what the receiver needs to judge a later reuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub targets: Vec<OwnedTarget>,
    /// The AOR's version at its owner when it was looked up.
    pub version: u32,
    /// When the first of the bindings looked up expires.
    pub valid_until: UnixMillis,
}

struct Entry {
    owner: ShardId,
    located: Located,
}

/// One shard's cache; inert until the runtime shares the versions.
#[derive(Default)]
pub struct Lookups {
    versions: Option<Versions>,
    entries: HashMap<Aor, Entry, ahash::RandomState>,
}

impl Lookups {
    pub fn share(&mut self, versions: Versions) {
        self.versions = Some(versions);
    }

    /// The version of `aor` at its owner, to send with an answer.
    pub fn version(&self, owner: ShardId, aor: &Aor) -> u32 {
        self.versions.as_ref().map_or(0, |v| v.get(usize::from(owner.0), aor.as_bytes()))
    }

    /// `owner`'s answer for `aor`, if it still holds at `wall`: no binding
    /// of it has expired and the AOR has not changed since.
    pub fn get(&self, aor: &Aor, owner: ShardId, wall: UnixMillis) -> Option<&Located> {
        let entry = self.entries.get(aor)?;
        let current = entry.owner == owner
            && wall < entry.located.valid_until
            && entry.located.version == self.version(owner, aor);
        current.then_some(&entry.located)
    }

    /// Keeps `owner`'s answer for `aor`. Answers without a target (404)
    /// are not kept: any AOR can be asked for, and a miss is cheap.
    pub fn put(&mut self, aor: Aor, owner: ShardId, located: &Located) {
        if self.versions.is_none() || located.targets.is_empty() {
            return;
        }
        if self.entries.len() >= MAX_ENTRIES && !self.entries.contains_key(&aor) {
            self.entries.clear();
        }
        self.entries.insert(aor, Entry { owner, located: located.clone() });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registrar::{BindingFlags, OwnedDestination};
    use crate::sip::transport::Transport;

    fn located(version: u32, valid_until: u64) -> Located {
        let target = OwnedTarget {
            uri: b"sip:bob@10.0.0.5"[..].into(),
            dst: OwnedDestination::Contact,
            path: None,
            local: "192.0.2.1:5060".parse().unwrap(),
            transport: Transport::Udp,
            flags: BindingFlags::default(),
            q: None,
        };
        Located { targets: vec![target], version, valid_until: UnixMillis(valid_until) }
    }

    fn aor(s: &str) -> Aor {
        Aor::from_uri(&crate::sip::Uri::parse(s.as_bytes()).unwrap()).unwrap()
    }

    #[test]
    fn an_answer_holds_until_a_binding_expires_or_the_aor_changes() {
        let versions = Versions::new(2);
        let mut l = Lookups::default();
        let bob = aor("sip:bob@example.com");
        l.put(bob.clone(), ShardId(1), &located(0, 1_000));
        assert!(l.get(&bob, ShardId(1), UnixMillis(10)).is_none(), "no versions shared: inert");
        l.share(versions.clone());
        l.put(bob.clone(), ShardId(1), &located(l.version(ShardId(1), &bob), 1_000));
        assert_eq!(l.get(&bob, ShardId(1), UnixMillis(999)).map(|l| l.targets.len()), Some(1));
        assert!(l.get(&bob, ShardId(1), UnixMillis(1_000)).is_none(), "a binding expired");
        assert!(l.get(&bob, ShardId(0), UnixMillis(10)).is_none(), "another owner's answer");
        versions.bump(1, bob.as_bytes());
        assert!(l.get(&bob, ShardId(1), UnixMillis(10)).is_none(), "the owner changed the AOR");
        assert!(l.get(&aor("sip:alice@example.com"), ShardId(1), UnixMillis(10)).is_none());
    }

    #[test]
    fn empty_answers_are_not_kept_and_a_full_cache_starts_over() {
        let mut l = Lookups::default();
        l.share(Versions::new(2));
        let nobody = aor("sip:nobody@example.com");
        l.put(nobody.clone(), ShardId(1), &Located { targets: Vec::new(), version: 0, valid_until: UnixMillis(9) });
        assert!(l.get(&nobody, ShardId(1), UnixMillis(1)).is_none());
        for i in 0..MAX_ENTRIES {
            let a = aor(&format!("sip:u{i}@example.com"));
            let v = l.version(ShardId(1), &a);
            l.put(a, ShardId(1), &located(v, 1_000));
        }
        assert_eq!(l.entries.len(), MAX_ENTRIES);
        let late = aor("sip:late@example.com");
        let v = l.version(ShardId(1), &late);
        l.put(late.clone(), ShardId(1), &located(v, 1_000));
        assert_eq!(l.entries.len(), 1);
        assert!(l.get(&late, ShardId(1), UnixMillis(1)).is_some());
    }
}
