//! The control listener thread: HTTP on `[control] listen`, one request
//! per connection, answered by the sans-IO `control::handle_http`.

use crate::control::dlg::{DlgOp, DlgReply};
use crate::control::handle_http;
use crate::control::jsonrpc::RpcError;
use crate::control::methods::Shards;
use crate::control::usrloc::{self, UlOp, UlReply};
use crate::dialog::handle_owner;
use crate::engine::owner::Sharder;
use crate::engine::stats::{SharedStats, Stats};
use crossbeam_channel::Sender;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How often the idle accept loop looks at the stop flag.
const POLL: Duration = Duration::from_millis(50);
/// A client that sends nothing for this long is dropped.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(2);

/// An operation for one shard, with where to send its reply.
pub enum ShardCmd {
    Usrloc { op: UlOp, reply: Sender<UlReply> },
    Dialog { op: DlgOp, reply: Sender<DlgReply> },
}

/// How long the control thread waits for a shard (shards poll their
/// command queue at least every 50 ms).
const SHARD_TIMEOUT: Duration = Duration::from_secs(2);

struct RuntimeShards {
    started: Instant,
    started_unix: u64,
    stats: Vec<Arc<SharedStats>>,
    links: Vec<Sender<ShardCmd>>,
    sharder: Sharder,
}

impl Shards for RuntimeShards {
    fn uptime(&self) -> (u64, u64) {
        (self.started.elapsed().as_secs(), self.started_unix)
    }

    fn now_unix(&self) -> u64 {
        unix_now()
    }

    fn now_millis(&self) -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
    }

    fn stats(&self) -> Vec<Stats> {
        self.stats.iter().map(|s| s.snapshot()).collect()
    }

    fn usrloc(&self, op: UlOp) -> Result<Vec<UlReply>, RpcError> {
        let shards: Vec<usize> = match usrloc::target(&op) {
            Some(aor) => vec![usize::from(self.sharder.by_aor(aor).0)],
            None => (0..self.links.len()).collect(),
        };
        ask(&self.links, shards, |reply| ShardCmd::Usrloc { op: op.clone(), reply })
    }

    fn dialogs(&self, op: DlgOp) -> Result<Vec<DlgReply>, RpcError> {
        let shards: Vec<usize> = match &op {
            DlgOp::End { handle, .. } => {
                let owner = handle_owner(*handle, self.sharder.shards())
                    .ok_or_else(|| RpcError::Failed(404, "Dialog not found".into()))?;
                vec![usize::from(owner.0)]
            }
            DlgOp::ListCall { call_id, .. } => vec![usize::from(self.sharder.by_call_id(call_id.as_bytes()).0)],
            DlgOp::List | DlgOp::StatsActive => (0..self.links.len()).collect(),
        };
        ask(&self.links, shards, |reply| ShardCmd::Dialog { op: op.clone(), reply })
    }
}

/// Sends `cmd` to each of `shards` and collects their replies in order.
fn ask<R>(
    links: &[Sender<ShardCmd>],
    shards: Vec<usize>,
    cmd: impl Fn(Sender<R>) -> ShardCmd,
) -> Result<Vec<R>, RpcError> {
    let mut replies = Vec::with_capacity(shards.len());
    for i in shards {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let link = links.get(i).ok_or_else(|| RpcError::Failed(404, "no such shard".into()))?;
        let sent = link.send(cmd(tx));
        let reply = sent.ok().and_then(|()| rx.recv_timeout(SHARD_TIMEOUT).ok());
        replies.push(reply.ok_or_else(|| RpcError::Failed(500, format!("shard {i} did not answer")))?);
    }
    Ok(replies)
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Binds now (so a busy port fails start-up) and serves on a thread
/// until `stop` is set.
pub fn spawn(
    addr: SocketAddr,
    stats: Vec<Arc<SharedStats>>,
    links: Vec<Sender<ShardCmd>>,
    sharder: Sharder,
    stop: Arc<AtomicBool>,
) -> std::io::Result<JoinHandle<()>> {
    let listener = TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    log::info!("control: JSON-RPC at http://{}/RPC, metrics at /metrics", listener.local_addr()?);
    let shards = RuntimeShards { started: Instant::now(), started_unix: unix_now(), stats, links, sharder };
    std::thread::Builder::new().name("control".into()).spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            match listener.accept() {
                Ok((conn, peer)) => {
                    if let Err(e) = serve(conn, &shards) {
                        log::debug!("control client {peer}: {e}");
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::sleep(POLL),
                Err(e) => {
                    log::warn!("control accept failed: {e}");
                    std::thread::sleep(POLL);
                }
            }
        }
    })
}

fn serve(mut conn: TcpStream, shards: &RuntimeShards) -> std::io::Result<()> {
    conn.set_nonblocking(false)?;
    conn.set_read_timeout(Some(CLIENT_TIMEOUT))?;
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    let mut out = Vec::new();
    loop {
        let n = conn.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if handle_http(&buf, shards, &mut out).is_some() {
            return conn.write_all(&out);
        }
    }
}
