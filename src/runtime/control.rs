//! The control listener thread: HTTP on `[control] listen`, one request
//! per connection, answered by the sans-IO `control::handle_http`.

use crate::control::handle_http;
use crate::control::methods::Shards;
use crate::engine::stats::{SharedStats, Stats};
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

struct RuntimeShards {
    started: Instant,
    started_unix: u64,
    stats: Vec<Arc<SharedStats>>,
}

impl Shards for RuntimeShards {
    fn uptime(&self) -> (u64, u64) {
        (self.started.elapsed().as_secs(), self.started_unix)
    }

    fn now_unix(&self) -> u64 {
        unix_now()
    }

    fn stats(&self) -> Vec<Stats> {
        self.stats.iter().map(|s| s.snapshot()).collect()
    }
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Binds now (so a busy port fails start-up) and serves on a thread
/// until `stop` is set.
pub fn spawn(addr: SocketAddr, stats: Vec<Arc<SharedStats>>, stop: Arc<AtomicBool>) -> std::io::Result<JoinHandle<()>> {
    let listener = TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    log::info!("control: JSON-RPC at http://{}/RPC, metrics at /metrics", listener.local_addr()?);
    let shards = RuntimeShards { started: Instant::now(), started_unix: unix_now(), stats };
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
