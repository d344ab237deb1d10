//! The ring against the real kernel, on loopback.

use super::*;
use std::net::UdpSocket;

fn listener() -> (Socket, SocketAddr) {
    let s = Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None).unwrap();
    s.bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into()).unwrap();
    let addr = s.local_addr().unwrap().as_socket().unwrap();
    (s, addr)
}

fn peer() -> UdpSocket {
    let p = UdpSocket::bind("127.0.0.1:0").unwrap();
    p.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    p
}

/// Turns the ring until `want` datagrams arrived (or 2 s passed).
fn receive(ring: &mut Ring, want: usize) -> Vec<(usize, SocketAddr, Vec<u8>)> {
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(2);
    while got.len() < want && Instant::now() < deadline {
        ring.wait(Duration::from_millis(100), |e| {
            if let Event::Datagram { listener, src, bytes } = e {
                got.push((listener, src, bytes.to_vec()));
            }
        })
        .unwrap();
    }
    got
}

#[test]
fn kernel_releases_parse() {
    assert_eq!(kernel_version("6.18.44-fc-v595\n"), Some((6, 18)));
    assert_eq!(kernel_version("5.10.0-28-amd64"), Some((5, 10)));
    assert_eq!(kernel_version("6.1"), Some((6, 1)));
    assert_eq!(kernel_version("garbage"), None);
    assert!(kernel_version("5.19.0").unwrap() < MIN_KERNEL);
    assert!(check_kernel().is_ok(), "the test machine runs a recent kernel");
}

#[test]
fn user_data_round_trips() {
    for op in [Op::Recv(3), Op::Send(u32::MAX), Op::Sync(7), Op::Woken, Op::Wake, Op::Cancel] {
        assert_eq!(Op::decode(op.encode()), Some(op));
    }
    assert_eq!(Op::decode(0), None);
    assert_eq!(Op::decode(9 << 56), None);
}

#[test]
fn receives_on_every_listener_and_sends_from_the_one_named() {
    let (a, a_addr) = listener();
    let (b, b_addr) = listener();
    let mut ring = Ring::new(vec![a, b]).unwrap();
    ring.start().unwrap();
    let p = peer();
    p.send_to(b"to-a", a_addr).unwrap();
    p.send_to(b"to-b", b_addr).unwrap();
    let mut got = receive(&mut ring, 2);
    got.sort();
    let me = p.local_addr().unwrap();
    assert_eq!(got, vec![(0, me, b"to-a".to_vec()), (1, me, b"to-b".to_vec())]);

    ring.send(1, me, b"reply".to_vec()).unwrap();
    let mut sent = None;
    ring.wait(Duration::from_millis(500), |e| {
        if let Event::Sent { payload, result } = e {
            sent = Some((payload, result.is_ok()));
        }
    })
    .unwrap();
    let mut buf = [0u8; 64];
    let (n, from) = p.recv_from(&mut buf).unwrap();
    assert_eq!((&buf[..n], from), (&b"reply"[..], b_addr));
    // The payload comes back for reuse once the kernel is done with it.
    assert_eq!(sent, Some((b"reply".to_vec(), true)));
    assert!(ring.send(2, me, b"x".to_vec()).is_err(), "no such listener");
}

#[test]
fn sends_go_out_from_the_listeners_sender_when_it_has_one() {
    let (a, a_addr) = listener();
    let (b, b_addr) = listener();
    // Its own port here, so the peer can tell which socket sent; the
    // runtime binds senders to the listener's own address.
    let (sender, sender_addr) = listener();
    let mut ring = Ring::with_senders(vec![a, b], vec![Some(sender)]).unwrap();
    ring.start().unwrap();
    let p = peer();
    let me = p.local_addr().unwrap();
    ring.send(0, me, b"via-sender".to_vec()).unwrap();
    ring.send(1, me, b"via-listener".to_vec()).unwrap();
    ring.wait(Duration::from_millis(100), |_| {}).unwrap();
    let mut buf = [0u8; 64];
    let mut got = Vec::new();
    for _ in 0..2 {
        let (n, from) = p.recv_from(&mut buf).unwrap();
        got.push((buf[..n].to_vec(), from));
    }
    got.sort();
    assert_eq!(got, vec![(b"via-listener".to_vec(), b_addr), (b"via-sender".to_vec(), sender_addr)]);
    // The listener still receives.
    p.send_to(b"in", a_addr).unwrap();
    assert_eq!(receive(&mut ring, 1), vec![(0, me, b"in".to_vec())]);
}

