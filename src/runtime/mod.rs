//! The only code that touches I/O: threads, glommio executors, sockets,
//! signals and the clock (DESIGN.md "Layers").

mod control;
mod handoff;
mod shard;
mod signals;
mod socket;

use crate::config::Config;
use crate::engine::owner::Sharder;
use crate::engine::stats::{SharedStats, Stats};
use crate::engine::{Engine, EngineConfig};
use crate::ids::ShardId;
use glommio::{LocalExecutorBuilder, Placement};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
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
    #[error("cannot install signal handlers: {0}")]
    Signals(std::io::Error),
    #[error("cannot start shard {shard}: {reason}")]
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
    for l in &cfg.core.listen {
        let socks =
            socket::bind_shard_sockets(l.addr, n).map_err(|source| RuntimeError::Bind { addr: l.addr, source })?;
        let bound = socks[0].local_addr().ok().and_then(|a| a.as_socket()).unwrap_or(l.addr);
        let adv = l.advertise.as_ref().map(|a| format!(" advertise {a}")).unwrap_or_default();
        log::info!("listening on udp:{bound}{adv} with {n} shards");
        for (i, s) in socks.into_iter().enumerate() {
            per_shard[i].push(s);
        }
    }

    let shared: Vec<Arc<SharedStats>> = (0..n).map(|_| Arc::new(SharedStats::default())).collect();
    let control = match control {
        Some(addr) => Some(
            control::spawn(addr, shared.clone(), Arc::clone(&stop))
                .map_err(|source| RuntimeError::Control { addr, source })?,
        ),
        None => None,
    };
    let mut handles = Vec::with_capacity(n);
    for (i, (mesh, sockets)) in handoff::mesh(n).into_iter().zip(per_shard).enumerate() {
        let engine_cfg = Arc::clone(&engine_cfg);
        let sharder = sharder.clone();
        let stats = Arc::clone(&shared[i]);
        let stop = Arc::clone(&stop);
        let handle = LocalExecutorBuilder::new(Placement::Fixed(cores[i]))
            .name(&format!("shard-{i}"))
            .io_memory(IO_MEMORY)
            .spawn(move || async move {
                let engine = Engine::new(Instant::now(), ShardId(i as u16), engine_cfg, sharder, stats);
                shard::run(shard::ShardParts { engine, sockets, mesh, stop }).await;
            })
            .map_err(|e| RuntimeError::Executor { shard: i, reason: e.to_string() })?;
        log::debug!("shard {i} on core {}", cores[i]);
        handles.push(handle);
    }
    let mut result = Ok(());
    for (i, h) in handles.into_iter().enumerate() {
        if h.join().is_err() {
            result = Err(RuntimeError::ShardPanicked(i));
        }
    }
    if let Some(c) = control {
        let _ = c.join();
    }
    let mut total = Stats::default();
    for s in &shared {
        total.add(&s.snapshot());
    }
    result.map(|()| total)
}
