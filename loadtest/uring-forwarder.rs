//! The I/O floor of `compare-calls.sh`: the relay of `udp-forwarder.rs`
//! (every datagram from CALLEE goes to the last other peer seen, every
//! other one to CALLEE, and each INVITE gets a `Record-Route` line so the
//! ACK and BYE come back), run on sipedge's own io_uring loop
//! (`runtime::ring`: multishot receive into provided buffers, sends queued
//! and handed to the kernel with the next wait). It also answers each
//! INVITE with a `100 Trying` made of the INVITE's Via, From, To, Call-ID
//! and CSeq lines, as a stateful proxy does (RFC 3261 §16.2), so it moves
//! exactly the datagrams sipedge moves for a call, through the same kind
//! of ring, and parses nothing else: what sipedge would cost with no SIP
//! work at all, on one thread.
//!
//! Built by compare-calls.sh with `cargo build --release --example
//! uring-forwarder`. Usage: uring-forwarder LISTEN_ADDR CALLEE_ADDR

use sipedge::runtime::ring::{Event, Ring};
use socket2::{Domain, Protocol, Socket, Type};
use std::net::SocketAddr;
use std::process::exit;
use std::time::Duration;

/// The header lines a 100 Trying copies from its INVITE (RFC 3261 §8.2.6.2).
const COPIED: [&[u8]; 5] = [b"Via:", b"From:", b"To:", b"Call-ID:", b"CSeq:"];

fn main() {
    let addrs: Result<Vec<SocketAddr>, _> = std::env::args().skip(1).map(|a| a.parse()).collect();
    let Ok(&[listen, callee]) = addrs.as_deref() else {
        eprintln!("usage: uring-forwarder LISTEN_ADDR CALLEE_ADDR (IP:PORT each)");
        exit(2);
    };
    let mut ring = bind(listen).and_then(Ring::new).unwrap_or_else(|e| {
        eprintln!("{listen}: {e}");
        exit(1)
    });
    if let Err(e) = ring.start() {
        eprintln!("io_uring: {e}");
        exit(1);
    }
    let rr = format!("Record-Route: <sip:{listen};lr>\r\n").into_bytes();
    let mut caller: Option<SocketAddr> = None;
    let mut out: Vec<(SocketAddr, Vec<u8>)> = Vec::new();
    let mut pool: Vec<Vec<u8>> = Vec::new();
    loop {
        let waited = ring.wait(Duration::from_secs(1), |event| match event {
            Event::Datagram { src, bytes, .. } => {
                let dst = if src == callee {
                    match caller {
                        Some(c) => c,
                        None => return,
                    }
                } else {
                    caller = Some(src);
                    callee
                };
                let mut relayed = pool.pop().unwrap_or_default();
                match bytes.starts_with(b"INVITE ").then(|| line_end(bytes, 0)).flatten() {
                    Some(first) => {
                        relayed.extend_from_slice(&bytes[..first]);
                        relayed.extend_from_slice(&rr);
                        relayed.extend_from_slice(&bytes[first..]);
                        let mut trying = pool.pop().unwrap_or_default();
                        trying_for(bytes, &mut trying);
                        out.push((src, trying));
                    }
                    None => relayed.extend_from_slice(bytes),
                }
                out.push((dst, relayed));
            }
            Event::Sent { mut payload, result } => {
                if let Err(e) = result {
                    eprintln!("send: {e}");
                }
                payload.clear();
                pool.push(payload);
            }
            Event::Synced { .. } | Event::Woken => {}
        });
        if let Err(e) = waited {
            eprintln!("io_uring: {e}");
            exit(1);
        }
        for (dst, payload) in out.drain(..) {
            if let Err(mut payload) = ring.send(0, dst, payload) {
                eprintln!("send to {dst}: queue full");
                payload.clear();
                pool.push(payload);
            }
        }
    }
}

fn bind(addr: SocketAddr) -> std::io::Result<Vec<Socket>> {
    let s = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    let _ = s.set_recv_buffer_size(8 << 20);
    s.set_nonblocking(true)?;
    s.bind(&addr.into())?;
    Ok(vec![s])
}

/// One past the LF of the line starting at `from`.
fn line_end(bytes: &[u8], from: usize) -> Option<usize> {
    memchr::memchr(b'\n', &bytes[from..]).map(|i| from + i + 1)
}

/// `SIP/2.0 100 Trying` with the INVITE's COPIED lines, in their order.
fn trying_for(invite: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(b"SIP/2.0 100 Trying\r\n");
    let mut at = line_end(invite, 0).unwrap_or(invite.len());
    while let Some(end) = line_end(invite, at) {
        let line = &invite[at..end];
        if line == b"\r\n" {
            break;
        }
        if COPIED.iter().any(|name| line.len() > name.len() && line[..name.len()].eq_ignore_ascii_case(name)) {
            out.extend_from_slice(line);
        }
        at = end;
    }
    out.extend_from_slice(b"Content-Length: 0\r\n\r\n");
}