#[test]
fn more_datagrams_than_buffers_all_arrive() {
    let (a, a_addr) = listener();
    // Room in the socket for the burst while the ring re-arms.
    a.set_recv_buffer_size(4 << 20).unwrap();
    let mut ring = Ring::new(vec![a]).unwrap();
    ring.start().unwrap();
    let p = peer();
    let count = usize::from(BUFFERS) * 3;
    for i in 0..count {
        p.send_to(format!("{i}").as_bytes(), a_addr).unwrap();
    }
    let got = receive(&mut ring, count);
    assert_eq!(got.len(), count);
    let mut seen: Vec<usize> = got.iter().map(|(_, _, b)| std::str::from_utf8(b).unwrap().parse().unwrap()).collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..count).collect::<Vec<_>>());
}

#[test]
fn a_wake_from_another_ring_ends_the_wait() {
    let (a, _) = listener();
    let (b, _) = listener();
    let mut sleeper = Ring::new(vec![a]).unwrap();
    let mut waker = Ring::new(vec![b]).unwrap();
    sleeper.start().unwrap();
    waker.start().unwrap();
    waker.wake(sleeper.fd());
    waker.wait(Duration::ZERO, |_| {}).unwrap();
    let started = Instant::now();
    let mut woken = false;
    sleeper.wait(Duration::from_secs(5), |e| woken |= matches!(e, Event::Woken)).unwrap();
    assert!(woken);
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[test]
fn fsync_completes_with_its_token() {
    let (a, _) = listener();
    let mut ring = Ring::new(vec![a]).unwrap();
    ring.start().unwrap();
    let dir = std::env::temp_dir().join(format!("sipedge-ring-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("sync");
    std::fs::write(&path, b"data").unwrap();
    let file = File::options().append(true).open(&path).unwrap();
    assert!(ring.fsync(&file, 42));
    let mut done = None;
    let deadline = Instant::now() + Duration::from_secs(5);
    while done.is_none() && Instant::now() < deadline {
        ring.wait(Duration::from_millis(100), |e| {
            if let Event::Synced { token, result } = e {
                done = Some((token, result.is_ok()));
            }
        })
        .unwrap();
    }
    assert_eq!(done, Some((42, true)));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn shutdown_reports_sends_in_flight_and_releases_the_buffers() {
    let (a, _) = listener();
    let mut ring = Ring::new(vec![a]).unwrap();
    ring.start().unwrap();
    ring.wait(Duration::ZERO, |_| {}).unwrap();
    let dst = peer().local_addr().unwrap();
    ring.send(0, dst, b"last".to_vec()).unwrap();
    let mut returned = Vec::new();
    ring.shutdown(|e| {
        if let Event::Sent { payload, .. } = e {
            returned.push(payload);
        }
    });
    assert_eq!(returned, vec![b"last".to_vec()]);
    assert!(!ring.armed.contains(&true));
    assert_eq!(ring.in_flight, 0);
    assert!(!ring.leaked, "quiesced, not leaked");
}

/// A turn that sends goes on to sleep in the same `io_uring_enter`: the
/// send's own completion does not end the wait, the answer it provokes
/// does.
#[test]
fn a_wait_that_sends_sleeps_until_the_next_event() {
    let (a, _) = listener();
    let mut ring = Ring::new(vec![a]).unwrap();
    ring.start().unwrap();
    let p = peer();
    let me = p.local_addr().unwrap();
    let echo = std::thread::spawn(move || {
        let mut buf = [0u8; 64];
        let (n, from) = p.recv_from(&mut buf).unwrap();
        p.send_to(&buf[..n], from).unwrap();
    });
    ring.send(0, me, b"ping".to_vec()).unwrap();
    let mut seen = Vec::new();
    ring.wait(Duration::from_secs(5), |e| match e {
        Event::Sent { result, .. } => seen.push(format!("sent {}", result.is_ok())),
        Event::Datagram { bytes, .. } => seen.push(format!("got {}", String::from_utf8_lossy(bytes))),
        _ => {}
    })
    .unwrap();
    echo.join().unwrap();
    assert_eq!(seen, ["sent true", "got ping"]);
}
