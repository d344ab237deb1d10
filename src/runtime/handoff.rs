//! The hand-off between shards: a datagram that landed on a shard that
//! does not own it travels, with its source and listener, to the owner
//! over a lock-free single-producer channel (one per ordered shard pair).

use crate::ids::{ListenerId, ShardId};
use glommio::channels::shared_channel::{self, ConnectedReceiver, ConnectedSender, SharedReceiver, SharedSender};
use std::net::SocketAddr;

/// Datagrams queued per shard pair before the sender starts dropping:
/// a full queue means the owner is overloaded, and shedding load there is
/// better than stalling the receiving shard too.
const QUEUE: usize = 4096;

pub struct HandOff {
    pub local: ListenerId,
    pub src: SocketAddr,
    pub bytes: Vec<u8>,
}

/// One shard's ends of the mesh, before the shard's executor connects them.
pub struct MeshEnds {
    /// `to[k]` sends to shard k (`None` for itself).
    to: Vec<Option<SharedSender<HandOff>>>,
    from: Vec<SharedReceiver<HandOff>>,
}

/// Builds the full mesh for `n` shards.
pub fn mesh(n: usize) -> Vec<MeshEnds> {
    let mut ends: Vec<MeshEnds> =
        (0..n).map(|_| MeshEnds { to: (0..n).map(|_| None).collect(), from: Vec::new() }).collect();
    for i in 0..n {
        for j in (0..n).filter(|&j| j != i) {
            let (tx, rx) = shared_channel::new_bounded(QUEUE);
            ends[i].to[j] = Some(tx);
            ends[j].from.push(rx);
        }
    }
    ends
}

/// The connected ends, usable inside the shard's executor.
pub struct Mesh {
    to: Vec<Option<ConnectedSender<HandOff>>>,
    pub from: Vec<ConnectedReceiver<HandOff>>,
}

impl MeshEnds {
    /// Connects every end. A sender's `connect` waits for its receiver's,
    /// so the ends connect as concurrent tasks: awaiting them one by one
    /// would deadlock two shards that each wait for the other first.
    pub async fn connect(self) -> Mesh {
        let senders: Vec<_> = self
            .to
            .into_iter()
            .map(|s| {
                glommio::spawn_local(async move {
                    match s {
                        Some(s) => Some(s.connect().await),
                        None => None,
                    }
                })
            })
            .collect();
        let receivers: Vec<_> = self.from.into_iter().map(|r| glommio::spawn_local(r.connect())).collect();
        let mut to = Vec::with_capacity(senders.len());
        for t in senders {
            to.push(t.await);
        }
        let mut from = Vec::with_capacity(receivers.len());
        for t in receivers {
            from.push(t.await);
        }
        Mesh { to, from }
    }
}

impl Mesh {
    /// Queues a datagram for its owner; `false` when the owner's queue is
    /// full (the datagram is dropped, and the sender retransmits).
    pub fn send(&self, owner: ShardId, msg: HandOff) -> bool {
        match self.to.get(usize::from(owner.0)).and_then(Option::as_ref) {
            Some(tx) => tx.try_send(msg).is_ok(),
            None => false,
        }
    }
}
