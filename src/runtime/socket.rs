//! UDP listen sockets: one `SO_REUSEPORT` socket per shard per listen
//! address, all bound to the same address so any shard can send "from"
//! the proxy (DESIGN.md "Shape").

use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::{SocketAddr, UdpSocket};

/// Kernel receive buffer asked for; the kernel caps it at
/// `net.core.rmem_max` (see tuning/README.md).
const RCVBUF: usize = 8 << 20;

/// Binds `count` sockets on `addr`. A port of 0 is resolved by the first
/// bind and reused for the rest. Before sharing the port with
/// `SO_REUSEPORT`, a plain bind proves nobody else holds it: otherwise a
/// second instance run by the same user would silently share our traffic.
pub fn bind_shard_sockets(addr: SocketAddr, count: usize) -> io::Result<Vec<Socket>> {
    let probe = UdpSocket::bind(addr)?;
    let addr = probe.local_addr()?;
    drop(probe);
    (0..count).map(|_| bind_one(addr)).collect()
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
