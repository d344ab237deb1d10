//! The only code that touches I/O: threads, glommio executors, sockets,
//! signals and the clock (DESIGN.md "Layers").

mod control;
mod handoff;
mod persist;
// Public only for loadtest/uring-forwarder.rs, the I/O floor of
// compare-calls.sh: not an interface.
#[doc(hidden)]
pub mod ring;
mod shard;
mod signals;
mod socket;
mod steer;
pub mod store;

use crate::config::Config;
use crate::engine::owner::Sharder;
use crate::engine::stats::{SharedStats, Stats};
use crate::engine::{Engine, EngineConfig};
use crate::ids::ShardId;
use crate::registrar::UnixMillis;
use glommio::{LocalExecutorBuilder, Placement};
use persist::Persistence;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use store::{DbMode, ShardLog, load_dir, remove_stale};
use thiserror::Error;

/// Locked memory glommio gets per executor for its io_uring buffers; SIP
/// needs none of glommio's DMA file I/O, so keep it small (memlock limits).
const IO_MEMORY: usize = 1 << 20;

#[derive(Debug, Error)]
pub enum RuntimeError {
    #[error("core.cores: core {core} does not exist (this machine has cores {available:?})")]
    NoSuchCore { core: usize, available: Vec<usize> },
    #[error("cannot listen on udp:{addr}: {source}")]
    Bind { addr: std::net::SocketAddr, source: std::io::Error },
    #[error("control.listen: cannot listen on tcp:{addr}: {source}")]
    Control { addr: std::net::SocketAddr, source: std::io::Error },
    #[error("usrloc: {0}")]
    Store(String),
    #[error("cannot install signal handlers: {0}")]
    Signals(std::io::Error),
    #[error("cannot create shard {shard}'s io_uring: {source} (is io_uring disabled, kernel.io_uring_disabled?)")]
    Ring { shard: usize, source: std::io::Error },
    #[error("shard {shard} failed: {reason}")]
    Executor { shard: usize, reason: String },
    #[error("shard {0} panicked")]
    ShardPanicked(usize),
}

/// Which core each shard runs on.
pub fn shard_cores(cfg: &Config) -> Result<Vec<usize>, RuntimeError> {
    let available: Vec<usize> = core_affinity::get_core_ids().unwrap_or_default().into_iter().map(|c| c.id).collect();
    let n = match cfg.core.children {
        0 if !cfg.core.cores.is_empty() => cfg.core.cores.len(),
        0 => available.len().max(1),
        n => n,
    };
    if cfg.core.cores.is_empty() {
        // More shards than cores is allowed (tests, small boxes): wrap.
        let fallback = if available.is_empty() { vec![0] } else { available };
        return Ok((0..n).map(|i| fallback[i % fallback.len()]).collect());
    }
    if let Some(&core) = cfg.core.cores.iter().find(|c| !available.contains(c)) {
        return Err(RuntimeError::NoSuchCore { core, available });
    }
    Ok(cfg.core.cores.iter().copied().take(n).collect())
}

/// Builds every shard's engine with its slice of the stored location
/// table, and opens the shard logs (usrloc db_mode 1 and 2).
fn restore_location(
    cfg: &Config,
    engine_cfg: &Arc<EngineConfig>,
    sharder: &Sharder,
    shared: &[Arc<SharedStats>],
) -> Result<Vec<(Engine, Persistence)>, RuntimeError> {
    let now = Instant::now();
    let wall = wall_clock();
    let n = shared.len();
    let mut engines: Vec<Engine> = (0..n)
        .map(|i| {
            Engine::new(now, wall, ShardId(i as u16), Arc::clone(engine_cfg), sharder.clone(), Arc::clone(&shared[i]))
        })
        .collect();
    let mode = DbMode::from_int(i64::from(cfg.usrloc.db_mode)).map_err(|e| RuntimeError::Store(e.to_string()))?;
    if mode == DbMode::Memory {
        return Ok(engines.into_iter().map(|e| (e, Persistence::new(mode, None, Duration::ZERO))).collect());
    }
    let dir = &cfg.usrloc.db_path;
    let started = Instant::now();
    let loaded = load_dir(dir, wall).map_err(|e| RuntimeError::Store(e.to_string()))?;
    for s in &loaded.skipped {
        log::warn!("location store: {s}");
    }
    let count = loaded.bindings.len();
    for (aor, binding) in loaded.bindings {
        let owner = sharder.by_aor(&aor);
        engines[usize::from(owner.0)].restore(aor, binding);
    }
    log::info!(
        "location store {}: restored {count} bindings from {} files in {:?} ({} damaged ranges skipped)",
        dir.display(),
        loaded.files,
        started.elapsed(),
        loaded.skipped.len()
    );
    let interval = Duration::from_secs(u64::from(cfg.usrloc.timer_interval.max(1)));
    let mut out = Vec::with_capacity(n);
    for (i, mut engine) in engines.into_iter().enumerate() {
        // Restored bindings are already durable: nothing to log again.
        engine.drain_changes(&mut Vec::new());
        let log =
            ShardLog::open(dir, i, engine.location().bindings()).map_err(|e| RuntimeError::Store(e.to_string()))?;
        out.push((engine, Persistence::new(mode, Some(log), interval)));
    }
    remove_stale(dir, n).map_err(|e| RuntimeError::Store(e.to_string()))?;
    Ok(out)
}

fn wall_clock() -> UnixMillis {
    UnixMillis(SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64))
}

