//! The hand-off between shards: a datagram that landed on a shard that
//! does not own it travels, with its source and listener, to the owner
//! over a lock-free channel (one per receiving shard, fed by all others).
//! The sender then wakes the owner's ring once per turn, however many
//! datagrams it queued for it, and only if the owner is asleep: each shard
//! raises its `asleep` flag before it waits and looks at its queue once
//! more after that (a Dekker handshake with SeqCst fences on both sides:
//! either the sender sees the flag, or the owner sees the datagram).

use crate::engine::Located;
use crate::ids::{ListenerId, ShardId};
use crossbeam_channel::{Receiver, Sender, TrySendError};
use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering, fence};

/// Datagrams queued per owner before senders start dropping: a full queue
/// means the owner is overloaded, and shedding load there is better than
/// stalling the receiving shard too.
const QUEUE: usize = 4096;

pub struct HandOff {
    pub local: ListenerId,
    pub src: SocketAddr,
    pub bytes: Vec<u8>,
    /// An initial request's lookup, done by the AOR's owner for the
    /// Call-ID's owner.
    pub located: Option<Located>,
}

/// One shard's ends of the mesh.
pub struct Mesh {
    /// `to[k]` queues for shard k (`None` for itself).
    to: Vec<Option<Sender<HandOff>>>,
    from: Receiver<HandOff>,
    /// Every shard's ring, to wake it.
    rings: Vec<RawFd>,
    /// Shards this one queued datagrams for since the last `wakes`.
    pending: Vec<bool>,
    /// Per shard: it is (about to be) waiting in its ring.
    asleep: Arc<[AtomicBool]>,
    me: usize,
}

/// Builds the mesh for the shards whose rings are `rings`.
pub fn mesh(rings: &[RawFd]) -> Vec<Mesh> {
    let n = rings.len();
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..n).map(|_| crossbeam_channel::bounded(QUEUE)).unzip();
    let asleep: Arc<[AtomicBool]> = (0..n).map(|_| AtomicBool::new(false)).collect();
    rxs.into_iter()
        .enumerate()
        .map(|(me, from)| Mesh {
            to: txs.iter().enumerate().map(|(k, tx)| (k != me).then(|| tx.clone())).collect(),
            from,
            rings: rings.to_vec(),
            pending: vec![false; n],
            asleep: Arc::clone(&asleep),
            me,
        })
        .collect()
}

impl Mesh {
    /// Queues a datagram for its owner; `false` when the owner's queue is
    /// full (the datagram is dropped, and the sender retransmits).
    pub fn send(&mut self, owner: ShardId, msg: HandOff) -> bool {
        let k = usize::from(owner.0);
        let Some(tx) = self.to.get(k).and_then(Option::as_ref) else {
            return false;
        };
        match tx.try_send(msg) {
            Ok(()) => {
                self.pending[k] = true;
                true
            }
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
        }
    }

    /// The next datagram other shards handed to this one.
    pub fn recv(&self) -> Option<HandOff> {
        self.from.try_recv().ok()
    }

    /// Before waiting: marks this shard asleep, then says whether it may
    /// block (`false`: a datagram arrived meanwhile, or one may already be
    /// queued by a sender that saw the flag down).
    pub fn may_sleep(&self) -> bool {
        self.asleep[self.me].store(true, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        self.from.is_empty()
    }

    /// After waiting.
    pub fn awake(&self) {
        self.asleep[self.me].store(false, Ordering::Relaxed);
    }

    /// The rings of the asleep shards to wake for what was queued since
    /// the last call. An awake owner drains its queue before it sleeps.
    pub fn wakes(&mut self) -> impl Iterator<Item = RawFd> + '_ {
        fence(Ordering::SeqCst);
        let asleep = &self.asleep;
        self.pending
            .iter_mut()
            .zip(&self.rings)
            .enumerate()
            .filter_map(move |(k, (p, &fd))| (std::mem::take(p) && asleep[k].load(Ordering::SeqCst)).then_some(fd))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handoff(tag: u8) -> HandOff {
        HandOff { local: ListenerId(0), src: "192.0.2.1:5060".parse().unwrap(), bytes: vec![tag], located: None }
    }

    #[test]
    fn datagrams_reach_their_owner_and_each_owner_is_woken_once() {
        let mut ends = mesh(&[10, 11, 12]);
        assert!(ends[1].may_sleep() && ends[2].may_sleep());
        assert!(ends[0].send(ShardId(2), handoff(1)));
        assert!(ends[0].send(ShardId(2), handoff(2)));
        assert!(ends[0].send(ShardId(1), handoff(3)));
        assert!(!ends[0].send(ShardId(0), handoff(4)), "no channel to itself");
        assert!(!ends[0].send(ShardId(9), handoff(5)), "no such shard");
        assert_eq!(ends[0].wakes().collect::<Vec<_>>(), vec![11, 12]);
        assert_eq!(ends[0].wakes().count(), 0, "woken once per batch");
        let got: Vec<u8> = std::iter::from_fn(|| ends[2].recv()).map(|h| h.bytes[0]).collect();
        assert_eq!(got, vec![1, 2]);
        assert_eq!(ends[1].recv().map(|h| h.bytes), Some(vec![3]));
        assert!(ends[0].recv().is_none());
    }

    #[test]
    fn an_awake_owner_is_not_woken_and_a_queued_datagram_keeps_it_up() {
        let mut ends = mesh(&[10, 11]);
        ends[1].awake();
        assert!(ends[0].send(ShardId(1), handoff(1)));
        assert_eq!(ends[0].wakes().count(), 0, "awake: it drains before sleeping");
        assert!(!ends[1].may_sleep(), "a datagram is queued: do not block");
        assert!(ends[1].recv().is_some());
        assert!(ends[1].may_sleep());
        assert!(ends[0].send(ShardId(1), handoff(2)));
        assert_eq!(ends[0].wakes().collect::<Vec<_>>(), vec![11]);
    }

    #[test]
    fn a_full_queue_drops_instead_of_blocking() {
        let mut ends = mesh(&[1, 2]);
        for _ in 0..QUEUE {
            assert!(ends[0].send(ShardId(1), handoff(0)));
        }
        assert!(!ends[0].send(ShardId(1), handoff(0)));
    }
}
