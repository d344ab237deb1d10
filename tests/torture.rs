//! RFC 4475 torture corpus (tests/torture/): every message gets its
//! verdict, through the sans-IO engine and through the real binary.

mod common;

use common::{Client, Server, code, options};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Verdict {
    Accept,
    Drop,
    Code(u16),
}

fn corpus() -> Vec<(String, Vec<u8>, Verdict)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/torture");
    let verdicts = std::fs::read_to_string(dir.join("VERDICTS")).unwrap();
    let mut out = Vec::new();
    for line in verdicts.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
        let mut parts = line.split_whitespace();
        let file = parts.next().unwrap().to_string();
        let v = match parts.next().unwrap() {
            "accept" => Verdict::Accept,
            "drop" => Verdict::Drop,
            c => Verdict::Code(c.parse().unwrap()),
        };
        out.push((file.clone(), std::fs::read(dir.join(&file)).unwrap(), v));
    }
    assert!(out.len() >= 48, "corpus incomplete: {}", out.len());
    out
}

/// Codes that mean "the proxy refused the message itself".
const REFUSALS: [u16; 5] = [400, 416, 420, 483, 505];

fn check(file: &str, verdict: Verdict, reply: Option<&[u8]>) {
    match (verdict, reply) {
        (Verdict::Drop, None) => {}
        (Verdict::Drop, Some(r)) => panic!("{file}: expected silence, got {}", String::from_utf8_lossy(r)),
        (_, None) => panic!("{file}: expected {verdict:?}, got no reply"),
        (Verdict::Code(c), Some(r)) => {
            assert_eq!(code(r), c, "{file}: {}", String::from_utf8_lossy(r))
        }
        (Verdict::Accept, Some(r)) => {
            let got = code(r);
            assert!(!REFUSALS.contains(&got), "{file}: accepted message refused: {}", String::from_utf8_lossy(r));
            if file.contains("zeromf-self") {
                assert_eq!(got, 200, "{file}");
            }
        }
    }
}

#[test]
fn every_corpus_message_gets_its_verdict_in_the_engine() {
    use sipedge::config::Config;
    use sipedge::engine::{Datagram, Engine};
    use sipedge::ids::ListenerId;
    use std::time::Instant;

    let cfg = Config::load(None, &["udp:127.0.0.1:5060".into()], &[]).unwrap();
    let now = Instant::now();
    let mut e = Engine::standalone(now, &cfg);
    for (file, bytes, verdict) in corpus() {
        let src = "198.51.100.9:5062".parse().unwrap();
        e.handle_datagram(now, Datagram { local: ListenerId(0), src, bytes: &bytes });
        let replies: Vec<_> = std::iter::from_fn(|| e.poll_transmit()).collect();
        assert!(replies.len() <= 1, "{file}: more than one reply");
        check(&file, verdict, replies.first().map(|t| t.payload.as_slice()));
    }
}

#[test]
fn every_corpus_message_gets_its_verdict_over_udp() {
    // 127.0.0.1:5060 is an alias so the OPTIONS-to-self case is "myself".
    let server = Server::start(2, &["--set", "core.alias=[\"127.0.0.1:5060\"]"]);
    let client = Client::new();
    for (file, bytes, verdict) in corpus() {
        client.send(&bytes, server.addr);
        let wait = if verdict == Verdict::Drop { Duration::from_millis(300) } else { Duration::from_secs(3) };
        let reply = client.recv(wait);
        check(&file, verdict, reply.as_deref());
        // Nothing more may follow (e.g. the second request of dblreq).
        if let Some(extra) = client.recv(Duration::from_millis(20)) {
            panic!("{file}: unexpected second reply {}", String::from_utf8_lossy(&extra));
        }
    }
    client.send(&options(server.addr, "after-torture", 1), server.addr);
    let r = client.recv(Duration::from_secs(3)).expect("server still answers OPTIONS");
    assert_eq!(code(&r), 200);
}