/// Runs sipedge until SIGINT/SIGTERM; returns the summed counters.
/// `control` is the HTTP control listener's address, if any.
pub fn run(cfg: &Config, control: Option<std::net::SocketAddr>) -> Result<Stats, RuntimeError> {
    let cores = shard_cores(cfg)?;
    let n = cores.len();
    let engine_cfg = Arc::new(EngineConfig::from_config(cfg));
    let seed =
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64) ^ u64::from(std::process::id());
    let sharder = Sharder::new(seed, n as u16);
    let stop = signals::stop_flag().map_err(RuntimeError::Signals)?;

    // Bind everything before starting shards, so a busy port fails start-up.
    let mut per_shard: Vec<Vec<socket2::Socket>> = (0..n).map(|_| Vec::new()).collect();
    let mut senders: Vec<Vec<Option<socket2::Socket>>> = (0..n).map(|_| Vec::new()).collect();
    let steering = steering(cfg, &sharder);
    for l in &cfg.core.listen {
        let socks =
            socket::bind_shard_sockets(l.addr, n).map_err(|source| RuntimeError::Bind { addr: l.addr, source })?;
        let bound = socks[0].local_addr().ok().and_then(|a| a.as_socket()).unwrap_or(l.addr);
        // Socket i of each group is shard i's: the order they joined it.
        let steered = match &steering {
            Some(s) => s.attach(&socks[0]).map_err(|e| {
                log::warn!("udp:{}: kernel steering not attached ({e}); datagrams are handed off instead", l.addr);
            }),
            None => Err(()),
        };
        // Only a steered group may hold sockets nobody receives on: the
        // program never picks them, the kernel's own hash would.
        let sends = match steered {
            Ok(()) => socket::bind_send_sockets(bound, n).unwrap_or_else(|e| {
                log::warn!("udp:{bound}: no send-only sockets ({e}); shards send from their listen sockets");
                Vec::new()
            }),
            Err(()) => Vec::new(),
        };
        let adv = l.advertise.as_ref().map(|a| format!(" advertise {a}")).unwrap_or_default();
        log::info!("listening on udp:{bound}{adv} with {n} shards");
        let mut sends = sends.into_iter();
        for (i, s) in socks.into_iter().enumerate() {
            per_shard[i].push(s);
            senders[i].push(sends.next());
        }
    }

    let shared: Vec<Arc<SharedStats>> = (0..n).map(|_| Arc::new(SharedStats::default())).collect();
    let (links, commands): (Vec<_>, Vec<_>) = (0..n).map(|_| crossbeam_channel::unbounded()).unzip();
    let control_thread = match control {
        Some(addr) => Some(
            control::spawn(addr, shared.clone(), links, sharder.clone(), Arc::clone(&stop))
                .map_err(|source| RuntimeError::Control { addr, source })?,
        ),
        None => None,
    };
    let mut parts = restore_location(cfg, &engine_cfg, &sharder, &shared)?;
    // Shared from here on, the stored bindings loaded: nothing is cached yet.
    let versions = crate::registrar::Versions::new(n);
    for (engine, _) in &mut parts {
        engine.share_versions(versions.clone());
    }
    let rings = per_shard
        .into_iter()
        .zip(senders)
        .enumerate()
        .map(|(shard, (sockets, senders))| {
            ring::Ring::with_senders(sockets, senders).map_err(|source| RuntimeError::Ring { shard, source })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let ring_fds: Vec<_> = rings.iter().map(ring::Ring::fd).collect();
    let mut handles = Vec::with_capacity(n);
    let shard_inputs = handoff::mesh(&ring_fds).into_iter().zip(rings).zip(parts).zip(commands);
    for (i, (((mesh, ring), (engine, persist)), control)) in shard_inputs.enumerate() {
        let stop = Arc::clone(&stop);
        // glommio hosts the shard on its core; the shard's loop runs on
        // its own ring (runtime/ring) and is the executor's only task.
        let handle = LocalExecutorBuilder::new(Placement::Fixed(cores[i]))
            .name(&format!("shard-{i}"))
            .io_memory(IO_MEMORY)
            .spawn(move || async move {
                let result = shard::run(shard::ShardParts { engine, ring, mesh, persist, control, stop: stop.clone() });
                if result.is_err() {
                    // One shard down takes the process down, cleanly.
                    stop.store(true, std::sync::atomic::Ordering::Relaxed);
                }
                result
            })
            .map_err(|e| RuntimeError::Executor { shard: i, reason: e.to_string() })?;
        log::debug!("shard {i} on core {}", cores[i]);
        handles.push(handle);
    }
    let mut result = Ok(());
    for (i, h) in handles.into_iter().enumerate() {
        match h.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => result = Err(RuntimeError::Executor { shard: i, reason: e.to_string() }),
            Err(_) => result = Err(RuntimeError::ShardPanicked(i)),
        }
    }
    if let Some(c) = control_thread {
        let _ = c.join();
    }
    let mut total = Stats::default();
    for s in &shared {
        total.add(&s.snapshot());
    }
    result.map(|()| total)
}

/// The kernel steering program, when configured and loadable (more than
/// one shard only: one shard owns everything).
fn steering(cfg: &Config, sharder: &Sharder) -> Option<steer::Steering> {
    if !cfg.core.steering || sharder.shards() < 2 {
        return None;
    }
    match steer::Steering::load(sharder.seed(), sharder.shards()) {
        Ok(s) => {
            log::info!("kernel steering on (by Call-ID; REGISTERs by AOR)");
            Some(s)
        }
        Err(e) => {
            log::warn!("kernel steering unavailable ({e}); datagrams are handed off instead");
            None
        }
    }
}
