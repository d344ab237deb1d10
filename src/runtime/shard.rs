//! One shard: its ring (sockets, hand-off wake-ups, fsyncs), its engine
//! and store, its end of the hand-off mesh. The shard is a loop of turns;
//! each turn is one `io_uring_enter` that sends what the previous turn
//! produced and waits for datagrams, wake-ups or the next timer.

use super::control::ShardCmd;
use super::handoff::{HandOff, Mesh};
use super::persist::{Gate, Persistence};
use super::ring::{Event, Ring};
use crate::control::usrloc::UlOp;
use crate::engine::{Datagram, Disposition, Engine, Transmit};
use crate::ids::ListenerId;
use std::fs::File;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Longest a turn waits, which bounds how late a shard notices a stop
/// request or a control command, and the cadence of the store's tick.
const MAX_SLEEP: Duration = Duration::from_millis(50);

pub struct ShardParts {
    pub engine: Engine,
    pub ring: Ring,
    pub mesh: Mesh,
    pub persist: Persistence,
    /// usrloc operations from the control listener.
    pub control: crossbeam_channel::Receiver<ShardCmd>,
    pub stop: Arc<AtomicBool>,
}

/// An fsync in flight, with the replies that wait for it (db_mode 1).
struct PendingSync {
    token: u32,
    /// Kept open until the fsync completes.
    _file: File,
    replies: Option<Vec<Transmit>>,
}

struct Shard {
    engine: Engine,
    persist: Persistence,
    ring: Ring,
    mesh: Mesh,
    control: crossbeam_channel::Receiver<ShardCmd>,
    syncs: Vec<PendingSync>,
    next_token: u32,
    next_tick: Instant,
    /// Replies released by a finished fsync, sent this turn.
    released: Vec<Transmit>,
    /// Replies waiting for a background compaction to end (db_mode 1).
    held: Vec<Transmit>,
}

/// Runs the shard until the stop flag is set. An error means its ring
/// could not start or failed; the shard's state is flushed either way.
pub fn run(parts: ShardParts) -> io::Result<()> {
    let ShardParts { engine, ring, mesh, persist, control, stop } = parts;
    let mut shard = Shard {
        engine,
        persist,
        ring,
        mesh,
        control,
        syncs: Vec::new(),
        next_token: 0,
        next_tick: Instant::now(),
        released: Vec::new(),
        held: Vec::new(),
    };
    let mut result = shard.ring.start();
    while result.is_ok() && !stop.load(Ordering::Relaxed) {
        result = shard.turn();
    }
    shard.finish();
    result
}

impl Shard {
    fn turn(&mut self) -> io::Result<()> {
        let now = Instant::now();
        let next = self.engine.poll_timeout().map_or(self.next_tick, |t| t.min(self.next_tick));
        let mut wait = next.saturating_duration_since(now).min(MAX_SLEEP);
        if !self.mesh.may_sleep() {
            wait = Duration::ZERO;
        }
        let Shard { engine, persist, ring, mesh, syncs, released, .. } = self;
        ring.wait(wait, |event| match event {
            Event::Datagram { listener, src, bytes } => {
                let local = ListenerId(listener as u16);
                let disposition = engine.handle_datagram(Instant::now(), Datagram { local, src, bytes });
                hand_off(mesh, disposition, local, src, bytes);
            }
            Event::Sent { payload, result } => {
                if let Err(e) = result {
                    log::debug!("send failed: {e}");
                }
                engine.recycle(payload);
            }
            Event::Synced { token, result } => settle(syncs, persist, token, result, released, engine),
            Event::Woken => {}
        })?;
        self.mesh.awake();
        let now = Instant::now();
        while let Some(h) = self.mesh.recv() {
            let d = Datagram { local: h.local, src: h.src, bytes: &h.bytes };
            let disposition = self.engine.handle_handoff(now, d, h.located);
            hand_off(&mut self.mesh, disposition, h.local, h.src, &h.bytes);
        }
        if self.engine.poll_timeout().is_some_and(|t| t <= now) {
            self.engine.handle_timeout(now);
        }
        self.commands(now);
        if now >= self.next_tick {
            self.next_tick = now + MAX_SLEEP;
            if let Some(file) = self.persist.on_tick(&mut self.engine, now) {
                self.begin_sync(file, None);
            }
            if self.persist.poll_compaction() && !self.held.is_empty() {
                let held = std::mem::take(&mut self.held);
                let gate = self.persist.release();
                self.pass(gate, held);
            }
        }
        for t in std::mem::take(&mut self.released) {
            self.transmit(t);
        }
        self.flush();
        let Shard { ring, mesh, .. } = self;
        for fd in mesh.wakes() {
            ring.wake(fd);
        }
        Ok(())
    }

