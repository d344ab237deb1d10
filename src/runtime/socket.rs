//! UDP listen sockets: one `SO_REUSEPORT` socket per shard per listen
//! address, all bound to the same address so any shard can send "from"
//! the proxy (DESIGN.md "Shape").

use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

/// Kernel receive buffer asked for; the kernel caps it at
/// `net.core.rmem_max` (see tuning/README.md).
const RCVBUF: usize = 8 << 20;
/// How long a busy listen address is retried at start-up.
const BUSY_RETRY: Duration = Duration::from_secs(3);

/// Binds `count` sockets on `addr`. A port of 0 is resolved by the first
/// bind and reused for the rest. Before sharing the port with
/// `SO_REUSEPORT`, a plain bind proves nobody else holds it: otherwise a
/// second instance run by the same user would silently share our traffic.
pub fn bind_shard_sockets(addr: SocketAddr, count: usize) -> io::Result<Vec<Socket>> {
    let probe = bind_probe(addr)?;
    let addr = probe.local_addr()?;
    drop(probe);
    (0..count).map(|_| bind_one(addr)).collect()
}

/// Binds `count` more sockets on `addr`, an address `bind_shard_sockets`
/// bound: one send-only socket per shard, for a group whose steering
/// program never picks them (src/runtime/steer.rs). A socket's receive
/// waits hang on its wait queue, and the kernel walks that queue each time
/// a datagram the socket sent is freed (`sock_wfree`, to wake writers);
/// sending from a socket nothing waits on saves that walk and its lock on
/// every send, about 5% of a shard's CPU under call load.
pub fn bind_send_sockets(addr: SocketAddr, count: usize) -> io::Result<Vec<Socket>> {
    (0..count).map(|_| bind_one(addr)).collect()
}

/// A previous instance's sockets outlive its process for a moment: io_uring
/// tears down in-flight receives asynchronously after exit. A restart right
/// after `kill -9` retries for a short while instead of failing.
fn bind_probe(addr: SocketAddr) -> io::Result<UdpSocket> {
    let deadline = Instant::now() + BUSY_RETRY;
    loop {
        match UdpSocket::bind(addr) {
            Err(e) if e.kind() == io::ErrorKind::AddrInUse && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

fn bind_one(addr: SocketAddr) -> io::Result<Socket> {
    let s = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    s.set_reuse_port(true)?;
    if addr.is_ipv6() {
        s.set_only_v6(true)?;
    }
    // Best effort: a smaller buffer only means earlier drops under bursts.
    let _ = s.set_recv_buffer_size(RCVBUF);
    s.set_nonblocking(true)?;
    s.bind(&addr.into())?;
    Ok(s)
}
