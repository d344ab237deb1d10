//! The floor of `compare-calls.sh`: a UDP relay that understands nothing
//! of SIP beyond one thing. Every datagram from CALLEE goes to the last
//! other peer seen; every other datagram goes to CALLEE. So that the ACK
//! and the BYE come back through it, as they do through a record-routing
//! proxy, it inserts `Record-Route: <sip:LISTEN;lr>` after the first line
//! of each INVITE. It costs what relaying the same datagrams costs the
//! kernel and one thread, and nothing else.
//!
//! Built by compare-calls.sh with `rustc -O` (std only).
//! Usage: udp-forwarder LISTEN_ADDR CALLEE_ADDR

use std::net::{SocketAddr, UdpSocket};
use std::process::exit;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: udp-forwarder LISTEN_ADDR CALLEE_ADDR");
        exit(2);
    }
    let parse = |s: &str| -> SocketAddr {
        s.parse().unwrap_or_else(|e| {
            eprintln!("{s}: {e}");
            exit(2)
        })
    };
    let (listen, callee) = (parse(&args[1]), parse(&args[2]));
    let sock = UdpSocket::bind(listen).unwrap_or_else(|e| {
        eprintln!("bind {listen}: {e}");
        exit(1)
    });
    let rr = format!("Record-Route: <sip:{listen};lr>\r\n").into_bytes();
    let mut caller: Option<SocketAddr> = None;
    let mut buf = vec![0u8; 65536];
    let mut out = Vec::with_capacity(65536 + rr.len());
    loop {
        let (n, src) = match sock.recv_from(&mut buf) {
            Ok(x) => x,
            Err(e) => {
                eprintln!("recv: {e}");
                continue;
            }
        };
        let dst = if src == callee {
            match caller {
                Some(c) => c,
                None => continue,
            }
        } else {
            caller = Some(src);
            callee
        };
        let msg = &buf[..n];
        let sent = match msg.starts_with(b"INVITE ").then(|| msg.windows(2).position(|w| w == b"\r\n")).flatten() {
            Some(eol) => {
                out.clear();
                out.extend_from_slice(&msg[..eol + 2]);
                out.extend_from_slice(&rr);
                out.extend_from_slice(&msg[eol + 2..]);
                sock.send_to(&out, dst)
            }
            None => sock.send_to(msg, dst),
        };
        if let Err(e) = sent {
            eprintln!("send to {dst}: {e}");
        }
    }
}