    /// usrloc and dialog operations from the control listener.
    fn commands(&mut self, now: Instant) {
        while let Ok(cmd) = self.control.try_recv() {
            match cmd {
                ShardCmd::Usrloc { op, reply } => {
                    let flush = matches!(op, UlOp::Flush);
                    let r = self.engine.usrloc(op, now);
                    if flush {
                        self.persist.flush_now(&mut self.engine);
                    }
                    let _ = reply.send(r);
                }
                ShardCmd::Dialog { op, reply } => {
                    let _ = reply.send(self.engine.dialog_rpc(op, now));
                }
            }
        }
    }

    /// Queues everything the engine produced, once the changes those
    /// replies announce are stored as `db_mode` requires.
    fn flush(&mut self) {
        let gate = self.persist.gate(&mut self.engine);
        if matches!(gate, Gate::Send) {
            while let Some(t) = self.engine.poll_transmit() {
                self.transmit(t);
            }
            return;
        }
        // Only the replies queued by now are covered by this gate: later
        // ones pass their own.
        let batch: Vec<Transmit> = std::iter::from_fn(|| self.engine.poll_transmit()).collect();
        self.pass(gate, batch);
    }

    fn pass(&mut self, gate: Gate, batch: Vec<Transmit>) {
        match gate {
            Gate::Send => batch.into_iter().for_each(|t| self.transmit(t)),
            Gate::Withhold => batch.into_iter().for_each(|t| self.engine.recycle(t.payload)),
            Gate::SyncFirst(file) => self.begin_sync(file, Some(batch)),
            Gate::Hold => self.held.extend(batch),
        }
    }

    fn begin_sync(&mut self, file: File, replies: Option<Vec<Transmit>>) {
        let token = self.next_token;
        self.next_token = self.next_token.wrapping_add(1);
        if self.ring.fsync(&file, token) {
            self.syncs.push(PendingSync { token, _file: file, replies });
        } else {
            let err = io::Error::other("fsync could not be queued");
            self.syncs.push(PendingSync { token, _file: file, replies });
            settle(&mut self.syncs, &mut self.persist, token, Err(err), &mut self.released, &mut self.engine);
        }
    }

    fn transmit(&mut self, t: Transmit) {
        if let Err(payload) = self.ring.send(usize::from(t.local.0), t.dst, t.payload) {
            log::debug!("send to {} not queued", t.dst);
            self.engine.recycle(payload);
        }
    }

    /// Stops receiving, lets fsyncs and sends in flight finish (replies
    /// an fsync releases still go out), then flushes the store.
    fn finish(&mut self) {
        let Shard { engine, persist, ring, syncs, released, .. } = self;
        ring.shutdown(|event| match event {
            Event::Sent { payload, .. } => engine.recycle(payload),
            Event::Synced { token, result } => settle(syncs, persist, token, result, released, engine),
            Event::Datagram { .. } | Event::Woken => {}
        });
        // Replies that could still leave are not worth a new ring turn:
        // the UA retransmits to the restarted proxy.
        for t in self.released.drain(..).chain(self.held.drain(..)) {
            self.engine.recycle(t.payload);
        }
        self.engine.shutdown();
        self.persist.shutdown(&mut self.engine);
    }
}

/// An fsync finished: tell the store, and release (or drop, when it
/// failed) the replies that waited for it.
fn settle(
    syncs: &mut Vec<PendingSync>,
    persist: &mut Persistence,
    token: u32,
    result: io::Result<()>,
    released: &mut Vec<Transmit>,
    engine: &mut Engine,
) {
    let Some(i) = syncs.iter().position(|s| s.token == token) else {
        return;
    };
    let sync = syncs.swap_remove(i);
    let durable = result.is_ok();
    persist.synced(result);
    for t in sync.replies.into_iter().flatten() {
        if durable {
            released.push(t);
        } else {
            engine.recycle(t.payload);
        }
    }
}

/// Passes a datagram to the shard the engine named, if it named one.
fn hand_off(mesh: &mut Mesh, disposition: Disposition, local: ListenerId, src: SocketAddr, bytes: &[u8]) {
    let (owner, located) = match disposition {
        Disposition::Done => return,
        Disposition::HandOff(owner) => (owner, None),
        Disposition::HandOffLocated(owner, located) => (owner, Some(located)),
    };
    if !mesh.send(owner, HandOff { local, src, bytes: bytes.to_vec(), located }) {
        log::debug!("hand-off queue to shard {} full: datagram dropped", owner.0);
    }
}
