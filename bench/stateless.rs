//! ns per message for parse + the stateless decision, and for the whole
//! engine step (parse, owner, decision, reply bytes) on three typical
//! messages. Run: `cargo bench --bench stateless`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sipedge::config::Config;
use sipedge::engine::{Datagram, Engine};
use sipedge::ids::ListenerId;
use sipedge::proxy::myself::Myself;
use sipedge::proxy::stateless;
use sipedge::sip::Message;
use std::hint::black_box;
use std::time::Instant;

const REGISTER: &[u8] = include_bytes!("fixtures/register.sip");
const INVITE_SDP: &[u8] = include_bytes!("fixtures/invite_sdp.sip");
const OK_RR: &[u8] = include_bytes!("fixtures/ok_record_route.sip");
const MESSAGES: [(&str, &[u8]); 3] = [("register", REGISTER), ("invite_sdp", INVITE_SDP), ("ok_record_route", OK_RR)];

fn parse_and_decide(c: &mut Criterion) {
    let mut myself = Myself::default();
    myself.add("127.0.0.1", Some(5060));
    let mut g = c.benchmark_group("parse_decide");
    g.throughput(Throughput::Elements(1));
    for (name, bytes) in MESSAGES {
        g.bench_function(name, |b| {
            b.iter(|| {
                let m = Message::parse(black_box(bytes)).expect("fixture parses");
                black_box(stateless::decide(&m, &myself))
            })
        });
    }
    g.finish();
}

fn engine_step(c: &mut Criterion) {
    let cfg = Config::load(None, &["udp:127.0.0.1:5060".into()], &[]).expect("default config");
    let now = Instant::now();
    let mut e = Engine::standalone(now, &cfg);
    let src = "203.0.113.7:40112".parse().expect("address");
    let mut g = c.benchmark_group("engine_step");
    g.throughput(Throughput::Elements(1));
    for (name, bytes) in MESSAGES {
        g.bench_function(name, |b| {
            b.iter(|| {
                e.handle_datagram(now, Datagram { local: ListenerId(0), src, bytes: black_box(bytes) });
                while let Some(t) = e.poll_transmit() {
                    e.recycle(black_box(t).payload);
                }
            })
        });
    }
    g.finish();
}

criterion_group!(benches, parse_and_decide, engine_step);
criterion_main!(benches);
