//! One shard: a glommio executor pinned to its core, its sockets, its
//! engine, its ends of the hand-off mesh and its timer loop.

use super::control::ShardCmd;
use super::handoff::{HandOff, Mesh, MeshEnds};
use super::persist::{Gate, Persistence};
use crate::control::usrloc::UlOp;
use crate::engine::{Datagram, Disposition, Engine, TIMER_TICK, Transmit};
use crate::ids::ListenerId;
use glommio::net::UdpSocket;
use glommio::{Task, spawn_local};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Largest UDP payload; the engine itself enforces `core.max_msg_size`.
const RECV_BUF: usize = 65536;
/// Concurrent receives per socket: more than one lets io_uring keep a
/// receive armed while the previous datagram is processed and answered.
const RECEIVERS_PER_SOCKET: usize = 2;
/// Longest the timer loop sleeps, which bounds how late a shard notices a
/// stop request or a timer armed by a datagram.
const MAX_SLEEP: Duration = Duration::from_millis(50);

pub struct ShardParts {
    pub engine: Engine,
    pub sockets: Vec<socket2::Socket>,
    pub mesh: MeshEnds,
    pub persist: Persistence,
    /// usrloc operations from the control listener.
    pub control: crossbeam_channel::Receiver<ShardCmd>,
    pub stop: Arc<AtomicBool>,
}

/// The engine and its store, shared by the shard's tasks (one thread, so
/// a RefCell; no borrow is ever held across an await).
struct Core {
    engine: Engine,
    persist: Persistence,
}

type Shared = Rc<RefCell<Core>>;

/// The shard's main future: runs until the stop flag is set.
pub async fn run(parts: ShardParts) {
    let engine: Shared = Rc::new(RefCell::new(Core { engine: parts.engine, persist: parts.persist }));
    let sockets: Rc<Vec<UdpSocket>> = Rc::new(parts.sockets.into_iter().map(UdpSocket::from).collect());
    let mesh = Rc::new(parts.mesh.connect().await);
    let mut tasks: Vec<Task<()>> = Vec::new();
    for idx in 0..sockets.len() {
        for _ in 0..RECEIVERS_PER_SOCKET {
            tasks.push(spawn_local(receive_loop(Rc::clone(&engine), Rc::clone(&sockets), Rc::clone(&mesh), idx)));
        }
    }
    for k in 0..mesh.from.len() {
        tasks.push(spawn_local(handoff_loop(Rc::clone(&engine), Rc::clone(&sockets), Rc::clone(&mesh), k)));
    }
    timer_loop(&engine, &sockets, &parts.control, &parts.stop).await;
    for t in tasks {
        t.cancel().await;
    }
    let mut core = engine.borrow_mut();
    let Core { engine, persist } = &mut *core;
    engine.shutdown();
    persist.shutdown(engine);
}

async fn receive_loop(engine: Shared, sockets: Rc<Vec<UdpSocket>>, mesh: Rc<Mesh>, idx: usize) {
    let mut buf = vec![0u8; RECV_BUF];
    let local = ListenerId(idx as u16);
    loop {
        let (n, src) = match sockets[idx].recv_from(&mut buf).await {
            Ok(r) => r,
            Err(e) => {
                // Back off so a persistent error cannot spin the shard.
                log::warn!("receive on listener {idx} failed: {e}");
                glommio::timer::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let bytes = &buf[..n];
        let disposition = engine.borrow_mut().engine.handle_datagram(Instant::now(), Datagram { local, src, bytes });
        if let Disposition::HandOff(owner) = disposition {
            let handoff = HandOff { local, src, bytes: bytes.to_vec() };
            if !mesh.send(owner, handoff) {
                log::debug!("hand-off queue to shard {} full: datagram dropped", owner.0);
            }
        }
        flush(&engine, &sockets).await;
    }
}

async fn handoff_loop(engine: Shared, sockets: Rc<Vec<UdpSocket>>, mesh: Rc<Mesh>, k: usize) {
    while let Some(h) = mesh.from[k].recv().await {
        let d = Datagram { local: h.local, src: h.src, bytes: &h.bytes };
        engine.borrow_mut().engine.handle_handoff(Instant::now(), d);
        flush(&engine, &sockets).await;
    }
}

async fn timer_loop(
    engine: &Shared,
    sockets: &Rc<Vec<UdpSocket>>,
    control: &crossbeam_channel::Receiver<ShardCmd>,
    stop: &AtomicBool,
) {
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        let next = engine.borrow().engine.poll_timeout().unwrap_or(now + MAX_SLEEP);
        let wait = next.saturating_duration_since(now).clamp(TIMER_TICK, MAX_SLEEP);
        glommio::timer::sleep(wait).await;
        let to_sync = {
            let now = Instant::now();
            let mut core = engine.borrow_mut();
            let Core { engine, persist } = &mut *core;
            engine.handle_timeout(now);
            while let Ok(cmd) = control.try_recv() {
                let flush = matches!(cmd.op, UlOp::Flush);
                let reply = engine.usrloc(cmd.op, now);
                if flush {
                    persist.flush_now(engine);
                }
                let _ = cmd.reply.send(reply);
            }
            persist.on_tick(engine, now)
        };
        if let Some(file) = to_sync {
            let result = glommio::executor().spawn_blocking(move || file.sync_data()).await;
            engine.borrow_mut().persist.synced(result);
        }
        flush(engine, sockets).await;
    }
}

/// Sends everything the engine queued, from the listener it names, once
/// the changes those replies announce are stored as `db_mode` requires.
async fn flush(engine: &Shared, sockets: &Rc<Vec<UdpSocket>>) {
    let gate = {
        let mut core = engine.borrow_mut();
        let Core { engine, persist } = &mut *core;
        persist.gate(engine)
    };
    match gate {
        Gate::Send => loop {
            let Some(t) = engine.borrow_mut().engine.poll_transmit() else {
                return;
            };
            send(engine, sockets, t).await;
        },
        Gate::Withhold => {
            let mut core = engine.borrow_mut();
            while let Some(t) = core.engine.poll_transmit() {
                core.engine.recycle(t.payload);
            }
        }
        Gate::SyncFirst(file) => {
            // Only the replies queued by now are covered by this fsync:
            // later ones wait for their own.
            let batch: Vec<Transmit> = std::iter::from_fn(|| engine.borrow_mut().engine.poll_transmit()).collect();
            let result = glommio::executor().spawn_blocking(move || file.sync_data()).await;
            let durable = result.is_ok();
            engine.borrow_mut().persist.synced(result);
            for t in batch {
                if durable {
                    send(engine, sockets, t).await;
                } else {
                    engine.borrow_mut().engine.recycle(t.payload);
                }
            }
        }
    }
}

async fn send(engine: &Shared, sockets: &Rc<Vec<UdpSocket>>, t: Transmit) {
    let sock = &sockets[usize::from(t.local.0)];
    if let Err(e) = sock.send_to(&t.payload, t.dst).await {
        log::debug!("send to {} failed: {e}", t.dst);
    }
    engine.borrow_mut().engine.recycle(t.payload);
}
