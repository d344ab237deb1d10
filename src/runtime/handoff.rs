//! The hand-off between shards: a datagram that landed on a shard that
//! does not own it travels, with its source and listener, to the owner
//! over a lock-free channel (one per receiving shard, fed by all others).
//! The sender then wakes the owner's ring once per turn, however many
//! datagrams it queued for it.

use crate::ids::{ListenerId, ShardId};
use crossbeam_channel::{Receiver, Sender, TrySendError};
use std::net::SocketAddr;
use std::os::fd::RawFd;

/// Datagrams queued per owner before senders start dropping: a full queue
/// means the owner is overloaded, and shedding load there is better than
/// stalling the receiving shard too.
const QUEUE: usize = 4096;

pub struct HandOff {
    pub local: ListenerId,
    pub src: SocketAddr,
    pub bytes: Vec<u8>,
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
}

/// Builds the mesh for the shards whose rings are `rings`.
pub fn mesh(rings: &[RawFd]) -> Vec<Mesh> {
    let n = rings.len();
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..n).map(|_| crossbeam_channel::bounded(QUEUE)).unzip();
    rxs.into_iter()
        .enumerate()
        .map(|(me, from)| Mesh {
            to: txs.iter().enumerate().map(|(k, tx)| (k != me).then(|| tx.clone())).collect(),
            from,
            rings: rings.to_vec(),
            pending: vec![false; n],
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

    /// The rings of the shards to wake for what was queued since the last
    /// call.
    pub fn wakes(&mut self) -> impl Iterator<Item = RawFd> + '_ {
        self.pending.iter_mut().zip(&self.rings).filter_map(|(p, &fd)| std::mem::take(p).then_some(fd))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handoff(tag: u8) -> HandOff {
        HandOff { local: ListenerId(0), src: "192.0.2.1:5060".parse().unwrap(), bytes: vec![tag] }
    }

    #[test]
    fn datagrams_reach_their_owner_and_each_owner_is_woken_once() {
        let mut ends = mesh(&[10, 11, 12]);
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
    fn a_full_queue_drops_instead_of_blocking() {
        let mut ends = mesh(&[1, 2]);
        for _ in 0..QUEUE {
            assert!(ends[0].send(ShardId(1), handoff(0)));
        }
        assert!(!ends[0].send(ShardId(1), handoff(0)));
    }
}
