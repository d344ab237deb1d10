//! Instruction-count bench: repeats parse + stateless decision + reply
//! building for one fixture N times. Run under callgrind twice with
//! different N (bench/icount.sh) and the difference divided by the extra
//! iterations is instructions per message: stable on a noisy machine.
//! A fixture with `{n}` in it gets the iteration number there, so each
//! iteration is a new key (register_new.sip: a new AOR each time, as
//! loadtest/register.xml sends); those messages are built before the
//! timed loop, in `variants`.

use sipedge::config::Config;
use sipedge::engine::{Datagram, Engine};
use sipedge::ids::ListenerId;
use std::hint::black_box;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| !a.starts_with("--"));
    let Some(file) = args.next() else {
        // `cargo test --all-targets` runs benches without arguments: smoke
        // test every fixture once.
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/fixtures");
        for entry in std::fs::read_dir(dir).expect("fixtures folder") {
            run(&std::fs::read(entry.expect("fixture").path()).expect("read fixture"), 1);
        }
        return;
    };
    let n: u64 = args.next().and_then(|s| s.parse().ok()).expect("usage: icount FIXTURE ITERATIONS");
    run(&std::fs::read(&file).expect("read fixture"), n);
}

fn run(bytes: &[u8], n: u64) {
    let cfg = Config::load(None, &["udp:127.0.0.1:5060".into()], &[]).expect("config");
    let now = Instant::now();
    let mut e = Engine::standalone(now, &cfg);
    let src = "203.0.113.7:40112".parse().expect("address");
    let variants = variants(bytes, n);
    for i in 0..n {
        let bytes = variants.as_ref().map_or(bytes, |v| &v[i as usize][..]);
        e.handle_datagram(now, Datagram { local: ListenerId(0), src, bytes: black_box(bytes) });
        while let Some(t) = e.poll_transmit() {
            e.recycle(black_box(t).payload);
        }
    }
}

/// One message per iteration when the fixture has `{n}` placeholders.
#[inline(never)]
fn variants(bytes: &[u8], n: u64) -> Option<Vec<Vec<u8>>> {
    let text = std::str::from_utf8(bytes).ok()?;
    text.contains("{n}").then(|| (0..n).map(|i| text.replace("{n}", &i.to_string()).into_bytes()).collect())
}
